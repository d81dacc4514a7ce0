import { ConflictError, NotFoundError } from '../../src/domain/errors.ts';
import {
  assertCanMove,
  type AccessRequest,
  type Approval,
  type NewAccessRequest,
  type RequestStatus,
} from '../../src/domain/request.ts';
import type {
  AuditEvent,
  AuditOf,
  ManagedUser,
  NotificationRef,
  RequestFilter,
  RequestPatch,
  StateStore,
} from '../../src/ports/StateStore.ts';

/**
 * The {@link StateStore} port kept in memory, with the semantics of the SQLite store: conditional
 * transitions, version bumps, duplicate IDs refused, and copies in and out so a caller can never
 * change what is stored by mutating an object it holds. Each method completes without yielding, so
 * calls racing through `Promise.all` behave like racing SQL updates: one winner.
 *
 * Values stored as JSON by the SQLite store (approver groups, granted roles, audit details) go
 * through a JSON round trip here as well, so a test sees exactly what it would see there.
 */
export class InMemoryStateStore implements StateStore {
  readonly #requests = new Map<string, AccessRequest>();
  readonly #approvals: Approval[] = [];
  readonly #users = new Map<string, ManagedUser>();
  readonly #audit: AuditEvent[] = [];
  readonly #notifications: NotificationRef[] = [];
  #nextAuditId = 1;
  #closed = false;

  async createRequest(
    request: NewAccessRequest,
    status: 'pending' | 'approved',
    audit?: AuditOf,
  ): Promise<AccessRequest> {
    this.#assertOpen();
    if (this.#requests.has(request.id)) {
      throw new ConflictError(
        `A request with ID ${request.id} already exists; create the request again with a new ID.`,
      );
    }
    if (request.parentId !== undefined && !this.#requests.has(request.parentId)) {
      throw new NotFoundError(
        `Request ${request.parentId} does not exist, so it cannot be extended; check the request ID.`,
      );
    }
    const stored = copyRequest({ ...request, status, revokeAttempts: 0, version: 1 });
    this.#requests.set(stored.id, stored);
    return this.#audited(copyRequest(stored), audit);
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    this.#assertOpen();
    const stored = this.#requests.get(id);
    return stored && copyRequest(stored);
  }

  async listRequests(filter: RequestFilter): Promise<AccessRequest[]> {
    this.#assertOpen();
    const matches = [...this.#requests.values()].filter(
      (r) =>
        (filter.requesterSlackId === undefined || r.requester.slackId === filter.requesterSlackId) &&
        (filter.statuses === undefined || filter.statuses.includes(r.status)) &&
        (filter.integration === undefined || r.target.integration === filter.integration) &&
        (filter.serverKey === undefined || r.serverKey === filter.serverKey) &&
        (filter.dbUser === undefined || r.dbUser === filter.dbUser) &&
        (filter.parentId === undefined || r.parentId === filter.parentId) &&
        (filter.undecidedBy === undefined ||
          !this.#approvals.some((a) => a.requestId === r.id && a.approverId === filter.undecidedBy)),
    );
    matches.sort(
      (a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareText(b.id, a.id),
    );
    return limited(matches, filter.limit).map(copyRequest);
  }

  async transition(
    id: string,
    from: readonly RequestStatus[],
    to: RequestStatus,
    patch: RequestPatch = {},
    audit?: AuditOf,
  ): Promise<AccessRequest | undefined> {
    this.#assertOpen();
    assertCanMove(from, to);
    return this.#audited(this.#applyWhileIn(id, from, { ...patch, status: to }), audit);
  }

  async update(
    id: string,
    whileIn: readonly RequestStatus[],
    patch: RequestPatch,
    audit?: AuditOf,
  ): Promise<AccessRequest | undefined> {
    this.#assertOpen();
    return this.#audited(this.#applyWhileIn(id, whileIn, patch), audit);
  }

  /** Appends the audit event of a change that happened, in the same step (as one transaction). */
  #audited<T extends AccessRequest | undefined>(changed: T, audit: AuditOf | undefined): T {
    if (changed && audit) for (const event of [audit(changed)].flat()) this.#appendAuditNow(event);
    return changed;
  }

  async listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]> {
    this.#assertOpen();
    const nowMs = now.getTime();
    const due = [...this.#requests.values()].filter(
      (r) =>
        (r.status === 'granted' && r.expiresAt !== undefined && r.expiresAt.getTime() <= nowMs) ||
        (r.status === 'revoking' &&
          (r.nextAttemptAt === undefined || r.nextAttemptAt.getTime() <= nowMs)),
    );
    // A request without an expiry sorts first, as NULL does in SQLite's ascending order.
    due.sort(
      (a, b) =>
        (a.expiresAt?.getTime() ?? -Infinity) - (b.expiresAt?.getTime() ?? -Infinity) ||
        compareText(a.id, b.id),
    );
    return limited(due, limit).map(copyRequest);
  }

  async listPendingPastTtl(now: Date): Promise<AccessRequest[]> {
    this.#assertOpen();
    const nowMs = now.getTime();
    return [...this.#requests.values()]
      .filter((r) => r.status === 'pending' && r.pendingExpiresAt.getTime() <= nowMs)
      .sort(
        (a, b) =>
          a.pendingExpiresAt.getTime() - b.pendingExpiresAt.getTime() || compareText(a.id, b.id),
      )
      .map(copyRequest);
  }

  async addApproval(approval: Approval): Promise<boolean> {
    this.#assertOpen();
    if (!this.#requests.has(approval.requestId)) {
      throw new NotFoundError(
        `Request ${approval.requestId} does not exist, so no decision can be recorded on it; check the request ID.`,
      );
    }
    const already = this.#approvals.some(
      (a) => a.requestId === approval.requestId && a.approverId === approval.approverId,
    );
    if (already) return false;
    this.#approvals.push(copyPlain(approval));
    return true;
  }

  async listApprovals(requestId: string): Promise<Approval[]> {
    this.#assertOpen();
    // A stable sort keeps insertion order among decisions made at the same moment.
    return this.#approvals
      .filter((a) => a.requestId === requestId)
      .sort((a, b) => a.at.getTime() - b.at.getTime())
      .map(copyPlain);
  }

  async upsertManagedUser(user: ManagedUser): Promise<ManagedUser> {
    this.#assertOpen();
    const key = userKey(user.serverKey, user.username);
    if (!this.#users.has(key)) this.#users.set(key, copyPlain(user));
    return copyPlain(this.#users.get(key) as ManagedUser);
  }

  async getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined> {
    this.#assertOpen();
    const stored = this.#users.get(userKey(serverKey, username));
    return stored && copyPlain(stored);
  }

  async listManagedUsers(
    filter: { serverKey?: string; includeDropped?: boolean } = {},
  ): Promise<ManagedUser[]> {
    this.#assertOpen();
    return [...this.#users.values()]
      .filter(
        (u) =>
          (filter.serverKey === undefined || u.serverKey === filter.serverKey) &&
          (filter.includeDropped === true || u.droppedAt === undefined),
      )
      .sort((a, b) => compareText(a.serverKey, b.serverKey) || compareText(a.username, b.username))
      .map(copyPlain);
  }

  async updateManagedUser(
    serverKey: string,
    username: string,
    patch: Parameters<StateStore['updateManagedUser']>[2],
  ): Promise<void> {
    this.#assertOpen();
    const key = userKey(serverKey, username);
    const stored = this.#users.get(key);
    if (!stored) {
      throw new NotFoundError(
        `Sesame does not manage a user ${username} on ${serverKey}; record the user before updating it.`,
      );
    }
    const next: ManagedUser = { ...stored };
    for (const field of ['passwordSetAt', 'lastRevokedAt', 'droppedAt'] as const) {
      const value = patch[field];
      if (value === null) delete next[field];
      else if (value !== undefined) next[field] = value;
    }
    this.#users.set(key, copyPlain(next));
  }

  async addNotification(ref: NotificationRef): Promise<void> {
    this.#assertOpen();
    if (!this.#requests.has(ref.requestId)) {
      throw new NotFoundError(`There is no request ${ref.requestId} to attach a message to.`);
    }
    if (this.#notifications.some((n) => n.channel === ref.channel && n.ts === ref.ts)) return;
    this.#notifications.push(copyPlain(ref));
  }

  async listNotifications(requestId: string): Promise<NotificationRef[]> {
    this.#assertOpen();
    return this.#notifications
      .filter((n) => n.requestId === requestId)
      .sort((a, b) => a.at.getTime() - b.at.getTime())
      .map(copyPlain);
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.#assertOpen();
    this.#appendAuditNow(event);
  }

  #appendAuditNow(event: AuditEvent): void {
    const stored = copyPlain({ ...event, id: this.#nextAuditId++ });
    if (event.details !== undefined) stored.details = jsonRoundTrip(event.details);
    this.#audit.push(stored);
  }

  async listAudit(since: Date, limit?: number): Promise<AuditEvent[]> {
    this.#assertOpen();
    const sinceMs = since.getTime();
    const events = this.#audit
      .filter((e) => e.at.getTime() >= sinceMs)
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id ?? 0) - (b.id ?? 0));
    return limited(events, limit).map(copyPlain);
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  #applyWhileIn(
    id: string,
    whileIn: readonly RequestStatus[],
    changes: RequestPatch & { status?: RequestStatus },
  ): AccessRequest | undefined {
    const stored = this.#requests.get(id);
    if (!stored || !whileIn.includes(stored.status)) return undefined;
    const next: Record<string, unknown> = { ...stored };
    // An absent or undefined field stays as it is; null clears it, except the required ones.
    for (const [field, value] of Object.entries(changes)) {
      if (value === null && !REQUIRED_PATCH_FIELDS.has(field)) delete next[field];
      else if (value !== undefined && value !== null) next[field] = value;
    }
    next.version = stored.version + 1;
    const updated = copyRequest(next as unknown as AccessRequest);
    this.#requests.set(id, updated);
    return copyRequest(updated);
  }

  #assertOpen(): void {
    if (this.#closed) {
      throw new ConflictError('The state store is closed; open it again before using it.');
    }
  }
}

const REQUIRED_PATCH_FIELDS: ReadonlySet<string> = new Set(['revokeAttempts', 'approverGroups']);

function userKey(serverKey: string, username: string): string {
  return JSON.stringify([serverKey, username]);
}

/** Orders strings by code unit, as SQLite's default BINARY collation does for ASCII. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function limited<T>(items: T[], limit: number | undefined): T[] {
  return limit === undefined ? items : items.slice(0, Math.max(0, limit));
}

function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** A deep copy without keys whose value is undefined, as a row read back from SQL has none. */
function copyPlain<T>(value: T): T {
  return structuredClone(withoutUndefined(value));
}

function copyRequest(request: AccessRequest): AccessRequest {
  const copy = copyPlain(request);
  copy.approverGroups = jsonRoundTrip(request.approverGroups);
  if (request.grantedRoles !== undefined) copy.grantedRoles = jsonRoundTrip(request.grantedRoles);
  return copy;
}

function withoutUndefined<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(withoutUndefined) as T;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (v !== undefined) out[key] = withoutUndefined(v);
  }
  return out as T;
}
