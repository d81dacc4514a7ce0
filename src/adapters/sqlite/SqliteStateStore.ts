import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ConflictError, NotFoundError } from '../../domain/errors.ts';
import type { Permission } from '../../domain/permission.ts';
import type {
  AccessRequest,
  Approval,
  ApproverGroup,
  EndReason,
  NewAccessRequest,
  Person,
  RequestKind,
  RequestStatus,
} from '../../domain/request.ts';
import { assertCanMove } from '../../domain/request.ts';
import type { Target } from '../../domain/target.ts';
import { systemClock, type Clock } from '../../ports/Clock.ts';
import { describeError, type Logger } from '../../logger.ts';
import type {
  AuditAction,
  AuditEvent,
  AuditOf,
  ManagedUser,
  NotificationRef,
  RequestFilter,
  RequestPatch,
  StateStore,
} from '../../ports/StateStore.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS, type Migration } from './migrations/index.ts';

/** How long a statement waits for another connection's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;

type SqlValue = string | number | null;

interface RequestRow {
  id: string;
  kind: string;
  parent_id: string | null;
  requester_slack_id: string;
  requester_email: string | null;
  integration: string;
  database_name: string | null;
  schema_name: string | null;
  table_name: string | null;
  permission: string;
  duration_minutes: number;
  reason: string;
  flow_name: string;
  approval_mode: string;
  allow_self_approval: number;
  approver_groups: string;
  status: string;
  created_at: number;
  pending_expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  deny_reason: string | null;
  db_user: string | null;
  server_key: string | null;
  granted_roles: string | null;
  granted_at: number | null;
  expires_at: number | null;
  ended_at: number | null;
  ended_by: string | null;
  end_reason: string | null;
  revoke_attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  expiry_reminder_sent_at: number | null;
  approver_reminder_sent_at: number | null;
  version: number;
}

interface ApprovalRow {
  request_id: string;
  approver_id: string;
  decision: string;
  comment: string | null;
  at: number;
}

interface ManagedUserRow {
  server_key: string;
  username: string;
  integration: string;
  slack_id: string;
  email: string | null;
  created_at: number;
  password_set_at: number | null;
  last_revoked_at: number | null;
  dropped_at: number | null;
}

interface AuditRow {
  id: number;
  at: number;
  action: string;
  actor: string;
  actor_email: string | null;
  request_id: string | null;
  integration: string | null;
  details: string | null;
}

type PatchColumns<P> = {
  [K in keyof Required<P>]: { column: string; encode: (value: NonNullable<P[K]>) => SqlValue };
};

const asIs = (value: string | number): SqlValue => value;
const asMs = (value: Date): SqlValue => value.getTime();
const asJson = (value: unknown): SqlValue => JSON.stringify(value);

/**
 * The column behind each patchable request field. A field absent from a patch (or undefined) stays
 * as it is; `null` clears an optional column, and leaves the two required ones (`revokeAttempts`,
 * `approverGroups`) as they are.
 */
const REQUEST_PATCH_COLUMNS: PatchColumns<RequestPatch> = {
  decidedAt: { column: 'decided_at', encode: asMs },
  decidedBy: { column: 'decided_by', encode: asIs },
  denyReason: { column: 'deny_reason', encode: asIs },
  dbUser: { column: 'db_user', encode: asIs },
  serverKey: { column: 'server_key', encode: asIs },
  grantedRoles: { column: 'granted_roles', encode: asJson },
  grantedAt: { column: 'granted_at', encode: asMs },
  expiresAt: { column: 'expires_at', encode: asMs },
  endedAt: { column: 'ended_at', encode: asMs },
  endedBy: { column: 'ended_by', encode: asIs },
  endReason: { column: 'end_reason', encode: asIs },
  revokeAttempts: { column: 'revoke_attempts', encode: asIs },
  nextAttemptAt: { column: 'next_attempt_at', encode: asMs },
  lastError: { column: 'last_error', encode: asIs },
  approverGroups: { column: 'approver_groups', encode: asJson },
  expiryReminderSentAt: { column: 'expiry_reminder_sent_at', encode: asMs },
  approverReminderSentAt: { column: 'approver_reminder_sent_at', encode: asMs },
};
const REQUIRED_PATCH_FIELDS: ReadonlySet<string> = new Set(['revokeAttempts', 'approverGroups']);

type ManagedUserPatch = Parameters<StateStore['updateManagedUser']>[2];

const MANAGED_USER_PATCH_COLUMNS: PatchColumns<ManagedUserPatch> = {
  passwordSetAt: { column: 'password_set_at', encode: asMs },
  lastRevokedAt: { column: 'last_revoked_at', encode: asMs },
  droppedAt: { column: 'dropped_at', encode: asMs },
};

/**
 * The expiry sweep's query, run every few seconds over a table that only grows. Each branch of the
 * union reads one status through an index on (status, …), where one OR across the two statuses
 * would make SQLite read every request. Exported so a test can check the query plan.
 */
export const DUE_FOR_REVOCATION_SQL = `
  SELECT * FROM (
    SELECT * FROM requests WHERE status = 'granted' AND expires_at <= @now
    UNION ALL
    SELECT * FROM requests WHERE status = 'revoking' AND next_attempt_at IS NULL
    UNION ALL
    SELECT * FROM requests WHERE status = 'revoking' AND next_attempt_at <= @now
  )
  ORDER BY expires_at, id
  LIMIT @limit`;

/** Pending requests whose TTL has run out, on the (status, pending_expires_at) index. */
export const PENDING_PAST_TTL_SQL = `
  SELECT * FROM requests WHERE status = 'pending' AND pending_expires_at <= @now
  ORDER BY pending_expires_at, id`;

/** Options of {@link SqliteStateStore.open}. */
export interface SqliteStateStoreOptions {
  /** Stamps `schema_migrations.applied_at`; the system clock by default. */
  clock?: Clock;
  /** Told when the state file's directory is open to other OS users. */
  logger?: Logger;
}

/** The state file and SQLite's files beside it: read and written by Sesame's own OS user only. */
const STATE_FILE_MODE = 0o600;
const STATE_DIR_MODE = 0o700;
const SQLITE_FILE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/**
 * Keeps the state file to Sesame's own OS user (PRODUCT.md §7), whatever the umask, before
 * SQLite opens it:
 * - the directories it creates for the file are 0700. A directory that already exists is left
 *   as it is: it may be shared (a volume, /tmp, the working directory), and changing it could
 *   break whatever else uses it. If other users may list it, a warning says so; the files' own
 *   modes keep their contents private either way.
 * - the database file is created 0600, and one an older Sesame left wider is narrowed; so are the
 *   -wal and -shm files that exist. SQLite creates those with the database file's mode.
 */
function protectStateFile(path: string, logger: Logger | undefined): void {
  const dir = dirname(path);
  const firstCreated = mkdirSync(dir, { recursive: true, mode: STATE_DIR_MODE });
  if (firstCreated !== undefined) {
    for (let d = dir; ; d = dirname(d)) {
      chmodSync(d, STATE_DIR_MODE);
      if (d === firstCreated || d === dirname(d)) break;
    }
  } else {
    const mode = statSync(dir).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      logger?.warn(
        { directory: dir, mode: mode.toString(8) },
        "the state file's directory can be listed by other OS users; run chmod 700 on it so that only Sesame's user can",
      );
    }
  }
  if (!existsSync(path)) closeSync(openSync(path, 'a', STATE_FILE_MODE));
  for (const suffix of SQLITE_FILE_SUFFIXES) {
    const file = `${path}${suffix}`;
    if (!existsSync(file) || (statSync(file).mode & 0o777) === STATE_FILE_MODE) continue;
    try {
      chmodSync(file, STATE_FILE_MODE);
    } catch (err) {
      logger?.warn({ file, err: describeError(err) }, 'the state file could not be made readable by its owner only');
    }
  }
}

/**
 * The embedded {@link StateStore}: one SQLite file through better-sqlite3, in WAL mode so readers
 * never wait for the writer, with foreign keys enforced and the schema brought up to date by
 * versioned migrations when the file is opened.
 *
 * Every status change is a single `UPDATE … WHERE id = ? AND status IN (…) RETURNING *`: SQLite
 * serialises writers, so of two callers racing on one request (in this process or another) exactly
 * one sees the row come back. Moments are stored as integer milliseconds since the epoch.
 */
export class SqliteStateStore implements StateStore {
  readonly #db: Database.Database;
  readonly #statements = new Map<string, Database.Statement>();

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /**
   * Opens (creating if needed, with its parent directory) the store at `path`, or a private
   * in-memory one for `:memory:`, and applies any migrations it has not seen yet. The file and
   * the directories created for it are readable by this OS user only.
   */
  static open(path: string, options: SqliteStateStoreOptions = {}): SqliteStateStore {
    if (path !== ':memory:' && path !== '') protectStateFile(resolve(path), options.logger);
    const db = new Database(path, { timeout: BUSY_TIMEOUT_MS });
    try {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL loses no commit when Sesame itself crashes; only a power loss or an OS
      // crash may roll back the last few. Those are repaired like any interruption: an `approved`
      // or `granting` request is granted again at start (idempotently), a `granted` one past its
      // expiry is revoked by the sweep, and reconciliation removes memberships no recorded grant
      // stands behind, while VALID UNTIL keeps logins out. FULL waited for the disk on every
      // commit, a fifth of the work between an approval and the grant.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db, path, options.clock ?? systemClock);
    } catch (err) {
      db.close();
      throw err;
    }
    return new SqliteStateStore(db);
  }

  async createRequest(
    request: NewAccessRequest,
    status: 'pending' | 'approved',
    audit?: AuditOf,
  ): Promise<AccessRequest> {
    return this.#withAudit(() => this.#insertRequest(request, status), audit);
  }

  #insertRequest(request: NewAccessRequest, status: 'pending' | 'approved'): AccessRequest {
    const { target, requester } = request;
    try {
      const row = this.#statement(
        `INSERT INTO requests (
           id, kind, parent_id, requester_slack_id, requester_email,
           integration, database_name, schema_name, table_name,
           permission, duration_minutes, reason, flow_name, approval_mode, allow_self_approval,
           approver_groups, status, created_at, pending_expires_at,
           decided_at, decided_by, deny_reason, db_user, server_key, granted_roles,
           granted_at, expires_at, ended_at, ended_by, end_reason,
           revoke_attempts, next_attempt_at, last_error,
           expiry_reminder_sent_at, approver_reminder_sent_at, version)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                 ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, 1)
         RETURNING *`,
      ).get(
        request.id,
        request.kind,
        request.parentId ?? null,
        requester.slackId,
        requester.email ?? null,
        target.integration,
        target.database ?? null,
        target.schema ?? null,
        target.table ?? null,
        request.permission,
        request.durationMinutes,
        request.reason,
        request.flowName,
        request.approvalMode,
        request.allowSelfApproval ? 1 : 0,
        JSON.stringify(request.approverGroups),
        status,
        request.createdAt.getTime(),
        request.pendingExpiresAt.getTime(),
        optionalMs(request.decidedAt),
        request.decidedBy ?? null,
        request.denyReason ?? null,
        request.dbUser ?? null,
        request.serverKey ?? null,
        request.grantedRoles === undefined ? null : JSON.stringify(request.grantedRoles),
        optionalMs(request.grantedAt),
        optionalMs(request.expiresAt),
        optionalMs(request.endedAt),
        request.endedBy ?? null,
        request.endReason ?? null,
        optionalMs(request.nextAttemptAt),
        request.lastError ?? null,
        optionalMs(request.expiryReminderSentAt),
        optionalMs(request.approverReminderSentAt),
      ) as RequestRow;
      return toRequest(row);
    } catch (err) {
      if (constraintViolated(err, 'PRIMARYKEY')) {
        throw new ConflictError(
          `A request with ID ${request.id} already exists; create the request again with a new ID.`,
          { cause: err },
        );
      }
      if (constraintViolated(err, 'FOREIGNKEY')) {
        throw new NotFoundError(
          `Request ${request.parentId} does not exist, so it cannot be extended; check the request ID.`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    const row = this.#statement('SELECT * FROM requests WHERE id = ?').get(id) as
      | RequestRow
      | undefined;
    return row && toRequest(row);
  }

  async listRequests(filter: RequestFilter): Promise<AccessRequest[]> {
    const conditions: string[] = [];
    const params: SqlValue[] = [];
    const where = (condition: string, value: SqlValue): void => {
      conditions.push(condition);
      params.push(value);
    };
    if (filter.requesterSlackId !== undefined) where('requester_slack_id = ?', filter.requesterSlackId);
    if (filter.statuses !== undefined) {
      where('status IN (SELECT value FROM json_each(?))', JSON.stringify(filter.statuses));
    }
    if (filter.integration !== undefined) where('integration = ?', filter.integration);
    if (filter.serverKey !== undefined) where('server_key = ?', filter.serverKey);
    if (filter.dbUser !== undefined) where('db_user = ?', filter.dbUser);
    if (filter.parentId !== undefined) where('parent_id = ?', filter.parentId);
    if (filter.undecidedBy !== undefined) {
      where('NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = requests.id AND a.approver_id = ?)', filter.undecidedBy);
    }
    const sql =
      'SELECT * FROM requests' +
      (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ' ORDER BY created_at DESC, id DESC LIMIT ?';
    const rows = this.#statement(sql).all(...params, sqlLimit(filter.limit)) as RequestRow[];
    return rows.map(toRequest);
  }

  async transition(
    id: string,
    from: readonly RequestStatus[],
    to: RequestStatus,
    patch: RequestPatch = {},
    audit?: AuditOf,
  ): Promise<AccessRequest | undefined> {
    assertCanMove(from, to);
    return this.#withAudit(() => this.#updateWhileIn(id, from, patch, to), audit);
  }

  async update(
    id: string,
    whileIn: readonly RequestStatus[],
    patch: RequestPatch,
    audit?: AuditOf,
  ): Promise<AccessRequest | undefined> {
    return this.#withAudit(() => this.#updateWhileIn(id, whileIn, patch), audit);
  }

  async listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]> {
    const rows = this.#statement(DUE_FOR_REVOCATION_SQL).all({
      now: now.getTime(),
      limit: sqlLimit(limit),
    }) as RequestRow[];
    return rows.map(toRequest);
  }

  async listPendingPastTtl(now: Date): Promise<AccessRequest[]> {
    const rows = this.#statement(PENDING_PAST_TTL_SQL).all({ now: now.getTime() }) as RequestRow[];
    return rows.map(toRequest);
  }

  async addApproval(approval: Approval): Promise<boolean> {
    try {
      this.#statement(
        'INSERT INTO approvals (request_id, approver_id, decision, comment, at) VALUES (?, ?, ?, ?, ?)',
      ).run(
        approval.requestId,
        approval.approverId,
        approval.decision,
        approval.comment ?? null,
        approval.at.getTime(),
      );
      return true;
    } catch (err) {
      if (constraintViolated(err, 'UNIQUE')) return false;
      if (constraintViolated(err, 'FOREIGNKEY')) {
        throw new NotFoundError(
          `Request ${approval.requestId} does not exist, so no decision can be recorded on it; check the request ID.`,
          { cause: err },
        );
      }
      throw err;
    }
  }

  async listApprovals(requestId: string): Promise<Approval[]> {
    const rows = this.#statement(
      'SELECT * FROM approvals WHERE request_id = ? ORDER BY at, rowid',
    ).all(requestId) as ApprovalRow[];
    return rows.map(toApproval);
  }

  async upsertManagedUser(user: ManagedUser): Promise<ManagedUser> {
    this.#statement(
      `INSERT INTO managed_users (server_key, username, integration, slack_id, email, created_at,
                                  password_set_at, last_revoked_at, dropped_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (server_key, username) DO NOTHING`,
    ).run(
      user.serverKey,
      user.username,
      user.integration,
      user.slackId,
      user.email ?? null,
      user.createdAt.getTime(),
      optionalMs(user.passwordSetAt),
      optionalMs(user.lastRevokedAt),
      optionalMs(user.droppedAt),
    );
    // Users are never deleted, so the row just inserted or already there is still there.
    return (await this.getManagedUser(user.serverKey, user.username)) as ManagedUser;
  }

  async getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined> {
    const row = this.#statement(
      'SELECT * FROM managed_users WHERE server_key = ? AND username = ?',
    ).get(serverKey, username) as ManagedUserRow | undefined;
    return row && toManagedUser(row);
  }

  async listManagedUsers(
    filter: { serverKey?: string; includeDropped?: boolean } = {},
  ): Promise<ManagedUser[]> {
    const rows = this.#statement(
      `SELECT * FROM managed_users
       WHERE (@serverKey IS NULL OR server_key = @serverKey)
         AND (@includeDropped OR dropped_at IS NULL)
       ORDER BY server_key, username`,
    ).all({
      serverKey: filter.serverKey ?? null,
      includeDropped: filter.includeDropped === true ? 1 : 0,
    }) as ManagedUserRow[];
    return rows.map(toManagedUser);
  }

  async addNotification(ref: NotificationRef): Promise<void> {
    try {
      this.#statement(
        `INSERT INTO notifications (request_id, audience, recipient, channel, ts, at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (channel, ts) DO NOTHING`,
      ).run(ref.requestId, ref.audience, ref.recipient ?? null, ref.channel, ref.ts, ref.at.getTime());
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
        throw new NotFoundError(`There is no request ${ref.requestId} to attach a message to.`, { cause: err });
      }
      throw err;
    }
  }

  async listNotifications(requestId: string): Promise<NotificationRef[]> {
    const rows = this.#statement(
      'SELECT * FROM notifications WHERE request_id = ? ORDER BY at, rowid',
    ).all(requestId) as { request_id: string; audience: NotificationRef['audience']; recipient: string | null; channel: string; ts: string; at: number }[];
    return rows.map((r) => ({
      requestId: r.request_id,
      audience: r.audience,
      ...(r.recipient !== null ? { recipient: r.recipient } : {}),
      channel: r.channel,
      ts: r.ts,
      at: new Date(r.at),
    }));
  }

  async updateManagedUser(
    serverKey: string,
    username: string,
    patch: ManagedUserPatch,
  ): Promise<void> {
    const { assignments, params } = setClause(patch, MANAGED_USER_PATCH_COLUMNS, new Set());
    const found =
      assignments.length > 0
        ? this.#statement(
            `UPDATE managed_users SET ${assignments.join(', ')} WHERE server_key = ? AND username = ?`,
          ).run(...params, serverKey, username).changes > 0
        : (await this.getManagedUser(serverKey, username)) !== undefined;
    if (!found) {
      throw new NotFoundError(
        `Sesame does not manage a user ${username} on ${serverKey}; record the user before updating it.`,
      );
    }
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.#insertAudit(event);
  }

  #insertAudit(event: AuditEvent): void {
    this.#statement(
      `INSERT INTO audit_events (at, action, actor, actor_email, request_id, integration, details)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      event.at.getTime(),
      event.action,
      event.actor,
      event.actorEmail ?? null,
      event.requestId ?? null,
      event.integration ?? null,
      event.details === undefined ? null : JSON.stringify(event.details),
    );
  }

  async listAudit(since: Date, limit?: number): Promise<AuditEvent[]> {
    const rows = this.#statement(
      'SELECT * FROM audit_events WHERE at >= ? ORDER BY at, id LIMIT ?',
    ).all(since.getTime(), sqlLimit(limit)) as AuditRow[];
    return rows.map(toAuditEvent);
  }

  async ping(): Promise<void> {
    this.#statement('SELECT 1 FROM schema_migrations LIMIT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.open) this.#db.close();
  }

  /**
   * Runs a change and, when it changed a request, inserts its audit event, in one transaction:
   * one commit instead of two, and never one without the other.
   */
  #withAudit<T extends AccessRequest | undefined>(change: () => T, audit: AuditOf | undefined): T {
    if (!audit) return change();
    return this.#db.transaction(() => {
      const changed = change();
      if (changed) for (const event of [audit(changed)].flat()) this.#insertAudit(event);
      return changed;
    }).immediate();
  }

  #updateWhileIn(
    id: string,
    whileIn: readonly RequestStatus[],
    patch: RequestPatch,
    to?: RequestStatus,
  ): AccessRequest | undefined {
    const { assignments, params } = setClause(patch, REQUEST_PATCH_COLUMNS, REQUIRED_PATCH_FIELDS);
    if (to !== undefined) {
      assignments.unshift('status = ?');
      params.unshift(to);
    }
    assignments.push('version = version + 1');
    const row = this.#statement(
      `UPDATE requests SET ${assignments.join(', ')}
       WHERE id = ? AND status IN (SELECT value FROM json_each(?))
       RETURNING *`,
    ).get(...params, id, JSON.stringify(whileIn)) as RequestRow | undefined;
    return row && toRequest(row);
  }

  /** Prepares each distinct statement once; the set is small and fixed by the code. */
  #statement(sql: string): Database.Statement {
    if (!this.#db.open) {
      throw new ConflictError('The state store is closed; open it again before using it.');
    }
    let statement = this.#statements.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    return statement;
  }
}

/**
 * Applies the migrations the file has not seen, each in its own immediate transaction that first
 * checks again whether another process applied it meanwhile, so two processes opening one new file
 * at once both succeed.
 */
function migrate(db: Database.Database, path: string, clock: Clock): void {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version    INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    applied_at INTEGER NOT NULL
  )`);
  const currentVersion = db.prepare('SELECT coalesce(max(version), 0) FROM schema_migrations').pluck();
  const known = currentVersion.get() as number;
  if (known > LATEST_SCHEMA_VERSION) {
    throw new ConflictError(
      `The state store ${path} has schema version ${known}, written by a newer Sesame; this one knows versions up to ${LATEST_SCHEMA_VERSION}. Run the newer Sesame, or point state.sqlite at another file.`,
    );
  }
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const applyOne = db.transaction((migration: Migration) => {
    if ((currentVersion.get() as number) >= migration.version) return;
    db.exec(migration.sql);
    record.run(migration.version, migration.name, clock.now().getTime());
  });
  for (const migration of MIGRATIONS) {
    if (migration.version > known) applyOne.immediate(migration);
  }
}

function setClause<P extends object>(
  patch: P,
  columns: PatchColumns<P>,
  required: ReadonlySet<string>,
): { assignments: string[]; params: SqlValue[] } {
  const assignments: string[] = [];
  const params: SqlValue[] = [];
  for (const field of Object.keys(columns) as (keyof P & string)[]) {
    const value = patch[field];
    if (value === undefined || (value === null && required.has(field))) continue;
    const { column, encode } = columns[field];
    assignments.push(`${column} = ?`);
    params.push(value === null ? null : encode(value as NonNullable<P[typeof field]>));
  }
  return { assignments, params };
}

function constraintViolated(err: unknown, kind: 'PRIMARYKEY' | 'UNIQUE' | 'FOREIGNKEY'): boolean {
  return err instanceof Database.SqliteError && err.code === `SQLITE_CONSTRAINT_${kind}`;
}

/** SQLite reads a negative LIMIT as "no limit". */
function sqlLimit(limit: number | undefined): number {
  return limit === undefined ? -1 : Math.max(0, Math.floor(limit));
}

function optionalMs(date: Date | undefined): number | null {
  return date === undefined ? null : date.getTime();
}

/** Copies the non-NULL columns into `target` under their field names. */
function assignPresent<T extends object>(target: T, fields: { [K in keyof T]?: T[K] | undefined }): T {
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

function dateOrUndefined(ms: number | null): Date | undefined {
  return ms === null ? undefined : new Date(ms);
}

function present<T>(value: T | null): T | undefined {
  return value === null ? undefined : value;
}

function toRequest(row: RequestRow): AccessRequest {
  const target: Target = assignPresent<Target>(
    { integration: row.integration },
    { database: present(row.database_name), schema: present(row.schema_name), table: present(row.table_name) },
  );
  const request: AccessRequest = {
    id: row.id,
    kind: row.kind as RequestKind,
    requester: assignPresent<Person>({ slackId: row.requester_slack_id }, { email: present(row.requester_email) }),
    target,
    permission: row.permission as Permission,
    durationMinutes: row.duration_minutes,
    reason: row.reason,
    flowName: row.flow_name,
    approvalMode: row.approval_mode as AccessRequest['approvalMode'],
    allowSelfApproval: row.allow_self_approval === 1,
    approverGroups: JSON.parse(row.approver_groups) as ApproverGroup[],
    status: row.status as RequestStatus,
    createdAt: new Date(row.created_at),
    pendingExpiresAt: new Date(row.pending_expires_at),
    revokeAttempts: row.revoke_attempts,
    version: row.version,
  };
  return assignPresent(request, {
    parentId: present(row.parent_id),
    decidedAt: dateOrUndefined(row.decided_at),
    decidedBy: present(row.decided_by),
    denyReason: present(row.deny_reason),
    dbUser: present(row.db_user),
    serverKey: present(row.server_key),
    grantedRoles: row.granted_roles === null ? undefined : (JSON.parse(row.granted_roles) as string[]),
    grantedAt: dateOrUndefined(row.granted_at),
    expiresAt: dateOrUndefined(row.expires_at),
    endedAt: dateOrUndefined(row.ended_at),
    endedBy: present(row.ended_by),
    endReason: present(row.end_reason) as EndReason | undefined,
    nextAttemptAt: dateOrUndefined(row.next_attempt_at),
    lastError: present(row.last_error),
    expiryReminderSentAt: dateOrUndefined(row.expiry_reminder_sent_at),
    approverReminderSentAt: dateOrUndefined(row.approver_reminder_sent_at),
  });
}

function toApproval(row: ApprovalRow): Approval {
  return assignPresent<Approval>(
    {
      requestId: row.request_id,
      approverId: row.approver_id,
      decision: row.decision as Approval['decision'],
      at: new Date(row.at),
    },
    { comment: present(row.comment) },
  );
}

function toManagedUser(row: ManagedUserRow): ManagedUser {
  return assignPresent<ManagedUser>(
    {
      serverKey: row.server_key,
      username: row.username,
      integration: row.integration,
      slackId: row.slack_id,
      createdAt: new Date(row.created_at),
    },
    {
      email: present(row.email),
      passwordSetAt: dateOrUndefined(row.password_set_at),
      lastRevokedAt: dateOrUndefined(row.last_revoked_at),
      droppedAt: dateOrUndefined(row.dropped_at),
    },
  );
}

function toAuditEvent(row: AuditRow): AuditEvent {
  return assignPresent<AuditEvent>(
    { id: row.id, at: new Date(row.at), action: row.action as AuditAction, actor: row.actor },
    {
      actorEmail: present(row.actor_email),
      requestId: present(row.request_id),
      integration: present(row.integration),
      details:
        row.details === null ? undefined : (JSON.parse(row.details) as Record<string, unknown>),
    },
  );
}
