/**
 * Drives a Bolt HTTP endpoint (`/slack/events`) the way Slack does: slash commands and
 * interactivity as `application/x-www-form-urlencoded` bodies (interactivity as one `payload=`
 * field of JSON), Events API callbacks as JSON, each signed as Slack's "Verifying requests from
 * Slack" describes: `X-Slack-Request-Timestamp` and `X-Slack-Signature: v0=` + the hex
 * HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed with the signing secret.
 *
 * trigger_ids and response_urls come from the FakeSlack the app talks to, so what the app does
 * with them (views.open, respond()) lands in the fake. `forged` and `stale` give the same driver
 * with a wrong signature or a timestamp six minutes old, for proving the app refuses them.
 */
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { validateOptionsResponse } from './blockKitRules.ts';
import type { FakeSlack, FakeSlackEphemeral, FakeSlackMessage, FakeSlackView } from './FakeSlack.ts';

export interface SlackDriverOptions {
  /** The app's events URL, e.g. `http://127.0.0.1:PORT/slack/events`. */
  url: string;
  signingSecret: string;
  fakeSlack: FakeSlack;
}

/** The app's HTTP acknowledgement and how long it took. */
export interface SlackAck {
  status: number;
  /** The raw response body ('' for a bare ack()). */
  body: string;
  /** The body parsed, when the app answered JSON. */
  json: unknown;
  /** Milliseconds from sending the request to the whole response (Slack gives up after 3,000). */
  ms: number;
}

/** A picked option as select menus carry it. */
export interface SelectedOption {
  text: string;
  value: string;
}

/**
 * What a person entered in a modal, by action_id: a string for text inputs, select menus (the
 * option value), users/conversations/channels selects, date and time pickers; an array for
 * multi-selects and checkboxes; null for an input left empty.
 */
export type FormValues = Record<string, string | number | null | string[] | SelectedOption | SelectedOption[]>;

/** Something the person sees and can click in: a message, an ephemeral message or a view. */
export type Surface = FakeSlackMessage | FakeSlackEphemeral | FakeSlackView;

export interface SlashCommandInput {
  userId: string;
  text: string;
  /** Defaults to `/access`. */
  command?: string;
  /** Defaults to the person's DM with the app. */
  channelId?: string;
  channelName?: string;
}

export interface BlockActionInput {
  userId: string;
  actionId: string;
  /** The value sent; defaults to the value the element carries in `message` or `view`. */
  value?: string;
  blockId?: string;
  /** The message (or ephemeral message) the element is in. */
  message?: FakeSlackMessage | FakeSlackEphemeral;
  /** The modal or Home tab the element is in. */
  view?: FakeSlackView;
  /** Current input state of the view, by action_id, as Slack sends it along. */
  values?: FormValues;
}

export interface ViewSubmissionInput {
  userId: string;
  view: FakeSlackView;
  values: FormValues;
}

export interface BlockSuggestionInput {
  userId: string;
  actionId: string;
  /** What the person typed. */
  value: string;
  view: FakeSlackView;
  /** What the form holds so far (Slack sends the view's state with every options request). */
  values?: FormValues;
}

type Signing = 'valid' | 'forged' | 'stale';

/** Slack refuses requests whose timestamp is more than five minutes off; six is clearly stale. */
const STALE_BY_SECONDS = 6 * 60;

/** The deprecated verification token Slack still sends in every body. */
const VERIFICATION_TOKEN = 'fake-verification-token';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const plainText = (text: string) => ({ type: 'plain_text', text, emoji: true });

/** Every element of a list of blocks with the block it sits in (actions, section accessory, input). */
function* elementsOf(blocks: unknown[]): Generator<{ block: Json; element: Json }> {
  for (const block of blocks) {
    if (!isObject(block)) continue;
    const elements = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory, block.element];
    for (const element of elements) if (isObject(element)) yield { block, element };
  }
}

/** Blocks with a block_id on each, as Slack fills in the ones an app leaves out. */
function withBlockIds(blocks: unknown[]): Json[] {
  return blocks.filter(isObject).map((block, i) => (typeof block.block_id === 'string' ? block : { ...block, block_id: `block-${i}` }));
}

function optionsOf(element: Json): Json[] {
  const groups = Array.isArray(element.option_groups) ? element.option_groups.filter(isObject) : [];
  const options = [...(Array.isArray(element.options) ? element.options : []), ...groups.flatMap((g) => (Array.isArray(g.options) ? g.options : []))];
  return options.filter(isObject);
}

/** The option with `value` among the element's own options, or one made up for an external select. */
function optionFor(element: Json, picked: string | SelectedOption): Json {
  const value = typeof picked === 'string' ? picked : picked.value;
  const own = optionsOf(element).find((o) => o.value === value);
  if (own) return own;
  if (String(element.type).includes('external')) {
    return { text: plainText(typeof picked === 'string' ? picked : picked.text), value };
  }
  throw new Error(`${String(element.action_id)} has no option with value ${JSON.stringify(value)}`);
}

/** One element's state as Slack reports it in `view.state.values`. */
function elementState(element: Json, entered: FormValues[string] | undefined): Json {
  const type = String(element.type);
  const many = <T>(f: (v: string | SelectedOption) => T): T[] => (Array.isArray(entered) ? entered.map(f) : []);
  const one = entered === undefined || entered === null ? null : entered;
  const text = typeof one === 'string' || typeof one === 'number' ? String(one) : null;
  const picked = /^(multi_)?(user|conversation|channel)s_select$/.exec(type);
  if (picked) return picked[1] ? { type, [`selected_${picked[2]}s`]: many(String) } : { type, [`selected_${picked[2]}`]: text };
  switch (type) {
    case 'static_select':
    case 'external_select':
    case 'radio_buttons':
      return { type, selected_option: one === null ? null : optionFor(element, one as string | SelectedOption) };
    case 'multi_static_select':
    case 'multi_external_select':
    case 'checkboxes':
      return { type, selected_options: many((v) => optionFor(element, v)) };
    case 'datepicker':
      return { type, selected_date: text };
    case 'timepicker':
      return { type, selected_time: text };
    case 'datetimepicker':
      return { type, selected_date_time: one === null ? null : Number(one) };
    default:
      return { type, value: text };
  }
}

/**
 * `view.state.values` for a view's input blocks, `{ [block_id]: { [action_id]: state } }`,
 * with `values` keyed by action_id. A value for an action_id the view does not have is a test bug.
 */
function stateValues(blocks: Json[], values: FormValues = {}): Json {
  const state: Record<string, Json> = {};
  const known = new Set<string>();
  for (const block of blocks) {
    if (block.type !== 'input' || !isObject(block.element)) continue;
    const actionId = String(block.element.action_id);
    known.add(actionId);
    state[String(block.block_id)] = { [actionId]: elementState(block.element, values[actionId]) };
  }
  const unknown = Object.keys(values).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new Error(`the view has no input with action_id ${unknown.join(', ')}; it has ${[...known].join(', ') || 'none'}`);
  }
  return state;
}

function isView(surface: Surface): surface is FakeSlackView {
  return 'rootViewId' in surface;
}

function isEphemeral(surface: Surface): surface is FakeSlackEphemeral {
  return !isView(surface) && !('replies' in surface);
}

function blocksOf(surface: Surface): unknown[] {
  if (!isView(surface)) return surface.blocks;
  return Array.isArray(surface.view.blocks) ? surface.view.blocks : [];
}

/** Sends what Slack sends to a Bolt app's events endpoint, signed. */
export class SlackDriver {
  private readonly signing: Signing;

  constructor(
    private readonly options: SlackDriverOptions,
    signing: Signing = 'valid',
  ) {
    this.signing = signing;
  }

  /** The same driver, signing with a wrong secret. */
  get forged(): SlackDriver {
    return new SlackDriver(this.options, 'forged');
  }

  /** The same driver, with a timestamp six minutes old (correctly signed). */
  get stale(): SlackDriver {
    return new SlackDriver(this.options, 'stale');
  }

  private get fake(): FakeSlack {
    return this.options.fakeSlack;
  }

  private userRef(userId: string) {
    const user = this.fake.user(userId);
    return { id: user.id, username: user.name, name: user.name, team_id: this.fake.teamId };
  }

  private team() {
    return { id: this.fake.teamId, domain: this.fake.teamDomain };
  }

  /** Signs and POSTs a raw body, returning the ack and its latency. */
  async send(body: string, contentType: 'application/x-www-form-urlencoded' | 'application/json'): Promise<SlackAck> {
    const timestamp = Math.floor(Date.now() / 1000) - (this.signing === 'stale' ? STALE_BY_SECONDS : 0);
    const secret = this.signing === 'forged' ? `${this.options.signingSecret}-forged` : this.options.signingSecret;
    const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const started = performance.now();
    const res = await fetch(this.options.url, {
      method: 'POST',
      headers: { 'Content-Type': contentType, 'X-Slack-Request-Timestamp': String(timestamp), 'X-Slack-Signature': signature },
      body,
    });
    const text = await res.text();
    const ms = performance.now() - started;
    let json: unknown;
    if (res.headers.get('content-type')?.includes('json') && text.length > 0) json = JSON.parse(text);
    return { status: res.status, body: text, json, ms };
  }

  private sendForm(fields: Record<string, string>): Promise<SlackAck> {
    return this.send(new URLSearchParams(fields).toString(), 'application/x-www-form-urlencoded');
  }

  private sendPayload(payload: Json): Promise<SlackAck> {
    return this.sendForm({ payload: JSON.stringify(payload) });
  }

  /** A slash command, with the fields in the order Slack sends them. */
  async slashCommand(input: SlashCommandInput): Promise<SlackAck & { triggerId: string; responseUrl: string }> {
    const user = this.fake.user(input.userId);
    const channelId = input.channelId ?? this.fake.dmChannelId(user.id);
    const triggerId = this.fake.issueTrigger(user.id);
    const responseUrl = this.fake.issueResponseUrl({ channel: channelId, userId: user.id });
    const ack = await this.sendForm({
      token: VERIFICATION_TOKEN,
      team_id: this.fake.teamId,
      team_domain: this.fake.teamDomain,
      channel_id: channelId,
      channel_name: input.channelName ?? (channelId.startsWith('D') ? 'directmessage' : channelId),
      user_id: user.id,
      user_name: user.name,
      command: input.command ?? '/access',
      text: input.text,
      api_app_id: this.fake.appId,
      is_enterprise_install: 'false',
      response_url: responseUrl,
      trigger_id: triggerId,
    });
    return { ...ack, triggerId, responseUrl };
  }

  /** A block_actions interaction: a click or a pick in a message, an ephemeral message or a view. */
  blockAction(input: BlockActionInput): Promise<SlackAck> {
    const surface: Surface | undefined = input.message ?? input.view;
    const found = surface ? [...elementsOf(blocksOf(surface))].find((e) => e.element.action_id === input.actionId) : undefined;
    const element: Json = found?.element ?? { type: 'button', action_id: input.actionId };
    const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
    const blockId = input.blockId ?? (typeof found?.block.block_id === 'string' ? found.block.block_id : 'block-0');
    const value = input.value ?? (typeof element.value === 'string' ? element.value : undefined);
    const action: Json =
      element.type === 'button'
        ? { type: 'button', action_id: input.actionId, block_id: blockId, text: element.text ?? plainText(input.actionId), value, style: element.style, action_ts: actionTs }
        : { ...elementState(element, value ?? null), action_id: input.actionId, block_id: blockId, action_ts: actionTs };

    const payload: Json = {
      type: 'block_actions',
      user: this.userRef(input.userId),
      api_app_id: this.fake.appId,
      token: VERIFICATION_TOKEN,
      trigger_id: this.fake.issueTrigger(input.userId, input.view?.id),
      team: this.team(),
      enterprise: null,
      is_enterprise_install: false,
      actions: [action],
    };
    if (input.view) {
      const blocks = withBlockIds(blocksOf(input.view));
      payload.container = { type: 'view', view_id: input.view.id };
      payload.view = { ...this.fake.viewPayload(input.view, stateValues(blocks, input.values)), blocks };
    } else if (input.message) {
      const { channel, ts } = input.message;
      const ephemeral = isEphemeral(input.message);
      payload.container = { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: ephemeral };
      payload.channel = { id: channel, name: channel.startsWith('D') ? 'directmessage' : channel };
      if (!ephemeral) payload.message = this.fake.messagePayload(input.message as FakeSlackMessage);
      payload.response_url = this.fake.issueResponseUrl({
        channel,
        userId: input.userId,
        ...(ephemeral ? { ephemeralTs: ts } : { messageTs: ts }),
      });
      payload.state = { values: {} };
    }
    return this.sendPayload(payload);
  }

  /**
   * Clicks the button with `actionId` in a message, ephemeral message or view. Fails when the
   * surface shows no such button, as a person could not click it either.
   */
  clickButton(surface: Surface, actionId: string, userId: string): Promise<SlackAck> {
    const found = [...elementsOf(blocksOf(surface))].find((e) => e.element.action_id === actionId);
    if (!found || found.element.type !== 'button') {
      const shown = [...elementsOf(blocksOf(surface))].map((e) => e.element.action_id).join(', ');
      throw new Error(`no button ${actionId} to click; the surface shows ${shown || 'no actions'}`);
    }
    return isView(surface)
      ? this.blockAction({ userId, actionId, view: surface })
      : this.blockAction({ userId, actionId, message: surface });
  }

  /** A view_submission: the person pressed the modal's submit button with `values` entered. */
  viewSubmission(input: ViewSubmissionInput): Promise<SlackAck> {
    const blocks = withBlockIds(blocksOf(input.view));
    return this.sendPayload({
      type: 'view_submission',
      team: this.team(),
      user: this.userRef(input.userId),
      api_app_id: this.fake.appId,
      token: VERIFICATION_TOKEN,
      trigger_id: this.fake.issueTrigger(input.userId, input.view.id),
      view: { ...this.fake.viewPayload(input.view, stateValues(blocks, input.values)), blocks },
      response_urls: [],
      enterprise: null,
      is_enterprise_install: false,
    });
  }

  /**
   * Submits an open modal with `values` and applies the app's answer to the fake as Slack would
   * (closes the modal, or updates, pushes or shows errors). `problems` lists the rules a view the
   * app answered with breaks.
   */
  async submitView(view: FakeSlackView, values: FormValues, userId = view.userId): Promise<SlackAck & { problems: string[] }> {
    const ack = await this.viewSubmission({ userId, view, values });
    const problems = ack.status === 200 ? this.fake.applyViewSubmissionResponse(view.id, ack.json) : [];
    return { ...ack, problems };
  }

  /**
   * A block_suggestion: an external select asking the app for options as the person types.
   * `options` is the app's answer; `problems` the rules it breaks (Slack shows an empty menu then).
   */
  async blockSuggestion(input: BlockSuggestionInput): Promise<SlackAck & { options: unknown; problems: string[] }> {
    const blocks = withBlockIds(blocksOf(input.view));
    const found = [...elementsOf(blocks)].find((e) => e.element.action_id === input.actionId);
    if (!found) throw new Error(`the view has no element ${input.actionId}`);
    const ack = await this.sendPayload({
      type: 'block_suggestion',
      user: this.userRef(input.userId),
      container: { type: 'view', view_id: input.view.id },
      api_app_id: this.fake.appId,
      token: VERIFICATION_TOKEN,
      action_id: input.actionId,
      block_id: found.block.block_id,
      value: input.value,
      team: this.team(),
      view: { ...this.fake.viewPayload(input.view, stateValues(blocks, input.values)), blocks },
      enterprise: null,
      is_enterprise_install: false,
    });
    return { ...ack, options: ack.json, problems: ack.status === 200 ? validateOptionsResponse(ack.json) : [] };
  }

  /** The Events API callback for a person opening the app's Home tab. */
  appHomeOpened(userId: string, tab: 'home' | 'messages' = 'home'): Promise<SlackAck> {
    const eventTs = `${(Date.now() / 1000).toFixed(6)}`;
    const home = this.fake.homeView(userId);
    return this.send(
      JSON.stringify({
        token: VERIFICATION_TOKEN,
        team_id: this.fake.teamId,
        api_app_id: this.fake.appId,
        event: {
          type: 'app_home_opened',
          user: userId,
          channel: this.fake.dmChannelId(userId),
          tab,
          event_ts: eventTs,
          ...(home && tab === 'home' ? { view: this.fake.viewPayload(home) } : {}),
        },
        type: 'event_callback',
        event_id: `Ev${Date.now().toString(36).toUpperCase()}`,
        event_time: Math.floor(Date.now() / 1000),
        authorizations: [
          { enterprise_id: null, team_id: this.fake.teamId, user_id: this.fake.botUserId, is_bot: true, is_enterprise_install: false },
        ],
        is_ext_shared_channel: false,
      }),
      'application/json',
    );
  }

  /** The url_verification handshake Slack sends when the events URL is saved; the app echoes the challenge. */
  urlVerification(challenge = 'fake-challenge-3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P'): Promise<SlackAck> {
    return this.send(JSON.stringify({ token: VERIFICATION_TOKEN, challenge, type: 'url_verification' }), 'application/json');
  }
}
