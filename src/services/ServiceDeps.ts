import { randomBytes } from 'node:crypto';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { Directory } from '../ports/Directory.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { ResourceOwners } from '../ports/ResourceOwners.ts';
import type { AuditAction, StateStore } from '../ports/StateStore.ts';
import type { TargetDatabases } from '../ports/TargetDatabase.ts';
import type { AccessRequest } from '../domain/request.ts';
import { describeError } from '../logger.ts';
import { formatTarget } from '../domain/target.ts';

/** The ports every service receives. Built once in the composition root. */
export interface ServiceDeps {
  config: Config;
  store: StateStore;
  databases: TargetDatabases;
  notifier: Notifier;
  directory: Directory;
  clock: Clock;
  logger: Logger;
  owners?: ResourceOwners;
  randomBytes?: (n: number) => Uint8Array;
}

export function bytes(deps: ServiceDeps, n: number): Uint8Array {
  return (deps.randomBytes ?? randomBytes)(n);
}

/**
 * Appends an audit event. The audit trail must not be the reason a grant or a revocation stops,
 * so a failure here is logged and swallowed.
 */
export async function audit(
  deps: ServiceDeps,
  action: AuditAction,
  actor: string,
  request?: AccessRequest,
  details: Record<string, unknown> = {},
): Promise<void> {
  try {
    const actorEmail = await emailOf(deps, actor, request);
    await deps.store.appendAudit({
      at: deps.clock.now(),
      action,
      actor,
      ...(actorEmail ? { actorEmail } : {}),
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
    });
  } catch (err) {
    deps.logger.error({ action, err: describeError(err) }, 'could not append audit event');
  }
}

/** The acting person's email for the audit trail: the requester's as recorded, else the directory's. */
async function emailOf(deps: ServiceDeps, actor: string, request?: AccessRequest): Promise<string | undefined> {
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
