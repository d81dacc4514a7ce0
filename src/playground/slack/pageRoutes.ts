/**
 * The Slack part of the playground page's API (src/playground/pageApi.ts): what the page shows of
 * Slack (each person's DM, ephemerals, Home tab and open modals, and the approvals channel) read
 * from the Slack stand-in, and what a person does on the page (a slash command, a click, a modal
 * submitted or closed, an external select typed into, the Home tab opened) sent to the bot
 * exactly as Slack sends it, signed, through the app driver.
 *
 * The playground's server owns the routes; it hands `/api/command`, `/api/action`,
 * `/api/submit`, `/api/close`, `/api/options` and `/api/home` to `handle`, merges `state()`
 * into `GET /api/state`, and pushes a `change` event on its SSE stream whenever `onChange` fires.
 */
import type { PagePerson, PlaygroundState } from '../pageApi.ts';
import type { AppDriver } from './AppDriver.ts';
import { BadPageRequest, PageActions } from './pageActions.ts';
import { slackPageState } from './pageState.ts';
import type { SlackStandIn } from './SlackStandIn.ts';
import { isObject } from './standInModel.ts';

/** A person of the sample workspace, as the page lists them. */
export type PlaygroundPerson = Pick<PagePerson, 'id' | 'name' | 'role' | 'email'>;

export interface PageRoutesOptions {
  standIn: SlackStandIn;
  /** Delivers to the bot what Slack would (over signed HTTP, or Socket Mode). */
  driver: AppDriver<unknown>;
  /** The people the page shows, in its order; each must be in the stand-in's directory. */
  people: readonly PlaygroundPerson[];
  /** The channel approvals are posted to: its ID and name. */
  approvalsChannel: { id: string; name: string };
  /** The slash command, e.g. `/access`. */
  command: string;
}

/** The part of `PlaygroundState` that comes from Slack. */
export type SlackPageState = Pick<PlaygroundState, 'command' | 'botUserId' | 'people' | 'approvals'>;

/** What the server answers a request with: an HTTP status and the JSON body. */
export interface PageAnswer {
  status: number;
  json: { ok: true; [key: string]: unknown } | { ok: false; error: string };
}

export interface PageRoutes {
  /** What the page shows of Slack now. */
  state(): SlackPageState;
  /**
   * Handles one of `/api/command`, `/api/action`, `/api/submit`, `/api/close`, `/api/options`,
   * `/api/home` with its parsed JSON body: 200 `{ ok: true }` (with `options` for
   * `/api/options`), 400 `{ ok: false, error }` for bad input (nothing is sent to the bot then),
   * 404 for any other path, 502 when the bot did not take what was sent.
   */
  handle(path: string, body: unknown): Promise<PageAnswer>;
  /** Calls `listener` whenever the stand-in records a message, an edit, a view or a Home tab; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

type Handler = (actions: PageActions, body: never) => Promise<PageAnswer>;

const ROUTES: Record<string, Handler> = {
  '/api/command': (a, body) => a.command(body),
  '/api/action': (a, body) => a.action(body),
  '/api/submit': (a, body) => a.submit(body),
  '/api/close': (a, body) => a.close(body),
  '/api/options': (a, body) => a.options_(body),
  '/api/home': (a, body) => a.home(body),
};

export function createPageRoutes(options: PageRoutesOptions): PageRoutes {
  const actions = new PageActions(options);
  return {
    state: () => slackPageState(options),
    async handle(path, body) {
      const route = ROUTES[path];
      if (!route) return { status: 404, json: { ok: false, error: `no route ${path}` } };
      if (!isObject(body)) return { status: 400, json: { ok: false, error: 'the body must be a JSON object' } };
      try {
        return await route(actions, body as never);
      } catch (err) {
        if (err instanceof BadPageRequest) return { status: 400, json: { ok: false, error: err.message } };
        return { status: 502, json: { ok: false, error: `the app could not be reached: ${(err as Error).message}` } };
      }
    },
    onChange: (listener) => options.standIn.onChange(listener),
  };
}
