import type { AccessRequest } from '../domain/request.ts';
import { KeyedMutex } from '../lib/KeyedMutex.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { Leadership } from '../ports/Coordination.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { TargetDatabase, TargetDatabases } from '../ports/TargetDatabase.ts';
import { EXPIRY_REMINDER_MS, type MaintenanceService } from '../services/MaintenanceService.ts';
import type { RevocationService } from '../services/RevocationService.ts';
import { DeadlineTimer, type DueNow, nodeTimers, type Timers } from './DeadlineTimer.ts';
import type { Job } from './Scheduler.ts';
import { TargetRecovery } from './TargetRecovery.ts';

/** Requests the expiry sweep takes at once; a firing sweeps again while a sweep comes back full. */
const SWEEP_LIMIT = 500;
const MAX_SWEEPS_PER_FIRING = 20;

/** The calls on a target that succeed only when the server answered. */
const SERVER_CALLS = [
  'grant',
  'revoke',
  'setPassword',
  'listManagedUsers',
  'dropUser',
  'removeLeftovers',
  'secureSharedRoles',
  'listDatabases',
  'listSchemas',
  'listTables',
] satisfies (keyof TargetDatabase)[];

export interface DeadlinesDeps {
  clock: Clock;
  logger: Logger;
  leadership: Leadership;
  timers?: Timers;
}

/**
 * Expiry at the moment itself (PRODUCT.md §7): the deadline timer, armed on the replica that leads
 * `expire`, and the watch on targets whose revocations failed. It sees every change to a request
 * through the store it hands the services, and every successful call on a target through their
 * databases. The `expire` and `remind` jobs stay as the backstop; each shares a lock with the
 * timer's firings, so the two never run at once.
 */
export class Deadlines {
  readonly #deps: DeadlinesDeps;
  readonly #timers: Timers;
  readonly #locks = new KeyedMutex();
  #timer: DeadlineTimer | undefined;
  #recovery: TargetRecovery | undefined;

  constructor(deps: DeadlinesDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? nodeTimers;
  }

  /** The store for the services: every request it writes tells the timer its nearest deadline. */
  watchStore<S extends RequestStore>(store: S): S {
    return intercept(store, ['createRequest', 'transition', 'update'], (result) => {
      if (result) this.#requestChanged(result as AccessRequest);
    });
  }

  /** The databases for the services: a successful call on a target ends the wait of its revocations. */
  watchDatabases(databases: TargetDatabases): TargetDatabases {
    const reachable = (name: string) => this.#recovery?.reachable(name);
    return intercept(databases, [], () => {}, {
      get: (db: TargetDatabase) => intercept(db, SERVER_CALLS, () => reachable(db.integration)),
    });
  }

  /**
   * Builds the timer over the services and puts the `expire` and `remind` jobs under its locks.
   * `store` and `databases` are the unwatched ones.
   */
  attach(
    jobs: Job[],
    services: { revocations: RevocationService; maintenance: MaintenanceService },
    store: RequestStore,
    databases: TargetDatabases,
  ): void {
    for (const [index, job] of jobs.entries()) {
      if (job.id === 'expire' || job.id === 'remind') jobs[index] = { ...job, run: () => this.#locks.run(job.id, job.run) };
    }
    const { clock, logger, leadership } = this.#deps;
    this.#timer = new DeadlineTimer({
      store,
      leadership,
      clock,
      logger,
      timers: this.#timers,
      jobId: 'expire',
      reminderLeadMs: EXPIRY_REMINDER_MS,
      fire: (due) => this.#fire(due, services),
    });
    this.#recovery = new TargetRecovery({
      store,
      databases,
      clock,
      logger,
      timers: this.#timers,
      released: (at) => this.#timer?.changed(at),
    });
  }

  /** Starts the timer (it arms while this replica leads `expire`) and watches targets already failing. */
  start(): void {
    this.#timer?.start();
    void this.#recovery?.watchPending().catch((err) => this.#deps.logger.warn({ err: String(err) }, 'failing targets could not be read'));
  }

  async stop(): Promise<void> {
    this.#recovery?.stop();
    await this.#timer?.stop();
  }

  /** Resolves once no firing, probe or release is in flight. */
  async idle(): Promise<void> {
    await this.#recovery?.idle();
    await this.#timer?.idle();
    await this.#recovery?.idle();
  }

  /** The integrations whose revocations wait for the target to answer (for tests and logs). */
  watching(): string[] {
    return this.#recovery?.watching() ?? [];
  }

  async #fire(due: DueNow, services: { revocations: RevocationService; maintenance: MaintenanceService }): Promise<void> {
    const { revocations, maintenance } = services;
    if (due.revocations) {
      await this.#locks.run('expire', async () => {
        for (let i = 0; i < MAX_SWEEPS_PER_FIRING; i++) if ((await revocations.expireDue(SWEEP_LIMIT)) < SWEEP_LIMIT) break;
      });
    }
    if (due.reminders) {
      await this.#locks.run('remind', async () => {
        await maintenance.timeOutPending();
        await maintenance.remindExpiring();
      });
    }
  }

  #requestChanged(req: AccessRequest): void {
    const now = this.#deps.clock.now().getTime();
    if (req.status === 'revoking' && req.nextAttemptAt && req.nextAttemptAt.getTime() > now) {
      this.#recovery?.failed(req.target.integration);
    }
    const at = nearestDeadline(req);
    if (at) this.#timer?.changed(at);
  }
}

/** The nearest moment at which something falls due for this request, as it is now. */
export function nearestDeadline(req: AccessRequest): Date | undefined {
  const moments: number[] = [];
  if (req.status === 'granted' && req.expiresAt) {
    moments.push(req.expiresAt.getTime());
    if (req.kind === 'access' && !req.expiryReminderSentAt) moments.push(req.expiresAt.getTime() - EXPIRY_REMINDER_MS);
  }
  if (req.status === 'revoking' && req.nextAttemptAt) moments.push(req.nextAttemptAt.getTime());
  if (req.status === 'pending') moments.push(req.pendingExpiresAt.getTime());
  return moments.length > 0 ? new Date(Math.min(...moments)) : undefined;
}

/**
 * The object with its methods called on itself (private fields keep working), and `after` told of
 * each result that `methods` resolve to; `wrap` replaces a method's results.
 */
function intercept<T extends object>(
  target: T,
  methods: readonly string[],
  after: (result: unknown) => void,
  wrap: Record<string, (result: never) => unknown> = {},
): T {
  return new Proxy(target, {
    get(obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      const rewrap = wrap[prop];
      if (rewrap) return (...args: unknown[]) => rewrap(method.apply(obj, args) as never);
      if (!methods.includes(prop)) return method.bind(obj);
      return (...args: unknown[]) => {
        const result = method.apply(obj, args);
        if (!(result instanceof Promise)) return result;
        return result.then((resolved: unknown) => {
          after(resolved);
          return resolved;
        });
      };
    },
  });
}
