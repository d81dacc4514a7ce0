import type { AccessRequest, Approval, NewAccessRequest, RequestStatus } from '../../domain/request.ts';
import type {
  AuditEvent,
  AuditOf,
  ManagedUser,
  ManagedUserFilter,
  ManagedUserPatch,
  NotificationRef,
  RequestFilter,
  RequestPatch,
  StateStore,
} from '../../ports/StateStore.ts';
import { openDatabase, type SqliteStateStoreOptions } from './schema.ts';
import { SqliteAuditLog } from './SqliteAuditLog.ts';
import { SqliteConnection } from './SqliteConnection.ts';
import { SqliteManagedUserStore } from './SqliteManagedUserStore.ts';
import { SqliteNotificationLog } from './SqliteNotificationLog.ts';
import { SqliteRequestStore } from './SqliteRequestStore.ts';

export type { SqliteStateStoreOptions } from './schema.ts';
export { DUE_FOR_REVOCATION_SQL, PENDING_PAST_TTL_SQL } from './SqliteRequestStore.ts';

/**
 * The embedded {@link StateStore}: one SQLite file through better-sqlite3, in WAL mode so readers
 * never wait for the writer, with foreign keys enforced and the schema brought up to date by
 * versioned migrations when the file is opened. Moments are stored as integer milliseconds since
 * the epoch.
 *
 * Each narrow port has its own part over the one connection: requests and approvals
 * ({@link SqliteRequestStore}, which writes a status change and its audit events in one
 * transaction), managed users, the audit trail and the notifications.
 */
export class SqliteStateStore implements StateStore {
  readonly #db: SqliteConnection;
  readonly #requests: SqliteRequestStore;
  readonly #users: SqliteManagedUserStore;
  readonly #audit: SqliteAuditLog;
  readonly #notifications: SqliteNotificationLog;

  private constructor(db: SqliteConnection) {
    this.#db = db;
    this.#audit = new SqliteAuditLog(db);
    this.#requests = new SqliteRequestStore(db, this.#audit);
    this.#users = new SqliteManagedUserStore(db);
    this.#notifications = new SqliteNotificationLog(db);
  }

  /**
   * Opens (creating if needed, with its parent directory) the store at `path`, or a private
   * in-memory one for `:memory:`, and applies any migrations it has not seen yet. The file and
   * the directories created for it are readable by this OS user only.
   */
  static open(path: string, options: SqliteStateStoreOptions = {}): SqliteStateStore {
    return new SqliteStateStore(new SqliteConnection(openDatabase(path, options)));
  }

  createRequest(request: NewAccessRequest, status: 'pending' | 'approved', audit?: AuditOf): Promise<AccessRequest> {
    return this.#requests.createRequest(request, status, audit);
  }

  getRequest(id: string): Promise<AccessRequest | undefined> {
    return this.#requests.getRequest(id);
  }

  listRequests(filter: RequestFilter): Promise<AccessRequest[]> {
    return this.#requests.listRequests(filter);
  }

  transition(id: string, from: readonly RequestStatus[], to: RequestStatus, patch?: RequestPatch, audit?: AuditOf) {
    return this.#requests.transition(id, from, to, patch, audit);
  }

  update(id: string, whileIn: readonly RequestStatus[], patch: RequestPatch, audit?: AuditOf): Promise<AccessRequest | undefined> {
    return this.#requests.update(id, whileIn, patch, audit);
  }

  listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]> {
    return this.#requests.listDueForRevocation(now, limit);
  }

  listPendingPastTtl(now: Date): Promise<AccessRequest[]> {
    return this.#requests.listPendingPastTtl(now);
  }

  addApproval(approval: Approval): Promise<boolean> {
    return this.#requests.addApproval(approval);
  }

  listApprovals(requestId: string): Promise<Approval[]> {
    return this.#requests.listApprovals(requestId);
  }

  upsertManagedUser(user: ManagedUser): Promise<ManagedUser> {
    return this.#users.upsertManagedUser(user);
  }

  getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined> {
    return this.#users.getManagedUser(serverKey, username);
  }

  listManagedUsers(filter?: ManagedUserFilter): Promise<ManagedUser[]> {
    return this.#users.listManagedUsers(filter);
  }

  updateManagedUser(serverKey: string, username: string, patch: ManagedUserPatch): Promise<void> {
    return this.#users.updateManagedUser(serverKey, username, patch);
  }

  appendAudit(event: AuditEvent): Promise<void> {
    return this.#audit.appendAudit(event);
  }

  listAudit(since: Date, limit?: number): Promise<AuditEvent[]> {
    return this.#audit.listAudit(since, limit);
  }

  addNotification(ref: NotificationRef): Promise<void> {
    return this.#notifications.addNotification(ref);
  }

  listNotifications(requestId: string): Promise<NotificationRef[]> {
    return this.#notifications.listNotifications(requestId);
  }

  async ping(): Promise<void> {
    this.#db.one('SELECT 1 FROM schema_migrations LIMIT 1');
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
