/**
 * What the Slack stand-in keeps and hands out: its workspace's people, groups and channels, the
 * messages, ephemerals and views the app made, the Web API calls it answered, and Slack's answer
 * shapes and documented limits (trigger_id and response_url lifetimes, the modal stack's depth).
 */
import { isObject } from './blockKitLimits.ts';

/** A person in the workspace. */
export interface StandInUser {
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
export interface StandInUsergroup {
  id: string;
  handle: string;
  name?: string;
  members: string[];
}

/** A channel messages can be posted to; DMs need no entry. */
export interface StandInChannel {
  id: string;
  name: string;
}

export interface SlackStandInOptions {
  /** The only token the stand-in accepts, but for apps.connections.open. */
  botToken?: string;
  /** The app-level token (`xapp-…`), the only one apps.connections.open accepts. */
  appToken?: string;
  teamId?: string;
  teamDomain?: string;
  appId?: string;
  botUserId?: string;
  botId?: string;
  users?: StandInUser[];
  usergroups?: StandInUsergroup[];
  channels?: StandInChannel[];
  /** The clock trigger and response_url expiry are measured with; a test may move it instead of sleeping. */
  now?: () => number;
  /** The loopback port to listen on; a free one when left out. */
  port?: number;
}

/** One request to a Web API method, as the stand-in received and answered it. Tokens are left out. */
export interface StandInCall {
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
export interface StandInMessage {
  channel: string;
  ts: string;
  threadTs?: string;
  text: string;
  blocks: unknown[];
  user: string;
  edits: { text: string; blocks: unknown[] }[];
  replies: StandInMessage[];
  deleted: boolean;
  via: 'chat.postMessage' | 'response_url';
}

/** A message only one person sees. */
export interface StandInEphemeral {
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
export interface StandInView {
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
  /** The errors the app answered the last submission with, by block_id, shown under those inputs until the view changes. */
  errors?: Record<string, string>;
}

/** Where a response_url answers to: the channel and person, and the message the interaction came from. */
export interface ResponseUrlContext {
  channel: string;
  userId: string;
  messageTs?: string;
  ephemeralTs?: string;
}

export type Fault =
  | { kind: 'rate_limited'; retryAfterSeconds: number }
  | { kind: 'http_error'; status: number }
  | { kind: 'error'; error: string };

export type Answer = { ok: true; [key: string]: unknown } | { ok: false; error: string; [key: string]: unknown };
export type Args = Record<string, unknown>;

export interface Trigger {
  userId: string;
  issuedAt: number;
  used: boolean;
  viewId?: string;
}

export interface ResponseUrl extends ResponseUrlContext {
  issuedAt: number;
  uses: number;
}

/** Slack: a trigger_id must be exchanged within 3 seconds of the interaction. */
export const TRIGGER_TTL_MS = 3000;
/** Slack: a response_url may be used 5 times within 30 minutes. */
export const RESPONSE_URL_USES = 5;
export const RESPONSE_URL_TTL_MS = 30 * 60_000;
/** Slack: at most 3 views in a modal's stack. */
export const VIEW_STACK_MAX = 3;

export { isObject };

export const truthy = (value: unknown) => value === true || value === 'true' || value === '1' || value === 1;

/** Whether a step answered with Slack's refusal instead of its result. */
export const refused = (value: unknown): value is Answer => isObject(value) && value.ok === false;

export const fail = (error: string, problems?: string[]): Answer =>
  problems ? { ok: false, error, response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) } } : { ok: false, error };

/** Methods that take the app-level token, and only in the Authorization header. */
export const APP_LEVEL_METHODS = new Set(['apps.connections.open']);

/** Arguments that Slack takes as JSON, which a form-encoded body carries as a JSON string. */
export const JSON_ARGUMENTS = ['blocks', 'view', 'attachments', 'metadata'];

/** A Web API method: its arguments in, Slack's answer out. */
export type WebApiMethods = Record<string, (args: Args) => Answer>;
