import { describeError, type Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import type { NotificationOutbox, OutboxEntry } from '../../ports/Coordination.ts';
import type { DeliverySteps, NotificationDelivery } from '../../ports/NotificationDelivery.ts';
import { notificationOf } from './codec.ts';

/** How the worker paces itself; every field has a default. */
export interface DeliveryPacing {
  /** Entries of different keys delivered side by side. */
  parallel: number;
  /** How often the outbox is read for entries other replicas queued or left. */
  pollMs: number;
  /**
   * How long a claim lasts unless renewed: while this process delivers, it renews the claim every
   * third of this; a replica that dies leaves the entry to another this long after.
   */
  leaseMs: number;
  /** How long a notification queued here waits before it is delivered (see {@link DeliveryWorker.soon}). */
  settleMs: number;
  /** Attempts before a notification is given up. */
  attempts: number;
  /** The wait after the first failure; it doubles after each. */
  firstRetryMs: number;
}

export const DEFAULT_PACING: DeliveryPacing = {
  parallel: 4,
  pollMs: 1_000,
  leaseMs: 15_000,
  settleMs: 50,
  attempts: 5,
  firstRetryMs: 1_000,
};

export interface DeliveryWorkerDeps {
  outbox: NotificationOutbox;
  delivery: NotificationDelivery;
  /** Due times and claims: the system's clock, since they are about which replica is alive. */
  clock: Clock;
  logger: Logger;
  /** This process among the replicas; each claim it makes is owned under its own name below it. */
  owner: string;
  pacing?: Partial<DeliveryPacing>;
}

/** Another replica took the delivery over after this one's claim ran out. */
class ClaimLost extends Error {}

/**
 * Delivers what the outbox holds: claims an entry, hands it to the delivery with its steps,
 * and completes it, retries it later with a doubling wait, or gives it up after the last attempt
 * with a warning. Several keys go side by side; one key's entries one at a time, in order, as
 * the outbox hands them out.
 */
export class DeliveryWorker {
  readonly #deps: DeliveryWorkerDeps;
  readonly #pacing: DeliveryPacing;
  readonly #running = new Map<number, Promise<void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #poll: NodeJS.Timeout | undefined;
  #pumping: Promise<void> | undefined;
  #next: Promise<void> | undefined;
  #claims = 0;
  #stopped = false;
  #outboxFailing = false;

  constructor(deps: DeliveryWorkerDeps) {
    this.#deps = deps;
    this.#pacing = { ...DEFAULT_PACING, ...deps.pacing };
  }

  /** Reads the outbox now and then at every poll, until {@link stop}. */
  start(): void {
    if (this.#poll || this.#stopped) return;
    this.#poll = setInterval(() => void this.wake(), this.#pacing.pollMs);
    this.#poll.unref();
    void this.wake();
  }

  /**
   * Delivers after the settle: a notification queued here starts a moment after it is asked
   * for, so the database work that usually follows a decision (the grant) runs without Slack
   * calls in the same process; nobody notices 50 ms on a message, and access is ready sooner.
   */
  soon(): void {
    this.#after(this.#pacing.settleMs);
  }

  /** Claims and starts deliveries while slots are free and entries are ready; one pass at a time. */
  wake(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (!this.#pumping) {
      this.#pumping = this.#pump().finally(() => {
        this.#pumping = undefined;
      });
      return this.#pumping;
    }
    this.#next ??= this.#pumping.then(() => {
      this.#next = undefined;
      return this.wake();
    });
    return this.#next;
  }

  /** Resolves when nothing is being delivered and the outbox holds nothing ready to deliver now. */
  async drain(): Promise<void> {
    for (;;) {
      await this.wake();
      if (this.#running.size === 0 || this.#stopped) return;
      await Promise.allSettled([...this.#running.values()]);
    }
  }

  /** Stops claiming and polling; deliveries under way finish. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#poll) clearInterval(this.#poll);
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await this.#pumping;
    await Promise.allSettled([...this.#running.values()]);
  }

  async #pump(): Promise<void> {
    const { outbox, clock, logger, owner } = this.#deps;
    while (!this.#stopped && this.#running.size < this.#pacing.parallel) {
      const claimant = `${owner}/${++this.#claims}`;
      let entry: OutboxEntry | undefined;
      try {
        entry = await outbox.claim(claimant, clock.now(), this.#pacing.leaseMs);
        if (this.#outboxFailing) logger.info('the notification outbox answers again');
        this.#outboxFailing = false;
      } catch (err) {
        if (!this.#outboxFailing) logger.warn({ err: describeError(err) }, 'the notification outbox cannot be read; trying again');
        this.#outboxFailing = true;
        return;
      }
      if (!entry) return;
      const delivering = this.#deliver(entry, claimant).finally(() => {
        this.#running.delete(entry.id);
        void this.wake();
      });
      this.#running.set(entry.id, delivering);
    }
  }

  async #deliver(entry: OutboxEntry, claimant: string): Promise<void> {
    const { outbox, delivery, logger } = this.#deps;
    const steps = this.#stepsOf(entry, claimant);
    const renewing = setInterval(() => void this.#renew(entry, claimant, steps), this.#pacing.leaseMs / 3);
    renewing.unref();
    try {
      await delivery.deliver(notificationOf(entry), steps);
      clearInterval(renewing);
      if (steps.lost) throw new ClaimLost(`The claim on notification ${entry.id} was lost.`);
      await outbox.complete(entry.id, claimant);
    } catch (err) {
      clearInterval(renewing);
      // The delivery may have wrapped the loss in an error of its own.
      if (err instanceof ClaimLost || steps.lost) {
        logger.info({ requestId: entry.key, notification: entry.kind }, 'another replica took over a notification');
        return;
      }
      await this.#failed(entry, claimant, err).catch((outboxErr: unknown) =>
        logger.warn({ requestId: entry.key, err: describeError(outboxErr) }, 'a failed notification could not be put back'),
      );
    }
  }

  /** Keeps the claim while the delivery runs; a claim found lost stops the steps still to come. */
  async #renew(entry: OutboxEntry, claimant: string, steps: { lost: boolean }): Promise<void> {
    try {
      if (!(await this.#deps.outbox.renew(entry.id, claimant, this.#deps.clock.now(), this.#pacing.leaseMs))) steps.lost = true;
    } catch {
      // The outbox cannot be reached now: the claim runs out unless a later renewal gets through.
    }
  }

  async #failed(entry: OutboxEntry, claimant: string, err: unknown): Promise<void> {
    const { outbox, delivery, logger, clock } = this.#deps;
    const about = { requestId: entry.key, notification: entry.kind, attempt: entry.attempts, err: describeError(err) };
    if (entry.attempts >= this.#pacing.attempts) {
      logger.warn(about, `${delivery.medium} notification failed; given up after ${entry.attempts} attempts`);
      await outbox.complete(entry.id, claimant);
      return;
    }
    const waitMs = this.#pacing.firstRetryMs * 2 ** (entry.attempts - 1);
    logger.warn({ ...about, retryInMs: waitMs }, `${delivery.medium} notification failed; trying again`);
    await outbox.retryLater(entry.id, claimant, new Date(clock.now().getTime() + waitMs), describeError(err));
    this.#after(waitMs);
  }

  #stepsOf(entry: OutboxEntry, claimant: string): DeliverySteps & { lost: boolean } {
    const done = new Set(entry.done);
    const { outbox, clock } = this.#deps;
    const steps = {
      lost: false,
      once: async (step: string, post: () => Promise<void>) => {
        if (steps.lost) throw new ClaimLost(`The claim on notification ${entry.id} was lost.`);
        if (done.has(step)) return;
        await post();
        done.add(step);
        if (!(await outbox.stepDone(entry.id, claimant, step, clock.now(), this.#pacing.leaseMs))) {
          steps.lost = true;
          throw new ClaimLost(`The claim on notification ${entry.id} was lost.`);
        }
      },
    };
    return steps;
  }

  #after(ms: number): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      void this.wake();
    }, ms);
    timer.unref();
    this.#timers.add(timer);
  }
}
