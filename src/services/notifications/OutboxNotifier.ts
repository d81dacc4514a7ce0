import type { AccessRequest } from '../../domain/request.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import type { NotificationOutbox } from '../../ports/Coordination.ts';
import type { InternalErrorAlert, Notification, NotificationDelivery } from '../../ports/NotificationDelivery.ts';
import type { DepartureNotice, LeftoverReport, Notifier } from '../../ports/Notifier.ts';
import type { SessionSummary } from '../../ports/SessionAudit.ts';
import { draftOf } from './codec.ts';
import { DeliveryWorker, type DeliveryPacing } from './DeliveryWorker.ts';

/** The same internal error is told to the admins once in this long, however often people meet it. */
const ALERT_QUIET_MS = 15 * 60_000;

export interface OutboxNotifierDeps {
  outbox: NotificationOutbox;
  /** Makes the posts: the Slack notifier. */
  delivery: NotificationDelivery;
  /** The service clock: the quiet period of internal errors. */
  clock: Clock;
  /** Due times and claims in the outbox: the system's clock. */
  outboxClock: Clock;
  logger: Logger;
  /** This process, unique among the replicas sharing the outbox. */
  owner: string;
  pacing?: Partial<DeliveryPacing>;
}

/**
 * The Notifier through the durable outbox: each call is queued (under its request's ID, so an
 * update never overtakes the post it updates) and returns once it is stored; the worker delivers
 * it in the background, so a slow or rate-limited Slack never delays a grant or a revocation
 * (PRODUCT.md §7). With replicas on one shared state, each notification is delivered by one of
 * them. {@link drain} waits for what can be delivered now, at shutdown and in tests.
 */
export class OutboxNotifier implements Required<Notifier> {
  readonly #deps: OutboxNotifierDeps;
  readonly #worker: DeliveryWorker;
  readonly #queuing = new Set<Promise<void>>();
  readonly #alertedAt = new Map<string, number>();

  constructor(deps: OutboxNotifierDeps) {
    this.#deps = deps;
    const { outbox, delivery, outboxClock, logger, owner, pacing } = deps;
    this.#worker = new DeliveryWorker({ outbox, delivery, clock: outboxClock, logger, owner, ...(pacing ? { pacing } : {}) });
    this.#worker.start();
  }

  approvalRequested(request: AccessRequest): Promise<void> {
    return this.#queue({ kind: 'approvalRequested', request });
  }

  requestUpdated(request: AccessRequest): Promise<void> {
    return this.#queue({ kind: 'requestUpdated', request });
  }

  expiringSoon(request: AccessRequest): Promise<void> {
    return this.#queue({ kind: 'expiringSoon', request });
  }

  revocationFailing(request: AccessRequest, attempts: number, error: string): Promise<void> {
    return this.#queue({ kind: 'revocationFailing', request, attempts, error });
  }

  approvalReminder(request: AccessRequest): Promise<void> {
    return this.#queue({ kind: 'approvalReminder', request });
  }

  personDeactivated(report: DepartureNotice): Promise<void> {
    return this.#queue({ kind: 'personDeactivated', report });
  }

  leftoversRemoved(report: LeftoverReport): Promise<void> {
    return this.#queue({ kind: 'leftoversRemoved', report });
  }

  sessionsCounted(request: AccessRequest, counts: SessionSummary): Promise<void> {
    return this.#queue({ kind: 'sessionsCounted', request, counts });
  }

  breakGlassUsed(request: AccessRequest): Promise<void> {
    return this.#queue({ kind: 'breakGlassUsed', request });
  }

  breakGlassReviewed(request: AccessRequest): Promise<void> {
    return this.#queue({ kind: 'breakGlassReviewed', request });
  }

  breakGlassReviewReminder(request: AccessRequest): Promise<void> {
    return this.#queue({ kind: 'breakGlassReviewReminder', request });
  }

  /**
   * Tells the admins the details of an error a person met and was told about only in general
   * words (PRODUCT.md §6). The same details are told once per quiet period, so a database that
   * is down does not page the admins at every click.
   */
  internalError(alert: InternalErrorAlert): Promise<void> {
    const now = this.#deps.clock.now().getTime();
    const last = this.#alertedAt.get(alert.details);
    if (last !== undefined && now - last < ALERT_QUIET_MS) return Promise.resolve();
    this.#alertedAt.set(alert.details, now);
    return this.#queue({ kind: 'internalError', alert });
  }

  /** Resolves when nothing queued here is still being stored and nothing is ready to deliver now. */
  async drain(): Promise<void> {
    while (this.#queuing.size > 0) await Promise.allSettled([...this.#queuing]);
    await this.#worker.drain();
  }

  /** Stops delivering (after the deliveries under way): before the store closes. */
  stop(): Promise<void> {
    return this.#worker.stop();
  }

  /** Stores the notification; a failure reaches the caller, which logs it (services' `notify`). */
  #queue(notification: Notification): Promise<void> {
    const queued = this.#deps.outbox.enqueue(draftOf(notification), this.#deps.outboxClock.now()).then(() => this.#worker.soon());
    const tracked = queued.catch(() => undefined);
    this.#queuing.add(tracked);
    void tracked.finally(() => this.#queuing.delete(tracked));
    return queued;
  }
}
