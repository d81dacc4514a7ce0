import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import { ComposedStateStore } from '../stateTables/ComposedStateStore.ts';
import { countState, importState, type StateCounts, type StateSnapshot } from './importState.ts';
import { migrate } from './migrate.ts';
import { PostgresAuditLog } from './PostgresAuditLog.ts';
import { PostgresConnection } from './PostgresConnection.ts';
import { PostgresCoordination, type ReplicaIdentity } from './PostgresCoordination.ts';
import { PostgresManagedUserStore } from './PostgresManagedUserStore.ts';
import { PostgresNotificationLog } from './PostgresNotificationLog.ts';
import { PostgresSessionRecords } from './PostgresSessionRecords.ts';
import { PostgresOutbox } from './PostgresOutbox.ts';
import { PostgresRequestStore } from './PostgresRequestStore.ts';
import type { PostgresStateSettings } from './settings.ts';

export type { StateCounts, StateSnapshot } from './importState.ts';
export { type PostgresStateSettings, StateUnavailableError } from './settings.ts';
export { STATE_SSL_MODES, type StateSslMode } from './stateUri.ts';

/** Options of `PostgresStateStore.open`. */
export interface PostgresStateStoreOptions {
  /** Stamps `sesame_schema_migrations.applied_at`; the system clock by default. */
  clock?: Clock;
}

/**
 * The state store on a PostgreSQL database that several Sesame replicas share: requests,
 * approvals, managed users, the audit trail and the notifications in tables of their own, the
 * schema brought up to date by versioned migrations applied once however many replicas start
 * together.
 *
 * Each narrow port has its own part over one pool of connections: requests and approvals
 * ({@link PostgresRequestStore}, which writes a status change and its audit events in one
 * transaction), managed users, the audit trail and the notifications.
 */
export class PostgresStateStore extends ComposedStateStore {
  readonly #db: PostgresConnection;
  #outbox: PostgresOutbox | undefined;

  private constructor(db: PostgresConnection) {
    super({
      requests: new PostgresRequestStore(db),
      users: new PostgresManagedUserStore(db),
      audit: new PostgresAuditLog(db),
      notifications: new PostgresNotificationLog(db),
      sessions: new PostgresSessionRecords(db),
    });
    this.#db = db;
  }

  /**
   * Opens the store at once and migrates its schema in the background: every call waits for the
   * migrations, and fails with their error (the database unreachable, or of a newer schema) if
   * they fail. `ready()` says when it is usable.
   */
  static open(settings: PostgresStateSettings, options: PostgresStateStoreOptions = {}): PostgresStateStore {
    const db = new PostgresConnection(settings);
    db.openWith((opening) => migrate(opening, db.where, options.clock));
    return new PostgresStateStore(db);
  }

  /** Resolves once the schema is up to date; rejects with why the store cannot be used. */
  ready(): Promise<void> {
    return this.#db.ready();
  }

  /** The notifications waiting to be sent, shared by every replica on this database. */
  outbox(): PostgresOutbox {
    this.#outbox ??= new PostgresOutbox(this.#db);
    return this.#outbox;
  }

  /**
   * How this replica coordinates with the others on this database: locks, job leadership, the
   * Slack deliveries taken.
   */
  coordination(replica: ReplicaIdentity, clock: Clock, logger: Logger): PostgresCoordination {
    return new PostgresCoordination(this.#db, replica, clock, logger);
  }

  /** Host, port and database, for messages: never the password. */
  get where(): string {
    return this.#db.where;
  }

  /**
   * Copies a whole state into this store, which must be empty, in one transaction; answers how
   * many records of each kind it then holds.
   */
  async importState(snapshot: StateSnapshot): Promise<StateCounts> {
    return this.#db.transaction((tx) => importState(tx, snapshot, this.#db.where));
  }

  /** How many records of each kind this store holds. */
  async counts(): Promise<StateCounts> {
    return countState(this.#db);
  }

  async ping(): Promise<void> {
    await this.#db.query('SELECT 1 FROM sesame_schema_migrations LIMIT 1');
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
