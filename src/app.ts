import { LogNotifier } from './adapters/log/LogNotifier.ts';
import { createPostgresTargetDatabases } from './adapters/postgres/PostgresTargetDatabase.ts';
import { SqliteStateStore } from './adapters/sqlite/SqliteStateStore.ts';
import type { Config } from './config/schema.ts';
import { sesameJobs } from './jobs/jobs.ts';
import { Scheduler, type JobRunObserver } from './jobs/Scheduler.ts';
import { describeError, type Logger } from './logger.ts';
import { systemClock, type Clock } from './ports/Clock.ts';
import type { Directory } from './ports/Directory.ts';
import type { Notifier } from './ports/Notifier.ts';
import type { StateStore } from './ports/StateStore.ts';
import type { TargetDatabases } from './ports/TargetDatabase.ts';
import { createServices, type Services } from './services/index.ts';

/** Everything Sesame runs on, built from the config: the parts the edges (Slack, CLI) use. */
export interface Sesame {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: StateStore;
  databases: TargetDatabases;
  services: Services;
  scheduler: Scheduler;
  /** Stops the schedule, waits for work in flight, closes pools and the store. */
  close(): Promise<void>;
}

export interface SesameParts {
  logger: Logger;
  clock?: Clock;
  /** Who people are; the Slack directory in the bot. */
  directory: Directory;
  /** How people are told; the Slack notifier in the bot, the log otherwise. */
  notifier?: Notifier;
  /** Replaces the state store named in the config (tests). */
  store?: StateStore;
  /** Replaces the databases built from the config's integrations (tests). */
  databases?: TargetDatabases;
  onJobRun?: JobRunObserver;
}

/**
 * The composition root: config → adapters → services → schedule. Nothing else constructs
 * adapters, so each part below sees only the ports it is given.
 */
export function buildSesame(config: Config, parts: SesameParts): Sesame {
  const clock = parts.clock ?? systemClock;
  const { logger } = parts;
  const store = parts.store ?? SqliteStateStore.open(config.state.sqlite, { clock });
  const databases =
    parts.databases ??
    createPostgresTargetDatabases(config.integrations, {
      logger,
      audit: async (event) => {
        await store.appendAudit({ at: clock.now(), action: event.action, actor: 'system', details: event.details });
      },
    });
  const services = createServices({
    config,
    store,
    databases,
    notifier: parts.notifier ?? new LogNotifier(logger),
    directory: parts.directory,
    clock,
    logger,
  });
  const scheduler = new Scheduler(sesameJobs(config.schedule, services), logger, parts.onJobRun);
  let closing: Promise<void> | undefined;
  return {
    config,
    clock,
    logger,
    store,
    databases,
    services,
    scheduler,
    close() {
      closing ??= (async () => {
        await scheduler.stop();
        await databases.closeAll().catch((err) => logger.warn({ err: describeError(err) }, 'closing pools failed'));
        await store.close();
      })();
      return closing;
    },
  };
}
