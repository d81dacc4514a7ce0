import type { LeftoverReport } from '../ports/Notifier.ts';
import type { AccessRequest } from '../domain/request.ts';
import { audit, notify, type ServiceDeps } from './ServiceDeps.ts';

/**
 * Records each thing Sesame removed from what a person left behind as its own audit event (with
 * the object's definition) and tells the admins, once per report. Neither may stop the caller.
 */
export async function recordLeftovers(deps: ServiceDeps, report: LeftoverReport, request?: AccessRequest): Promise<void> {
  if (report.removals.length === 0) return;
  for (const removal of report.removals) {
    await audit(deps, 'leftover.removed', 'system', request, {
      integration: report.integration,
      ...(report.dbUser ? { dbUser: report.dbUser } : {}),
      ...removal,
    });
  }
  const notifier = deps.notifier;
  if (notifier.leftoversRemoved) await notify(deps, 'leftovers removed', () => notifier.leftoversRemoved!(report));
}
