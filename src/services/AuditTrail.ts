import type { Logger } from '../logger.ts';
import type { AuditAction, AuditEvent, AuditLog } from '../ports/AuditLog.ts';
import type { Clock } from '../ports/Clock.ts';
import type { Directory } from '../ports/Directory.ts';
import type { AccessRequest } from '../domain/request.ts';
import { describeError } from '../logger.ts';
import { formatTarget } from '../domain/target.ts';

/** Who did something, as the audit trail names them. */
export interface Actor {
  actor: string;
  actorEmail?: string;
}

export const SYSTEM: Actor = { actor: 'system' };

export interface AuditTrailDeps {
  log: AuditLog;
  /** Finds the email of an actor who is not the requester. */
  directory: Directory;
  clock: Clock;
  logger: Logger;
}

/** Details of an audit event, fixed or made from the request as the change left it. */
export type AuditDetails = Record<string, unknown> | ((request: AccessRequest) => Record<string, unknown>);

/**
 * The audit trail as the services write it: who acted (with their email where known), what they
 * did, and to which request. Built once by the composition root.
 */
export class AuditTrail {
  constructor(private readonly deps: AuditTrailDeps) {}

  /** The acting person: their Slack ID (or `system`) and, where known, their email. */
  async actorOf(actor: string, request?: Pick<AccessRequest, 'requester'>): Promise<Actor> {
    const actorEmail = await this.emailOf(actor, request);
    return actorEmail ? { actor, actorEmail } : { actor };
  }

  /**
   * The audit event of a change to a request, made from the request as the change left it; the
   * store writes it in the same transaction as the change.
   */
  of(action: AuditAction, who: Actor, details: AuditDetails = {}): (request: AccessRequest) => AuditEvent {
    return (request) => this.event(action, who, request, typeof details === 'function' ? details(request) : details);
  }

  /** Appends an event that goes with no state change; a failure to write it reaches the caller. */
  append(action: AuditAction, who: Actor, request: AccessRequest, details: Record<string, unknown> = {}): Promise<void> {
    return this.deps.log.appendAudit(this.of(action, who, details)(request));
  }

  /**
   * Appends an audit event that goes with no state change of a request (a reveal, a
   * reconciliation). The audit trail must not be the reason a grant or a revocation stops, so a
   * failure here is logged and swallowed.
   */
  async record(action: AuditAction, actor: string, request?: AccessRequest, details: Record<string, unknown> = {}): Promise<void> {
    try {
      await this.deps.log.appendAudit(this.event(action, await this.actorOf(actor, request), request, details));
    } catch (err) {
      this.deps.logger.error({ action, err: describeError(err) }, 'could not append audit event');
    }
  }

  private event(action: AuditAction, who: Actor, request: AccessRequest | undefined, details: Record<string, unknown>): AuditEvent {
    return {
      at: this.deps.clock.now(),
      action,
      ...who,
      ...(request
        ? {
            requestId: request.id,
            integration: request.target.integration,
            details: {
              target: formatTarget(request.target),
              permission: request.permission,
              requester: request.requester.slackId,
              ...(request.requester.email ? { requesterEmail: request.requester.email } : {}),
              // Filed for someone else: both people, in every event of the request.
              ...(request.requestedBy ? { requestedBy: request.requestedBy } : {}),
              ...details,
            },
          }
        : { details }),
    };
  }

  /** The acting person's email for the audit trail: the requester's as recorded, else the directory's. */
  private async emailOf(actor: string, request?: Pick<AccessRequest, 'requester'>): Promise<string | undefined> {
    if (actor === 'system') return undefined;
    if (actor === request?.requester.slackId) return request.requester.email;
    try {
      return (await this.deps.directory.person(actor)).email;
    } catch {
      return undefined; // the trail still names the Slack ID
    }
  }
}
