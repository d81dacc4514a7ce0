import { existsSync } from 'node:fs';
import type { RequestListener, Server } from 'node:http';
import { resolve } from 'node:path';
import { webApi } from '@slack/bolt';
import {
  createSlackApp,
  SLACK_EVENTS_PATH,
  slackClientOptions,
  slackTransport,
  type SlackApp,
  type SlackTransport,
} from './adapters/slack/SlackApp.ts';
import { waitForBotToken } from './adapters/slack/slackConnection.ts';
import { SlackDirectory } from './adapters/slack/SlackDirectory.ts';
import { SlackNotifier } from './adapters/slack/SlackNotifier.ts';
import { buildSesame, type NotifierWiring, type Sesame } from './app.ts';
import { configPathFromEnv, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { ConfigError, type ConfigIssue } from './domain/errors.ts';
import { healthRoutes, serveRoutes } from './http/health.ts';
import type { SesameMetrics } from './http/metrics.ts';
import { stopOnSignals, untilAborted } from './lifecycle.ts';
import { createLogger, describeError, registerSecret, type Logger } from './logger.ts';
import { systemClock, type Clock } from './ports/Clock.ts';
import type { Directory } from './ports/Directory.ts';
import { OutboxNotifier } from './services/notifications/OutboxNotifier.ts';

/** Parts a test (or an embedding program) replaces; everything else comes from the environment. */
export interface BotOverrides {
  /** Instead of loading `$SESAME_CONFIG`. */
  config?: Config;
  clock?: Clock;
  /** Instead of the Slack directory. */
  directory?: Directory;
  /** Instead of `$PORT` (0: any free port). */
  port?: number;
  /** Interface to listen on; all of them by default. */
  host?: string;
}

/** The running bot: Sesame, its Slack edge, and how to stop both. */
export interface RunningBot {
  sesame: Sesame;
  slack: SlackApp;
  /** Queues notifications in the outbox and delivers them on Slack; `drain()` waits for them. */
  notifier: OutboxNotifier;
  metrics: SesameMetrics;
  /** The port /slack/events (HTTP mode), /healthz, /readyz and /metrics answer on. */
  port: number;
  /**
   * Stops receiving from Slack, lets listeners at work finish, stops the schedule, sends the
   * notifications still queued, then closes pools, the store and the HTTP server.
   */
  close(): Promise<void>;
  /** The step a close is waiting for, for the log when it takes too long. */
  pending(): string;
}

/** How the process steers start-up: the stop signal, and where start-up is, for the log. */
export interface StartControl {
  /** Start-up gives up, cleaning up what it opened, when this is aborted. */
  signal?: AbortSignal;
  /** Told each start-up step as it begins. */
  stage?: (what: string) => void;
}

/** Every problem of the environment and the config file, listed at once. */
class StartupProblems extends ConfigError {
  constructor(issues: readonly ConfigIssue[]) {
    super(issues);
    this.message =
      `Sesame cannot start: ${issues.length} problem${issues.length === 1 ? '' : 's'} in the environment and the config file:\n` +
      issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
  }
}

/** What start-up reads before anything opens: the environment and the config, every problem at once. */
function readSetup(env: NodeJS.ProcessEnv, overrides: BotOverrides) {
  const issues: ConfigIssue[] = [];
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      issues.push(...err.issues.map((i) => ({ path: i.path || 'config file', message: i.message })));
      return undefined;
    }
  };
  const token = env.SLACK_BOT_TOKEN;
  if (!token) {
    issues.push({
      path: 'SLACK_BOT_TOKEN',
      message: 'is not set: give the Bot User OAuth Token of the Slack app (xoxb-…, OAuth & Permissions)',
    });
  }
  registerSecret(token);
  registerSecret(env.SLACK_SIGNING_SECRET);
  registerSecret(env.SLACK_APP_TOKEN);
  const transport = attempt(() => slackTransport(env));
  const port = attempt(() => overrides.port ?? portFromEnv(env));
  const config = attempt(() => overrides.config ?? loadConfig(configPathFromEnv(env), env));
  if (issues.length > 0 || !token || !transport || port === undefined || !config) throw new StartupProblems(issues);
  return { token, transport, port, config };
}

/**
 * Runs the bot: reads the environment and the config (every problem at once), builds Sesame with
 * the Slack notifier and directory, answers /healthz, /readyz and /metrics, checks the bot token
 * with Slack (again and again while Slack is unreachable; a refusal stops start-up), finishes what
 * an earlier run left half done, starts receiving from Slack (Socket Mode or HTTP) and keeps the
 * schedule (expiry, reconciliation, reminders, rotation, clean-up).
 */
export async function runBot(
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = createLogger(),
  overrides: BotOverrides = {},
  control: StartControl = {},
): Promise<RunningBot> {
  const { signal, stage = () => undefined } = control;
  stage('reading the environment and the config');
  const { token, transport, port, config } = readSetup(env, overrides);
  const clock = overrides.clock ?? systemClock;
  const clientOptions = slackClientOptions(env, logger);
  const client = new webApi.WebClient(token, clientOptions);
  stage('opening the state store');
  const sesame = buildSesame(config, {
    logger,
    clock,
    directory: overrides.directory ?? new SlackDirectory(client, clock),
    notifier: slackNotifier(client, config, clock, logger),
    metrics: true,
  });
  const { notifier } = sesame;
  // Asked for above, so present.
  const metrics = sesame.metrics!;
  const edge = slackEdge(transport.mode);
  const routes = healthRoutes({ store: sesame.store, metrics, configLoaded: () => true, logger, slackNotReady: () => edge.notReady() });
  let served: { server: Server; port: number } | undefined;
  let slack: SlackApp | undefined;
  try {
    stage('listening on PORT');
    served = await serveRoutes(routes, port, overrides.host, edge.fallback);
    logger.info({ port: served.port }, 'answering /healthz, /readyz and /metrics');
    stage('checking the bot token with Slack (auth.test)');
    const identity = await waitForBotToken(new webApi.WebClient(token, { ...clientOptions, retryConfig: { retries: 0 } }), {
      logger,
      ...(signal ? { signal } : {}),
      unreachable: (reason) => edge.setNotReady(() => reason),
    });
    edge.setNotReady(() => undefined);
    slack = createSlackApp({
      services: sesame.services,
      logger,
      command: config.slack.command,
      botToken: token,
      identity,
      transport,
      clientOptions,
      serveSlack: edge.serve,
      slackNotReady: edge.setNotReady,
      ...(signal ? { signal } : {}),
      alertAdmins: (alert) => notifier.internalError(alert),
      deliveries: sesame.coordination.deliveries,
    });
    await startUp(sesame, slack, { logger, stage, ...(signal ? { signal } : {}) });
    logger.info(
      { integrations: sesame.integrations.list().map((i) => i.name), mode: transport.mode, port: served.port, bot: identity.botUserId },
      'sesame started',
    );
    return running({ sesame, slack, notifier, metrics, server: served.server, port: served.port });
  } catch (err) {
    await slack?.stop().catch(() => undefined);
    if (served) await closeServer(served.server);
    await notifier.stop();
    await sesame.close().catch(() => undefined);
    throw err;
  }
}

/** The bot's notifier: Slack messages, each through the outbox, so it is posted once by one replica. */
function slackNotifier(client: webApi.WebClient, config: Config, clock: Clock, logger: Logger) {
  return ({ store, integrations, adminIds, approvalChannels, outbox, replicaId }: NotifierWiring) =>
    new OutboxNotifier({
      outbox,
      delivery: new SlackNotifier({
        client,
        store,
        config,
        clock,
        logger,
        adminIds,
        approvalChannels,
        integration: (name) => integrations.get(name),
      }),
      clock,
      outboxClock: systemClock,
      logger,
      owner: replicaId,
    });
}

/** The steps between a verified token and a bot that receives from Slack, each given up when stopped. */
async function startUp(sesame: Sesame, slack: SlackApp, options: { logger: Logger; stage: (what: string) => void; signal?: AbortSignal }) {
  const { logger, stage, signal } = options;
  stage('checking the integrations');
  await untilAborted(sesame.verifyIntegrations(), signal);
  // Discovered integrations must be known before interrupted work on them is finished.
  stage('discovering integrations');
  await untilAborted(
    sesame.discover().catch((err) => logger.warn({ err: describeError(err) }, 'discovery failed at start; it runs again on schedule')),
    signal,
  );
  stage('finishing work an earlier run left half done');
  await untilAborted(sesame.services.grants.resume(), signal);
  stage('connecting to Slack');
  await untilAborted(slack.start(), signal);
  stage('starting the schedule');
  await sesame.scheduler.start();
}

/**
 * Where Slack's side of the HTTP server stands: why Slack is not ready (undefined once it is),
 * and Slack's request handler in HTTP mode, which answers 503 on its path until it is given.
 */
function slackEdge(mode: SlackTransport['mode']) {
  let notReady: () => string | undefined = () => 'Slack not reachable yet (checking the bot token)';
  let listener: RequestListener | undefined;
  const unavailable: RequestListener = (req, res) => {
    const onSlackPath = (req.url ?? '').split('?')[0] === SLACK_EVENTS_PATH;
    res.writeHead(onSlackPath ? 503 : 404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(onSlackPath ? 'Slack not connected yet\n' : 'not found\n');
  };
  return {
    notReady: () => notReady(),
    setNotReady(reason: () => string | undefined) {
      notReady = reason;
    },
    serve(l: RequestListener | undefined) {
      listener = l;
    },
    fallback: (): RequestListener | undefined => listener ?? (mode === 'http' ? unavailable : undefined),
  };
}

/** The running bot, with a stop that says which step it is waiting for. */
function running(parts: Omit<RunningBot, 'close' | 'pending'> & { server: Server }): RunningBot {
  const { sesame, slack, notifier, server } = parts;
  let closing: Promise<void> | undefined;
  let step = 'nothing';
  const steps: [string, () => Promise<void>][] = [
    ['Slack listeners at work', () => slack.stop()],
    ['scheduled jobs', () => sesame.scheduler.stop()],
    ['notifications still queued', () => notifier.drain().then(() => notifier.stop())],
    ['closing pools and the state store', () => sesame.close()],
    ['closing the HTTP server', () => closeServer(server)],
  ];
  return {
    sesame,
    slack,
    notifier,
    metrics: parts.metrics,
    port: parts.port,
    pending: () => step,
    close() {
      closing ??= (async () => {
        for (const [name, run] of steps) {
          step = name;
          await run();
        }
        step = 'nothing';
      })();
      return closing;
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function portFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT ?? '3000';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError([{ path: 'PORT', message: `must be a port number from 0 to 65535, not ${JSON.stringify(raw)}` }]);
  }
  return port;
}

/**
 * The bot as a process: SIGTERM and SIGINT are handled from the first moment (a stop during
 * start-up gives up where it is, closes what it opened and exits 0), every problem of the
 * environment and the config goes to stderr at once (exit 2), then it runs until stopped.
 */
export function botMain(env: NodeJS.ProcessEnv = process.env): void {
  const logger = createLogger();
  const stop = stopOnSignals({ logger });
  runBot(env, logger, {}, { signal: stop.signal, stage: stop.stage }).then(
    (bot) => stop.stopWith(bot),
    (err) => {
      // Start-up was stopped and has closed what it opened.
      if (stop.signal.aborted) return stop.stopWith({ close: async () => undefined });
      // A ConfigError's message is already free of secrets and lists every problem with its path.
      process.stderr.write(`${err instanceof ConfigError ? err.message : describeError(err)}\n`);
      process.exit(2);
    },
  );
}

/**
 * With neither a config file nor a bot token there is nothing to run the bot with: `npm start`
 * then starts the playground, the whole product on this machine with a stand-in for Slack.
 */
export function wantsPlayground(env: NodeJS.ProcessEnv): boolean {
  return !env.SLACK_BOT_TOKEN && !existsSync(resolve(configPathFromEnv(env)));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (wantsPlayground(process.env)) {
    // Loaded only here, so the bot never loads the playground; the built image leaves it out.
    const playground = './playground/main.ts';
    (import(playground) as Promise<{ playgroundMain(argv: string[]): Promise<number> }>)
      .then(({ playgroundMain }) => playgroundMain(process.argv.slice(2)))
      .then((code) => process.exit(code));
  } else {
    botMain();
  }
}
