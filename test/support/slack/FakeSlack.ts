/**
 * A fake of Slack's Web API on loopback, for tests that run the real Bolt app and its real
 * WebClient (`clientOptions.slackApiUrl` / `SLACK_API_URL` pointed at `apiUrl`).
 *
 * It speaks Slack's wire format: `POST {apiUrl}{method}` with a form-encoded or JSON body, the
 * bot token as `Authorization: Bearer …` (or a `token` argument), and answers `{ ok: true, … }`
 * or `{ ok: false, error }` with HTTP 200, as Slack does. Messages, ephemerals and views are
 * checked against Slack's documented Block Kit limits (blockKitRules.ts) and refused the way
 * Slack refuses them, so a message Slack would reject fails the test that sent it.
 *
 * Everything it was asked is recorded (`calls`), and everything Slack would show is kept in its
 * current state (`messages`, `ephemerals`, `views`, `homeView`). Rate limits (HTTP 429 with
 * Retry-After), server errors and error answers can be scheduled per method to test retries.
 *
 * Socket Mode is served on the same port (`socketMode`, FakeSocketMode.ts): apps.connections.open
 * takes the app-level token (`appToken`, in the Authorization header only) and no other, and
 * answers a `ws://…/link/?ticket=…` URL that the app connects to.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseQuery } from 'node:querystring';
import { validateBlocks, validateMessage, validateView } from './blockKitRules.ts';
import { FakeSocketMode } from './FakeSocketMode.ts';

/** A person in the fake workspace. */
export interface FakeSlackUser {
  id: string;
  /** The handle (`user_name` in slash commands). */
  name: string;
  realName?: string;
  /** Left out to behave like a profile without an email (or a token without users:read.email). */
  email?: string;
  /** IANA time zone, e.g. `Europe/Paris`; `UTC` when left out. */
  tz?: string;
  isBot?: boolean;
  deleted?: boolean;
}

/** A user group, mentioned as `@handle`. */
export interface FakeSlackUsergroup {
  id: string;
  handle: string;
  name?: string;
  members: string[];
}

/** A channel messages can be posted to; DMs need no entry. */
export interface FakeSlackChannel {
  id: string;
  name: string;
}

export interface FakeSlackOptions {
  /** The only token the fake accepts, but for apps.connections.open. */
  botToken?: string;
  /** The app-level token (`xapp-…`), the only one apps.connections.open accepts. */
  appToken?: string;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  users?: FakeSlackUser[];
  usergroups?: FakeSlackUsergroup[];
  channels?: FakeSlackChannel[];
  /** The clock trigger and response_url expiry are measured with; tests move it instead of sleeping. */
  now?: () => number;
}

/** One request to a Web API method, as the fake received and answered it. Tokens are left out. */
export interface FakeSlackCall {
  method: string;
  args: Record<string, unknown>;
  /** HTTP status of the answer: 200, or 429/5xx when a fault was scheduled. */
  status: number;
  response: unknown;
  at: number;
}

/**
 * A message in a channel or DM. The object is live: it shows the message's current state as the
 * app changes it; `edits` holds the versions before it.
 */
export interface FakeSlackMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks: unknown[];
  user: string;
  edits: { text: string; blocks: unknown[] }[];
  replies: FakeSlackMessage[];
  deleted: boolean;
  via: 'chat.postMessage' | 'response_url';
}

/** A message only one person sees. */
export interface FakeSlackEphemeral {
  channel: string;
  user: string;
  ts: string;
  text: string;
  blocks: unknown[];
  edits: { text: string; blocks: unknown[] }[];
  deleted: boolean;
  via: 'chat.postEphemeral' | 'response_url';
}

/**
 * A modal or Home tab. The object is live: `view` is what it shows now, `versions` every view it
 * showed, oldest first.
 */
export interface FakeSlackView {
  id: string;
  type: 'modal' | 'home';
  userId: string;
  view: Record<string, unknown>;
  versions: Record<string, unknown>[];
  hash: string;
  rootViewId: string;
  previousViewId: string | null;
  externalId?: string;
  closed: boolean;
}

/** Where a response_url answers to: the channel and person, and the message the interaction came from. */
export interface ResponseUrlContext {
  channel: string;
  userId: string;
  messageTs?: string;
  ephemeralTs?: string;
}

type Fault =
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  | { kind: 'http_error'; status: number }
  | { kind: 'error'; error: string };

type Answer = { ok: true; [key: string]: unknown } | { ok: false; error: string; [key: string]: unknown };
type Args = Record<string, unknown>;

interface Trigger {
  userId: string;
  issuedAt: number;
  used: boolean;
  viewId?: string;
}

interface ResponseUrl extends ResponseUrlContext {
  issuedAt: number;
  uses: number;
}

/** Slack: a trigger_id must be exchanged within 3 seconds of the interaction. */
const TRIGGER_TTL_MS = 3000;
/** Slack: a response_url may be used 5 times within 30 minutes. */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;
/** Slack: at most 3 views in a modal's stack. */
const VIEW_STACK_MAX = 3;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

const truthy = (value: unknown) => value === true || value === 'true' || value === '1' || value === 1;

/** Whether a step answered with Slack's refusal instead of its result. */
const refused = (value: unknown): value is Answer => isObject(value) && value.ok === false;

const fail = (error: string, problems?: string[]): Answer =>
  problems ? { ok: false, error, response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } } : { ok: false, error };

/** Methods that take the app-level token, and only in the Authorization header. */
const APP_LEVEL_METHODS = new Set(['apps.connections.open']);

/** Arguments that Slack takes as JSON, which a form-encoded body carries as a JSON string. */
const JSON_ARGUMENTS = ['blocks', 'view', 'attachments', 'metadata'];

function parseArgs(raw: string, contentType: string | undefined, query: URLSearchParams): Args {
  const args: Args = Object.fromEntries(query.entries());
  if (raw.length === 0) return args;
  if (contentType?.startsWith('application/json')) {
    const body: unknown = JSON.parse(raw);
    if (isObject(body)) Object.assign(args, body);
    return args;
  }
  for (const [key, value] of Object.entries(parseQuery(raw))) args[key] = Array.isArray(value) ? value[0] : value;
  for (const key of JSON_ARGUMENTS) {
    const value = args[key];
    if (typeof value !== 'string') continue;
    try {
      args[key] = JSON.parse(value);
    } catch {
      // Kept as the string it is: the method answers it with Slack's "not valid JSON" error.
    }
  }
  return args;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Seconds east of UTC of a time zone at an instant: Slack's `tz_offset`. */
function tzOffsetSeconds(timeZone: string, at: number): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    .formatToParts(at)
    .find((p) => p.type === 'timeZoneName')?.value;
  const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name ?? '');
  if (!match) return 0;
  const seconds = Number(match[2]) * 3600 + Number(match[3]) * 60;
  return match[1] === '-' ? -seconds : seconds;
}

function tzLabel(timeZone: string, at: number): string {
  return (
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'long' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ??
    timeZone
  );
}

/** The fake Slack Web API. Start it with `FakeSlack.start()`, stop it with `stop()`. */
export class FakeSlack {
  readonly botToken: string;
  readonly appToken: string;
  readonly teamId: string;
  readonly teamDomain: string;
  readonly appId: string;
  readonly botUserId: string;
  readonly botId: string;
  /** Base URL of the server, e.g. `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;
  /** What Bolt's `clientOptions.slackApiUrl` (or `SLACK_API_URL`) takes: `http://127.0.0.1:PORT/api/`. */
  readonly apiUrl: string;
  /** Socket Mode: the app's connections, envelopes to push to it, its acks. */
  readonly socketMode: FakeSocketMode;

  private readonly now: () => number;
  private readonly users = new Map<string, FakeSlackUser>();
  private readonly usergroups = new Map<string, FakeSlackUsergroup>();
  private readonly channels = new Map<string, FakeSlackChannel>();
  private readonly recordedCalls: FakeSlackCall[] = [];
  private readonly channelMessages: FakeSlackMessage[] = [];
  private readonly ephemeralMessages: FakeSlackEphemeral[] = [];
  private readonly modalViews = new Map<string, FakeSlackView>();
  private readonly homeViews = new Map<string, FakeSlackView>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly responseUrls = new Map<string, ResponseUrl>();
  private readonly faults = new Map<string, { fault: Fault; remaining: number }[]>();
  private readonly waiters = new Set<() => void>();
  private sequence = 0;

  private constructor(
    private readonly server: Server,
    options: FakeSlackOptions,
  ) {
    const { port } = server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${port}`;
    this.apiUrl = `${this.baseUrl}/api/`;
    this.botToken = options.botToken ?? 'xoxb-0000-fake-bot-token';
    this.appToken = options.appToken ?? 'xapp-1-A0FAKEAPP-0000-fake-app-token';
    this.teamId = options.teamId ?? 'T0FAKETEAM';
    this.teamDomain = options.teamDomain ?? 'sesame-test';
    this.appId = options.appId ?? 'A0FAKEAPP';
    this.botUserId = options.botUserId ?? 'U0FAKEBOT';
    this.botId = options.botId ?? 'B0FAKEBOT';
    this.now = options.now ?? (() => Date.now());
    for (const user of options.users ?? []) this.addUser(user);
    for (const group of options.usergroups ?? []) this.addUsergroup(group);
    for (const channel of options.channels ?? []) this.addChannel(channel);
    this.socketMode = new FakeSocketMode({
      appId: this.appId,
      wsBase: `ws://127.0.0.1:${port}`,
      notify: () => this.notify(),
      waitFor: (probe, what, timeoutMs) => this.waitFor(probe, what, timeoutMs),
    });
  }

  /** Starts the fake on 127.0.0.1 on a free port. */
  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    let fake: FakeSlack | undefined;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`fake Slack failed: ${String(err)}`);
      });
    });
    server.on('upgrade', (req, socket, head) => fake!.socketMode.upgrade(req, socket, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    fake = new FakeSlack(server, options);
    return fake;
  }

  /** Stops the server and drops open connections (keep-alive and Socket Mode ones included). */
  async stop(): Promise<void> {
    this.socketMode.closeAll();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- the directory -------------------------------------------------------------------------

  addUser(user: FakeSlackUser): void {
    this.users.set(user.id, user);
  }

  addUsergroup(group: FakeSlackUsergroup): void {
    this.usergroups.set(group.id, group);
  }

  addChannel(channel: FakeSlackChannel): void {
    this.channels.set(channel.id, channel);
  }

  /** The user, or an error naming the ID when the directory has no such person. */
  user(id: string): FakeSlackUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`the fake Slack has no user ${id}; add it to the directory`);
    return user;
  }

  /** The ID of the DM between the bot and a user: stable per user, as conversations.open gives it. */
  dmChannelId(userId: string): string {
    return `D${userId.replace(/^[UW]/, '')}`;
  }

  private userOfDm(channel: string): FakeSlackUser | undefined {
    return [...this.users.values()].find((u) => this.dmChannelId(u.id) === channel);
  }

  /** A channel ID, a channel name, a user ID (its DM) or a DM ID, resolved to the channel ID; undefined when unknown. */
  private resolveChannel(channel: unknown): string | undefined {
    if (typeof channel !== 'string' || channel.length === 0) return undefined;
    if (this.channels.has(channel)) return channel;
    if (this.users.has(channel)) return this.dmChannelId(channel);
    if (this.userOfDm(channel)) return channel;
    const name = channel.replace(/^#/, '');
    return [...this.channels.values()].find((c) => c.name === name)?.id;
  }

  // ---- what tests read -----------------------------------------------------------------------

  /** Every Web API call, or those of one method, in the order received. */
  calls(method?: string): FakeSlackCall[] {
    return this.recordedCalls.filter((c) => method === undefined || c.method === method);
  }

  /** Messages in their current state (thread replies inside their parent), oldest first. */
  messages(channel?: string): FakeSlackMessage[] {
    return this.channelMessages.filter((m) => !m.deleted && (channel === undefined || m.channel === channel));
  }

  /** The messages of the bot's DM with a user. */
  dmMessages(userId: string): FakeSlackMessage[] {
    return this.messages(this.dmChannelId(userId));
  }

  /** A message (or thread reply) by channel and ts, in its current state. */
  message(channel: string, ts: string): FakeSlackMessage | undefined {
    for (const m of this.channelMessages) {
      if (m.channel !== channel) continue;
      if (m.ts === ts) return m;
      const reply = m.replies.find((r) => r.ts === ts);
      if (reply) return reply;
    }
    return undefined;
  }

  /** Ephemeral messages still shown, to one person or to all. */
  ephemerals(userId?: string): FakeSlackEphemeral[] {
    return this.ephemeralMessages.filter((e) => !e.deleted && (userId === undefined || e.user === userId));
  }

  /** Modals opened, pushed or updated, in their current state; of one person or of all. */
  views(userId?: string): FakeSlackView[] {
    return [...this.modalViews.values()].filter((v) => userId === undefined || v.userId === userId);
  }

  /** A modal by its ID. */
  view(viewId: string): FakeSlackView | undefined {
    return this.modalViews.get(viewId);
  }

  /** The Home tab last published for a person. */
  homeView(userId: string): FakeSlackView | undefined {
    return this.homeViews.get(userId);
  }

  /**
   * Resolves with the first truthy value `probe` returns, checked now and after every request
   * the fake answers; rejects after `timeoutMs`, naming `what` it waited for.
   */
  waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (!value) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  // ---- what Slack hands out to the app -------------------------------------------------------

  /** A trigger_id for an interaction by `userId`, valid for 3 seconds and one views.open or views.push. */
  issueTrigger(userId: string, viewId?: string): string {
    const id = `${this.nextNumber()}.${this.nextNumber()}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { userId, issuedAt: this.now(), used: false, viewId });
    return id;
  }

  /** A response_url for an interaction: up to 5 uses within 30 minutes. */
  issueResponseUrl(context: ResponseUrlContext): string {
    const id = randomBytes(12).toString('hex');
    this.responseUrls.set(id, { ...context, issuedAt: this.now(), uses: 0 });
    return `${this.baseUrl}/commands/${this.teamId}/${id}`;
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
    this.recordedCalls.push({ method, args, status, response, at: this.now() });
    if (typeof response === 'string') {
      res.writeHead(status, { 'Content-Type': 'text/plain' }).end(response);
    } else {
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(response));
    }
  }

  /** A POST to a response_url: an ephemeral reply by default, or in_channel, replace_original, delete_original. */
  private handleResponseUrl(id: string, raw: string, res: ServerResponse): void {
    let body: Args = {};
    const reply = (status: number, answer: Answer) => {
      this.recordedCalls.push({ method: 'response_url', args: { id, ...body }, status, response: answer, at: this.now() });
      res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(answer));
    };
    const target = this.responseUrls.get(id);
    if (!target) return reply(404, fail('no_such_url'));
    if (this.now() - target.issuedAt > RESPONSE_URL_TTL_MS) return reply(404, fail('expired_url'));
    if (target.uses >= RESPONSE_URL_USES) return reply(404, fail('used_url'));
    try {
      const parsed: unknown = JSON.parse(raw);
      if (!isObject(parsed)) return reply(400, fail('invalid_json'));
      body = parsed;
    } catch {
      return reply(400, fail('invalid_json'));
    }
    target.uses += 1;
    if (truthy(body.delete_original)) {
      const original = this.originalOf(target);
      if (!original) return reply(404, fail('message_not_found'));
      original.deleted = true;
      return reply(200, { ok: true });
    }
    const problems = validateMessage(body);
    if (problems.length > 0) return reply(400, fail('invalid_blocks', problems));
    const content = { text: typeof body.text === 'string' ? body.text : '', blocks: Array.isArray(body.blocks) ? body.blocks : [] };
    if (truthy(body.replace_original)) {
      const original = this.originalOf(target);
      if (!original) return reply(404, fail('message_not_found'));
      this.edit(original, content);
      return reply(200, { ok: true });
    }
    if (body.response_type === 'in_channel') {
      const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
      const posted = this.post(target.channel, content, threadTs, 'response_url');
      if (refused(posted)) return reply(404, posted);
      return reply(200, { ok: true });
    }
    this.ephemeralMessages.push({
      channel: target.channel,
      user: target.userId,
      ts: this.nextTs(),
      ...content,
      edits: [],
      deleted: false,
      via: 'response_url',
    });
    return reply(200, { ok: true });
  }

  /** Replaces a message's content, keeping the version before it. */
  private edit(message: FakeSlackMessage | FakeSlackEphemeral, content: { text: string; blocks: unknown[] }): void {
    message.edits.push({ text: message.text, blocks: message.blocks });
    Object.assign(message, content);
  }

  private originalOf(target: ResponseUrl): FakeSlackMessage | FakeSlackEphemeral | undefined {
    if (target.ephemeralTs) return this.ephemeralMessages.find((e) => e.ts === target.ephemeralTs && !e.deleted);
    if (target.messageTs) {
      const message = this.message(target.channel, target.messageTs);
      return message && !message.deleted ? message : undefined;
    }
    return undefined;
  }

  // ---- the Web API methods -------------------------------------------------------------------

  private nextNumber(): number {
    this.sequence += 1;
    return this.sequence;
  }

  /** A message timestamp: Slack's `seconds.micro` form, unique and increasing. */
  private nextTs(): string {
    return `${Math.floor(this.now() / 1000)}.${String(this.nextNumber()).padStart(6, '0')}`;
  }

  private post(
    channelArg: unknown,
    content: { text: string; blocks: unknown[] },
    threadTs: string | undefined,
    via: FakeSlackMessage['via'],
  ): FakeSlackMessage | Answer {
    const channel = this.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    const message: FakeSlackMessage = {
      channel,
      ts: this.nextTs(),
      ...content,
      user: this.botUserId,
      edits: [],
      replies: [],
      deleted: false,
      via,
    };
    if (threadTs !== undefined) {
      const parent = this.channelMessages.find((m) => m.channel === channel && m.ts === threadTs && !m.deleted);
      // Slack would post a reply to a missing parent on its own; a reply that lands nowhere is a bug worth a failure here.
      if (!parent) return fail('thread_not_found');
      message.threadTs = threadTs;
      parent.replies.push(message);
    } else {
      this.channelMessages.push(message);
    }
    return message;
  }

  /** The message fields of chat.* arguments, or the error Slack answers for them. */
  private messageContent(args: Args): { text: string; blocks: unknown[] } | Answer {
    if (args.blocks !== undefined && !Array.isArray(args.blocks)) return fail('invalid_blocks_format');
    const text = typeof args.text === 'string' ? args.text : '';
    const blocks = (args.blocks as unknown[] | undefined) ?? [];
    if (text.length === 0 && blocks.length === 0) return fail('no_text');
    const blockProblems = validateBlocks(blocks, 'message');
    if (blockProblems.length > 0) return fail('invalid_blocks', blockProblems);
    const textProblems = validateMessage({ text });
    if (textProblems.length > 0) return fail('msg_too_long', textProblems);
    return { text, blocks };
  }

  /** A message as Slack shows it in API answers and interaction payloads. */
  messagePayload(m: FakeSlackMessage): Record<string, unknown> {
    return {
      type: 'message',
      user: m.user,
      bot_id: this.botId,
      app_id: this.appId,
      team: this.teamId,
      text: m.text,
      blocks: m.blocks,
      ts: m.ts,
      ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
      ...(m.edits.length > 0 ? { edited: { user: m.user, ts: m.ts } } : {}),
    };
  }

  private userPayload(user: FakeSlackUser): Record<string, unknown> {
    const tz = user.tz ?? 'UTC';
    return {
      id: user.id,
      team_id: this.teamId,
      name: user.name,
      real_name: user.realName ?? user.name,
      deleted: user.deleted ?? false,
      is_bot: user.isBot ?? false,
      tz,
      tz_label: tzLabel(tz, this.now()),
      tz_offset: tzOffsetSeconds(tz, this.now()),
      profile: {
        real_name: user.realName ?? user.name,
        display_name: user.name,
        ...(user.email ? { email: user.email } : {}),
      },
    };
  }

  /** The view object Slack answers views.* with and puts in interaction payloads. */
  viewPayload(v: FakeSlackView, stateValues: Record<string, unknown> = {}): Record<string, unknown> {
    return {
      id: v.id,
      team_id: this.teamId,
      type: v.type,
      private_metadata: '',
      callback_id: '',
      external_id: v.externalId ?? '',
      clear_on_close: false,
      notify_on_close: false,
      ...v.view,
      state: { values: stateValues },
      hash: v.hash,
      root_view_id: v.rootViewId,
      previous_view_id: v.previousViewId,
      app_id: this.appId,
      bot_id: this.botId,
    };
  }

  /** Parses and checks a `view` argument; the view object or the error Slack answers. */
  private checkedView(arg: unknown, type: 'modal' | 'home'): Record<string, unknown> | Answer {
    if (!isObject(arg)) return fail('invalid_arguments', ['view: view must be a JSON object']);
    const problems = validateView(arg);
    if (arg.type !== type) problems.push(`view.type: this method takes a ${type} view`);
    if (problems.length > 0) return fail('invalid_arguments', problems);
    return arg;
  }

  private exchangeTrigger(id: unknown): Trigger | Answer {
    if (typeof id !== 'string' || id.length === 0) return fail('invalid_arguments', ['trigger_id: trigger_id is required']);
    const trigger = this.triggers.get(id);
    if (!trigger) return fail('invalid_trigger_id');
    if (trigger.used) return fail('exchanged_trigger_id');
    if (this.now() - trigger.issuedAt >= TRIGGER_TTL_MS) return fail('expired_trigger_id');
    trigger.used = true;
    return trigger;
  }

  private newView(type: 'modal' | 'home', userId: string, view: Record<string, unknown>, root?: FakeSlackView): FakeSlackView {
    const id = `V${String(this.nextNumber()).padStart(8, '0')}`;
    return {
      id,
      type,
      userId,
      view,
      versions: [view],
      hash: `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      rootViewId: root?.rootViewId ?? id,
      previousViewId: root ? root.id : null,
      externalId: typeof view.external_id === 'string' ? view.external_id : undefined,
      closed: false,
    };
  }

  private replaceView(target: FakeSlackView, view: Record<string, unknown>): void {
    target.view = view;
    target.versions.push(view);
    target.hash = `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`;
  }

  /**
   * Applies what an app answered a view_submission with (`response_action` update, push, clear
   * or errors), as Slack would. Returns the problems when the answered view breaks a rule.
   */
  applyViewSubmissionResponse(viewId: string, ack: unknown): string[] {
    const current = this.modalViews.get(viewId);
    if (!current) return [`no modal ${viewId}`];
    if (!isObject(ack) || ack.response_action === undefined) {
      current.closed = true;
      return [];
    }
    switch (ack.response_action) {
      case 'update':
      case 'push': {
        const problems = validateView(ack.view);
        if (problems.length > 0) return problems;
        const view = ack.view as Record<string, unknown>;
        if (ack.response_action === 'update') this.replaceView(current, view);
        else {
          const pushed = this.newView('modal', current.userId, view, current);
          this.modalViews.set(pushed.id, pushed);
        }
        return [];
      }
      case 'clear':
        for (const v of this.modalViews.values()) if (v.rootViewId === current.rootViewId) v.closed = true;
        return [];
      case 'errors':
        return isObject(ack.errors) ? [] : ['errors must map block_ids to messages'];
      default:
        return [`unknown response_action ${JSON.stringify(ack.response_action)}`];
    }
  }

  private readonly methods: Record<string, (args: Args) => Answer> = {
    'apps.connections.open': () => ({ ok: true, url: this.socketMode.issueUrl() }),

    'auth.test': () => ({
      ok: true,
      url: `https://${this.teamDomain}.slack.com/`,
      team: this.teamDomain,
      user: 'sesame',
      team_id: this.teamId,
      user_id: this.botUserId,
      bot_id: this.botId,
      is_enterprise_install: false,
    }),

    'chat.postMessage': (args) => {
      const content = this.messageContent(args);
      if (refused(content)) return content;
      const threadTs = typeof args.thread_ts === 'string' && args.thread_ts.length > 0 ? args.thread_ts : undefined;
      const posted = this.post(args.channel, content, threadTs, 'chat.postMessage');
      if (refused(posted)) return posted;
      return { ok: true, channel: posted.channel, ts: posted.ts, message: this.messagePayload(posted) };
    },

    'chat.update': (args) => {
      const channel = this.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const message = typeof args.ts === 'string' ? this.message(channel, args.ts) : undefined;
      if (!message || message.deleted) return fail('message_not_found');
      const content = this.messageContent({
        text: args.text ?? message.text,
        blocks: args.blocks ?? message.blocks,
      });
      if (refused(content)) return content;
      this.edit(message, content);
      return { ok: true, channel, ts: message.ts, text: message.text, message: this.messagePayload(message) };
    },

    'chat.delete': (args) => {
      const channel = this.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const message = typeof args.ts === 'string' ? this.message(channel, args.ts) : undefined;
      if (!message || message.deleted) return fail('message_not_found');
      message.deleted = true;
      return { ok: true, channel, ts: message.ts };
    },

    'chat.postEphemeral': (args) => {
      const channel = this.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      if (typeof args.user !== 'string' || !this.users.has(args.user)) return fail('user_not_found');
      const content = this.messageContent(args);
      if (refused(content)) return content;
      const ts = this.nextTs();
      this.ephemeralMessages.push({ channel, user: args.user, ts, ...content, edits: [], deleted: false, via: 'chat.postEphemeral' });
      return { ok: true, message_ts: ts };
    },

    'chat.getPermalink': (args) => {
      const channel = this.resolveChannel(args.channel);
      if (!channel) return fail('channel_not_found');
      const message = typeof args.message_ts === 'string' ? this.message(channel, args.message_ts) : undefined;
      if (!message || message.deleted) return fail('message_not_found');
      return { ok: true, channel, permalink: `https://${this.teamDomain}.slack.com/archives/${channel}/p${message.ts.replace('.', '')}` };
    },

    'conversations.open': (args) => {
      if (typeof args.channel === 'string') {
        const channel = this.resolveChannel(args.channel);
        return channel ? { ok: true, channel: { id: channel } } : fail('channel_not_found');
      }
      const ids =
        typeof args.users === 'string'
          ? args.users
              .split(',')
              .map((u) => u.trim())
              .filter(Boolean)
          : [];
      if (ids.length === 0) return fail('users_list_not_supplied');
      if (ids.length > 1) return fail('not_supported');
      const user = this.users.get(ids[0]!);
      if (!user) return fail('user_not_found');
      const id = this.dmChannelId(user.id);
      return { ok: true, channel: truthy(args.return_im) ? { id, is_im: true, user: user.id } : { id } };
    },

    'views.open': (args) => {
      const trigger = this.exchangeTrigger(args.trigger_id);
      if (refused(trigger)) return trigger;
      const view = this.checkedView(args.view, 'modal');
      if (refused(view)) return view;
      const opened = this.newView('modal', trigger.userId, view);
      this.modalViews.set(opened.id, opened);
      return { ok: true, view: this.viewPayload(opened) };
    },

    'views.push': (args) => {
      const trigger = this.exchangeTrigger(args.trigger_id);
      if (refused(trigger)) return trigger;
      const view = this.checkedView(args.view, 'modal');
      if (refused(view)) return view;
      const under = trigger.viewId
        ? this.modalViews.get(trigger.viewId)
        : this.views(trigger.userId)
            .filter((v) => !v.closed)
            .at(-1);
      if (!under) return fail('not_found');
      const stackSize = this.views(trigger.userId).filter((v) => v.rootViewId === under.rootViewId && !v.closed).length;
      if (stackSize >= VIEW_STACK_MAX) return fail('push_limit_reached');
      const pushed = this.newView('modal', trigger.userId, view, under);
      this.modalViews.set(pushed.id, pushed);
      return { ok: true, view: this.viewPayload(pushed) };
    },

    'views.update': (args) => {
      const target =
        typeof args.view_id === 'string'
          ? this.modalViews.get(args.view_id)
          : typeof args.external_id === 'string'
            ? this.views().find((v) => v.externalId === args.external_id)
            : undefined;
      if (!target) return fail('not_found');
      if (typeof args.hash === 'string' && args.hash !== target.hash) return fail('hash_conflict');
      const view = this.checkedView(args.view, 'modal');
      if (refused(view)) return view;
      this.replaceView(target, view);
      return { ok: true, view: this.viewPayload(target) };
    },

    'views.publish': (args) => {
      if (typeof args.user_id !== 'string' || !this.users.has(args.user_id)) return fail('user_not_found');
      const view = this.checkedView(args.view, 'home');
      if (refused(view)) return view;
      const current = this.homeViews.get(args.user_id);
      if (current && typeof args.hash === 'string' && args.hash !== current.hash) return fail('hash_conflict');
      if (current) this.replaceView(current, view);
      else this.homeViews.set(args.user_id, this.newView('home', args.user_id, view));
      return { ok: true, view: this.viewPayload(this.homeViews.get(args.user_id)!) };
    },

    'users.info': (args) => {
      const user = typeof args.user === 'string' ? this.users.get(args.user) : undefined;
      return user ? { ok: true, user: this.userPayload(user) } : fail('user_not_found');
    },

    'users.lookupByEmail': (args) => {
      const email = typeof args.email === 'string' ? args.email.toLowerCase() : '';
      const user = [...this.users.values()].find((u) => u.email?.toLowerCase() === email && !u.deleted);
      return user ? { ok: true, user: this.userPayload(user) } : fail('users_not_found');
    },

    'usergroups.list': (args) => ({
      ok: true,
      usergroups: [...this.usergroups.values()].map((g) => ({
        id: g.id,
        team_id: this.teamId,
        is_usergroup: true,
        name: g.name ?? g.handle,
        handle: g.handle,
        user_count: g.members.length,
        ...(truthy(args.include_users) ? { users: [...g.members] } : {}),
      })),
    }),

    'usergroups.users.list': (args) => {
      const group = typeof args.usergroup === 'string' ? this.usergroups.get(args.usergroup) : undefined;
      return group ? { ok: true, users: [...group.members] } : fail('no_such_subteam');
    },
  };
}
