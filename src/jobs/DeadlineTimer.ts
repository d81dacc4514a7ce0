import { describeError, type Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { Leadership } from '../ports/Coordination.ts';
import type { NextDeadlines, RequestStore } from '../ports/RequestStore.ts';

/** Timers that count elapsed time, whatever the wall clock does (Node's; a test's own). */
export interface Timers {
  set(fire: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

export const nodeTimers: Timers = {
  set(fire, ms) {
    const handle = setTimeout(fire, ms);
    handle.unref();
    return handle;
  },
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * The longest single wait: the timer then asks the store again. It bounds what a jump of the wall
 * clock can delay, and how long a deadline set by another replica waits to be seen.
 */
export const DEADLINE_MAX_WAIT_MS = 15_000;
/** After a failed pass (the store could not be read), the next try. */
const RETRY_AFTER_ERROR_MS = 5_000;

/** What falls due at a firing. */
export interface DueNow {
  revocations: boolean;
  reminders: boolean;
}

export interface DeadlineTimerDeps {
  store: Pick<RequestStore, 'nextDeadlines'>;
  leadership: Leadership;
  clock: Clock;
  logger: Logger;
  timers?: Timers;
  /** The job whose leader arms the timer. */
  jobId: string;
  /** How long before its expiry a grant's reminder is due. */
  reminderLeadMs: number;
  /** Does what is due now: run under the lock of the job it stands in for. */
  fire: (due: DueNow) => Promise<unknown>;
}

/**
 * One timer for the next deadline of all requests: the earliest grant expiry, retry of a failed
 * revocation, expiry reminder or pending TTL, read with one indexed query. On firing it does what
 * is due and arms again; a change to a request that brings a deadline nearer re-arms it at once.
 * Only the replica that leads `jobId` arms it; it asks at each wake, so it stops when the lead
 * moves and another replica's timer takes over. No wait is longer than
 * {@link DEADLINE_MAX_WAIT_MS}: a timer that wakes early because the clock went back arms again,
 * and one the clock jumped past fires at its next wake.
 */
export class DeadlineTimer {
  readonly #deps: DeadlineTimerDeps;
  readonly #timers: Timers;
  #handle: unknown;
  /** The deadline armed for, when one is. */
  #armedFor: Date | undefined;
  /** The start of the last firing: deadlines at or before it were handled then (or are the backstop's). */
  #firedAt: Date | undefined;
  /** A release asked for revocations to run now, whatever the store says. */
  #forced = false;
  #pass: Promise<void> | undefined;
  #again = false;
  #running = false;

  constructor(deps: DeadlineTimerDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? nodeTimers;
  }

  /** Starts asking for the lead and arming. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#wake();
  }

  /**
   * A request changed: `at` is its nearest deadline now (undefined when it has none or it is not
   * known). Only a leading timer listens; one nearer than the deadline armed re-arms it, and one
   * due now fires.
   */
  changed(at?: Date): void {
    if (!this.#running || !this.#deps.leadership.leading().includes(this.#deps.jobId)) return;
    if (at && this.#armedFor && at.getTime() >= this.#armedFor.getTime()) return;
    if (at && at.getTime() <= this.#deps.clock.now().getTime()) this.#forced = true;
    this.#wake();
  }

  /** Resolves once no pass is in flight (one that starts meanwhile is awaited too). */
  async idle(): Promise<void> {
    while (this.#pass) await this.#pass;
  }

  /** Stops the timer and waits for a firing in flight. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#disarm();
    await this.#pass;
  }

  /** Runs a pass now, or right after the one in flight. */
  #wake(): void {
    if (!this.#running) return;
    if (this.#pass) {
      this.#again = true;
      return;
    }
    this.#disarm();
    this.#pass = this.#passes().finally(() => {
      this.#pass = undefined;
    });
  }

  async #passes(): Promise<void> {
    do {
      this.#again = false;
      let waitMs: number;
      try {
        waitMs = await this.#pass1();
      } catch (err) {
        this.#deps.logger.error({ err: describeError(err) }, 'the deadline timer failed; it tries again');
        waitMs = RETRY_AFTER_ERROR_MS;
      }
      if (!this.#running) return;
      if (!this.#again) this.#arm(waitMs);
    } while (this.#again && this.#running);
  }

  /** Fires what is due, as often as something is, then answers how long to wait. */
  async #pass1(): Promise<number> {
    const { leadership, jobId, clock, store, reminderLeadMs } = this.#deps;
    if (!(await leadership.lead(jobId))) {
      this.#armedFor = undefined;
      return DEADLINE_MAX_WAIT_MS;
    }
    for (;;) {
      const now = clock.now();
      // A clock that went back makes the last firing lie ahead: forget it, or it would hide deadlines.
      if (this.#firedAt && this.#firedAt.getTime() > now.getTime()) this.#firedAt = undefined;
      const next = await store.nextDeadlines(this.#firedAt ?? new Date(0), reminderLeadMs);
      const due = dueAt(next, now, this.#forced);
      if (!due.revocations && !due.reminders) {
        const at = earliest(next);
        this.#armedFor = at;
        return at ? Math.min(Math.max(at.getTime() - now.getTime(), 0), DEADLINE_MAX_WAIT_MS) : DEADLINE_MAX_WAIT_MS;
      }
      if (!this.#running) return DEADLINE_MAX_WAIT_MS;
      this.#forced = false;
      this.#firedAt = now;
      await this.#deps.fire(due);
    }
  }

  #arm(ms: number): void {
    this.#disarm();
    this.#handle = this.#timers.set(() => {
      this.#handle = undefined;
      this.#wake();
    }, ms);
  }

  #disarm(): void {
    if (this.#handle !== undefined) this.#timers.clear(this.#handle);
    this.#handle = undefined;
  }
}

function dueAt(next: NextDeadlines, now: Date, forced: boolean): DueNow {
  const reached = (at: Date | undefined) => at !== undefined && at.getTime() <= now.getTime();
  return { revocations: forced || reached(next.revocation), reminders: reached(next.reminder) };
}

function earliest(next: NextDeadlines): Date | undefined {
  const all = [next.revocation, next.reminder].filter((d): d is Date => d !== undefined);
  return all.length > 0 ? new Date(Math.min(...all.map((d) => d.getTime()))) : undefined;
}
