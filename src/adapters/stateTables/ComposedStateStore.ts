import type { AccessRequest, Approval, NewAccessRequest, RequestStatus } from '../../domain/request.ts';
import type {
  AuditEvent,
  AuditLog,
  AuditOf,
  ManagedUser,
  ManagedUserFilter,
  ManagedUserPatch,
  ManagedUserStore,
  NextDeadlines,
  NotificationLog,
  NotificationRef,
  RequestFilter,
  RequestPatch,
  RequestStore,
  SessionRecord,
  SessionRecordFilter,
  SessionRecordStore,
  StateStore,
  StoredSessionRecord,
} from '../../ports/StateStore.ts';

/** The parts a state store is made of: one per narrow port. */
export interface StateStoreParts {
  requests: RequestStore;
  users: ManagedUserStore;
  audit: AuditLog;
  notifications: Omit<NotificationLog, 'listApprovals'>;
  sessions: SessionRecordStore;
}

/**
 * A {@link StateStore} made of one part per narrow port, each call handed to its part; a store
 * adds how it answers readiness and how it closes.
 */
export abstract class ComposedStateStore implements StateStore {
  protected readonly parts: StateStoreParts;

  protected constructor(parts: StateStoreParts) {
    this.parts = parts;
  }

  abstract ping(): Promise<void>;
  abstract close(): Promise<void>;

  createRequest(request: NewAccessRequest, status: 'pending' | 'approved', audit?: AuditOf): Promise<AccessRequest> {
    return this.parts.requests.createRequest(request, status, audit);
  }

  getRequest(id: string): Promise<AccessRequest | undefined> {
    return this.parts.requests.getRequest(id);
  }

  listRequests(filter: RequestFilter): Promise<AccessRequest[]> {
    return this.parts.requests.listRequests(filter);
  }

  transition(id: string, from: readonly RequestStatus[], to: RequestStatus, patch?: RequestPatch, audit?: AuditOf) {
    return this.parts.requests.transition(id, from, to, patch, audit);
  }

  update(id: string, whileIn: readonly RequestStatus[], patch: RequestPatch, audit?: AuditOf): Promise<AccessRequest | undefined> {
    return this.parts.requests.update(id, whileIn, patch, audit);
  }

  listDueForRevocation(now: Date, limit?: number): Promise<AccessRequest[]> {
    return this.parts.requests.listDueForRevocation(now, limit);
  }

  listPendingPastTtl(now: Date): Promise<AccessRequest[]> {
    return this.parts.requests.listPendingPastTtl(now);
  }

  nextDeadlines(after: Date, reminderLeadMs: number): Promise<NextDeadlines> {
    return this.parts.requests.nextDeadlines(after, reminderLeadMs);
  }

  addApproval(approval: Approval): Promise<boolean> {
    return this.parts.requests.addApproval(approval);
  }

  listApprovals(requestId: string): Promise<Approval[]> {
    return this.parts.requests.listApprovals(requestId);
  }

  upsertManagedUser(user: ManagedUser): Promise<ManagedUser> {
    return this.parts.users.upsertManagedUser(user);
  }

  getManagedUser(serverKey: string, username: string): Promise<ManagedUser | undefined> {
    return this.parts.users.getManagedUser(serverKey, username);
  }

  listManagedUsers(filter?: ManagedUserFilter): Promise<ManagedUser[]> {
    return this.parts.users.listManagedUsers(filter);
  }

  updateManagedUser(serverKey: string, username: string, patch: ManagedUserPatch): Promise<void> {
    return this.parts.users.updateManagedUser(serverKey, username, patch);
  }

  appendAudit(event: AuditEvent): Promise<void> {
    return this.parts.audit.appendAudit(event);
  }

  listAudit(since: Date, limit?: number): Promise<AuditEvent[]> {
    return this.parts.audit.listAudit(since, limit);
  }

  listAuditAfter(id: number, limit: number): Promise<AuditEvent[]> {
    return this.parts.audit.listAuditAfter(id, limit);
  }

  addNotification(ref: NotificationRef): Promise<void> {
    return this.parts.notifications.addNotification(ref);
  }

  listNotifications(requestId: string): Promise<NotificationRef[]> {
    return this.parts.notifications.listNotifications(requestId);
  }

  recordSessions(records: readonly SessionRecord[], watermarks: Readonly<Record<string, string>>): Promise<number> {
    return this.parts.sessions.recordSessions(records, watermarks);
  }

  listSessionRecords(filter: SessionRecordFilter): Promise<StoredSessionRecord[]> {
    return this.parts.sessions.listSessionRecords(filter);
  }

  watermark(key: string): Promise<string | undefined> {
    return this.parts.sessions.watermark(key);
  }

  setWatermark(key: string, value: string): Promise<void> {
    return this.parts.sessions.setWatermark(key, value);
  }
}
