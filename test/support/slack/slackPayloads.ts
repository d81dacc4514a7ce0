/**
 * What Slack sends an app when people use it: slash commands, block_actions, view_submission,
 * block_suggestion and Events API callbacks, built from what a FakeSlack shows (its messages,
 * views and directory) with the trigger_ids and response_urls it hands out. The payloads are the
 * same whichever way they travel; SlackDriver posts them over HTTP, signed, and SocketModeDriver
 * sends them as Socket Mode envelopes. Both extend InteractionDriver, which holds what a person
 * does (click a button shown, submit a modal, type into an external select, open the Home tab).
 */
import { validateOptionsResponse } from './blockKitRules.ts';
import type { FakeSlack, FakeSlackEphemeral, FakeSlackMessage, FakeSlackView } from './FakeSlack.ts';

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

const userRef = (fake: FakeSlack, userId: string) => {
  const user = fake.user(userId);
  return { id: user.id, username: user.name, name: user.name, team_id: fake.teamId };
};

const teamOf = (fake: FakeSlack) => ({ id: fake.teamId, domain: fake.teamDomain });

/** A view as interaction payloads carry it: with block_ids filled in and the state entered. */
function viewWithState(fake: FakeSlack, view: FakeSlackView, values?: FormValues): Json {
  const blocks = withBlockIds(blocksOf(view));
  return { ...fake.viewPayload(view, stateValues(blocks, values)), blocks };
}

/**
 * A slash command's fields, in the order Slack sends them (form-encoded over HTTP, a JSON object
 * in a Socket Mode envelope), with the trigger_id and response_url issued for it.
 */
export function slashCommandFields(
  fake: FakeSlack,
  input: SlashCommandInput,
): { fields: Record<string, string>; triggerId: string; responseUrl: string } {
  const user = fake.user(input.userId);
  const channelId = input.channelId ?? fake.dmChannelId(user.id);
  const triggerId = fake.issueTrigger(user.id);
  const responseUrl = fake.issueResponseUrl({ channel: channelId, userId: user.id });
  const fields = {
    token: VERIFICATION_TOKEN,
    team_id: fake.teamId,
    team_domain: fake.teamDomain,
    channel_id: channelId,
    channel_name: input.channelName ?? (channelId.startsWith('D') ? 'directmessage' : channelId),
    user_id: user.id,
    user_name: user.name,
    command: input.command ?? '/access',
    text: input.text,
    api_app_id: fake.appId,
    is_enterprise_install: 'false',
    response_url: responseUrl,
    trigger_id: triggerId,
  };
  return { fields, triggerId, responseUrl };
}

/** A block_actions payload: a click or a pick in a message, an ephemeral message or a view. */
export function blockActionPayload(fake: FakeSlack, input: BlockActionInput): Json {
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
    user: userRef(fake, input.userId),
    api_app_id: fake.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: fake.issueTrigger(input.userId, input.view?.id),
    team: teamOf(fake),
    enterprise: null,
    is_enterprise_install: false,
    actions: [action],
  };
  if (input.view) {
    payload.container = { type: 'view', view_id: input.view.id };
    payload.view = viewWithState(fake, input.view, input.values);
  } else if (input.message) {
    const { channel, ts } = input.message;
    const ephemeral = isEphemeral(input.message);
    payload.container = { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: ephemeral };
    payload.channel = { id: channel, name: channel.startsWith('D') ? 'directmessage' : channel };
    if (!ephemeral) payload.message = fake.messagePayload(input.message as FakeSlackMessage);
    payload.response_url = fake.issueResponseUrl({
      channel,
      userId: input.userId,
      ...(ephemeral ? { ephemeralTs: ts } : { messageTs: ts }),
    });
    payload.state = { values: {} };
  }
  return payload;
}

/** A view_submission payload: the person pressed the modal's submit button with `values` entered. */
export function viewSubmissionPayload(fake: FakeSlack, input: ViewSubmissionInput): Json {
  return {
    type: 'view_submission',
    team: teamOf(fake),
    user: userRef(fake, input.userId),
    api_app_id: fake.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: fake.issueTrigger(input.userId, input.view.id),
    view: viewWithState(fake, input.view, input.values),
    response_urls: [],
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** A block_suggestion payload: an external select asking the app for options as the person types. */
export function blockSuggestionPayload(fake: FakeSlack, input: BlockSuggestionInput): Json {
  const blocks = withBlockIds(blocksOf(input.view));
  const found = [...elementsOf(blocks)].find((e) => e.element.action_id === input.actionId);
  if (!found) throw new Error(`the view has no element ${input.actionId}`);
  return {
    type: 'block_suggestion',
    user: userRef(fake, input.userId),
    container: { type: 'view', view_id: input.view.id },
    api_app_id: fake.appId,
    token: VERIFICATION_TOKEN,
    action_id: input.actionId,
    block_id: found.block.block_id,
    value: input.value,
    team: teamOf(fake),
    view: viewWithState(fake, input.view, input.values),
    enterprise: null,
    is_enterprise_install: false,
  };
}

/** The Events API callback for a person opening the app's Home tab (or its Messages tab). */
export function appHomeOpenedEvent(fake: FakeSlack, userId: string, tab: 'home' | 'messages' = 'home'): Json {
  const eventTs = `${(Date.now() / 1000).toFixed(6)}`;
  const home = fake.homeView(userId);
  return {
    token: VERIFICATION_TOKEN,
    team_id: fake.teamId,
    api_app_id: fake.appId,
    event: {
      type: 'app_home_opened',
      user: userId,
      channel: fake.dmChannelId(userId),
      tab,
      event_ts: eventTs,
      ...(home && tab === 'home' ? { view: fake.viewPayload(home) } : {}),
    },
    type: 'event_callback',
    event_id: `Ev${Date.now().toString(36).toUpperCase()}`,
    event_time: Math.floor(Date.now() / 1000),
    authorizations: [{ enterprise_id: null, team_id: fake.teamId, user_id: fake.botUserId, is_bot: true, is_enterprise_install: false }],
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

/**
 * What people do in Slack, delivered to the app by a transport (`deliver`) that resolves with
 * the app's acknowledgement, of type `A`.
 */
export abstract class InteractionDriver<A> {
  protected constructor(protected readonly fake: FakeSlack) {}

  /** Sends one delivery to the app and resolves with its acknowledgement. */
  protected abstract deliver(delivery: Delivery): Promise<A>;

  /** The response body in an acknowledgement. */
  protected abstract answerOf(ack: A): AppAnswer;

  /** A slash command, with the trigger_id and response_url it carried. */
  async slashCommand(input: SlashCommandInput): Promise<A & { triggerId: string; responseUrl: string }> {
    const { fields, triggerId, responseUrl } = slashCommandFields(this.fake, input);
    const ack = await this.deliver({ kind: 'command', fields });
    return { ...ack, triggerId, responseUrl };
  }

  /** A block_actions interaction: a click or a pick in a message, an ephemeral message or a view. */
  blockAction(input: BlockActionInput): Promise<A> {
    return this.deliver({ kind: 'interaction', payload: blockActionPayload(this.fake, input) });
  }

  /**
   * Clicks the button with `actionId` in a message, ephemeral message or view. Fails when the
   * surface shows no such button, as a person could not click it either.
   */
  clickButton(surface: Surface, actionId: string, userId: string): Promise<A> {
    const found = [...elementsOf(blocksOf(surface))].find((e) => e.element.action_id === actionId);
    if (found?.element.type !== 'button') {
      const shown = [...elementsOf(blocksOf(surface))].map((e) => e.element.action_id).join(', ');
      throw new Error(`no button ${actionId} to click; the surface shows ${shown || 'no actions'}`);
    }
    return isView(surface)
      ? this.blockAction({ userId, actionId, view: surface })
      : this.blockAction({ userId, actionId, message: surface });
  }

  /** A view_submission: the person pressed the modal's submit button with `values` entered. */
  viewSubmission(input: ViewSubmissionInput): Promise<A> {
    return this.deliver({ kind: 'interaction', payload: viewSubmissionPayload(this.fake, input) });
  }

  /**
   * Submits an open modal with `values` and applies the app's answer to the fake as Slack would
   * (closes the modal, or updates, pushes or shows errors). `problems` lists the rules a view the
   * app answered with breaks.
   */
  async submitView(view: FakeSlackView, values: FormValues, userId = view.userId): Promise<A & { problems: string[] }> {
    const ack = await this.viewSubmission({ userId, view, values });
    const answer = this.answerOf(ack);
    const problems = answer.accepted ? this.fake.applyViewSubmissionResponse(view.id, answer.body) : [];
    return { ...ack, problems };
  }

  /**
   * A block_suggestion: an external select asking the app for options as the person types.
   * `options` is the app's answer; `problems` the rules it breaks (Slack shows an empty menu then).
   */
  async blockSuggestion(input: BlockSuggestionInput): Promise<A & { options: unknown; problems: string[] }> {
    const ack = await this.deliver({ kind: 'interaction', payload: blockSuggestionPayload(this.fake, input) });
    const answer = this.answerOf(ack);
    return { ...ack, options: answer.body, problems: answer.accepted ? validateOptionsResponse(answer.body) : [] };
  }

  /** The Events API callback for a person opening the app's Home tab. */
  appHomeOpened(userId: string, tab: 'home' | 'messages' = 'home'): Promise<A> {
    return this.deliver({ kind: 'event', body: appHomeOpenedEvent(this.fake, userId, tab) });
  }
}
