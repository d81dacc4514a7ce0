import type { AccessRequest, Approval } from '../../domain/request.ts';
import { ConflictError } from '../../domain/errors.ts';
import type { AuditEvent, ManagedUser, NotificationRef, StoredSessionRecord } from '../../ports/StateStore.ts';
import { MIGRATION_LOCK_KEY } from './migrate.ts';
import type { Queryable } from './PostgresConnection.ts';
import { insertOf, pgRows } from './rows.ts';

/** Everything a state holds, as the ports read it: what moving a state to another store copies. */
export interface StateSnapshot {
  requests: AccessRequest[];
  approvals: Approval[];
  managedUsers: ManagedUser[];
  audit: AuditEvent[];
  notifications: NotificationRef[];
  /** What managed users did under each grant, in the order stored. */
  sessions: StoredSessionRecord[];
}

/** How many records of each kind a state holds. */
export type StateCounts = { [K in keyof StateSnapshot]: number };

/** The table of each kind of record. */
export const STATE_TABLES: { [K in keyof StateSnapshot]: string } = {
  requests: 'requests',
  approvals: 'approvals',
  managedUsers: 'managed_users',
  audit: 'audit_events',
  notifications: 'notifications',
  sessions: 'session_records',
};

/** How many records of each kind the database holds. */
export async function countState(db: Queryable): Promise<StateCounts> {
  const counts = {} as StateCounts;
  for (const [kind, table] of Object.entries(STATE_TABLES) as [keyof StateSnapshot, string][]) {
    const { rows } = await db.query(`SELECT count(*)::integer AS n FROM ${table}`);
    counts[kind] = Number(rows[0]?.n);
  }
  return counts;
}

/**
 * Writes a whole state into an empty database in one transaction, records exactly as they were
 * (statuses, versions, audit IDs), and answers the counts it then holds. A database that holds
 * anything is refused and left as it was.
 */
export async function importState(db: Queryable, snapshot: StateSnapshot, where: string): Promise<StateCounts> {
  // Two imports at once, or one while Sesame migrates the schema, take turns.
  await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  const before = await countState(db);
  if (Object.values(before).some((n) => n > 0)) {
    const held = Object.entries(before).map(([kind, n]) => `${n} ${kind}`);
    throw new ConflictError(`${where} is not empty (${held.join(', ')}); Sesame copies a state only into an empty database.`);
  }
  const insert = async (table: string, row: Record<string, unknown>, options = '') => {
    const { text, params } = insertOf(table, row, options);
    await db.query(text, params);
  };
  for (const request of parentsFirst(snapshot.requests)) await insert('requests', pgRows.requestRow(request));
  for (const approval of snapshot.approvals) await insert('approvals', pgRows.approvalRow(approval));
  for (const user of snapshot.managedUsers) await insert('managed_users', pgRows.managedUserRow(user));
  for (const event of snapshot.audit) {
    await insert('audit_events', { id: event.id, ...pgRows.auditRow(event) }, 'OVERRIDING SYSTEM VALUE ');
  }
  // New events are numbered after the copied ones.
  await db.query("SELECT setval(pg_get_serial_sequence('audit_events', 'id'), coalesce(max(id), 0) + 1, false) FROM audit_events");
  for (const ref of snapshot.notifications) await insert('notifications', pgRows.notificationRow(ref));
  for (const record of snapshot.sessions) await insert('session_records', { seq: record.seq, ...pgRows.sessionRecordRow(record) });
  await db.query("SELECT setval(pg_get_serial_sequence('session_records', 'seq'), coalesce(max(seq), 0) + 1, false) FROM session_records");
  return countState(db);
}

/** Requests with every extension after the request it extends, which the parent's key asks for. */
function parentsFirst(requests: readonly AccessRequest[]): AccessRequest[] {
  const byId = new Map(requests.map((r) => [r.id, r]));
  const ordered: AccessRequest[] = [];
  const placed = new Set<string>();
  const place = (request: AccessRequest): void => {
    if (placed.has(request.id)) return;
    placed.add(request.id);
    const parent = request.parentId === undefined ? undefined : byId.get(request.parentId);
    if (parent) place(parent);
    ordered.push(request);
  };
  for (const request of requests) place(request);
  return ordered;
}
