import type { Timers } from '../../src/jobs/DeadlineTimer.ts';
import type { ManualClock } from './fakes.ts';

interface Pending {
  at: number;
  seq: number;
  fire: () => void;
}

/**
 * Timers on elapsed time the test lets pass: `elapse` moves the clock with it and fires what falls
 * due, in order, letting the work each one starts settle first. Moving the clock alone (`clock.set`)
 * is a jump of the wall clock, which timers do not see.
 */
export class ManualTimers implements Timers {
  #elapsed = 0;
  #seq = 0;
  readonly #pending = new Map<number, Pending>();

  constructor(
    private readonly clock: ManualClock,
    private readonly settle: () => Promise<void> = async () => {},
  ) {}

  set(fire: () => void, ms: number): unknown {
    const seq = ++this.#seq;
    this.#pending.set(seq, { at: this.#elapsed + Math.max(0, ms), seq, fire });
    return seq;
  }

  clear(handle: unknown): void {
    this.#pending.delete(handle as number);
  }

  /** How many timers are set. */
  get size(): number {
    return this.#pending.size;
  }

  async elapse(ms: number): Promise<void> {
    const end = this.#elapsed + ms;
    await this.settle();
    for (;;) {
      const next = [...this.#pending.values()].filter((p) => p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!next) break;
      this.#pending.delete(next.seq);
      this.clock.advance(next.at - this.#elapsed);
      this.#elapsed = next.at;
      next.fire();
      await this.settle();
    }
    this.clock.advance(end - this.#elapsed);
    this.#elapsed = end;
    await this.settle();
  }
}
