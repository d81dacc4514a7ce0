import type { AccessRequest } from '../domain/request.ts';

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
  | 'connector.self_granted'
  | 'breakglass.reviewed'
  | 'breakglass.flagged';

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

/** The append-only audit trail. */
export interface AuditLog {
  appendAudit(event: AuditEvent): Promise<void>;
  /** Audit events at or after `since`, oldest first. */
  listAudit(since: Date, limit?: number): Promise<AuditEvent[]>;
  /** Up to `limit` events whose id is greater than `id`, in id order (the order they were written). */
  listAuditAfter(id: number, limit: number): Promise<AuditEvent[]>;
}
