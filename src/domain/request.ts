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

/**
 * The request state machine as data: for each status, the statuses it may move to. A status that
 * leads nowhere is terminal. Services name the moves they make from this table, and the groups
 * below are read from it, so a new status or move is added here once.
 */
export const TRANSITIONS = {
  pending: ['approved', 'denied', 'cancelled', 'timedout'],
  // An applied extension stays `approved`: it holds no grant of its own.
  approved: ['granting', 'failed'],
  // A revocation may take over a grant that a crash left half done.
  granting: ['granted', 'failed', 'revoking'],
  granted: ['revoking'],
  revoking: ['revoked', 'expired'],
  revoked: [],
  expired: [],
  denied: [],
  cancelled: [],
  timedout: [],
  failed: [],
} as const satisfies Record<RequestStatus, readonly RequestStatus[]>;

const ALL_STATUSES = Object.keys(TRANSITIONS) as RequestStatus[];

/** Whether the table lets a request move from `from` to `to` in one step. */
export function canMove(from: RequestStatus, to: RequestStatus): boolean {
  return (TRANSITIONS[from] as readonly RequestStatus[]).includes(to);
}

/** Every status from which a request may move to `to` in one step. */
export function fromStatesOf(to: RequestStatus): readonly RequestStatus[] {
  return ALL_STATUSES.filter((from) => canMove(from, to));
}

/**
 * Throws when the table has no move from one of `from` to `to`. Stores call it before every
 * status change, so no update can take a path the lifecycle does not list. It is a plain Error,
 * not an InputError: services name their moves from the table, so a refusal is a bug in Sesame
 * to be logged and fixed, never something a person typed and could correct.
 */
export function assertCanMove(from: readonly RequestStatus[], to: RequestStatus): void {
  const refused = from.filter((status) => !canMove(status, to));
  if (refused.length > 0) {
    throw new Error(`The request lifecycle has no move from ${refused.join(', ')} to ${to} (see TRANSITIONS).`);
  }
}

/** Statuses that lead nowhere: the request's story is over. */
export function isTerminal(status: RequestStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

/** `from` and every status reachable from it. */
export function reachableFrom(from: RequestStatus): readonly RequestStatus[] {
  const seen = new Set<RequestStatus>([from]);
  for (const status of seen) for (const next of TRANSITIONS[status]) seen.add(next);
  return [...seen];
}

/**
 * Statuses in which the person may hold database privileges (or is about to): from `granting`
 * until the grant reaches an end.
 */
export const LIVE_GRANT_STATUSES: readonly RequestStatus[] = reachableFrom('granting').filter((s) => !isTerminal(s));

/** A grant being ended or already ended: `revoking` and what follows it. */
export const ENDING_GRANT_STATUSES: readonly RequestStatus[] = reachableFrom('revoking');

/**
 * A grant that may still be revoked: it holds (or is about to hold) privileges that no revocation
 * has started to take away. The person's other grants in these statuses keep their roles.
 */
export const REVOCABLE_STATUSES: readonly RequestStatus[] = fromStatesOf('revoking');

/** A grant under way that a crash may have interrupted: it has not yet succeeded or failed. */
export const UNFINISHED_GRANT_STATUSES: readonly RequestStatus[] = fromStatesOf('failed');

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
  /**
   * For one part of a request for several targets: the ID they share (`R7K3QX`); the part's own
   * ID is that ID and its number (`R7K3QX.2`). Revoke, extend and cancel take either.
   */
  groupId?: string;
  /** Slack ID of who filed the request for the requester (`/access grant @person …`), when not the requester. */
  requestedBy?: string;
  /** Granted at once under a `breakGlass` flow, and reviewed by its approvers afterwards. */
  breakGlass?: boolean;
  /** An approver's (or admin's) review of a break-glass grant. */
  reviewOutcome?: ReviewOutcome;
  reviewedBy?: string;
  reviewedAt?: Date;
  /** When the reviewers were last reminded of an unreviewed break-glass grant. */
  reviewReminderSentAt?: Date;
  /** Incremented on every update; stores use it for conditional updates. */
  version: number;
}

/** What a reviewer found in a break-glass grant: fine, or to be looked into. */
export type ReviewOutcome = 'reviewed' | 'flagged';

/**
 * A request whose grant reached the database, or is about to: `granting` records the database
 * user and the server it lives on, so every later status of an access grant has them.
 */
export type RequestOnServer = AccessRequest & Required<Pick<AccessRequest, 'dbUser' | 'serverKey'>>;

/** A granted request: its user, server and expiry are known. */
export type GrantedRequest = RequestOnServer & Required<Pick<AccessRequest, 'expiresAt'>> & { status: 'granted' };

/** Whether the request names its database user and the server it lives on. */
export function isOnServer(request: AccessRequest): request is RequestOnServer {
  return request.dbUser !== undefined && request.dbUser !== '' && request.serverKey !== undefined && request.serverKey !== '';
}

/** Whether the request is granted, with its user, server and expiry. */
export function isGranted(request: AccessRequest): request is GrantedRequest {
  return request.status === 'granted' && isOnServer(request) && request.expiresAt !== undefined;
}

export type NewAccessRequest = Omit<AccessRequest, 'status' | 'version' | 'revokeAttempts'>;

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

/** A request ID, or one part's (`R7K3QX.2`) of a request for several targets. */
export const REQUEST_ID_RE = /^R[2-9A-HJ-NP-Z]{6}(?:\.[1-9][0-9]?)?$/;

/** The ID of part `n` (from 1) of the request for several targets `groupId`. */
export function partId(groupId: string, n: number): string {
  return `${groupId}.${n}`;
}

/** Normalises what a person typed as a request ID (`r7k3qx`, `#R7K3QX`, `R7K3QX.2`). */
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
