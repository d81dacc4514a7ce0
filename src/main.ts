import { webApi } from '@slack/bolt';
import { SlackDirectory } from './adapters/slack/SlackDirectory.ts';
import { buildSesame, type Sesame } from './app.ts';
import { configPathFromEnv, loadConfig } from './config/load.ts';
import { ConfigError } from './domain/errors.ts';
import { createLogger, describeError, registerSecret, type Logger } from './logger.ts';
import { systemClock } from './ports/Clock.ts';

/**
 * Runs the bot: loads and validates the config (every problem at once), builds Sesame, finishes
 * what an earlier run left half done, then keeps the schedule (expiry, reconciliation, reminders,
 * rotation, clean-up) until SIGTERM or SIGINT, when it finishes work in flight and closes.
 */
export async function runBot(env: NodeJS.ProcessEnv = process.env, logger: Logger = createLogger()): Promise<Sesame> {
  const token = env.SLACK_BOT_TOKEN;
  if (!token) throw new Error('SLACK_BOT_TOKEN is not set. Give the bot token of the Slack app (xoxb-…).');
  registerSecret(token);
  registerSecret(env.SLACK_SIGNING_SECRET);
  registerSecret(env.SLACK_APP_TOKEN);
  const config = loadConfig(configPathFromEnv(env), env);
  const client = new webApi.WebClient(token, { ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}) });
  const sesame = buildSesame(config, { logger, directory: new SlackDirectory(client, systemClock) });
  await sesame.services.grants.resume();
  await sesame.scheduler.start();
  logger.info({ integrations: config.integrations.map((i) => i.name) }, 'sesame started');
  return sesame;
}

/** Closes Sesame on the first SIGTERM/SIGINT; a second one exits at once. */
export function closeOnSignals(sesame: Sesame, logger: Logger): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    logger.info({ signal }, 'stopping: finishing work in flight');
    sesame.close().then(
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const logger = createLogger();
  runBot(process.env, logger).then(
    (sesame) => closeOnSignals(sesame, logger),
    (err) => {
      // A ConfigError's message is already free of secrets and lists every problem with its path.
      process.stderr.write(`${err instanceof ConfigError ? err.message : describeError(err)}\n`);
      process.exit(2);
    },
  );
}
