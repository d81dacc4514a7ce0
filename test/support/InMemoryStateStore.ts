import { assertCanMove, type AccessRequest, type Approval, type NewAccessRequest, type RequestStatus } from '../../src/domain/request.ts';
import type * as Port from '../../src/ports/StateStore.ts';
import { auditEventsOf, patchChanges, REQUIRED_PATCH_FIELDS, storeErrors } from '../../src/ports/stateStoreRules.ts';

/**
 * The {@link Port.StateStore} port kept in memory, with the semantics of the SQLite store: conditional
 * transitions, version bumps, duplicate IDs refused, and copies in and out so a caller can never
 * change what is stored by mutating an object it holds. Each method completes without yielding, so
 * calls racing through `Promise.all` behave like racing SQL updates: one winner.
 *
 * Values stored as JSON by the SQLite store (approver groups, granted roles, audit details) go
 * through a JSON round trip here as well, so a test sees exactly what it would see there.
 */
export class InMemoryStateStore implements Port.StateStore {
  readonly #requests = new Map<string, AccessRequest>();
  readonly #approvals: Approval[] = [];
  readonly #users = new Map<string, Port.ManagedUser>();
  readonly #audit: Port.AuditEvent[] = [];
  readonly #notifications: Port.NotificationRef[] = [];
  readonly #sessions: Port.StoredSessionRecord[] = [];
  readonly #watermarks = new Map<string, string>();
  #nextAuditId = 1;
  #closed = false;

  async createRequest(request: NewAccessRequest, status: 'pending' | 'approved', audit?: Port.AuditOf): Promise<AccessRequest> {
    this.#assertOpen();
    if (this.#requests.has(request.id)) throw storeErrors.duplicateRequest(request.id);
    if (request.parentId !== undefined && !this.#requests.has(request.parentId)) throw storeErrors.missingParent(request.parentId);
    return this.#commit(copyRequest({ ...request, status, revokeAttempts: 0, version: 1 }), audit);
  }

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    this.#assertOpen();
    const stored = this.#requests.get(id);
    return stored && copyRequest(stored);
  }

  async listRequests(filter: Port.RequestFilter): Promise<AccessRequest[]> {
    this.#assertOpen();
    const matches = [...this.#requests.values()].filter(
      (r) =>
        (filter.requesterSlackId === undefined || r.requester.slackId === filter.requesterSlackId) &&
        (filter.statuses === undefined || filter.statuses.includes(r.status)) &&
        (filter.integration === undefined || r.target.integration === filter.integration) &&
        (filter.serverKey === undefined || r.serverKey === filter.serverKey) &&
        (filter.dbUser === undefined || r.dbUser === filter.dbUser) &&
        (filter.parentId === undefined || r.parentId === filter.parentId) &&
        (filter.groupId === undefined || r.groupId === filter.groupId) &&
        (!filter.unreviewedBreakGlass || (r.breakGlass === true && r.reviewOutcome === undefined)) &&
        (filter.expiresBy === undefined || (r.expiresAt !== undefined && r.expiresAt <= filter.expiresBy)) &&
        (filter.undecidedBy === undefined || !this.#approvals.some((a) => a.requestId === r.id && a.approverId === filter.undecidedBy)),
    );
    matches.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareText(b.id, a.id));
    return limited(matches, filter.limit).map(copyRequest);
  }

  async transition(
    id: string,
    from: readonly RequestStatus[],
    to: RequestStatus,
    patch: Port.RequestPatch = {},
    audit?: Port.AuditOf,
  ): Promise<AccessRequest | undefined> {
    this.#assertOpen();
    assertCanMove(from, to);
    return this.#commit(this.#patchedWhileIn(id, from, { ...patch, status: to }), audit);
  }

  async update(
    id: string,
    whileIn: readonly RequestStatus[],
    patch: Port.RequestPatch,
    audit?: Port.AuditOf,
  ): Promise<AccessRequest | undefined> {
    this.#assertOpen();
    return this.#commit(this.#patchedWhileIn(id, whileIn, patch), audit);
  }

  /**
   * Stores the changed request and appends its audit events in one step, as one transaction: the
   * events are made first, so when making them fails nothing is stored.
   */
  #commit<T extends AccessRequest | undefined>(changed: T, audit: Port.AuditOf | undefined): T {
    if (!changed) return changed;
    const events = auditEventsOf(copyRequest(changed), audit);
    this.#requests.set(changed.id, changed);
    for (const event of events) this.#appendAuditNow(event);
    return copyRequest(changed) as T;
  }

  async listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]> {
    this.#assertOpen();
    const nowMs = now.getTime();
    const due = [...this.#requests.values()].filter(
      (r) =>
        (r.status === 'granted' && r.expiresAt !== undefined && r.expiresAt.getTime() <= nowMs) ||
        (r.status === 'revoking' && (r.nextAttemptAt === undefined || r.nextAttemptAt.getTime() <= nowMs)),
    );
    // A request without an expiry sorts first, as NULL does in SQLite's ascending order.
    due.sort((a, b) => (a.expiresAt?.getTime() ?? -Infinity) - (b.expiresAt?.getTime() ?? -Infinity) || compareText(a.id, b.id));
    return limited(due, limit).map(copyRequest);
  }

  async listPendingPastTtl(now: Date): Promise<AccessRequest[]> {
    this.#assertOpen();
    const nowMs = now.getTime();
    return [...this.#requests.values()]
      .filter((r) => r.status === 'pending' && r.pendingExpiresAt.getTime() <= nowMs)
      .sort((a, b) => a.pendingExpiresAt.getTime() - b.pendingExpiresAt.getTime() || compareText(a.id, b.id))
      .map(copyRequest);
  }

  async nextDeadlines(after: Date, reminderLeadMs: number): Promise<Port.NextDeadlines> {
    this.#assertOpen();
    const afterMs = after.getTime();
    const later = (ms: number | undefined) => (ms !== undefined && ms > afterMs ? [ms] : []);
    const revocation: number[] = [];
    const reminder: number[] = [];
    for (const r of this.#requests.values()) {
      const expires = r.expiresAt?.getTime();
      if (r.status === 'granted') revocation.push(...later(expires));
      if (r.status === 'revoking') revocation.push(...later(r.nextAttemptAt?.getTime()));
      if (r.status === 'granted' && r.kind === 'access' && !r.expiryReminderSentAt && expires !== undefined) {
        reminder.push(...later(expires - reminderLeadMs));
      }
      if (r.status === 'pending') reminder.push(...later(r.pendingExpiresAt.getTime()));
    }
    const first = (all: number[]) => (all.length > 0 ? { at: new Date(Math.min(...all)) } : undefined);
    const [rev, rem] = [first(revocation), first(reminder)];
    return { ...(rev ? { revocation: rev.at } : {}), ...(rem ? { reminder: rem.at } : {}) };
  }

  async addApproval(approval: Approval): Promise<boolean> {
    this.#assertOpen();
    if (!this.#requests.has(approval.requestId)) throw storeErrors.noRequestToDecide(approval.requestId);
    const already = this.#approvals.some((a) => a.requestId === approval.requestId && a.approverId === approval.approverId);
    if (already) return false;
    this.#approvals.push(copyPlain(approval));
    return true;
  }

  async listApprovals(requestId: string): Promise<Approval[]> {
    this.#assertOpen();
    return oldestFirstAbout(this.#approvals, requestId);
  }

  async upsertManagedUser(user: Port.ManagedUser): Promise<Port.ManagedUser> {
    this.#assertOpen();
    const key = userKey(user.serverKey, user.username);
    if (!this.#users.has(key)) this.#users.set(key, copyPlain(user));
    return copyPlain(this.#users.get(key) as Port.ManagedUser);
  }

  async getManagedUser(serverKey: string, username: string): Promise<Port.ManagedUser | undefined> {
    this.#assertOpen();
    const stored = this.#users.get(userKey(serverKey, username));
    return stored && copyPlain(stored);
  }

  async listManagedUsers(filter: Port.ManagedUserFilter = {}): Promise<Port.ManagedUser[]> {
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

  async updateManagedUser(serverKey: string, username: string, patch: Port.ManagedUserPatch): Promise<void> {
    this.#assertOpen();
    const key = userKey(serverKey, username);
    const stored = this.#users.get(key);
    if (!stored) throw storeErrors.unknownManagedUser(serverKey, username);
    this.#users.set(key, copyPlain(patched(stored, patch)));
  }

  async addNotification(ref: Port.NotificationRef): Promise<void> {
    this.#assertOpen();
    if (!this.#requests.has(ref.requestId)) throw storeErrors.noRequestForMessage(ref.requestId);
    if (this.#notifications.some((n) => n.channel === ref.channel && n.ts === ref.ts)) return;
    this.#notifications.push(copyPlain(ref));
  }

  async listNotifications(requestId: string): Promise<Port.NotificationRef[]> {
    this.#assertOpen();
    return oldestFirstAbout(this.#notifications, requestId);
  }

  async appendAudit(event: Port.AuditEvent): Promise<void> {
    this.#assertOpen();
    this.#appendAuditNow(event);
  }

  #appendAuditNow(event: Port.AuditEvent): void {
    const stored = copyPlain({ ...event, id: this.#nextAuditId++ });
    if (event.details !== undefined) stored.details = jsonRoundTrip(event.details);
    this.#audit.push(stored);
  }

  async listAudit(since: Date, limit?: number): Promise<Port.AuditEvent[]> {
    this.#assertOpen();
    const sinceMs = since.getTime();
    const events = this.#audit
      .filter((e) => e.at.getTime() >= sinceMs)
      .sort((a, b) => a.at.getTime() - b.at.getTime() || (a.id ?? 0) - (b.id ?? 0));
    return limited(events, limit).map(copyPlain);
  }

  async listAuditAfter(id: number, limit: number): Promise<Port.AuditEvent[]> {
    this.#assertOpen();
    const events = this.#audit.filter((e) => (e.id ?? 0) > id).sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
    return limited(events, limit).map(copyPlain);
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  /** The request as the changes leave it, if its status is in `whileIn`; nothing is stored yet. */
  #patchedWhileIn(
    id: string,
    whileIn: readonly RequestStatus[],
    changes: Port.RequestPatch & { status?: RequestStatus },
  ): AccessRequest | undefined {
    const stored = this.#requests.get(id);
    if (!stored || !whileIn.includes(stored.status)) return undefined;
    return copyRequest({ ...patched(stored, changes, REQUIRED_PATCH_FIELDS), version: stored.version + 1 });
  }

  #assertOpen(): void {
    if (this.#closed) throw storeErrors.closed();
  }

  async recordSessions(records: readonly Port.SessionRecord[], watermarks: Readonly<Record<string, string>>): Promise<number> {
    this.#assertOpen();
    let added = 0;
    const orphan = records.find((r) => !this.#requests.has(r.requestId));
    if (orphan) throw storeErrors.missingParent(orphan.requestId);
    for (const record of records) {
      if (this.#sessions.some((r) => r.id === record.id)) continue;
      this.#sessions.push({ ...structuredClone(record), seq: this.#sessions.length + 1 });
      added += 1;
    }
    for (const [key, value] of Object.entries(watermarks)) this.#watermarks.set(key, value);
    return added;
  }

  async listSessionRecords(filter: Port.SessionRecordFilter): Promise<Port.StoredSessionRecord[]> {
    this.#assertOpen();
    const matches = this.#sessions.filter(
      (r) =>
        (filter.requestId === undefined || r.requestId === filter.requestId) &&
        (filter.requester === undefined || r.requester === filter.requester) &&
        (filter.since === undefined || r.at >= filter.since) &&
        (filter.afterSeq === undefined || r.seq > filter.afterSeq),
    );
    return matches.slice(0, filter.limit ?? matches.length).map((r) => structuredClone(r));
  }

  async watermark(key: string): Promise<string | undefined> {
    this.#assertOpen();
    return this.#watermarks.get(key);
  }

  async setWatermark(key: string, value: string): Promise<void> {
    this.#assertOpen();
    this.#watermarks.set(key, value);
  }
}

/** `stored` with the patch's changes: a value sets its field, `null` removes it. */
function patched<T extends object>(stored: T, patch: Record<string, unknown>, required?: ReadonlySet<string>): T {
  const next = { ...stored } as Record<string, unknown>;
  for (const { field, value } of patchChanges(patch, Object.keys(patch), required)) {
    if (value === null) delete next[field];
    else next[field] = value;
  }
  return next as T;
}

/** The records about one request, oldest first; a stable sort keeps insertion order among those at the same moment. */
function oldestFirstAbout<T extends { requestId: string; at: Date }>(records: readonly T[], requestId: string): T[] {
  return records
    .filter((r) => r.requestId === requestId)
    .sort((a, b) => a.at.getTime() - b.at.getTime())
    .map(copyPlain);
}

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
