import type { AccessRequest, Approval, NewAccessRequest, RequestStatus } from '../../domain/request.ts';
import type { AuditOf, NextDeadlines, RequestFilter, RequestPatch, RequestStore } from '../../ports/StateStore.ts';
import { earliestOf } from '../stateTables/deadlines.ts';
import { auditEventsOf, REQUIRED_PATCH_FIELDS, refusals, refusedWrite } from '../../ports/stateStoreRules.ts';
import { type ChangeWhileIn, ConditionalRequestChanges } from '../stateTables/ConditionalRequestChanges.ts';
import { PostgresAuditLog } from './PostgresAuditLog.ts';
import type { PostgresConnection, Queryable } from './PostgresConnection.ts';
import { assignments, insertOf, pgLimit, pgRows, REQUEST_PATCH_COLUMNS, violationOf } from './rows.ts';

const { approvalRow, newRequestRow, toApproval, toRequest } = pgRows;

/** Requests in `granted` past their expiry, and in `revoking` whose next attempt is due (or unset). */
const DUE_FOR_REVOCATION_SQL = `
  SELECT * FROM requests
  WHERE (status = 'granted' AND expires_at <= $1)
     OR (status = 'revoking' AND (next_attempt_at IS NULL OR next_attempt_at <= $1))
  ORDER BY expires_at NULLS FIRST, id
  LIMIT $2`;

const PENDING_PAST_TTL_SQL = `
  SELECT * FROM requests WHERE status = 'pending' AND pending_expires_at <= $1
  ORDER BY pending_expires_at, id`;

/** The next deadlines of the deadline timer: each branch reads the first row of one (status, …) index. */
const NEXT_DEADLINES_SQL = `
  SELECT
    (SELECT expires_at FROM requests WHERE status = 'granted' AND expires_at > $1
      ORDER BY expires_at LIMIT 1) AS expiry,
    (SELECT next_attempt_at FROM requests WHERE status = 'revoking' AND next_attempt_at > $1
      ORDER BY next_attempt_at LIMIT 1) AS retry,
    (SELECT expires_at - $2 * interval '1 millisecond' FROM requests
      WHERE status = 'granted' AND expires_at > $1 + $2 * interval '1 millisecond'
        AND kind = 'access' AND expiry_reminder_sent_at IS NULL ORDER BY expires_at LIMIT 1) AS reminder,
    (SELECT pending_expires_at FROM requests WHERE status = 'pending' AND pending_expires_at > $1
      ORDER BY pending_expires_at LIMIT 1) AS ttl`;

/** The column of each equality filter on requests. */
const EQUALITY_FILTERS = {
  requesterSlackId: 'requester_slack_id',
  integration: 'integration',
  serverKey: 'server_key',
  dbUser: 'db_user',
  parentId: 'parent_id',
  groupId: 'group_id',
} as const satisfies { [K in keyof RequestFilter]?: string };

/**
 * Requests and their approvals, in the `requests` and `approvals` tables. Every status change is
 * a single `UPDATE … WHERE id = $1 AND status = ANY($2) RETURNING *`: of two callers racing on one
 * request, in this process or another replica, the second waits for the first's row lock, reads
 * the status again, and gets no row back. A change and its audit events commit in one transaction.
 */
export class PostgresRequestStore extends ConditionalRequestChanges implements RequestStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    super();
    this.#db = db;
  }

  async createRequest(request: NewAccessRequest, status: 'pending' | 'approved', audit?: AuditOf): Promise<AccessRequest> {
    return this.#withAudit((db) => this.#insertRequest(db, request, status), audit);
  }

  async #insertRequest(db: Queryable, request: NewAccessRequest, status: 'pending' | 'approved'): Promise<AccessRequest> {
    const { text, params } = insertOf('requests', newRequestRow(request, status));
    try {
      return toRequest((await db.query(`${text} RETURNING *`, params)).rows[0]!);
    } catch (err) {
      return refusedWrite<never>(err, violationOf(err), (violation, cause) => refusals.request(request, violation, cause));
    }
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    const row = await this.#db.one('SELECT * FROM requests WHERE id = $1', id);
    return row && toRequest(row);
  }

  async listRequests(filter: RequestFilter): Promise<AccessRequest[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const where = (condition: (n: string) => string, value: unknown): void => {
      params.push(value);
      conditions.push(condition(`$${params.length}`));
    };
    for (const [field, column] of Object.entries(EQUALITY_FILTERS) as [keyof typeof EQUALITY_FILTERS, string][]) {
      const value = filter[field];
      if (value !== undefined) where((n) => `${column} = ${n}`, value);
    }
    if (filter.statuses !== undefined) where((n) => `status = ANY(${n}::text[])`, filter.statuses);
    if (filter.unreviewedBreakGlass) conditions.push('break_glass AND review_outcome IS NULL');
    if (filter.expiresBy !== undefined) where((n) => `expires_at <= ${n}`, filter.expiresBy);
    if (filter.undecidedBy !== undefined) {
      where((n) => `NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = requests.id AND a.approver_id = ${n})`, filter.undecidedBy);
    }
    params.push(pgLimit(filter.limit));
    const sql =
      'SELECT * FROM requests' +
      (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ` ORDER BY created_at DESC, id DESC LIMIT $${params.length}`;
    return (await this.#db.all(sql, ...params)).map(toRequest);
  }

  protected readonly changeWhileIn: ChangeWhileIn = async (id, whileIn, patch, to, audit) =>
    this.#withAudit((db) => updateWhileIn(db, id, whileIn, patch, to), audit);

  async listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]> {
    return (await this.#db.all(DUE_FOR_REVOCATION_SQL, now, pgLimit(limit))).map(toRequest);
  }

  async listPendingPastTtl(now: Date): Promise<AccessRequest[]> {
    return (await this.#db.all(PENDING_PAST_TTL_SQL, now)).map(toRequest);
  }

  async nextDeadlines(after: Date, reminderLeadMs: number): Promise<NextDeadlines> {
    const row = (await this.#db.one(NEXT_DEADLINES_SQL, after, reminderLeadMs)) ?? {};
    return earliestOf([row.expiry, row.retry], [row.reminder, row.ttl]);
  }

  async addApproval(approval: Approval): Promise<boolean> {
    const { text, params } = insertOf('approvals', approvalRow(approval));
    try {
      await this.#db.query(text, params);
      return true;
    } catch (err) {
      return refusedWrite(err, violationOf(err), (violation, cause) => refusals.approval(approval, violation, cause));
    }
  }

  async listApprovals(requestId: string): Promise<Approval[]> {
    return (await this.#db.all('SELECT * FROM approvals WHERE request_id = $1 ORDER BY at, seq', requestId)).map(toApproval);
  }

  /** Runs a change and, when it changed a request, inserts its audit events, in one transaction. */
  #withAudit<T extends AccessRequest | undefined>(change: (db: Queryable) => Promise<T>, audit: AuditOf | undefined): Promise<T> {
    if (!audit) return change(this.#db);
    return this.#db.transaction(async (tx) => {
      const changed = await change(tx);
      for (const event of auditEventsOf(changed, audit)) await PostgresAuditLog.insert(tx, event);
      return changed;
    });
  }
}

/** The one conditional UPDATE of a change: applies `patch` (and `to`) only while the status is in `whileIn`. */
async function updateWhileIn(
  db: Queryable,
  id: string,
  whileIn: readonly RequestStatus[],
  patch: RequestPatch,
  to?: RequestStatus,
): Promise<AccessRequest | undefined> {
  const { set, params } = assignments(patch, REQUEST_PATCH_COLUMNS, to === undefined ? 3 : 4, REQUIRED_PATCH_FIELDS);
  if (to !== undefined) set.unshift('status = $3');
  set.push('version = version + 1');
  const { rows } = await db.query(
    `UPDATE requests SET ${set.join(', ')} WHERE id = $1 AND status = ANY($2::text[]) RETURNING *`,
    to === undefined ? [id, whileIn, ...params] : [id, whileIn, to, ...params],
  );
  return rows[0] && toRequest(rows[0]);
}
