import { ConflictError, NotAllowedError } from '../domain/errors.ts';
import type { AccessRequest, ReviewOutcome } from '../domain/request.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { KeyedLock } from '../ports/Coordination.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import { markRecorded } from '../lib/recorded.ts';
import type { AuditTrail } from './AuditTrail.ts';
import type { People } from './People.ts';
import { notify, requireRequest } from './shared.ts';

/** An unreviewed break-glass grant is brought to its reviewers again this long after its grant or last reminder. */
export const REVIEW_REMINDER_MS = 24 * 60 * 60_000;

/** What reviews of break-glass grants read and write. */
export interface BreakGlassReviewDeps {
  requests: RequestStore;
  people: Pick<People, 'isAdminOrCurrentApprover' | 'isAdmin'>;
  notifier: Notifier;
  audit: AuditTrail;
  clock: Clock;
  logger: Logger;
  /** One review of a request at a time, on every replica. */
  userLocks: KeyedLock;
}

/**
 * The review of break-glass grants (README "Break-glass"): access granted at once without
 * approval is looked at afterwards by the flow's approvers or Sesame's admins, who mark it
 * Reviewed or Flagged, once. Unreviewed ones are reminded daily and listed for admins.
 */
export class BreakGlassReviews {
  constructor(private readonly deps: BreakGlassReviewDeps) {}

  /**
   * Marks a break-glass grant Reviewed or Flagged. Only its current approvers and the admins may,
   * never its requester, and only once: anything else is an error that changes nothing. A flag
   * is also told to the admins.
   */
  async review(requestId: string, actorSlackId: string, outcome: ReviewOutcome): Promise<AccessRequest> {
    const { requests, audit, clock } = this.deps;
    const reviewed = await this.deps.userLocks.run(`review:${requestId}`, async () => {
      const req = await requireRequest(requests, requestId);
      await this.mayReview(req, actorSlackId);
      const who = await audit.actorOf(actorSlackId, req);
      const patch = { reviewOutcome: outcome, reviewedBy: actorSlackId, reviewedAt: clock.now() };
      const action = outcome === 'flagged' ? 'breakglass.flagged' : 'breakglass.reviewed';
      const done = await requests.update(req.id, [req.status], patch, audit.of(action, who, { outcome }));
      if (!done) throw new ConflictError(`${req.id} changed while you reviewed it; nothing was recorded. Try again.`);
      return done;
    });
    markRecorded();
    await notify(this.deps.logger, 'break-glass review', () => this.deps.notifier.breakGlassReviewed?.(reviewed) ?? Promise.resolve());
    return reviewed;
  }

  /** Throws the error that says why this person may not review `req` now; resolves when they may. */
  async mayReview(req: AccessRequest, actorSlackId: string): Promise<void> {
    if (!req.breakGlass) {
      throw new ConflictError(`${req.id} was not granted by break-glass, so there is nothing to review; nothing was changed.`);
    }
    if (req.reviewOutcome) {
      const by = req.reviewedBy ? ` by <@${req.reviewedBy}>` : '';
      throw new ConflictError(`${req.id} was already ${req.reviewOutcome}${by}; nothing was changed.`);
    }
    if (!req.grantedAt) {
      throw new ConflictError(`${req.id} is ${req.status} and was never granted, so there is nothing to review yet.`);
    }
    if (actorSlackId === req.requester.slackId) {
      throw new NotAllowedError(`You cannot review your own break-glass access ${req.id}; one of its approvers or a Sesame admin has to.`);
    }
    if (!(await this.deps.people.isAdminOrCurrentApprover(req, actorSlackId))) {
      throw new NotAllowedError(`Only an approver of ${req.id}'s flow (${req.flowName}) or a Sesame admin can review it.`);
    }
  }

  /** Break-glass grants nobody reviewed yet, oldest first: for admins only (`/access list`). */
  async unreviewed(actorSlackId: string): Promise<AccessRequest[]> {
    if (!(await this.deps.people.isAdmin(actorSlackId))) {
      throw new NotAllowedError('Only Sesame admins see the break-glass grants that wait for review.');
    }
    return this.waiting();
  }

  /**
   * Reminds the reviewers of each unreviewed break-glass grant granted (or last reminded) at
   * least {@link REVIEW_REMINDER_MS} ago, once per interval. Returns how many were reminded.
   */
  async remindDue(): Promise<number> {
    const { requests, clock } = this.deps;
    const now = clock.now();
    let count = 0;
    for (const req of await this.waiting()) {
      const since = (req.reviewReminderSentAt ?? req.grantedAt)!.getTime();
      if (now.getTime() - since < REVIEW_REMINDER_MS) continue;
      const marked = await requests.update(req.id, [req.status], { reviewReminderSentAt: now });
      if (!marked || marked.reviewOutcome) continue;
      count++;
      await notify(
        this.deps.logger,
        'break-glass review reminder',
        () => this.deps.notifier.breakGlassReviewReminder?.(marked) ?? Promise.resolve(),
      );
    }
    return count;
  }

  /** Unreviewed break-glass requests that were granted (a failed grant gave nothing to review), oldest first. */
  private async waiting(): Promise<AccessRequest[]> {
    const found = await this.deps.requests.listRequests({ unreviewedBreakGlass: true });
    return found.filter((r) => r.grantedAt).sort((a, b) => a.grantedAt!.getTime() - b.grantedAt!.getTime());
  }
}
