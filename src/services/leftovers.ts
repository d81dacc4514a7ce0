import type { Logger } from '../logger.ts';
import type { LeftoverReport, Notifier } from '../ports/Notifier.ts';
import type { AccessRequest } from '../domain/request.ts';
import type { AuditTrail } from './AuditTrail.ts';
import { notify } from './shared.ts';

/** What recording leftovers uses: the audit trail, and the notifier to tell the admins. */
export interface LeftoverDeps {
  audit: AuditTrail;
  notifier: Pick<Notifier, 'leftoversRemoved'>;
  logger: Logger;
}

/**
 * Records each thing Sesame removed from what a person left behind as its own audit event (with
 * the object's definition) and tells the admins, once per report. Neither may stop the caller.
 */
export async function recordLeftovers(deps: LeftoverDeps, report: LeftoverReport, request?: AccessRequest): Promise<void> {
  if (report.removals.length === 0) return;
  for (const removal of report.removals) {
    await deps.audit.record('leftover.removed', 'system', request, {
      integration: report.integration,
      ...(report.dbUser ? { dbUser: report.dbUser } : {}),
      ...removal,
    });
  }
  const notifier = deps.notifier;
  if (notifier.leftoversRemoved) await notify(deps.logger, 'leftovers removed', () => notifier.leftoversRemoved!(report));
}
