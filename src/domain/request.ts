import type { Permission } from './permission.ts';
import type { Target } from './target.ts';

/**
 * The life of an access request, and of the grant that follows it.
 *
 * pending ──approve──▶ approved ──▶ granting ──▶ granted ──▶ revoking ──▶ revoked | expired
 *    │ deny / cancel / pending TTL            │ failure
 *    ▼                                        ▼
 * denied | cancelled | timedout             failed
 *
 * `granting` and `revoking` are recorded before the database is touched, so a restart can finish
 * them; `approved` is recorded before `granting` so two racing approvals produce one grant.
 */
export type RequestStatus =
  | 'pending'
  | 'approved'
  | 'granting'
  | 'granted'
  | 'revoking'
  | 'revoked'
  | 'expired'
  | 'denied'
  | 'cancelled'
  | 'timedout'
  | 'failed';

/** A reason is at most this long (PRODUCT.md §6); the Slack forms hold no more. */
export const MAX_REASON_CHARS = 1000;

/** Statuses in which the person may hold database privileges (or is about to). */
export const LIVE_GRANT_STATUSES: readonly RequestStatus[] = ['granting', 'granted', 'revoking'];

/** A person as Sesame knows them: their Slack ID and, where known, their email. */
export interface Person {
  slackId: string;
  email?: string;
}

/**
 * One entry of a flow's `approvers`, resolved when the request is made. With approvalMode `all`,
 * one approval from each group is needed; with `any`, one approval from any group.
 */
export interface ApproverGroup {
  /** How the entry was written: `owner`, `integration-owner`, `U0BOB`, `@dba`, an email. */
  source: string;
  /** Why these people are approvers, for the approval message ("owner of prod-db-1"). */
  reason: string;
  slackIds: string[];
}

export type RequestKind = 'access' | 'extension';
export type EndReason = 'expired' | 'revoked';

export interface AccessRequest {
  /** Short ID shown in every message about the request, e.g. `R7K3QX`. */
  id: string;
  kind: RequestKind;
  /** For an extension: the request whose grant it extends. */
  parentId?: string;
  requester: Person;
  target: Target;
  permission: Permission;
  durationMinutes: number;
  reason: string;
  flowName: string;
  approvalMode: 'any' | 'all';
  allowSelfApproval: boolean;
  approverGroups: ApproverGroup[];
  status: RequestStatus;
  createdAt: Date;
  /** Pending requests time out at this moment. */
  pendingExpiresAt: Date;
  decidedAt?: Date;
  decidedBy?: string;
  denyReason?: string;
  /** The person's database user and the server it lives on, once a grant is under way. */
  dbUser?: string;
  serverKey?: string;
  /** The group roles (and grantable roles) this grant made the user a member of. */
  grantedRoles?: string[];
  grantedAt?: Date;
  expiresAt?: Date;
  endedAt?: Date;
  /** Slack ID of who ended it early, or `system`. */
  endedBy?: string;
  endReason?: EndReason;
  /** Failed revocation attempts so far and when to try again. */
  revokeAttempts: number;
  nextAttemptAt?: Date;
  /** Last failure, already sanitised of secrets. */
  lastError?: string;
  /** When the requester was told the grant expires soon (cleared by an extension). */
  expiryReminderSentAt?: Date;
  /** When approvers were last reminded of this pending request. */
  approverReminderSentAt?: Date;
  /** Incremented on every update; stores use it for conditional updates. */
  version: number;
}

export type NewAccessRequest = Omit<
  AccessRequest,
  'status' | 'version' | 'revokeAttempts'
>;

export interface Approval {
  requestId: string;
  approverId: string;
  decision: 'approve' | 'deny';
  comment?: string;
  at: Date;
}

const ID_ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';

/**
 * A short request ID: `R` and six characters from an alphabet without look-alikes (0/O, 1/I/L),
 * about a billion values; stores retry on the rare collision.
 */
export function newRequestId(randomBytes: (n: number) => Uint8Array): string {
  const bytes = randomBytes(6);
  let id = 'R';
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  return id;
}

export const REQUEST_ID_RE = /^R[2-9A-HJ-NP-Z]{6}$/;

/** Normalises what a person typed as a request ID (`r7k3qx`, `#R7K3QX`). */
export function normalizeRequestId(text: string): string | undefined {
  const id = text.trim().replace(/^#/, '').toUpperCase();
  return REQUEST_ID_RE.test(id) ? id : undefined;
}

/** The latest `expiresAt` among requests, or null when none has one. */
export function latestExpiry(requests: readonly Pick<AccessRequest, 'expiresAt'>[]): Date | null {
  let latest: Date | null = null;
  for (const r of requests) if (r.expiresAt && (!latest || r.expiresAt > latest)) latest = r.expiresAt;
  return latest;
}

/**
 * Everyone whose approval counts on the request: the members of its approver groups, without the
 * requester unless the flow allows self-approval.
 */
export function eligibleApprovers(request: Pick<AccessRequest, 'approverGroups' | 'allowSelfApproval' | 'requester'>): string[] {
  return [...new Set(request.approverGroups.flatMap((g) => g.slackIds))].filter(
    (id) => request.allowSelfApproval || id !== request.requester.slackId,
  );
}
