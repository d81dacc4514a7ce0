import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { webApi } from '@slack/bolt';
import { createSlackApp, slackClientOptions, slackTransport, verifyBotToken, type SlackApp } from './adapters/slack/SlackApp.ts';
import { SlackDirectory } from './adapters/slack/SlackDirectory.ts';
import { SlackNotifier } from './adapters/slack/SlackNotifier.ts';
import { buildSesame, type Sesame } from './app.ts';
import { configPathFromEnv, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { ConfigError } from './domain/errors.ts';
import { healthRoutes } from './http/health.ts';
import type { SesameMetrics } from './http/metrics.ts';
import { createLogger, describeError, registerSecret, type Logger } from './logger.ts';
import { systemClock, type Clock } from './ports/Clock.ts';
import type { Directory } from './ports/Directory.ts';

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
  notifier: SlackNotifier;
  metrics: SesameMetrics;
  /** The port /slack/events (HTTP mode), /healthz, /readyz and /metrics answer on. */
  port: number;
  /**
   * Stops receiving from Slack, lets listeners at work finish, stops the schedule, sends the
   * notifications still queued, then closes pools and the store.
   */
  close(): Promise<void>;
}

/**
 * Runs the bot: checks the Slack tokens (auth.test), loads and validates the config (every
 * problem at once), builds Sesame with the Slack notifier and directory, finishes what an
 * earlier run left half done, starts receiving from Slack (Socket Mode or HTTP) and keeps the
 * schedule (expiry, reconciliation, reminders, rotation, clean-up).
 */
export async function runBot(
  env: NodeJS.ProcessEnv = process.env,
  logger: Logger = createLogger(),
  overrides: BotOverrides = {},
): Promise<RunningBot> {
  const token = env.SLACK_BOT_TOKEN;
  if (!token) throw new Error('SLACK_BOT_TOKEN is not set. Give the bot token of the Slack app (xoxb-…).');
  registerSecret(token);
  registerSecret(env.SLACK_SIGNING_SECRET);
  registerSecret(env.SLACK_APP_TOKEN);
  const config = overrides.config ?? loadConfig(configPathFromEnv(env), env);
  const transport = slackTransport(env);
  const port = overrides.port ?? portFromEnv(env);
  const clock = overrides.clock ?? systemClock;
  const clientOptions = slackClientOptions(env, logger);
  const client = new webApi.WebClient(token, clientOptions);
  const identity = await verifyBotToken(client);

  const sesame = buildSesame(config, {
    logger,
    clock,
    directory: overrides.directory ?? new SlackDirectory(client, clock),
    notifier: ({ store, integrations, adminIds }) =>
      new SlackNotifier({ client, store, config, clock, logger, adminIds, integration: (name) => integrations.get(name) }),
    metrics: true,
  });
  const { notifier } = sesame;
  // Asked for above, so present.
  const metrics = sesame.metrics!;
  const slack = createSlackApp({
    services: sesame.services,
    logger,
    command: config.slack.command,
    botToken: token,
    identity,
    transport,
    clientOptions,
    routes: healthRoutes({ store: sesame.store, metrics, configLoaded: () => true, logger }),
    alertAdmins: (alert) => notifier.internalError(alert),
    port,
    ...(overrides.host ? { host: overrides.host } : {}),
  });
  try {
    await sesame.verifyIntegrations();
    // Discovered integrations must be known before interrupted work on them is finished.
    await sesame
      .discover()
      .catch((err) => logger.warn({ err: describeError(err) }, 'discovery failed at start; it runs again on schedule'));
    await sesame.services.grants.resume();
    const started = await slack.start();
    await sesame.scheduler.start();
    logger.info(
      { integrations: sesame.integrations.list().map((i) => i.name), mode: transport.mode, port: started.port, bot: identity.botUserId },
      'sesame started',
    );
    let closing: Promise<void> | undefined;
    return {
      sesame,
      slack,
      notifier,
      metrics,
      port: started.port,
      close() {
        closing ??= (async () => {
          await slack.stop();
          await sesame.scheduler.stop();
          await notifier.drain();
          await sesame.close();
        })();
        return closing;
      },
    };
  } catch (err) {
    await slack.stop().catch(() => undefined);
    await sesame.close().catch(() => undefined);
    throw err;
  }
}

function portFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.PORT ?? '3000';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError([{ path: 'PORT', message: `must be a port number from 0 to 65535, not ${JSON.stringify(raw)}` }]);
  }
  return port;
}

/** Closes the bot on the first SIGTERM/SIGINT; a second one exits at once. */
export function closeOnSignals(bot: { close(): Promise<void> }, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping: finishing work in flight');
    bot.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err: describeError(err) }, 'stopping failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
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
    const logger = createLogger();
    runBot(process.env, logger).then(
      (bot) => closeOnSignals(bot, logger),
      (err) => {
        // A ConfigError's message is already free of secrets and lists every problem with its path.
        process.stderr.write(`${err instanceof ConfigError ? err.message : describeError(err)}\n`);
        process.exit(2);
      },
    );
  }
}
