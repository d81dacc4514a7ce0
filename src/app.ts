import { LogNotifier } from './adapters/log/LogNotifier.ts';
import { createAwsAdapters, type AwsAdapters } from './adapters/aws/awsAdapters.ts';
import { awsSessionAudit } from './adapters/aws/sessionAudit.ts';
import { RegistryTargetDatabases } from './adapters/postgres/RegistryTargetDatabases.ts';
import { SqliteStateStore } from './adapters/sqlite/SqliteStateStore.ts';
import type { Config, IntegrationConfig, RdsIntegrationConfig } from './config/schema.ts';
import { ConfigError, InputError, NotFoundError, type ConfigIssue } from './domain/errors.ts';
import { sesameJobs } from './jobs/jobs.ts';
import { Scheduler, type JobRunObserver } from './jobs/Scheduler.ts';
import { describeError, type Logger } from './logger.ts';
import { systemClock, type Clock } from './ports/Clock.ts';
import type { Directory } from './ports/Directory.ts';
import type { Notifier } from './ports/Notifier.ts';
import type { StateStore } from './ports/StateStore.ts';
import type { CheckFinding, TargetDatabases } from './ports/TargetDatabase.ts';
import { IntegrationRegistry, type DiscoveryChanges } from './services/IntegrationRegistry.ts';
import { createServices, type Services } from './services/index.ts';

/** Everything Sesame runs on, built from the config: the parts the edges (Slack, CLI) use. */
export interface Sesame {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: StateStore;
  /** The integrations served now: the config's and those discovery found. */
  integrations: IntegrationRegistry;
  databases: TargetDatabases;
  services: Services;
  scheduler: Scheduler;
  /** Runs discovery once now (it also runs at start and on the `discover` schedule). */
  discover(): Promise<DiscoveryChanges | undefined>;
  /**
   * Asks RDS about every configured RDS integration: a missing instance or cluster, or one that
   * does not run PostgreSQL, is a ConfigError naming the config path.
   */
  verifyIntegrations(): Promise<void>;
  /** The AWS findings of `sesame check` for an integration (none outside AWS). */
  checkAws(integration: IntegrationConfig): Promise<CheckFinding[]>;
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
  /** Replaces the AWS adapters built from the environment (tests). */
  aws?: AwsAdapters;
}

/**
 * The composition root: config → adapters → services → schedule. Nothing else constructs
 * adapters, so each part below sees only the ports it is given.
 */
export function buildSesame(config: Config, parts: SesameParts): Sesame {
  const clock = parts.clock ?? systemClock;
  const { logger } = parts;
  const store = parts.store ?? SqliteStateStore.open(config.state.sqlite, { clock, logger });
  const integrations = new IntegrationRegistry(config.integrations, clock);
  const usesAws = config.discovery.length > 0 || config.integrations.some((i) => i.type === 'aws-rds-postgresql');
  const aws = usesAws ? (parts.aws ?? createAwsAdapters({ integration: (name) => integrations.get(name), clock, logger })) : undefined;
  const databases =
    parts.databases ??
    new RegistryTargetDatabases(integrations, {
      ...aws?.targetDatabaseDeps,
      logger,
      audit: async (event) => {
        await store.appendAudit({ at: clock.now(), action: event.action, actor: 'system', details: event.details });
      },
    });
  const services = createServices({
    config,
    integrations,
    store,
    databases,
    notifier: parts.notifier ?? new LogNotifier(logger),
    directory: parts.directory,
    clock,
    logger,
    ...(aws ? { owners: aws.owners, sessions: awsSessionAudit(aws, integrations, logger) } : {}),
  });

  let lastDiscovered: RdsIntegrationConfig[] = [];
  /** One discovery pass: what AWS holds now, applied to the registry. */
  async function discover(): Promise<DiscoveryChanges | undefined> {
    if (!aws || config.discovery.length === 0) return undefined;
    const result = await aws.discovery.discover(config.discovery, lastDiscovered);
    for (const e of result.errors) logger.warn({ region: e.region, resource: e.resource, err: e.message }, 'discovery could not read');
    const unreadable = new Set(result.errors.filter((e) => !e.resource).map((e) => e.region));
    const changes = integrations.applyDiscovery(result.integrations, (c) => c.type === 'aws-rds-postgresql' && unreadable.has(c.region));
    lastDiscovered = integrations.discovered().filter((i): i is RdsIntegrationConfig => i.type === 'aws-rds-postgresql');
    // A changed or returning integration may have moved: ask RDS again rather than its cached answer.
    if (changes.changed.length + changes.returned.length > 0) aws.resolver.forget();
    if (changes.added.length + changes.changed.length + changes.missing.length + changes.returned.length > 0) {
      logger.info({ ...changes }, 'discovery changed the integrations');
    }
    return changes;
  }

  const jobs = sesameJobs(config.schedule, services);
  if (config.discovery.length > 0) {
    // The first pass runs before anything else at start (see runBot), so it is not a start-up job.
    jobs.unshift({ id: 'discover', cron: config.schedule.discover, timeoutMs: 10 * 60_000, run: discover });
  }
  const scheduler = new Scheduler(jobs, logger, parts.onJobRun);
  let closing: Promise<void> | undefined;
  return {
    config,
    clock,
    logger,
    store,
    integrations,
    databases,
    services,
    scheduler,
    discover,
    async verifyIntegrations() {
      if (!aws) return;
      const problems: ConfigIssue[] = [];
      for (const [index, integration] of config.integrations.entries()) {
        if (integration.type !== 'aws-rds-postgresql') continue;
        try {
          await aws.resolver.resolve(integration);
        } catch (err) {
          // A missing or non-PostgreSQL resource is the config's fault; AWS being slow is not.
          if (err instanceof NotFoundError || err instanceof InputError) {
            problems.push({ path: `integrations[${index}].${integration.instanceId ? 'instanceId' : 'clusterId'}`, message: err.message });
          } else logger.warn({ integration: integration.name, err: describeError(err) }, 'RDS could not be asked about an integration');
        }
      }
      if (problems.length > 0) throw new ConfigError(problems);
    },
    async checkAws(integration) {
      return aws ? aws.check(integration) : [];
    },
    close() {
      closing ??= (async () => {
        await scheduler.stop();
        await databases.closeAll().catch((err) => logger.warn({ err: describeError(err) }, 'closing pools failed'));
        aws?.close();
        await store.close();
      })();
      return closing;
    },
  };
}
