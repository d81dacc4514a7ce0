/**
 * Runs at most `concurrency` jobs at a time; the others wait their turn in arrival order. The
 * Slack edge acknowledges every request at once and then queues its work here, so a burst of
 * commands cannot starve the acknowledgements of the requests arriving behind it (Slack gives
 * an ack 3 seconds; the work may answer later through the response_url).
 */
export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly concurrency: number) {
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error('concurrency must be a whole number ≥ 1');
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next job, so `running` stays as it is.
      if (next) next();
      else this.running--;
    }
  }

  /** Jobs running or waiting. */
  get size(): number {
    return this.running + this.waiting.length;
  }
}
