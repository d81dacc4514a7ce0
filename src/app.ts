import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { auditSinkJobs } from './adapters/auditSink/openAuditSink.ts';
import { LocalCoordination } from './adapters/local/LocalCoordination.ts';
import { MemoryOutbox } from './adapters/local/MemoryOutbox.ts';
import { LogNotifier } from './adapters/log/LogNotifier.ts';
import { createAwsAdapters, type AwsAdapters } from './adapters/aws/awsAdapters.ts';
import type { DiscoveryError } from './adapters/aws/RdsDiscovery.ts';
import { awsSessionLogs } from './adapters/aws/sessionAudit.ts';
import { RegistryTargetDatabases } from './adapters/postgres/RegistryTargetDatabases.ts';
import { PostgresStateStore } from './adapters/postgresState/PostgresStateStore.ts';
import { SqliteStateStore } from './adapters/sqlite/SqliteStateStore.ts';
import { type Config, DEFAULT_STATE_FILE, type IntegrationConfig, type RdsIntegrationConfig } from './config/schema.ts';
import { ConfigError, InputError, NotFoundError, type ConfigIssue } from './domain/errors.ts';
import type { AccessRequest } from './domain/request.ts';
import { createMetrics, observeAuditTrail, type SesameMetrics } from './http/metrics.ts';
import { Deadlines } from './jobs/deadlines.ts';
import { sesameJobs } from './jobs/jobs.ts';
import { Scheduler, type JobRunObserver } from './jobs/Scheduler.ts';
import { describeError, type Logger } from './logger.ts';
import { systemClock, type Clock } from './ports/Clock.ts';
import type { Coordination, NotificationOutbox } from './ports/Coordination.ts';
import type { Directory } from './ports/Directory.ts';
import type { NotificationLog } from './ports/NotificationLog.ts';
import type { Notifier } from './ports/Notifier.ts';
import type { RequestStore } from './ports/RequestStore.ts';
import type { StateStore } from './ports/StateStore.ts';
import type { CheckFinding, TargetDatabases } from './ports/TargetDatabase.ts';
import { sinkBacklog } from './services/audit/AuditStream.ts';
import { IntegrationRegistry, type DiscoveryChanges } from './services/IntegrationRegistry.ts';
import { createServices, type Services } from './services/index.ts';
import { People } from './services/People.ts';

/** Everything Sesame runs on, built from the config: the parts the edges (Slack, CLI) use. */
export interface Sesame<N extends Notifier = Notifier> {
  config: Config;
  clock: Clock;
  logger: Logger;
  store: StateStore;
  /** How this replica works with the others on a shared state (with itself on the embedded one). */
  coordination: Coordination;
  /** This process among the replicas: logged with leadership, recorded in the shared state. */
  replicaId: string;
  /** The integrations served now: the config's and those discovery found. */
  integrations: IntegrationRegistry;
  databases: TargetDatabases;
  services: Services;
  /** How people are told: the notifier given in the parts, or the log. */
  notifier: N;
  scheduler: Scheduler;
  /** The Prometheus metrics, when `metrics` was asked for. */
  metrics?: SesameMetrics;
  /** Runs discovery once now (it also runs at start and on the `discover` schedule). */
  discover(): Promise<DiscoveryPass | undefined>;
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

export interface SesameParts<N extends Notifier = Notifier> {
  logger: Logger;
  clock?: Clock;
  /** Who people are; the Slack directory in the bot. */
  directory: Directory;
  /**
   * How people are told; the log when absent. The bot's Slack notifier is built here, from what
   * it reads of Sesame (see {@link NotifierWiring}).
   */
  notifier?: N | ((wiring: NotifierWiring) => N);
  /**
   * Counts Prometheus metrics: request outcomes from the audit trail as it is written, job
   * durations, and active grants read from the store at each scrape.
   */
  metrics?: boolean;
  /** Replaces the state store named in the config (tests). */
  store?: StateStore;
  /** Replaces the coordination the store gives (tests); in-process when the store gives none. */
  coordination?: Coordination;
  /** Replaces the databases built from the config's integrations (tests). */
  databases?: TargetDatabases;
  onJobRun?: JobRunObserver;
  /** Replaces the AWS adapters built from the environment (tests). */
  aws?: AwsAdapters;
}

/** What a notifier built by the composition root reads of Sesame. */
export interface NotifierWiring {
  /** The messages sent about each request and its decisions, and the parts of a request. */
  store: NotificationLog & Pick<RequestStore, 'listRequests'>;
  /** The integrations served now, configured or discovered. */
  integrations: IntegrationRegistry;
  /** Slack IDs of Sesame's admins (`slack.admins`), resolved at each call. */
  adminIds(): Promise<string[]>;
  /** The channels a request's approval message goes to (the integration's own, or the approval channel). */
  approvalChannels(request: AccessRequest): Promise<string[]>;
  /** The notifications waiting to be sent: shared by the replicas on a PostgreSQL state. */
  outbox: NotificationOutbox;
  /** This process among the replicas, as the outbox's claims name it. */
  replicaId: string;
}

/**
 * The composition root: config → adapters → services → schedule. Nothing else constructs
 * adapters, so each part below sees only the ports it is given.
 */
export function buildSesame<N extends Notifier = Notifier>(config: Config, parts: SesameParts<N>): Sesame<N> {
  const clock = parts.clock ?? systemClock;
  const { logger } = parts;
  const { openedStore, store, coordination, replicaId, metrics } = openState(config, parts, clock);
  const integrations = new IntegrationRegistry(config.integrations, clock);
  const usesAws = config.discovery.length > 0 || config.integrations.some((i) => i.type === 'aws-rds-postgresql');
  const aws = usesAws ? (parts.aws ?? createAwsAdapters({ integration: (name) => integrations.get(name), clock, logger })) : undefined;
  const databases = parts.databases ?? targetDatabases(integrations, aws, store, clock, logger);
  const deadlines = new Deadlines({ clock, logger, leadership: coordination.leadership });
  const owners = aws ? { owners: aws.owners } : {};
  const people = new People({ config, integrations, directory: parts.directory, ...owners });
  const notifier = notifierOf(parts, {
    store,
    integrations,
    adminIds: () => people.adminIds(),
    approvalChannels: (request) => people.approvalChannels(request.target, config.slack.approvalChannel),
    outbox: openOutbox(openedStore),
    replicaId,
  });
  const services = createServices(
    {
      config,
      integrations,
      store: deadlines.watchStore(store),
      databases: deadlines.watchDatabases(databases),
      notifier,
      directory: parts.directory,
      clock,
      logger,
      locks: coordination.locks,
      ...owners,
      ...(aws ? { sessions: awsSessionLogs(aws, integrations, logger) } : {}),
    },
    people,
  );

  const discover = discoveryPass(config, aws, integrations, logger);

  const jobs = sesameJobs(config.schedule, services);
  if (config.discovery.length > 0) {
    // The first pass runs before anything else at start (see runBot), so it is not a start-up job.
    jobs.unshift({ id: 'discover', cron: config.schedule.discover, timeoutMs: 10 * 60_000, run: discover });
  }
  jobs.push(...auditSinkJobs(config.audit, { store: openedStore, clock, logger, metrics }));
  deadlines.attach(jobs, services, store, databases);
  const scheduler = new Scheduler(jobs, logger, parts.onJobRun ?? metrics?.observeJob, coordination.leadership, [deadlines]);
  let closing: Promise<void> | undefined;
  return {
    config,
    clock,
    logger,
    store,
    coordination,
    replicaId,
    integrations,
    databases,
    services,
    notifier,
    scheduler,
    ...(metrics ? { metrics } : {}),
    discover,
    verifyIntegrations: () => verifyRdsIntegrations(config, aws, logger),
    async checkAws(integration) {
      return aws ? aws.check(integration) : [];
    },
    close() {
      closing ??= (async () => {
        await scheduler.stop();
        await coordination.close().catch((err) => logger.warn({ err: describeError(err) }, 'leaving the replicas failed'));
        await databases.closeAll().catch((err) => logger.warn({ err: describeError(err) }, 'closing pools failed'));
        aws?.close();
        await store.close();
      })();
      return closing;
    },
  };
}

/**
 * The state and how this replica coordinates through it: the store (observed by the metrics,
 * when asked for), and the coordination it gives (in-process for the embedded store).
 */
function openState(config: Config, parts: SesameParts<Notifier>, clock: Clock) {
  const { logger } = parts;
  const openedStore = parts.store ?? openStateStore(config.state, clock, logger);
  const replicaId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const coordination =
    parts.coordination ??
    (openedStore instanceof PostgresStateStore
      ? openedStore.coordination({ replicaId, configHash: configHash(config) }, clock, logger)
      : new LocalCoordination());
  const metrics = parts.metrics
    ? createMetrics({
        activeGrants: async () => (await openedStore.listRequests({ statuses: ['granted'] })).length,
        leadership: coordination.leadership,
        ...(config.audit.sink ? { auditSinkBacklog: () => sinkBacklog(openedStore) } : {}),
      })
    : undefined;
  const store = metrics ? observeAuditTrail(openedStore, (event) => metrics.observeAudit(event)) : openedStore;
  return { openedStore, store, coordination, replicaId, metrics };
}

/**
 * The store the config names: the shared PostgreSQL database of `state.postgres`, whose schema is
 * brought up to date in the background (its first use fails with the reason when it cannot be),
 * or else the SQLite file.
 */
function openStateStore(state: Config['state'], clock: Clock, logger: Logger): StateStore {
  if (state.postgres !== undefined) {
    return PostgresStateStore.open(
      { uri: state.postgres, sslMode: state.sslMode ?? 'verify-full', sslRootCert: state.sslRootCert },
      { clock },
    );
  }
  return SqliteStateStore.open(state.sqlite ?? DEFAULT_STATE_FILE, { clock, logger });
}

/**
 * What replicas compare to find one with another config: the config as loaded, without its
 * secrets (a password's rotation reaches replicas one by one) and without the state's URI (they
 * share it by definition).
 */
export function configHash(config: Config): string {
  const text = JSON.stringify(config, (key, value: unknown) => {
    if (key === 'password' || key === 'secret') return '[secret]';
    if (key === 'state') return undefined;
    return value;
  });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** The outbox of the store: the shared table on PostgreSQL, this process's memory on the others. */
function openOutbox(store: StateStore): NotificationOutbox {
  return store instanceof PostgresStateStore ? store.outbox() : new MemoryOutbox();
}

/** The engine on every integration served, its connector events written to the audit trail. */
function targetDatabases(integrations: IntegrationRegistry, aws: AwsAdapters | undefined, store: StateStore, clock: Clock, logger: Logger) {
  return new RegistryTargetDatabases(integrations, {
    ...aws?.targetDatabaseDeps,
    logger,
    audit: async (event) => {
      await store.appendAudit({ at: clock.now(), action: event.action, actor: 'system', details: event.details });
    },
  });
}

/** The notifier given in the parts, built from the wiring when it is a factory; the log otherwise. */
function notifierOf<N extends Notifier>(parts: SesameParts<N>, wiring: NotifierWiring): N {
  if (isNotifierFactory(parts.notifier)) return parts.notifier(wiring);
  // Without a notifier of the caller's, N is the default (Notifier), which the log notifier is.
  return parts.notifier ?? (new LogNotifier(parts.logger) as Notifier as N);
}

function isNotifierFactory<N extends Notifier>(
  notifier: N | ((wiring: NotifierWiring) => N) | undefined,
): notifier is (wiring: NotifierWiring) => N {
  return typeof notifier === 'function';
}

/** What one discovery pass changed, and the regions and resources it could not read. */
export interface DiscoveryPass extends DiscoveryChanges {
  errors: DiscoveryError[];
}

/** One discovery pass at each call: what AWS holds now, applied to the registry. */
function discoveryPass(
  config: Config,
  aws: AwsAdapters | undefined,
  integrations: IntegrationRegistry,
  logger: Logger,
): () => Promise<DiscoveryPass | undefined> {
  let lastDiscovered: RdsIntegrationConfig[] = [];
  async function discover(): Promise<DiscoveryPass | undefined> {
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
    return { ...changes, errors: result.errors };
  }
  return discover;
}

/**
 * Asks RDS about every configured RDS integration: a missing instance or cluster, or one that
 * does not run PostgreSQL, is a ConfigError naming the config path.
 */
async function verifyRdsIntegrations(config: Config, aws: AwsAdapters | undefined, logger: Logger): Promise<void> {
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
}
