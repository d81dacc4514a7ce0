/**
 * What the playground's page reads and sends: the JSON of `/api/*` on the playground's own HTTP
 * server. The page renders Slack from `PlaygroundState` and turns each click, selection and
 * submission into one of the requests below; the server hands those to the Slack stand-in, which
 * sends the bot exactly what Slack would (signed), and answers `{ ok: true }` or
 * `{ ok: false, error }` with an HTTP status of 400 for bad input.
 *
 * `GET /api/events` is a Server-Sent Events stream: one `change` event whenever anything the
 * state shows may have changed (a message, a view, an audit event); the page then fetches
 * `GET /api/state` again.
 */

/** A Block Kit message as the person sees it now (its latest edit), with its thread. */
export interface PageMessage {
  channel: string;
  ts: string;
  /** Slack user ID of the author: the bot's, or a person's. */
  user: string;
  text: string;
  blocks: unknown[];
  edited: boolean;
  replies: PageMessage[];
}

/** A message only one person sees ("Only visible to you"). */
export interface PageEphemeral {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
}

/** A modal or a Home tab: `view` is Slack's view object as the bot last set it. */
export interface PageView {
  id: string;
  type: 'modal' | 'home';
  view: Record<string, unknown>;
  /** A modal's errors from the app's answer to its last submission, by block_id: shown under those inputs. */
  errors?: Record<string, string>;
}

export interface PagePerson {
  id: string;
  name: string;
  /** What the person is in the sample: who asks, who approves, who administers. */
  role: 'requester' | 'approver' | 'admin';
  email: string;
  /** The DM between the person and the bot, oldest first. */
  dm: PageMessage[];
  /** Ephemeral replies to the person, oldest first. */
  ephemeral: PageEphemeral[];
  /** The App Home, once opened. */
  home: PageView | null;
  /** Open modals, the bottom of the stack first. */
  modals: PageView[];
}

export interface PageAuditEvent {
  at: string;
  action: string;
  actor: string;
  requestId?: string;
  integration?: string;
  details?: Record<string, unknown>;
}

export interface PlaygroundState {
  /** For the banner: where the data lives (a temporary folder) and the address served. */
  banner: { dataDir: string; address: string };
  /** The slash command, e.g. `/access`. */
  command: string;
  botUserId: string;
  people: PagePerson[];
  approvals: { id: string; name: string; messages: PageMessage[] };
  /** The newest audit events, oldest first (at most 200). */
  audit: PageAuditEvent[];
  /** How to reach the sample database from the SQL box (no secret). */
  database: { host: string; port: number; database: string };
}

/** Where an action happened. */
export type PageSurface =
  | { kind: 'message'; channel: string; ts: string }
  | { kind: 'ephemeral'; channel: string; ts: string }
  | { kind: 'view'; viewId: string };

/** `POST /api/command`: the person typed `/access …` in the composer. */
export interface CommandBody {
  user: string;
  text: string;
}

/** `POST /api/action`: a button click, or a choice in a select that dispatches an action. */
export interface ActionBody {
  user: string;
  surface: PageSurface;
  actionId: string;
  blockId?: string;
  /** For a select: the chosen option's value. */
  selectedValue?: string;
}

/** A modal input's value as the page read it. */
export type PageInputValue = string | null | string[];

/** `POST /api/submit`: the person pressed the modal's submit button. */
export interface SubmitBody {
  user: string;
  viewId: string;
  /** `block_id` → `action_id` → value (text, the chosen option's value, or values). */
  values: Record<string, Record<string, PageInputValue>>;
}

/** `POST /api/close`: the person closed the top modal (X or Cancel). */
export interface CloseBody {
  user: string;
  viewId: string;
}

/** `POST /api/options`: an external select asks for options while the person types. Answers `{ ok, options }`. */
export interface OptionsBody {
  user: string;
  viewId: string;
  actionId: string;
  blockId: string;
  query: string;
  /** The modal's current values, as in SubmitBody, so dependent pickers see the earlier choices. */
  values: Record<string, Record<string, PageInputValue>>;
}

export interface PageOption {
  text: string;
  value: string;
}

/** `POST /api/home`: the person opened the App Home tab. */
export interface HomeBody {
  user: string;
}

/**
 * `POST /api/sql`: runs one statement on the sample server as a database user, with the
 * credentials the person copied from *Show credentials*. Answers `{ ok: true, columns, rows,
 * command }` or `{ ok: false, error }` with PostgreSQL's message.
 */
export interface SqlBody {
  username: string;
  password: string;
  database: string;
  sql: string;
}

export interface SqlAnswer {
  ok: true;
  command: string;
  columns: string[];
  rows: unknown[][];
}
