import type { Config } from '../config/schema.ts';
import type { GrantService } from '../services/GrantService.ts';
import type { RevocationService } from '../services/RevocationService.ts';
import type { BreakGlassReviews } from '../services/BreakGlassReviews.ts';
import type { MaintenanceService } from '../services/MaintenanceService.ts';
import type { SessionAuditService } from '../services/SessionAuditService.ts';
import type { Job } from './Scheduler.ts';

/**
 * The id of every job Sesame may schedule (`discover` only with `discovery:` in the config,
 * `sessions` only with an integration that has `audit: true`, `audit-sink` only with `audit.sink`).
 */
export const SESAME_JOB_IDS = ['discover', 'expire', 'remind', 'rotate', 'cleanup', 'sessions', 'audit-sink'] as const;

/** An approved or granting request untouched this long was left by a replica that died. */
const ABANDONED_AFTER_MS = 30_000;

/**
 * Sesame's schedule as data (PRODUCT.md §3 `schedule`). Expiry and reconciliation share one job
 * so they never run at the same time; at start the interrupted work of a crash is finished first.
 */
export function sesameJobs(
  schedule: Config['schedule'],
  services: {
    grants: GrantService;
    revocations: RevocationService;
    maintenance: MaintenanceService;
    breakGlass: Pick<BreakGlassReviews, 'remindDue'>;
    sessionAudit?: SessionAuditService;
  },
): Job[] {
  const { grants, revocations, maintenance, breakGlass, sessionAudit } = services;
  return [
    // Session logs are read on the discover schedule (and when a grant ends).
    ...(sessionAudit
      ? [{ id: 'sessions', cron: schedule.discover, timeoutMs: 10 * 60_000, run: () => sessionAudit.ingestAll() } satisfies Job]
      : []),
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
        reviewersReminded: await breakGlass.remindDue(),
      }),
    },
    { id: 'rotate', cron: schedule.rotate, timeoutMs: 30 * 60_000, run: () => maintenance.rotateCredentials() },
    { id: 'cleanup', cron: schedule.cleanup, timeoutMs: 30 * 60_000, run: () => maintenance.cleanUpUsers() },
  ];
}

/** How often the audit sink job looks for what to deliver (and retries after its backoff). */
export const AUDIT_SINK_CRON = '*/2 * * * * *';

/**
 * Streams the audit trail and the session records to the configured sink: every two seconds, on
 * the replica that leads it, one pass that delivers what is waiting (or waits out its backoff).
 * It is no start-up job, so a receiver that is down delays nothing.
 */
export function auditSinkJob(stream: { pass(): Promise<unknown> }): Job {
  return { id: 'audit-sink', cron: AUDIT_SINK_CRON, timeoutMs: 60_000, run: () => stream.pass() };
}
