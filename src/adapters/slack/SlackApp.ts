import type { RequestListener } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type Logger as BoltLogger, type webApi } from '@slack/bolt';
import { ConfigError } from '../../domain/errors.ts';
import { WorkQueue } from '../../lib/WorkQueue.ts';
import { sleep } from '../../lifecycle.ts';
import { describeError, redact, type Logger } from '../../logger.ts';
import type { DeliveryLog } from '../../ports/Coordination.ts';
import { handleEachDeliveryOnce } from './deliveries.ts';
import { registerActions } from './listeners/actions/registerActions.ts';
import { registerCommands } from './listeners/commands/registerCommands.ts';
import type { SlackEdge, SlackServices } from './listeners/context.ts';
import { registerEvents } from './listeners/events/registerEvents.ts';
import { registerOptions } from './listeners/options/registerOptions.ts';
import { registerViews } from './listeners/views/registerViews.ts';
import type { InternalErrorAlert } from './SlackNotifier.ts';
import { type BotIdentity, describeSlackError, observingFetch, type SocketWatch, watchSocketMode } from './slackConnection.ts';

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

export { type BotIdentity, verifyBotToken } from './slackConnection.ts';

/**
 * Slack's refusal of the app-level token (apps.connections.open answering `invalid_auth` and the
 * like) as a sentence that says which variable to fix; undefined for any other start-up failure.
 */
function appTokenRefusal(err: unknown): ConfigError | undefined {
  const code = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
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
  /**
   * HTTP mode: hands Slack's request handler to the server that already answers /healthz,
   * /readyz and /metrics on PORT (undefined when receiving stops).
   */
  serveSlack(listener: RequestListener | undefined): void;
  /** Socket Mode: told whether the socket is open (undefined) or why not. */
  slackNotReady(reason: () => string | undefined): void;
  /** Stops reconnecting when aborted. */
  signal?: AbortSignal;
  /** Tells the admins the details of an error a person was told about in general words. */
  alertAdmins?: (alert: InternalErrorAlert) => Promise<void>;
  /** The payloads taken by any replica, so a retry or a redelivery is handled once. */
  deliveries?: DeliveryLog;
}

/** The Bolt app with Sesame's listeners, on the transport the environment chose. */
export interface SlackApp {
  readonly app: App;
  readonly mode: SlackTransport['mode'];
  /**
   * Starts receiving. Socket Mode resolves once connected, or once a first attempt failed (it
   * keeps connecting, logging each failure); it rejects when Slack refuses the app-level token.
   */
  start(): Promise<void>;
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
 * How many changes waiting for their ack are recorded at once: more than the work after acks,
 * since each waits mostly on the state database, and few enough to keep a burst from stalling
 * every ack behind it.
 */
const SLACK_RECORDING_CONCURRENCY = 8;

/**
 * Builds the Bolt app: listeners for the command, buttons, modals, options and the Home tab;
 * a middleware that tracks work in flight for a graceful stop; errors logged sanitised.
 */
export function createSlackApp(options: SlackAppOptions): SlackApp {
  const { transport } = options;
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
  // What Slack last answered to apps.connections.open (undefined: a URL, or not asked yet).
  let opened: string | undefined;
  const receiver = createReceiver(options, logger, (answer, refused) => {
    opened = answer;
    // A refusal ends the start, which reports it; anything else is retried, and logged here.
    if (answer && !refused) socket?.failed(`apps.connections.open: ${answer}`);
  });
  const app = new App({ ...common, receiver });
  if (options.deliveries) handleEachDeliveryOnce(app, options.deliveries, options.logger);

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
    recording: new WorkQueue(SLACK_RECORDING_CONCURRENCY),
    ...(options.alertAdmins ? { alertAdmins: options.alertAdmins } : {}),
  };
  registerCommands(app, edge);
  registerActions(app, edge);
  registerViews(app, edge);
  registerOptions(app, edge);
  registerEvents(app, edge);

  const socket = receiver instanceof SocketModeReceiver ? watchSocketMode(receiver, options.logger, () => opened) : undefined;
  if (socket) options.slackNotReady(() => socket.notReady());
  let stopped = false;
  return {
    app,
    mode: transport.mode,
    async start() {
      if (receiver instanceof HTTPReceiver) {
        options.serveSlack(receiver.requestListener);
        return;
      }
      await keepConnecting(app, receiver, socket!, { ...options, stopped: () => stopped });
    },
    async stop() {
      stopped = true;
      if (receiver instanceof HTTPReceiver) options.serveSlack(undefined);
      else {
        await app.stop().catch((err) => options.logger.warn({ err: describeError(err) }, 'stopping the Slack receiver failed'));
        socket?.stop();
      }
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** Pause before connecting Socket Mode again after a failed attempt; it doubles up to the maximum. */
const FIRST_RECONNECT_MS = 1_000;
const MAX_RECONNECT_MS = 30_000;

/**
 * Keeps the Socket Mode connection open: connects, and connects again whenever the connection
 * ends (Slack's refresh, a network failure) until `stopped`, pausing longer after each failed
 * attempt (each logged by the watcher with what Slack answered). Resolves once connected or once
 * a first attempt failed; rejects when Slack refuses the app-level token at the first try.
 */
function keepConnecting(
  app: App,
  receiver: SocketModeReceiver,
  socket: SocketWatch,
  options: SlackAppOptions & { stopped(): boolean },
): Promise<void> {
  const { logger, signal } = options;
  const over = () => options.stopped() || signal?.aborted === true;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      if (err) reject(err);
      else resolve();
    };
    socket.onFailure(() => settle());
    void (async () => {
      let delay = FIRST_RECONNECT_MS;
      while (!over()) {
        try {
          await app.start();
          settle();
          delay = FIRST_RECONNECT_MS;
          await new Promise<void>((resolve) => receiver.client.once('disconnected', () => resolve()));
          continue;
        } catch (err) {
          const refusal = appTokenRefusal(err);
          if (refusal && !settled) return settle(refusal);
          if (refusal) logger.error(refusal.message);
          // Slack's answers and socket failures are logged as they happen; anything else here.
          else if (err !== undefined && !String((err as { code?: unknown }).code ?? '').startsWith('slack_'))
            socket.failed(describeSlackError(err));
          settle();
        }
        await sleep(delay, signal).catch(() => undefined);
        delay = Math.min(delay * 2, MAX_RECONNECT_MS);
      }
    })();
  });
}

/** Slack's requests arrive over HTTP (signed, on {@link SLACK_EVENTS_PATH}) or over Socket Mode. */
function createReceiver(
  options: SlackAppOptions,
  logger: BoltLogger,
  opened: (answer: string | undefined, refused: boolean) => void,
): HTTPReceiver | SocketModeReceiver {
  const { transport } = options;
  return transport.mode === 'http'
    ? new HTTPReceiver({
        signingSecret: transport.signingSecret,
        endpoints: SLACK_EVENTS_PATH,
        logger,
        // Acknowledge first, then work: Slack's 3 seconds are for the ack alone.
        processBeforeResponse: false,
      })
    : new SocketModeReceiver({
        appToken: transport.appToken,
        logger,
        // keepConnecting connects again, with each failure logged; the client's own reconnection
        // leaves a failed start unhandled, which would end the process.
        autoReconnectEnabled: false,
        // apps.connections.open goes where every other Web API call goes (SLACK_API_URL); a
        // failed one is retried by keepConnecting, with each failure logged.
        installerOptions: { clientOptions: { ...options.clientOptions, retryConfig: { retries: 0 }, fetch: observingFetch(opened) } },
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
