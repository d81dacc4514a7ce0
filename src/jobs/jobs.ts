import type { Config } from '../config/schema.ts';
import type { GrantService } from '../services/GrantService.ts';
import type { RevocationService } from '../services/RevocationService.ts';
import type { MaintenanceService } from '../services/MaintenanceService.ts';
import type { Job } from './Scheduler.ts';

/** The id of every job Sesame may schedule (`discover` only with `discovery:` in the config). */
export const SESAME_JOB_IDS = ['discover', 'expire', 'remind', 'rotate', 'cleanup'] as const;

/** An approved or granting request untouched this long was left by a replica that died. */
const ABANDONED_AFTER_MS = 30_000;

/**
 * Sesame's schedule as data (PRODUCT.md §3 `schedule`). Expiry and reconciliation share one job
 * so they never run at the same time; at start the interrupted work of a crash is finished first.
 */
export function sesameJobs(
  schedule: Config['schedule'],
  services: { grants: GrantService; revocations: RevocationService; maintenance: MaintenanceService },
): Job[] {
  const { grants, revocations, maintenance } = services;
  return [
    {
      id: 'expire',
      cron: schedule.expire,
      timeoutMs: 5 * 60_000,
      runAtStart: true,
      run: async () => {
        const expired = await revocations.expireDue();
        // Grants a replica acknowledged and then died before finishing (none on a single one).
        const resumed = await grants.resume({ olderThanMs: ABANDONED_AFTER_MS });
        const extensions = await grants.applyPendingExtensions();
        const reconciled = await maintenance.reconcile();
        // userCleanupDays: 0 drops a user at the first pass after its last revocation.
        const dropped = await maintenance.cleanUpUsers({ onlyImmediate: true });
        return { expired, resumed, extensions, reconciled, dropped };
      },
    },
    {
      id: 'remind',
      cron: schedule.remind,
      timeoutMs: 60_000,
      runAtStart: true,
      run: async () => ({
        timedOut: await maintenance.timeOutPending(),
        reminded: await maintenance.remindExpiring(),
        approversReminded: await maintenance.remindApprovers(),
        reviewersReminded: await maintenance.remindReviewers(),
      }),
    },
    { id: 'rotate', cron: schedule.rotate, timeoutMs: 30 * 60_000, run: () => maintenance.rotateCredentials() },
    { id: 'cleanup', cron: schedule.cleanup, timeoutMs: 30 * 60_000, run: () => maintenance.cleanUpUsers() },
  ];
}
