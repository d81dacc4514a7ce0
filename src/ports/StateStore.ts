import type {
  AccessRequest,
  Approval,
  NewAccessRequest,
  RequestStatus,
} from '../domain/request.ts';
import type { NotificationLog } from './NotificationLog.ts';

export type { NotificationRef } from './NotificationLog.ts';

/** A database user that Sesame created, keyed by the server it lives on. */
export interface ManagedUser {
  /** RDS resource ID, else `host:port`: integrations on one server share the user. */
  serverKey: string;
  username: string;
  /** The integration through which it was first created (for connecting at cleanup). */
  integration: string;
  slackId: string;
  email?: string;
  createdAt: Date;
  /** When a password was last set (grant, reveal or rotation); never the password itself. */
  passwordSetAt?: Date;
  /** When the last live grant of this user ended. */
  lastRevokedAt?: Date;
  droppedAt?: Date;
}

export type AuditAction =
  | 'request.created'
  | 'request.approved'
  | 'request.denied'
  | 'request.cancelled'
  | 'request.timedout'
  | 'grant.started'
  | 'grant.granted'
  | 'grant.failed'
  | 'grant.extended'
  | 'grant.revoking'
  | 'grant.revoked'
  | 'grant.expired'
  | 'grant.revoke_failed'
  | 'grant.sessions'
  | 'credentials.revealed'
  | 'credentials.rotated'
  | 'user.created'
  | 'user.dropped'
  | 'reconcile.revoked'
  | 'leftover.removed'
  | 'connector.self_granted';

/** One append-only entry of the audit trail. Never holds a secret. */
export interface AuditEvent {
  id?: number;
  at: Date;
  action: AuditAction;
  /** Slack ID of the person who acted, or `system`. */
  actor: string;
  actorEmail?: string;
  requestId?: string;
  integration?: string;
  /** Free-form details: target, permission, roles, error text (sanitised), counts. */
  details?: Record<string, unknown>;
}

/**
 * The audit event (or events) of a state change, made from the request as the change left it.
 * Stores write them in the same transaction as the change: a change is never recorded without its audit event,
 * nor an event without its change.
 */
export type AuditOf = (request: AccessRequest) => AuditEvent | AuditEvent[];

export interface RequestFilter {
  requesterSlackId?: string;
  statuses?: readonly RequestStatus[];
  integration?: string;
  serverKey?: string;
  dbUser?: string;
  parentId?: string;
  /** Only requests on which this person has recorded no decision (approval or denial). */
  undecidedBy?: string;
  limit?: number;
}

/**
 * Where Sesame keeps what it knows: requests and their approvals, the database users it manages,
 * and the audit trail. Every status change is a conditional update, so two callers racing on one
 * request produce one winner and the loser learns it (`undefined`).
 */
export interface StateStore extends NotificationLog {
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
  update(
    id: string,
    whileIn: readonly RequestStatus[],
    patch: RequestPatch,
    audit?: AuditOf,
  ): Promise<AccessRequest | undefined>;
  /** Requests in `granted` whose `expiresAt` ≤ now, and in `revoking` whose `nextAttemptAt` ≤ now. */
  listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]>;
  /** Pending requests whose `pendingExpiresAt` ≤ now. */
  listPendingPastTtl(now: Date): Promise<AccessRequest[]>;

  /** Records one person's decision; false when that person already decided on that request. */
  addApproval(approval: Approval): Promise<boolean>;
  listApprovals(requestId: string): Promise<Approval[]>;

  /** Inserts the user or, if known, leaves it as it is. Returns what is stored. */
  upsertManagedUser(user: ManagedUser): Promise<ManagedUser>;
  getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined>;
  listManagedUsers(filter?: { serverKey?: string; includeDropped?: boolean }): Promise<ManagedUser[]>;
  updateManagedUser(
    serverKey: string,
    username: string,
    /** Absent keys stay as they are; `null` clears (a dropped user created again). */
    patch: { [K in 'passwordSetAt' | 'lastRevokedAt' | 'droppedAt']?: Date | null },
  ): Promise<void>;

  appendAudit(event: AuditEvent): Promise<void>;
  /** Audit events at or after `since`, oldest first. */
  listAudit(since: Date, limit?: number): Promise<AuditEvent[]>;

  /** Throws when the store cannot be used (for readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
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
>;
