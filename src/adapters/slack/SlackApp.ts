import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger, type webApi } from '@slack/bolt';
import { ConfigError } from '../../domain/errors.ts';
import type { HttpRoute } from '../../http/health.ts';
import { serveRoutes } from '../../http/health.ts';
import { WorkQueue } from '../../lib/WorkQueue.ts';
import { describeError, redact, type Logger } from '../../logger.ts';
import { registerActions } from './listeners/actions/registerActions.ts';
import { registerCommands } from './listeners/commands/registerCommands.ts';
import type { SlackEdge, SlackServices } from './listeners/context.ts';
import { registerEvents } from './listeners/events/registerEvents.ts';
import { registerOptions } from './listeners/options/registerOptions.ts';
import { registerViews } from './listeners/views/registerViews.ts';
import type { InternalErrorAlert } from './SlackNotifier.ts';

/** Where Slack's requests reach Sesame in HTTP mode: commands, interactivity, options, events. */
export const SLACK_EVENTS_PATH = '/slack/events';

/** How Sesame talks to Slack, from the environment (PRODUCT.md §2). */
export type SlackTransport = { mode: 'socket'; appToken: string } | { mode: 'http'; signingSecret: string };

/**
 * Socket Mode when `SLACK_APP_TOKEN` is set; otherwise HTTP, which needs the signing secret to
 * verify that requests come from Slack.
 */
export function slackTransport(env: NodeJS.ProcessEnv): SlackTransport {
  if (env.SLACK_APP_TOKEN) return { mode: 'socket', appToken: env.SLACK_APP_TOKEN };
  if (!env.SLACK_SIGNING_SECRET) {
    throw new ConfigError([
      {
        path: 'SLACK_SIGNING_SECRET',
        message:
          "is not set: HTTP mode needs the app's signing secret (Basic Information → Signing Secret), or set SLACK_APP_TOKEN (xapp-…) for Socket Mode",
      },
    ]);
  }
  return { mode: 'http', signingSecret: env.SLACK_SIGNING_SECRET };
}

/**
 * Web API client options: `SLACK_API_URL` replaces Slack's base URL; rate-limited calls wait
 * for Retry-After and, like 5xx answers and network errors, are retried a few times with
 * backoff, within about two minutes, so a notification never waits for long.
 */
export function slackClientOptions(env: NodeJS.ProcessEnv, logger: Logger): webApi.WebClientOptions {
  return {
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL.endsWith('/') ? env.SLACK_API_URL : `${env.SLACK_API_URL}/` } : {}),
    retryConfig: { retries: 5, factor: 2, minTimeout: 500, maxTimeout: 30_000, randomize: true },
    timeout: 15_000,
    logger: boltLogger(logger),
  };
}

/** Who the token belongs to, from auth.test. */
export interface BotIdentity {
  botUserId: string;
  botId: string;
  team?: string;
}

/**
 * Checks the bot token with auth.test before anything else starts, so a wrong or revoked token
 * stops start-up with a sentence that says which variable to fix.
 */
export async function verifyBotToken(client: webApi.WebClient): Promise<BotIdentity> {
  let res: webApi.AuthTestResponse;
  try {
    res = await client.auth.test();
  } catch (err) {
    const code = (err as { data?: { error?: string } }).data?.error;
    throw new ConfigError([
      {
        path: 'SLACK_BOT_TOKEN',
        message: code
          ? `Slack refused the bot token (${code}): give the Bot User OAuth Token (xoxb-…) of an installed app`
          : `could not be checked with Slack (auth.test): ${describeError(err)}`,
      },
    ]);
  }
  if (!res.user_id || !res.bot_id) {
    throw new ConfigError([{ path: 'SLACK_BOT_TOKEN', message: 'is not a bot token: give the Bot User OAuth Token (xoxb-…)' }]);
  }
  return { botUserId: res.user_id, botId: res.bot_id, ...(res.team ? { team: res.team } : {}) };
}

/**
 * Slack's refusal of the app-level token (apps.connections.open answering `invalid_auth` and the
 * like) as a sentence that says which variable to fix; undefined for any other start-up failure.
 */
function appTokenRefusal(err: unknown): ConfigError | undefined {
  const code = (err as { data?: { error?: unknown } }).data?.error;
  if (typeof code !== 'string') return undefined;
  return new ConfigError([
    {
      path: 'SLACK_APP_TOKEN',
      message: `Slack refused the app-level token (${code}): give an app-level token (xapp-…) with the connections:write scope, or unset it for HTTP mode`,
    },
  ]);
}

export interface SlackAppOptions {
  /** The use cases the listeners call; the edge is given no store and no database. */
  services: SlackServices;
  logger: Logger;
  /** The slash command as configured (`/access`). */
  command: string;
  botToken: string;
  identity: BotIdentity;
  transport: SlackTransport;
  clientOptions: webApi.WebClientOptions;
  /** /healthz, /readyz and /metrics, served beside Slack's endpoint in either mode. */
  routes: HttpRoute[];
  port: number;
  /** Interface to listen on; all of them when absent. */
  host?: string;
  /** Tells the admins the details of an error a person was told about in general words. */
  alertAdmins?: (alert: InternalErrorAlert) => Promise<void>;
}

/** The Bolt app with Sesame's listeners, on the transport the environment chose. */
export interface SlackApp {
  readonly app: App;
  readonly mode: SlackTransport['mode'];
  /** Starts receiving; resolves with the port the HTTP server listens on. */
  start(): Promise<{ port: number }>;
  /** Stops receiving, then waits for listeners still at work. */
  stop(): Promise<void>;
}

/**
 * How many acknowledged commands are worked on at once. Each holds the event loop in short
 * slices (SQLite commits, Slack calls); a few at a time keep the database and Slack busy while
 * leaving room for the acks of requests still arriving.
 */
const SLACK_WORK_CONCURRENCY = 4;

/**
 * Builds the Bolt app: listeners for the command, buttons, modals, options and the Home tab;
 * a middleware that tracks work in flight for a graceful stop; errors logged sanitised.
 */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { transport, routes, port, host } = options;
  const logger = boltLogger(options.logger);
  const common = {
    token: options.botToken,
    botId: options.identity.botId,
    botUserId: options.identity.botUserId,
    // auth.test already ran (verifyBotToken) and its answer is given above.
    tokenVerificationEnabled: false,
    clientOptions: options.clientOptions,
    logger,
  };
  const receiver = createReceiver(options, logger);
  const app = new App({ ...common, receiver });

  const inFlight = new Set<Promise<unknown>>();
  app.use(async ({ next }) => {
    const work = next();
    inFlight.add(work);
    try {
      await work;
    } finally {
      inFlight.delete(work);
    }
  });
  app.error(async (err) => {
    options.logger.error({ err: describeError(err.original ?? err) }, 'Slack listener failed');
  });

  const edge: SlackEdge = {
    services: options.services,
    logger: options.logger,
    command: options.command,
    work: new WorkQueue(SLACK_WORK_CONCURRENCY),
    ...(options.alertAdmins ? { alertAdmins: options.alertAdmins } : {}),
  };
  registerCommands(app, edge);
  registerActions(app, edge);
  registerViews(app, edge);
  registerOptions(app, edge);
  registerEvents(app, edge);

  let healthServer: Server | undefined;
  return {
    app,
    mode: transport.mode,
    async start() {
      if (transport.mode === 'http') {
        const server = (await app.start({ port, ...(host ? { host } : {}) })) as Server;
        return { port: (server.address() as AddressInfo).port };
      }
      // Socket Mode listens on no port; health and metrics get a small server of their own,
      // started first so they answer while the socket connects.
      const served = await serveRoutes(routes, port, host);
      healthServer = served.server;
      try {
        await app.start();
      } catch (err) {
        await new Promise<void>((resolve) => served.server.close(() => resolve()));
        healthServer = undefined;
        throw appTokenRefusal(err) ?? err;
      }
      return { port: served.port };
    },
    async stop() {
      await app.stop().catch((err) => options.logger.warn({ err: describeError(err) }, 'stopping the Slack receiver failed'));
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      if (healthServer) {
        const server = healthServer;
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    },
  };
}

/** Slack's requests arrive over HTTP (signed, on {@link SLACK_EVENTS_PATH}) or over Socket Mode. */
function createReceiver(options: SlackAppOptions, logger: BoltLogger): HTTPReceiver | SocketModeReceiver {
  const { transport, routes } = options;
  return transport.mode === 'http'
    ? new HTTPReceiver({
        signingSecret: transport.signingSecret,
        endpoints: SLACK_EVENTS_PATH,
        customRoutes: routes,
        logger,
        // Acknowledge first, then work: Slack's 3 seconds are for the ack alone.
        processBeforeResponse: false,
      })
    : new SocketModeReceiver({
        appToken: transport.appToken,
        logger,
        // apps.connections.open goes where every other Web API call goes (SLACK_API_URL).
        installerOptions: { clientOptions: { ...options.clientOptions } },
      });
}

/**
 * Bolt's and the Web API client's log lines, through Sesame's logger (JSON, redacted). Their
 * debug lines are dropped: the Web API client logs whole request bodies at debug, and the body
 * of the credentials modal holds a password.
 */
export function boltLogger(logger: Logger): BoltLogger {
  const child = logger.child({ component: 'slack' });
  let level = LogLevel.INFO;
  const line = (...msg: unknown[]) => redact(msg.map(describePart).join(' '));
  return {
    debug: () => undefined,
    info: (...msg) => child.info(line(...msg)),
    warn: (...msg) => child.warn(line(...msg)),
    error: (...msg) => child.error(line(...msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}

function describePart(part: unknown): string {
  if (typeof part === 'string') return part;
  if (part instanceof Error) return describeError(part);
  try {
    return JSON.stringify(part);
  } catch {
    return String(part);
  }
}
