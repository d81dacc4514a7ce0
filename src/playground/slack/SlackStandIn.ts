/**
 * Slack's Web API on loopback, for running the real Bolt app and its real WebClient without
 * Slack (`clientOptions.slackApiUrl` or `SLACK_API_URL` pointed at `apiUrl`): the playground's
 * Slack, and the one the tests run the bot against.
 *
 * It speaks Slack's wire format: `POST {apiUrl}{method}` with a form-encoded or JSON body, the
 * bot token as `Authorization: Bearer …` (or a `token` argument), and answers `{ ok: true, … }`
 * or `{ ok: false, error }` with HTTP 200, as Slack does. Messages, ephemerals and views are
 * checked against Slack's documented Block Kit limits (blockKitRules.ts) and refused the way
 * Slack refuses them, so a message Slack would reject is rejected here too.
 *
 * Everything it was asked is recorded (`calls`), and everything Slack would show is kept in its
 * current state (`messages`, `ephemerals`, `views`, `homeView`). Rate limits (HTTP 429 with
 * Retry-After), server errors and error answers can be scheduled per method to exercise retries.
 *
 * Socket Mode is served on the same port (`socketMode`, SocketModeServer.ts):
 * apps.connections.open takes the app-level token (`appToken`, in the Authorization header only)
 * and no other, and answers a `ws://…/link/?ticket=…` URL that the app connects to.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatMethods } from './chatMethods.ts';
import { directoryMethods } from './directoryMethods.ts';
import { answerResponseUrl } from './responseUrl.ts';
import { SocketModeServer } from './SocketModeServer.ts';
import { StandInWorkspace } from './StandInWorkspace.ts';
import {
  APP_LEVEL_METHODS,
  type Answer,
  type Args,
  type Fault,
  fail,
  type SlackStandInOptions,
  type StandInCall,
  type WebApiMethods,
} from './standInModel.ts';
import { viewMethods } from './viewMethods.ts';
import { parseArgs, readBody } from './wireFormat.ts';

export type {
  ResponseUrlContext,
  SlackStandInOptions,
  StandInCall,
  StandInChannel,
  StandInEphemeral,
  StandInMessage,
  StandInUser,
  StandInUsergroup,
  StandInView,
} from './standInModel.ts';

/** Slack's Web API on loopback. Start it with `SlackStandIn.start()`, stop it with `stop()`. */
export class SlackStandIn extends StandInWorkspace {
  /** What Bolt's `clientOptions.slackApiUrl` (or `SLACK_API_URL`) takes: `http://127.0.0.1:PORT/api/`. */
  readonly apiUrl: string;
  /** Socket Mode: the app's connections, envelopes to push to it, its acks. */
  readonly socketMode: SocketModeServer;

  private readonly recordedCalls: StandInCall[] = [];
  private readonly callListeners = new Set<(call: StandInCall) => void>();
  private readonly faults = new Map<string, { fault: Fault; remaining: number }[]>();
  private readonly methods: WebApiMethods;

  private constructor(
    private readonly server: Server,
    options: SlackStandInOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    super(options, `http://127.0.0.1:${port}`);
    this.apiUrl = `${this.baseUrl}/api/`;
    this.socketMode = new SocketModeServer({
      appId: this.appId,
      wsBase: `ws://127.0.0.1:${port}`,
      notify: () => this.notify(),
      waitFor: (probe, what, timeoutMs) => this.waitFor(probe, what, timeoutMs),
    });
    this.methods = {
      'apps.connections.open': () => ({ ok: true, url: this.socketMode.issueUrl() }),
      ...directoryMethods(this),
      ...chatMethods(this),
      ...viewMethods(this),
    };
  }

  /** Starts the stand-in on 127.0.0.1, on `options.port` or a free port. */
  static async start(options: SlackStandInOptions = {}): Promise<SlackStandIn> {
    let standIn: SlackStandIn | undefined;
    const server = createServer((req, res) => {
      standIn!.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`the Slack stand-in failed: ${String(err)}`);
      });
    });
    server.on('upgrade', (req, socket, head) => standIn!.socketMode.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    standIn = new SlackStandIn(server, options);
    return standIn;
  }

  /** Stops the server and drops open connections (keep-alive and Socket Mode ones included). */
  async stop(): Promise<void> {
    this.socketMode.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Every Web API call, or those of one method, in the order received. */
  calls(method?: string): StandInCall[] {
    return this.recordedCalls.filter((c) => method === undefined || c.method === method);
  }

  /** Calls `listener` with each Web API call (and response_url post) as it is answered; returns how to stop. */
  onCall(listener: (call: StandInCall) => void): () => void {
    this.callListeners.add(listener);
    return () => this.callListeners.delete(listener);
  }

  private record(call: StandInCall): void {
    this.recordedCalls.push(call);
    for (const listener of this.callListeners) listener(call);
  }

  // ---- faults --------------------------------------------------------------------------------

  /** The next `times` calls of `method` answer HTTP 429 with `Retry-After`, as Slack's rate limiter does. */
  rateLimit(method: string, { times = 1, retryAfterSeconds = 1 }: { times?: number; retryAfterSeconds?: number } = {}): void {
    this.addFault(method, { kind: 'rate_limited', retryAfterSeconds }, times);
  }

  /** The next `times` calls of `method` (all of them by default) answer with an HTTP server error. */
  failHttp(method: string, { status = 500, times = Number.POSITIVE_INFINITY }: { status?: number; times?: number } = {}): void {
    this.addFault(method, { kind: 'http_error', status }, times);
  }

  /** The next `times` calls of `method` answer `{ ok: false, error }`. */
  answerError(method: string, error: string, { times = 1 }: { times?: number } = {}): void {
    this.addFault(method, { kind: 'error', error }, times);
  }

  /** Removes scheduled faults of one method, or of all. */
  clearFaults(method?: string): void {
    if (method === undefined) this.faults.clear();
    else this.faults.delete(method);
  }

  private addFault(method: string, fault: Fault, times: number): void {
    const queue = this.faults.get(method) ?? [];
    queue.push({ fault, remaining: times });
    this.faults.set(method, queue);
  }

  private takeFault(method: string): Fault | undefined {
    const queue = this.faults.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.fault;
  }

  // ---- HTTP ----------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const raw = await readBody(req);
    try {
      const apiMatch = /^\/api\/([\w.]+)$/.exec(url.pathname);
      const responseMatch = /^\/commands\/[^/]+\/([0-9a-f]+)$/.exec(url.pathname);
      if (apiMatch && (req.method === 'POST' || req.method === 'GET')) {
        this.handleApiCall(apiMatch[1]!, req, url, raw, res);
      } else if (responseMatch && req.method === 'POST') {
        this.handleResponseUrl(responseMatch[1]!, raw, res);
      } else {
        res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
      }
    } finally {
      this.notify();
    }
  }

  private handleApiCall(method: string, req: IncomingMessage, url: URL, raw: string, res: ServerResponse): void {
    let args: Args;
    try {
      args = parseArgs(raw, req.headers['content-type'], url.searchParams);
    } catch {
      this.answer(res, method, {}, 200, fail('invalid_json'));
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const appLevel = APP_LEVEL_METHODS.has(method);
    const token = appLevel ? bearer : (bearer ?? (typeof args.token === 'string' ? args.token : undefined));
    delete args.token;

    const fault = this.takeFault(method);
    if (fault?.kind === 'rate_limited') {
      res.setHeader('Retry-After', String(fault.retryAfterSeconds));
      this.answer(res, method, args, 429, fail('ratelimited'));
      return;
    }
    if (fault?.kind === 'http_error') {
      this.answer(res, method, args, fault.status, 'Internal Server Error');
      return;
    }
    if (fault?.kind === 'error') {
      this.answer(res, method, args, 200, fail(fault.error));
      return;
    }
    const handler = this.methods[method];
    let answer: Answer;
    if (!handler) answer = fail('unknown_method');
    else if (token === undefined) answer = fail('not_authed');
    else if (token !== (appLevel ? this.appToken : this.botToken)) answer = fail('invalid_auth');
    else answer = handler(args);
    this.answer(res, method, args, 200, answer);
  }

  private answer(res: ServerResponse, method: string, args: Args, status: number, response: unknown): void {
    this.record({ method, args, status, response, at: this.now() });
    if (typeof response === 'string') {
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(response);
    } else {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(response));
    }
  }

  /** A POST to a response_url: an ephemeral reply by default, or in_channel, replace_original, delete_original. */

  /** A POST to a response_url, answered as Slack does (responseUrl.ts). */
  private handleResponseUrl(id: string, raw: string, res: ServerResponse): void {
    const { status, answer, body } = answerResponseUrl(this, id, raw);
    this.record({ method: 'response_url', args: { id, ...body }, status, response: answer, at: this.now() });
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
  }
}
