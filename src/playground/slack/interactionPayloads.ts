/**
 * What Slack sends an app when people use it: slash commands, block_actions, view_submission,
 * block_suggestion and Events API callbacks, built from what a SlackStandIn shows (its messages,
 * views and directory) with the trigger_ids and response_urls it hands out. The payloads are the
 * same whichever way they travel: AppDriver.ts sends them, over signed HTTP or Socket Mode.
 */
import type { SlackStandIn, StandInEphemeral, StandInMessage, StandInView } from './SlackStandIn.ts';

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
export type Surface = StandInMessage | StandInEphemeral | StandInView;

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
  message?: StandInMessage | StandInEphemeral;
  /** The modal or Home tab the element is in. */
  view?: StandInView;
  /** Current input state of the view, by action_id, as Slack sends it along. */
  values?: FormValues;
}

export interface ViewSubmissionInput {
  userId: string;
  view: StandInView;
  values: FormValues;
}

export interface BlockSuggestionInput {
  userId: string;
  actionId: string;
  /** What the person typed. */
  value: string;
  view: StandInView;
  /** What the form holds so far (Slack sends the view's state with every options request). */
  values?: FormValues;
}

/** The deprecated verification token Slack still sends in every body. */
const VERIFICATION_TOKEN = 'standIn-verification-token';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const plainText = (text: string) => ({ type: 'plain_text', text, emoji: true });

/** Every element of a list of blocks with the block it sits in (actions, section accessory, input). */
export function* elementsOf(blocks: unknown[]): Generator<{ block: Json; element: Json }> {
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

/** The options of a select (or of an options answer), those in option groups included. */
export function optionsOf(element: Json): Json[] {
  const groups = Array.isArray(element.option_groups) ? element.option_groups.filter(isObject) : [];
  const options = [
    ...(Array.isArray(element.options) ? element.options : []),
    ...groups.flatMap((g) => (Array.isArray(g.options) ? g.options : [])),
  ];
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
 * with `values` keyed by action_id. A value for an action_id the view does not have is refused.
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

export function isView(surface: Surface): surface is StandInView {
  return 'rootViewId' in surface;
}

function isEphemeral(surface: Surface): surface is StandInEphemeral {
  return !isView(surface) && !('replies' in surface);
}

export function blocksOf(surface: Surface): unknown[] {
  if (!isView(surface)) return surface.blocks;
  return Array.isArray(surface.view.blocks) ? surface.view.blocks : [];
}

const userRef = (standIn: SlackStandIn, userId: string) => {
  const user = standIn.user(userId);
  return { id: user.id, username: user.name, name: user.name, team_id: standIn.teamId };
};

const teamOf = (standIn: SlackStandIn) => ({ id: standIn.teamId, domain: standIn.teamDomain });

/** A view as interaction payloads carry it: with block_ids filled in and the state entered. */
function viewWithState(standIn: SlackStandIn, view: StandInView, values?: FormValues): Json {
  const blocks = withBlockIds(blocksOf(view));
  return { ...standIn.viewPayload(view, stateValues(blocks, values)), blocks };
}

/**
 * A slash command's fields, in the order Slack sends them (form-encoded over HTTP, a JSON object
 * in a Socket Mode envelope), with the trigger_id and response_url issued for it.
 */
export function slashCommandFields(
  standIn: SlackStandIn,
  input: SlashCommandInput,
): { fields: Record<string, string>; triggerId: string; responseUrl: string } {
  const user = standIn.user(input.userId);
  const channelId = input.channelId ?? standIn.dmChannelId(user.id);
  const triggerId = standIn.issueTrigger(user.id);
  const responseUrl = standIn.issueResponseUrl({ channel: channelId, userId: user.id });
  const fields = {
    token: VERIFICATION_TOKEN,
    team_id: standIn.teamId,
    team_domain: standIn.teamDomain,
    channel_id: channelId,
    channel_name: input.channelName ?? (channelId.startsWith('D') ? 'directmessage' : channelId),
    user_id: user.id,
    user_name: user.name,
    command: input.command ?? '/access',
    text: input.text,
    api_app_id: standIn.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: triggerId,
  };
  return { fields, triggerId, responseUrl };
}

/** A block_actions payload: a click or a pick in a message, an ephemeral message or a view. */
export function blockActionPayload(standIn: SlackStandIn, input: BlockActionInput): Json {
  const surface: Surface | undefined = input.message ?? input.view;
  const found = surface ? [...elementsOf(blocksOf(surface))].find((e) => e.element.action_id === input.actionId) : undefined;
  const element: Json = found?.element ?? { type: 'button', action_id: input.actionId };
  const actionTs = `${(Date.now() / 1000).toFixed(6)}`;
  const blockId = input.blockId ?? (typeof found?.block.block_id === 'string' ? found.block.block_id : 'block-0');
  const value = input.value ?? (typeof element.value === 'string' ? element.value : undefined);
  const action: Json =
    element.type === 'button'
      ? {
          type: 'button',
          action_id: input.actionId,
          block_id: blockId,
          text: element.text ?? plainText(input.actionId),
          value,
          style: element.style,
          action_ts: actionTs,
        }
      : { ...elementState(element, value ?? null), action_id: input.actionId, block_id: blockId, action_ts: actionTs };

  const payload: Json = {
    type: 'block_actions',
    user: userRef(standIn, input.userId),
    api_app_id: standIn.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: standIn.issueTrigger(input.userId, input.view?.id),
    team: teamOf(standIn),
    enterprise: null,
    is_enterprise_install: false,
    actions: [action],
  };
  if (input.view) {
    payload.container = { type: 'view', view_id: input.view.id };
    payload.view = viewWithState(standIn, input.view, input.values);
  } else if (input.message) {
    const { channel, ts } = input.message;
    const ephemeral = isEphemeral(input.message);
    payload.container = { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: ephemeral };
    payload.channel = { id: channel, name: channel.startsWith('D') ? 'directmessage' : channel };
    if (!ephemeral) payload.message = standIn.messagePayload(input.message as StandInMessage);
    payload.response_url = standIn.issueResponseUrl({
      channel,
      userId: input.userId,
      ...(ephemeral ? { ephemeralTs: ts } : { messageTs: ts }),
    });
    payload.state = { values: {} };
  }
  return payload;
}

/** A view_submission payload: the person pressed the modal's submit button with `values` entered. */
export function viewSubmissionPayload(standIn: SlackStandIn, input: ViewSubmissionInput): Json {
  return {
    type: 'view_submission',
    team: teamOf(standIn),
    user: userRef(standIn, input.userId),
    api_app_id: standIn.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: standIn.issueTrigger(input.userId, input.view.id),
    view: viewWithState(standIn, input.view, input.values),
    response_urls: [],
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** A view_closed payload: the person closed a modal whose app asked for `notify_on_close`. */
export function viewClosedPayload(standIn: SlackStandIn, userId: string, view: StandInView): Json {
  return {
    type: 'view_closed',
    team: teamOf(standIn),
    user: userRef(standIn, userId),
    api_app_id: standIn.appId,
    token: VERIFICATION_TOKEN,
    view: viewWithState(standIn, view),
    is_cleared: false,
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** A block_suggestion payload: an external select asking the app for options as the person types. */
export function blockSuggestionPayload(standIn: SlackStandIn, input: BlockSuggestionInput): Json {
  const blocks = withBlockIds(blocksOf(input.view));
  const found = [...elementsOf(blocks)].find((e) => e.element.action_id === input.actionId);
  if (!found) throw new Error(`the view has no element ${input.actionId}`);
  return {
    type: 'block_suggestion',
    user: userRef(standIn, input.userId),
    container: { type: 'view', view_id: input.view.id },
    api_app_id: standIn.appId,
    token: VERIFICATION_TOKEN,
    action_id: input.actionId,
    block_id: found.block.block_id,
    value: input.value,
    team: teamOf(standIn),
    view: viewWithState(standIn, input.view, input.values),
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** The Events API callback for a person opening the app's Home tab (or its Messages tab). */
export function appHomeOpenedEvent(standIn: SlackStandIn, userId: string, tab: 'home' | 'messages' = 'home'): Json {
  const eventTs = `${(Date.now() / 1000).toFixed(6)}`;
  const home = standIn.homeView(userId);
  return {
    token: VERIFICATION_TOKEN,
    team_id: standIn.teamId,
    api_app_id: standIn.appId,
    event: {
      type: 'app_home_opened',
      user: userId,
      channel: standIn.dmChannelId(userId),
      tab,
      event_ts: eventTs,
      ...(home && tab === 'home' ? { view: standIn.viewPayload(home) } : {}),
    },
    type: 'event_callback',
    event_id: `Ev${Date.now().toString(36).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { enterprise_id: null, team_id: standIn.teamId, user_id: standIn.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

/**
 * The Events API callback Slack sends when a person's profile changes, `deleted: true` when they
 * were deactivated. The same `eventId` twice is what Slack's retry of one event looks like.
 */
export function userChangeEvent(standIn: SlackStandIn, userId: string, deleted: boolean, eventId: string): Json {
  return {
    token: VERIFICATION_TOKEN,
    team_id: standIn.teamId,
    api_app_id: standIn.appId,
    event: {
      type: 'user_change',
      user: { id: userId, team_id: standIn.teamId, name: userId.toLowerCase(), deleted, is_bot: false },
      cache_ts: Math.floor(Date.now() / 1000),
      event_ts: `${(Date.now() / 1000).toFixed(6)}`,
    },
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [
      { enterprise_id: null, team_id: standIn.teamId, user_id: standIn.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

/** The url_verification handshake Slack sends when an events URL is saved. */
export function urlVerificationBody(challenge: string): Json {
  return { token: VERIFICATION_TOKEN, challenge, type: 'url_verification' };
}

/** One thing Slack delivers to the app. */
export type Delivery =
  | { kind: 'command'; fields: Record<string, string> }
  | { kind: 'interaction'; payload: Json }
  | { kind: 'event'; body: Json };

/** How the app answered a delivery: whether it took it, and the response it acknowledged with. */
export interface AppAnswer {
  accepted: boolean;
  body: unknown;
}
