import { describeError, type Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { TargetDatabases } from '../ports/TargetDatabase.ts';
import type { Timers } from './DeadlineTimer.ts';

/** The first probe of a target whose revocations failed, and the longest wait between probes. */
export const PROBE_FIRST_MS = 1_000;
export const PROBE_MAX_MS = 30_000;
/** A target is probed every second this long after its first failure (most outages are short), then less and less often. */
export const PROBE_EVERY_SECOND_FOR_MS = 30_000;

export interface TargetRecoveryDeps {
  store: Pick<RequestStore, 'listRequests' | 'update'>;
  databases: TargetDatabases;
  clock: Clock;
  logger: Logger;
  timers: Timers;
  /** Revocations were made due now: the deadline timer fires them. */
  released: (at: Date) => void;
}

interface Watch {
  handle: unknown;
  delayMs: number;
  /** When the target was first seen failing (the service clock). */
  sinceMs: number;
}

/**
 * Targets whose revocations failed, watched until they answer again: a cheap probe (one
 * connection, one catalog query) runs every second for the first 30 s after the failure, then
 * after twice the wait each time up to 30 s; any successful call on the target (a grant, a revocation, the probe) ends the wait.
 * Its pending revocations are then made due now, instead of waiting out their backoff.
 */
export class TargetRecovery {
  readonly #deps: TargetRecoveryDeps;
  readonly #watched = new Map<string, Watch>();
  readonly #inFlight = new Set<Promise<void>>();
  #stopped = false;

  constructor(deps: TargetRecoveryDeps) {
    this.#deps = deps;
  }

  /** The integrations watched now. */
  watching(): string[] {
    return [...this.#watched.keys()].sort();
  }

  /** A revocation on `integration` failed and waits for a retry: watch it until it answers. */
  failed(integration: string): void {
    if (this.#stopped || this.#watched.has(integration)) return;
    const watch: Watch = { handle: undefined, delayMs: PROBE_FIRST_MS, sinceMs: this.#deps.clock.now().getTime() };
    this.#watched.set(integration, watch);
    this.#schedule(integration, watch);
  }

  /** A call on `integration` succeeded: when it was watched, its revocations run now. */
  reachable(integration: string): void {
    if (this.#watched.has(integration)) this.#track(this.#release(integration));
  }

  /** Resolves once no probe or release is in flight. */
  async idle(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.all(this.#inFlight);
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  /** Watches every target with revocations waiting for a retry (at start, after a restart). */
  async watchPending(): Promise<void> {
    const now = this.#deps.clock.now().getTime();
    for (const req of await this.#deps.store.listRequests({ statuses: ['revoking'] })) {
      if (req.nextAttemptAt && req.nextAttemptAt.getTime() > now) this.failed(req.target.integration);
    }
  }

  stop(): void {
    this.#stopped = true;
    for (const watch of this.#watched.values()) this.#deps.timers.clear(watch.handle);
    this.#watched.clear();
  }

  #schedule(integration: string, watch: Watch): void {
    watch.handle = this.#deps.timers.set(() => this.#track(this.#probe(integration, watch)), watch.delayMs);
  }

  async #probe(integration: string, watch: Watch): Promise<void> {
    if (this.#watched.get(integration) !== watch) return;
    try {
      await this.#deps.databases.get(integration).listDatabases({ limit: 1 });
    } catch (err) {
      if (this.#watched.get(integration) !== watch) return;
      const early = this.#deps.clock.now().getTime() - watch.sinceMs < PROBE_EVERY_SECOND_FOR_MS;
      watch.delayMs = early ? PROBE_FIRST_MS : Math.min(watch.delayMs * 2, PROBE_MAX_MS);
      this.#deps.logger.debug({ integration, err: describeError(err), nextProbeMs: watch.delayMs }, 'target still unreachable');
      this.#schedule(integration, watch);
      return;
    }
    await this.#release(integration);
  }

  /** Makes the target's waiting revocations due now and tells the timer. */
  async #release(integration: string): Promise<void> {
    const watch = this.#watched.get(integration);
    if (!watch) return;
    this.#watched.delete(integration);
    this.#deps.timers.clear(watch.handle);
    const { store, clock, logger } = this.#deps;
    try {
      const now = clock.now();
      let released = 0;
      for (const req of await store.listRequests({ statuses: ['revoking'], integration })) {
        if (!req.nextAttemptAt || req.nextAttemptAt.getTime() <= now.getTime()) continue;
        if (await store.update(req.id, ['revoking'], { nextAttemptAt: now })) released++;
      }
      logger.info({ integration, released }, 'target answers again; its pending revocations run now');
      if (released > 0) this.#deps.released(now);
    } catch (err) {
      logger.warn({ integration, err: describeError(err) }, 'pending revocations could not be released; their backoff stands');
    }
  }
}
