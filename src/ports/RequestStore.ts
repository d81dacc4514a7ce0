import type { AccessRequest, Approval, NewAccessRequest, RequestStatus } from '../domain/request.ts';
import type { AuditOf } from './AuditLog.ts';

export interface RequestFilter {
  requesterSlackId?: string;
  statuses?: readonly RequestStatus[];
  integration?: string;
  serverKey?: string;
  dbUser?: string;
  parentId?: string;
  /** The parts of one request for several targets. */
  groupId?: string;
  /** Break-glass grants no reviewer has marked Reviewed or Flagged yet. */
  unreviewedBreakGlass?: boolean;
  /** Only requests whose `expiresAt` is at or before this moment. */
  expiresBy?: Date;
  /** Only requests on which this person has recorded no decision (approval or denial). */
  undecidedBy?: string;
  limit?: number;
}

/**
 * Requests and their approvals. Every status change is a conditional update, so two callers
 * racing on one request produce one winner and the loser learns it (`undefined`).
 */
export interface RequestStore {
  /** Inserts a new request in status `pending` (or `approved` for auto-approval). */
  createRequest(request: NewAccessRequest, status: 'pending' | 'approved', audit?: AuditOf): Promise<AccessRequest>;
  getRequest(id: string): Promise<AccessRequest | undefined>;
  listRequests(filter: RequestFilter): Promise<AccessRequest[]>;
  /**
   * Moves a request from one of `from` to `to`, applying `patch`, in one conditional update.
   * Returns the updated request, or `undefined` when its status was not in `from`. Throws, and
   * changes nothing, when a status in `from` may not move to `to` by the domain's TRANSITIONS.
   */
  transition(
    id: string,
    from: readonly RequestStatus[],
    to: RequestStatus,
    patch?: RequestPatch,
    audit?: AuditOf,
  ): Promise<AccessRequest | undefined>;
  /** Updates fields without a status change, only while the status is in `whileIn`. */
  update(id: string, whileIn: readonly RequestStatus[], patch: RequestPatch, audit?: AuditOf): Promise<AccessRequest | undefined>;
  /** Requests in `granted` whose `expiresAt` ≤ now, and in `revoking` whose `nextAttemptAt` ≤ now. */
  listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]>;
  /** Pending requests whose `pendingExpiresAt` ≤ now. */
  listPendingPastTtl(now: Date): Promise<AccessRequest[]>;
  /**
   * The earliest moments after `after` at which something falls due, each read from an index:
   * `revocation`, a grant's `expiresAt` or a failed revocation's `nextAttemptAt`; `reminder`, the
   * expiry reminder of an access grant not yet reminded (`expiresAt` − `reminderLeadMs`) or a
   * pending request's `pendingExpiresAt`. Absent when nothing of that kind is due later.
   */
  nextDeadlines(after: Date, reminderLeadMs: number): Promise<NextDeadlines>;

  /** Records one person's decision; false when that person already decided on that request. */
  addApproval(approval: Approval): Promise<boolean>;
  listApprovals(requestId: string): Promise<Approval[]>;
}

/** What {@link RequestStore.nextDeadlines} finds. */
export interface NextDeadlines {
  revocation?: Date;
  reminder?: Date;
}

/**
 * Fields to change on a request. An absent key leaves the field as it is; `null` clears it.
 */
export type RequestPatch = {
  [K in PatchableField]?: AccessRequest[K] | null;
};

type PatchableField = Extract<
  keyof AccessRequest,
  | 'decidedAt'
  | 'decidedBy'
  | 'denyReason'
  | 'dbUser'
  | 'serverKey'
  | 'grantedRoles'
  | 'grantedAt'
  | 'expiresAt'
  | 'endedAt'
  | 'endedBy'
  | 'endReason'
  | 'revokeAttempts'
  | 'nextAttemptAt'
  | 'lastError'
  | 'approverGroups'
  | 'expiryReminderSentAt'
  | 'approverReminderSentAt'
  | 'reviewOutcome'
  | 'reviewedBy'
  | 'reviewedAt'
  | 'reviewReminderSentAt'
>;
