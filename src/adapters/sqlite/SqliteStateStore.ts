import { ComposedStateStore } from '../stateTables/ComposedStateStore.ts';
import { openDatabase, type SqliteStateStoreOptions } from './schema.ts';
import { SqliteAuditLog } from './SqliteAuditLog.ts';
import { SqliteConnection } from './SqliteConnection.ts';
import { SqliteManagedUserStore } from './SqliteManagedUserStore.ts';
import { SqliteNotificationLog } from './SqliteNotificationLog.ts';
import { SqliteSessionRecords } from './SqliteSessionRecords.ts';
import { SqliteRequestStore } from './SqliteRequestStore.ts';

export type { SqliteStateStoreOptions } from './schema.ts';
export { DUE_FOR_REVOCATION_SQL, PENDING_PAST_TTL_SQL } from './SqliteRequestStore.ts';

/**
 * The embedded state store: one SQLite file through better-sqlite3, in WAL mode so readers
 * never wait for the writer, with foreign keys enforced and the schema brought up to date by
 * versioned migrations when the file is opened. Moments are stored as integer milliseconds since
 * the epoch.
 *
 * Each narrow port has its own part over the one connection: requests and approvals
 * ({@link SqliteRequestStore}, which writes a status change and its audit events in one
 * transaction), managed users, the audit trail and the notifications.
 */
export class SqliteStateStore extends ComposedStateStore {
  readonly #db: SqliteConnection;

  private constructor(db: SqliteConnection) {
    const audit = new SqliteAuditLog(db);
    super({
      audit,
      requests: new SqliteRequestStore(db, audit),
      users: new SqliteManagedUserStore(db),
      notifications: new SqliteNotificationLog(db),
      sessions: new SqliteSessionRecords(db),
    });
    this.#db = db;
  }

  /**
   * Opens (creating if needed, with its parent directory) the store at `path`, or a private
   * in-memory one for `:memory:`, and applies any migrations it has not seen yet. The file and
   * the directories created for it are readable by this OS user only.
   */
  static open(path: string, options: SqliteStateStoreOptions = {}): SqliteStateStore {
    return new SqliteStateStore(new SqliteConnection(openDatabase(path, options)));
  }

  async ping(): Promise<void> {
    this.#db.one('SELECT 1 FROM schema_migrations LIMIT 1');
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
