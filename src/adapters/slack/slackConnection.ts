/**
 * Whether Slack can be reached, and what it answered when it could not: the bot token's check at
 * start (retried while Slack is unreachable, fatal when Slack refuses the token) and the state of
 * the Socket Mode connection, both reported to readiness.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { SocketModeReceiver, webApi } from '@slack/bolt';
import { ConfigError } from '../../domain/errors.ts';
import { sleep, untilAborted } from '../../lifecycle.ts';
import { describeError, redact, type Logger } from '../../logger.ts';

/** Who the token belongs to, from auth.test. */
export interface BotIdentity {
  botUserId: string;
  botId: string;
  team?: string;
}

/** Slack's error codes that mean "try again later" rather than "this token is wrong". */
const TRANSIENT_ERRORS = new Set(['ratelimited', 'fatal_error', 'internal_error', 'service_unavailable', 'request_timeout']);
/** apps.connections.open's answers that refuse the app-level token: Socket Mode stops trying. */
const APP_TOKEN_REFUSALS = new Set(['not_authed', 'invalid_auth', 'account_inactive', 'user_removed_from_team', 'team_disabled']);
/** The first wait before checking again while Slack is unreachable; it doubles up to the maximum. */
const FIRST_RETRY_MS = 1_000;
const MAX_RETRY_MS = 30_000;

/** Slack could not be asked, or answered with an error that passes (not a refusal). */
export class SlackUnreachableError extends Error {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {
    super(`Slack not reachable (${method}): ${reason}`);
    this.name = 'SlackUnreachableError';
  }
}

/** What Slack answered, or why there was no answer, in words: never the request or its token. */
export function describeSlackError(err: unknown): string {
  const e = err as {
    code?: unknown;
    data?: { error?: unknown };
    statusCode?: unknown;
    statusMessage?: unknown;
    original?: unknown;
    retryAfter?: unknown;
  };
  switch (e?.code) {
    case 'slack_webapi_platform_error':
      return `Slack answered ${String(e.data?.error)}`;
    case 'slack_webapi_http_error':
      return `Slack answered HTTP ${String(e.statusCode)}${e.statusMessage ? ` ${String(e.statusMessage)}` : ''}`;
    case 'slack_webapi_rate_limited_error':
      return `Slack is rate limiting (retry after ${String(e.retryAfter)} s)`;
    case 'slack_webapi_request_error':
      return `no answer from Slack: ${describeCauses(e.original)}`;
    default:
      return describeCauses(err);
  }
}

/** An error and the causes under it ("fetch failed: connect ECONNREFUSED 127.0.0.1:9"). */
function describeCauses(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const text = describeError(e);
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  return redact(parts.join(': ') || 'no detail given');
}

/**
 * Checks the bot token with auth.test. Throws a ConfigError naming the variable to fix when
 * Slack refuses the token, and a SlackUnreachableError when Slack could not be asked.
 */
export async function verifyBotToken(client: webApi.WebClient): Promise<BotIdentity> {
  let res: webApi.AuthTestResponse;
  try {
    res = await client.auth.test();
  } catch (err) {
    const code = (err as { code?: unknown; data?: { error?: unknown } }).data?.error;
    if ((err as { code?: unknown }).code === 'slack_webapi_platform_error' && typeof code === 'string' && !TRANSIENT_ERRORS.has(code)) {
      throw new ConfigError([
        {
          path: 'SLACK_BOT_TOKEN',
          message: `Slack refused the bot token (${code}): give the Bot User OAuth Token (xoxb-…) of an installed app`,
        },
      ]);
    }
    throw new SlackUnreachableError('auth.test', describeSlackError(err));
  }
  if (!res.user_id || !res.bot_id) {
    throw new ConfigError([{ path: 'SLACK_BOT_TOKEN', message: 'is not a bot token: give the Bot User OAuth Token (xoxb-…)' }]);
  }
  return { botUserId: res.user_id, botId: res.bot_id, ...(res.team ? { team: res.team } : {}) };
}

export interface WaitForSlackOptions {
  logger: Logger;
  /** Gives up (rejects with its reason) when aborted. */
  signal?: AbortSignal;
  /** Told why Slack is not reachable, at each failed attempt. */
  unreachable(reason: string): void;
}

/**
 * Checks the bot token, again and again with a growing pause while Slack cannot be reached
 * (each attempt logged with its cause); a refusal ends it at once.
 */
export async function waitForBotToken(client: webApi.WebClient, options: WaitForSlackOptions): Promise<BotIdentity> {
  let delay = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await untilAborted(verifyBotToken(client), options.signal);
    } catch (err) {
      if (!(err instanceof SlackUnreachableError)) throw err;
      options.unreachable(`Slack not reachable yet (auth.test: ${err.reason})`);
      options.logger.warn(
        { attempt, retryInMs: delay, cause: err.reason },
        `Slack not reachable yet (auth.test: ${err.reason}); checking the bot token again in ${delay / 1000} s`,
      );
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

/**
 * A fetch for the Socket Mode client's Web API calls that remembers what Slack answered to
 * apps.connections.open (an error code, an HTTP status, or no answer at all).
 */
export function observingFetch(remember: (answer: string | undefined, refused: boolean) => void): typeof fetch {
  return async (input, init) => {
    const opening = String(input instanceof Request ? input.url : input).endsWith('apps.connections.open');
    try {
      const res = await fetch(input, init);
      if (opening) {
        const body = (await res
          .clone()
          .json()
          .catch(() => undefined)) as { ok?: boolean; error?: string } | undefined;
        const answer = body?.ok
          ? undefined
          : body?.error
            ? `Slack answered ${body.error}`
            : `Slack answered HTTP ${res.status} ${res.statusText}`;
        remember(answer?.trim(), APP_TOKEN_REFUSALS.has(body?.error ?? ''));
      }
      return res;
    } catch (err) {
      if (opening) remember(`no answer from Slack: ${describeCauses(err)}`, false);
      throw err;
    }
  };
}

/** The Socket Mode connection as readiness and start-up see it. */
export interface SocketWatch {
  /** Undefined while the socket is open; otherwise why it is not. */
  notReady(): string | undefined;
  /** Logs a failed attempt with its cause and tells the listeners. */
  failed(reason: string): void;
  onFailure(listener: (reason: string) => void): void;
  stop(): void;
}

/**
 * Follows the Socket Mode client: ready after Slack's hello, not ready while connecting or
 * reconnecting, and each failure logged with what Slack answered (to apps.connections.open, or
 * to the WebSocket handshake: its HTTP status or the network error).
 */
export function watchSocketMode(receiver: SocketModeReceiver, logger: Logger, opening: () => string | undefined): SocketWatch {
  let handshake: string | undefined;
  let lastFailure: string | undefined;
  let connected = false;
  const listeners: ((reason: string) => void)[] = [];
  const onHeaders = (message: unknown) => {
    const { request, response } = message as { request?: WireRequest; response?: { statusCode?: number; statusText?: string } };
    if (request?.upgrade !== 'websocket' || response?.statusCode === 101) return;
    handshake =
      `Slack answered the WebSocket upgrade at ${request.origin ?? 'Slack'} with HTTP ${response?.statusCode} ${response?.statusText ?? ''}`.trim();
  };
  const onError = (message: unknown) => {
    const { request, error } = message as { request?: WireRequest; error?: unknown };
    if (request?.upgrade === 'websocket') handshake = `the WebSocket to ${request.origin ?? 'Slack'} failed: ${describeCauses(error)}`;
  };
  subscribe('undici:request:headers', onHeaders);
  subscribe('undici:request:error', onError);
  const watch: SocketWatch = {
    notReady: () => (connected ? undefined : `Slack Socket Mode not connected: ${lastFailure ?? opening() ?? 'connecting'}`),
    failed(reason) {
      lastFailure = reason;
      logger.warn({ cause: reason }, `Slack Socket Mode not connected: ${reason}; connecting again`);
      for (const l of listeners) l(reason);
    },
    onFailure: (listener) => listeners.push(listener),
    stop() {
      unsubscribe('undici:request:headers', onHeaders);
      unsubscribe('undici:request:error', onError);
    },
  };
  const client = receiver.client;
  client.on('connecting', () => {
    handshake = undefined;
  });
  client.on('connected', () => {
    connected = true;
    lastFailure = undefined;
    logger.info('connected to Slack over Socket Mode');
  });
  const closed = () => {
    if (connected) logger.warn('the Socket Mode connection to Slack closed; connecting again');
    connected = false;
  };
  client.on('close', closed);
  client.on('disconnected', closed);
  client.on('reconnecting', () => {
    connected = false;
  });
  client.on('error', () => watch.failed(handshake ?? 'the WebSocket to Slack failed (dropped, or not opened), with no detail given'));
  return watch;
}

interface WireRequest {
  upgrade?: string;
  origin?: string;
}
