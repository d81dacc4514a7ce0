import { randomBytes } from 'node:crypto';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { Directory } from '../ports/Directory.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { ResourceOwners } from '../ports/ResourceOwners.ts';
import type { SessionAudit } from '../ports/SessionAudit.ts';
import type { AuditAction, AuditEvent, AuditOf, StateStore } from '../ports/StateStore.ts';
import type { TargetDatabases } from '../ports/TargetDatabase.ts';
import type { AccessRequest } from '../domain/request.ts';
import type { AccessFlow } from '../domain/flows.ts';
import { describeError } from '../logger.ts';
import { NotFoundError } from '../domain/errors.ts';
import { formatTarget } from '../domain/target.ts';

/** What the services read of the settings; the parsed config file is one. */
export interface ServiceSettings {
  slack: {
    /** The slash command, named in replies that tell a person what to type. */
    command: string;
    /** Slack IDs, emails or @usergroup handles of admins. */
    admins: string[];
    /** Pending requests one person may have at once. */
    maxPendingPerPerson: number;
  };
  accessFlows: AccessFlow[];
}

/** The ports every service receives. Built once in the composition root. */
export interface ServiceDeps {
  config: ServiceSettings;
  /** The integrations served now: the config's and discovery's, with their availability. */
  integrations: IntegrationRegistry;
  store: StateStore;
  databases: TargetDatabases;
  notifier: Notifier;
  directory: Directory;
  clock: Clock;
  logger: Logger;
  owners?: ResourceOwners;
  /** Session logs per grant, for integrations with `audit: true`. */
  sessions?: SessionAudit;
  randomBytes?: (n: number) => Uint8Array;
}

export function bytes(deps: ServiceDeps, n: number): Uint8Array {
  return (deps.randomBytes ?? randomBytes)(n);
}

/** Who did something, as the audit trail names them. */
export interface Actor {
  actor: string;
  actorEmail?: string;
}

/** The acting person: their Slack ID (or `system`) and, where known, their email. */
export async function actorOf(deps: ServiceDeps, actor: string, request?: Pick<AccessRequest, 'requester'>): Promise<Actor> {
  const actorEmail = await emailOf(deps, actor, request);
  return actorEmail ? { actor, actorEmail } : { actor };
}

export const SYSTEM: Actor = { actor: 'system' };

/**
 * The audit event of a change to a request, made from the request as the change left it; the
 * store writes it in the same transaction as the change.
 */
export function auditOf(
  deps: ServiceDeps,
  action: AuditAction,
  who: Actor,
  details: Record<string, unknown> | ((request: AccessRequest) => Record<string, unknown>) = {},
): (request: AccessRequest) => AuditEvent {
  return (request) => auditEvent(deps, action, who, request, typeof details === 'function' ? details(request) : details);
}

function auditEvent(
  deps: ServiceDeps,
  action: AuditAction,
  who: Actor,
  request: AccessRequest | undefined,
  details: Record<string, unknown>,
): AuditEvent {
  return {
    at: deps.clock.now(),
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
            ...details,
          },
        }
      : { details }),
  };
}

/**
 * Appends an audit event that goes with no state change of a request (a reveal, a
 * reconciliation). The audit trail must not be the reason a grant or a revocation stops, so a
 * failure here is logged and swallowed.
 */
export async function audit(
  deps: ServiceDeps,
  action: AuditAction,
  actor: string,
  request?: AccessRequest,
  details: Record<string, unknown> = {},
): Promise<void> {
  try {
    await deps.store.appendAudit(auditEvent(deps, action, await actorOf(deps, actor, request), request, details));
  } catch (err) {
    deps.logger.error({ action, err: describeError(err) }, 'could not append audit event');
  }
}

/** The acting person's email for the audit trail: the requester's as recorded, else the directory's. */
async function emailOf(deps: ServiceDeps, actor: string, request?: Pick<AccessRequest, 'requester'>): Promise<string | undefined> {
  if (actor === 'system') return undefined;
  if (actor === request?.requester.slackId) return request.requester.email;
  try {
    return (await deps.directory.person(actor)).email;
  } catch {
    return undefined; // the trail still names the Slack ID
  }
}

/** Calls the notifier without letting a failure reach the caller (PRODUCT.md §7). */
export async function notify(deps: ServiceDeps, what: string, call: () => Promise<void>): Promise<void> {
  try {
    await call();
  } catch (err) {
    deps.logger.warn({ notification: what, err: describeError(err) }, 'notification failed');
  }
}

/** The request with this ID, or a NotFoundError that tells the person where to look. */
export async function requireRequest(deps: ServiceDeps, id: string): Promise<AccessRequest> {
  const req = await deps.store.getRequest(id);
  if (!req) throw new NotFoundError(`There is no request ${id}. /access list shows yours.`);
  return req;
}
