import type { AccessRequest, Approval, NewAccessRequest, RequestStatus } from '../../domain/request.ts';
import type { AuditOf, NextDeadlines, RequestFilter, RequestPatch, RequestStore } from '../../ports/StateStore.ts';
import { auditEventsOf, REQUIRED_PATCH_FIELDS, refusals, refusedWrite } from '../../ports/stateStoreRules.ts';
import { type ChangeWhileIn, ConditionalRequestChanges } from '../stateTables/ConditionalRequestChanges.ts';
import { insertSql, type SqlValue, setClause, sqlLimit, violationOf } from './columns.ts';
import { approvalRow, newRequestRow, REQUEST_PATCH_COLUMNS, toApproval, toRequest } from './rows.ts';
import type { SqliteAuditLog } from './SqliteAuditLog.ts';
import type { SqliteConnection } from './SqliteConnection.ts';
import { earliestOf } from '../stateTables/deadlines.ts';

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

/**
 * The next deadlines of the deadline timer: each branch walks one (status, …) index in order and
 * stops at its first row, however many grants there are.
 */
export const NEXT_DEADLINES_SQL = `
  SELECT
    (SELECT expires_at FROM requests WHERE status = 'granted' AND expires_at > @after
      ORDER BY expires_at LIMIT 1) AS expiry,
    (SELECT next_attempt_at FROM requests WHERE status = 'revoking' AND next_attempt_at > @after
      ORDER BY next_attempt_at LIMIT 1) AS retry,
    (SELECT expires_at - @lead FROM requests WHERE status = 'granted' AND expires_at > @after + @lead
      AND kind = 'access' AND expiry_reminder_sent_at IS NULL ORDER BY expires_at LIMIT 1) AS reminder,
    (SELECT pending_expires_at FROM requests WHERE status = 'pending' AND pending_expires_at > @after
      ORDER BY pending_expires_at LIMIT 1) AS ttl`;

/** The condition of each equality filter on requests. */
const EQUALITY_FILTERS = {
  requesterSlackId: 'requester_slack_id = ?',
  integration: 'integration = ?',
  serverKey: 'server_key = ?',
  dbUser: 'db_user = ?',
  parentId: 'parent_id = ?',
  groupId: 'group_id = ?',
} as const satisfies { [K in keyof RequestFilter]?: string };

/**
 * Requests and their approvals, in the `requests` and `approvals` tables. Every status change is a
 * single `UPDATE … WHERE id = ? AND status IN (…) RETURNING *`: SQLite serialises writers, so of two
 * callers racing on one request (in this process or another) exactly one sees the row come back.
 * A change and its audit events are written in one transaction.
 */
export class SqliteRequestStore extends ConditionalRequestChanges implements RequestStore {
  readonly #db: SqliteConnection;
  readonly #audit: SqliteAuditLog;

  constructor(db: SqliteConnection, audit: SqliteAuditLog) {
    super();
    this.#db = db;
    this.#audit = audit;
  }

  async createRequest(request: NewAccessRequest, status: 'pending' | 'approved', audit?: AuditOf): Promise<AccessRequest> {
    return this.#withAudit(() => this.#insertRequest(request, status), audit);
  }

  #insertRequest(request: NewAccessRequest, status: 'pending' | 'approved'): AccessRequest {
    const row = newRequestRow(request, status);
    try {
      return toRequest(this.#db.one(`${insertSql('requests', row)} RETURNING *`, row)!);
    } catch (err) {
      return refusedWrite<never>(err, violationOf(err), (violation, cause) => refusals.request(request, violation, cause));
    }
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    const row = this.#db.one('SELECT * FROM requests WHERE id = ?', id);
    return row && toRequest(row);
  }

  async listRequests(filter: RequestFilter): Promise<AccessRequest[]> {
    const conditions: string[] = [];
    const params: SqlValue[] = [];
    const where = (condition: string, value: SqlValue): void => {
      conditions.push(condition);
      params.push(value);
    };
    for (const [field, condition] of Object.entries(EQUALITY_FILTERS) as [keyof typeof EQUALITY_FILTERS, string][]) {
      const value = filter[field];
      if (value !== undefined) where(condition, value);
    }
    if (filter.statuses !== undefined) where('status IN (SELECT value FROM json_each(?))', JSON.stringify(filter.statuses));
    if (filter.unreviewedBreakGlass) conditions.push('break_glass = 1 AND review_outcome IS NULL');
    if (filter.expiresBy !== undefined) where('expires_at <= ?', filter.expiresBy.getTime());
    if (filter.undecidedBy !== undefined) {
      where('NOT EXISTS (SELECT 1 FROM approvals a WHERE a.request_id = requests.id AND a.approver_id = ?)', filter.undecidedBy);
    }
    const sql =
      'SELECT * FROM requests' +
      (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '') +
      ' ORDER BY created_at DESC, id DESC LIMIT ?';
    return this.#db.all(sql, ...params, sqlLimit(filter.limit)).map(toRequest);
  }

  protected readonly changeWhileIn: ChangeWhileIn = async (id, whileIn, patch, to, audit) =>
    this.#withAudit(() => this.#updateWhileIn(id, whileIn, patch, to), audit);

  async listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]> {
    return this.#db.all(DUE_FOR_REVOCATION_SQL, { now: now.getTime(), limit: sqlLimit(limit) }).map(toRequest);
  }

  async listPendingPastTtl(now: Date): Promise<AccessRequest[]> {
    return this.#db.all(PENDING_PAST_TTL_SQL, { now: now.getTime() }).map(toRequest);
  }

  async nextDeadlines(after: Date, reminderLeadMs: number): Promise<NextDeadlines> {
    const row = this.#db.one(NEXT_DEADLINES_SQL, { after: after.getTime(), lead: reminderLeadMs }) ?? {};
    return earliestOf([row.expiry, row.retry], [row.reminder, row.ttl]);
  }

  async addApproval(approval: Approval): Promise<boolean> {
    const row = approvalRow(approval);
    try {
      this.#db.statement(insertSql('approvals', row)).run(row);
      return true;
    } catch (err) {
      return refusedWrite(err, violationOf(err), (violation, cause) => refusals.approval(approval, violation, cause));
    }
  }

  async listApprovals(requestId: string): Promise<Approval[]> {
    return this.#db.all('SELECT * FROM approvals WHERE request_id = ? ORDER BY at, rowid', requestId).map(toApproval);
  }

  /**
   * Runs a change and, when it changed a request, inserts its audit events, in one transaction:
   * one commit instead of two, and never one without the other.
   */
  #withAudit<T extends AccessRequest | undefined>(change: () => T, audit: AuditOf | undefined): T {
    if (!audit) return change();
    return this.#db.immediate(() => {
      const changed = change();
      for (const event of auditEventsOf(changed, audit)) this.#audit.insert(event);
      return changed;
    });
  }

  #updateWhileIn(id: string, whileIn: readonly RequestStatus[], patch: RequestPatch, to?: RequestStatus): AccessRequest | undefined {
    const { assignments, params } = setClause(patch, REQUEST_PATCH_COLUMNS, REQUIRED_PATCH_FIELDS);
    if (to !== undefined) {
      assignments.unshift('status = ?');
      params.unshift(to);
    }
    assignments.push('version = version + 1');
    const row = this.#db.one(
      `UPDATE requests SET ${assignments.join(', ')}
       WHERE id = ? AND status IN (SELECT value FROM json_each(?))
       RETURNING *`,
      ...params,
      id,
      JSON.stringify(whileIn),
    );
    return row && toRequest(row);
  }
}
