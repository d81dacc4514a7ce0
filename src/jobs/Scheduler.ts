import cron, { type ScheduledTask } from 'node-cron';
import { describeError, type Logger } from '../logger.ts';
import type { Leadership } from '../ports/Coordination.ts';

/** One scheduled job, declared as data. */
export interface Job {
  id: string;
  /** Cron expression; a leading seconds field is allowed. */
  cron: string;
  run: () => Promise<unknown>;
  /** A run still going after this long is reported (and the next one still waits for it). */
  timeoutMs: number;
  /** Run once when the scheduler starts, before the first tick. */
  runAtStart?: boolean;
}

/** Work that runs beside the schedule: started after the start-up jobs, stopped before the runs in flight are awaited. */
export interface Companion {
  start(): void;
  stop(): Promise<void>;
}

export type JobRunObserver = (jobId: string, outcome: 'ok' | 'error' | 'skipped', durationMs: number) => void;

/**
 * Runs jobs on their cron schedules. A job never overlaps itself: a tick that comes while the
 * previous run is still going is skipped. With several replicas, a tick runs the job only on the
 * replica that leads it (asked at every tick, so a replica takes over at the first tick after its
 * leader is gone). `stop()` stops the ticks and waits for runs in flight.
 */
export class Scheduler {
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly jobs: readonly Job[],
    private readonly logger: Logger,
    private readonly observe: JobRunObserver = () => {},
    private readonly leadership?: Leadership,
    private readonly companions: readonly Companion[] = [],
  ) {}

  /** Runs the start-up jobs once, in order, then starts the schedule. */
  async start(): Promise<void> {
    for (const job of this.jobs) if (job.runAtStart) await this.tick(job.id);
    if (this.stopped) return;
    for (const companion of this.companions) companion.start();
    for (const job of this.jobs) {
      this.tasks.push(cron.schedule(job.cron, () => void this.tick(job.id), { name: job.id }));
    }
  }

  /** A scheduled moment of a job: it runs here if this replica leads it (and it is not running). */
  async tick(jobId: string): Promise<void> {
    if (this.stopped) return;
    const inFlight = this.running.get(jobId);
    if (inFlight) return this.runNow(jobId);
    if (this.leadership && !(await this.leadership.lead(jobId))) {
      this.logger.debug({ job: jobId }, 'another replica leads the job');
      return;
    }
    if (this.stopped) return;
    return this.runNow(jobId);
  }

  /**
   * Runs a job now unless it is already running; resolves when this run (or the one in flight)
   * ends. Errors are logged, never thrown: the next tick tries again.
   */
  runNow(jobId: string): Promise<void> {
    const inFlight = this.running.get(jobId);
    if (inFlight) {
      this.observe(jobId, 'skipped', 0);
      return inFlight;
    }
    const job = this.jobs.find((j) => j.id === jobId);
    if (!job) return Promise.reject(new Error(`No job named ${jobId}.`));
    const run = this.execute(job).finally(() => this.running.delete(jobId));
    this.running.set(jobId, run);
    return run;
  }

  private async execute(job: Job): Promise<void> {
    const started = performance.now();
    const slow = setTimeout(
      () => this.logger.warn({ job: job.id, timeoutMs: job.timeoutMs }, 'job is taking longer than its timeout'),
      job.timeoutMs,
    );
    slow.unref();
    try {
      const result = await job.run();
      const durationMs = performance.now() - started;
      this.observe(job.id, 'ok', durationMs);
      this.logger.debug({ job: job.id, durationMs: Math.round(durationMs), result }, 'job finished');
    } catch (err) {
      this.observe(job.id, 'error', performance.now() - started);
      this.logger.error({ job: job.id, err: describeError(err) }, 'job failed');
    } finally {
      clearTimeout(slow);
    }
  }

  /** Stops scheduling and waits for runs in flight to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.companions.map((c) => c.stop()));
    for (const task of this.tasks.splice(0)) await task.destroy();
    await Promise.allSettled([...this.running.values()]);
  }
}
