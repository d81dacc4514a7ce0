import { fromStatesOf, type AccessRequest } from '../domain/request.ts';
import { describeError, type Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { DepartureNotice, Notifier } from '../ports/Notifier.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import { SYSTEM, type AuditTrail } from './AuditTrail.ts';
import type { RevocationService } from './RevocationService.ts';
import { notify } from './shared.ts';

/** The ports the departure of a person uses. */
export interface DepartureDeps {
  requests: RequestStore;
  revocations: Pick<RevocationService, 'beginRevoking' | 'performRevocation'>;
  notifier: Notifier;
  audit: AuditTrail;
  clock: Clock;
  logger: Logger;
}

/** Why the audit trail says each of these ended. */
const REASON = 'the person was deactivated in Slack';

/**
 * People who leave (PRODUCT.md §6): when Slack says a person was deactivated, every grant of
 * theirs is revoked at once (their sessions ended), every request of theirs that waits is
 * cancelled, and the admins are told. Running it twice changes nothing more.
 */
export class DepartureService {
  constructor(private readonly deps: DepartureDeps) {}

  async personLeft(slackId: string): Promise<DepartureNotice> {
    const { requests } = this.deps;
    const report: DepartureNotice = { slackId, revoked: [], cancelled: [], failing: [] };
    const theirs = await requests.listRequests({ requesterSlackId: slackId, statuses: ['pending', 'approved', 'granting', 'granted'] });
    for (const req of theirs) {
      if (req.status === 'pending' || req.status === 'approved') {
        if (await this.stop(req)) report.cancelled.push(req.id);
        continue;
      }
      const ended = await this.revoke(req);
      if (ended?.status === 'revoked') report.revoked.push(req.id);
      else if (ended) report.failing.push(req.id);
    }
    if (theirs.length > 0) {
      this.deps.logger.warn({ ...report }, 'a deactivated person lost every grant and request');
      await notify(this.deps.logger, 'person deactivated', async () => this.deps.notifier.personDeactivated?.(report));
    }
    return report;
  }

  /** A request not granted yet ends here: cancelled while pending, failed once approved. */
  private async stop(req: AccessRequest): Promise<boolean> {
    const { requests, clock, audit } = this.deps;
    const now = clock.now();
    const ended =
      req.status === 'pending'
        ? await requests.transition(
            req.id,
            fromStatesOf('cancelled'),
            'cancelled',
            { endedAt: now, endedBy: 'system' },
            audit.of('request.cancelled', SYSTEM, { reason: REASON }),
          )
        : await requests.transition(
            req.id,
            ['approved'],
            'failed',
            { endedAt: now, lastError: `Not granted: ${REASON}.` },
            audit.of('grant.failed', SYSTEM, { error: REASON }),
          );
    if (ended) await notify(this.deps.logger, ended.status, () => this.deps.notifier.requestUpdated(ended));
    return ended !== undefined;
  }

  /** A grant (or one being made) is taken away now, its sessions ended. */
  private async revoke(req: AccessRequest): Promise<AccessRequest | undefined> {
    const revoking = await this.deps.revocations.beginRevoking(req, 'system', SYSTEM, { reason: REASON });
    if (!revoking) return undefined;
    try {
      return await this.deps.revocations.performRevocation(revoking);
    } catch (err) {
      this.deps.logger.warn({ requestId: req.id, err: describeError(err) }, 'revoking a departed person failed; it is retried');
      return revoking;
    }
  }
}
