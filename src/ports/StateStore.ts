import type { AuditLog } from './AuditLog.ts';
import type { ManagedUserStore } from './ManagedUserStore.ts';
import type { NotificationLog } from './NotificationLog.ts';
import type { RequestStore } from './RequestStore.ts';
import type { SessionRecordStore } from './SessionRecords.ts';

export type { AuditAction, AuditEvent, AuditLog, AuditOf } from './AuditLog.ts';
export type { ManagedUser, ManagedUserFilter, ManagedUserPatch, ManagedUserStore } from './ManagedUserStore.ts';
export type { NotificationLog, NotificationRef } from './NotificationLog.ts';
export type { NextDeadlines, RequestFilter, RequestPatch, RequestStore } from './RequestStore.ts';
export type { SessionRecord, SessionRecordFilter, SessionRecordStore, StoredSessionRecord } from './SessionRecords.ts';

/**
 * Where Sesame keeps what it knows: requests and their approvals, the database users it manages,
 * the messages sent about requests, the audit trail, and what managed users did under each grant. One implementation provides every
 * narrower port; each consumer is handed only the ones it uses.
 */
export interface StateStore extends RequestStore, ManagedUserStore, AuditLog, NotificationLog, SessionRecordStore {
  /** Throws when the store cannot be used (for readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
