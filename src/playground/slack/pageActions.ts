/**
 * What a person does on the playground page, sent to the bot as Slack sends it: the request is
 * checked against what the stand-in shows that person (a message in their DM or the approvals
 * channel, their own ephemerals, their open modals and Home tab), and refused with 400 and a
 * reason, sending nothing, when Slack would not let them do it.
 */
import type {
  ActionBody,
  CloseBody,
  CommandBody,
  HomeBody,
  OptionsBody,
  PageInputValue,
  PageOption,
  PageSurface,
  SubmitBody,
} from '../pageApi.ts';
import { blocksOf, elementsOf, type FormValues, optionsOf, type Surface } from './interactionPayloads.ts';
import type { PageAnswer, PageRoutesOptions } from './pageRoutes.ts';
import type { StandInView } from './SlackStandIn.ts';
import { isObject } from './standInModel.ts';

/** A request the page may not make; answered 400 with its message. */
export class BadPageRequest extends Error {}

const refuse = (message: string): never => {
  throw new BadPageRequest(message);
};

const ok = (extra: Record<string, unknown> = {}): PageAnswer => ({ status: 200, json: { ok: true, ...extra } });

/** The bot did not take what was sent (an HTTP error, or a refused view): 502. */
const appFailed = (error: string): PageAnswer => ({ status: 502, json: { ok: false, error } });

function text(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  return typeof value === 'string' ? value : refuse(`${key} must be a string`);
}

export class PageActions {
  constructor(private readonly options: PageRoutesOptions) {}

  private person(body: Record<string, unknown>): string {
    const user = text(body, 'user');
    const known = this.options.people.some((p) => p.id === user) && this.options.standIn.findUser(user);
    return known ? user : refuse(`unknown user ${user}`);
  }

  /** A modal open for the person, or their Home tab. */
  private view(user: string, viewId: string, { homeToo = false } = {}): StandInView {
    const { standIn } = this.options;
    const modal = standIn.view(viewId);
    if (modal && modal.userId === user && !modal.closed) return modal;
    const home = standIn.homeView(user);
    if (homeToo && home?.id === viewId) return home;
    return refuse(`no open view ${viewId} for ${user}`);
  }

  /** The message, ephemeral or view the person clicked in, if they can see it. */
  private surface(user: string, surface: PageSurface): Surface {
    const { standIn, approvalsChannel } = this.options;
    if (!isObject(surface)) return refuse('surface must be an object');
    if (surface.kind === 'view') return this.view(user, surface.viewId, { homeToo: true });
    if (surface.kind === 'ephemeral') {
      const found = standIn.ephemerals(user).find((e) => e.channel === surface.channel && e.ts === surface.ts);
      return found ?? refuse(`no ephemeral message ${surface.ts} shown to ${user}`);
    }
    const visible = surface.channel === standIn.dmChannelId(user) || surface.channel === approvalsChannel.id;
    const message = visible ? standIn.message(surface.channel, surface.ts) : undefined;
    return message && !message.deleted ? message : refuse(`no message ${surface.ts} in ${surface.channel} that ${user} can see`);
  }

  async command(body: CommandBody & Record<string, unknown>): Promise<PageAnswer> {
    const user = this.person(body);
    const { driver, standIn, command } = this.options;
    const ack = await driver.slashCommand({ userId: user, text: text(body, 'text'), command });
    const answer = driver.answerOf(ack);
    if (!answer.accepted) return appFailed(`the app did not take ${command}`);
    // An app may answer the command itself: Slack shows that answer to the person only.
    if (isObject(answer.body) && (typeof answer.body.text === 'string' || Array.isArray(answer.body.blocks))) {
      const shown = { text: String(answer.body.text ?? ''), blocks: Array.isArray(answer.body.blocks) ? answer.body.blocks : [] };
      standIn.addEphemeral({ channel: standIn.dmChannelId(user), user, ...shown, via: 'response_url' });
      standIn.notify();
    }
    return ok();
  }

  async action(body: ActionBody & Record<string, unknown>): Promise<PageAnswer> {
    const user = this.person(body);
    const surface = this.surface(user, body.surface);
    const actionId = text(body, 'actionId');
    const found = [...elementsOf(blocksOf(surface))].find(
      (e) => e.element.action_id === actionId && (body.blockId === undefined || e.block.block_id === body.blockId),
    );
    if (!found) return refuse(`no element ${actionId} on that surface`);
    const value = body.selectedValue;
    if (found.element.type !== 'button') checkOption(found.element, value);
    const where = 'rootViewId' in surface ? { view: surface } : { message: surface };
    const ack = await this.options.driver.blockAction({ userId: user, actionId, blockId: body.blockId, value, ...where });
    return this.options.driver.answerOf(ack).accepted ? ok() : appFailed(`the app did not take ${actionId}`);
  }

  async submit(body: SubmitBody & Record<string, unknown>): Promise<PageAnswer> {
    const user = this.person(body);
    const view = this.view(user, text(body, 'viewId'));
    const values = formValues(view, body.values);
    const ack = await this.options.driver.submitView(view, values, user);
    if (!this.options.driver.answerOf(ack).accepted) return appFailed('the app did not take the submission');
    if (ack.problems.length > 0) return appFailed(`the app answered with a view Slack refuses: ${ack.problems.join('; ')}`);
    return ok(view.errors && !view.closed ? { errors: view.errors } : {});
  }

  async close(body: CloseBody & Record<string, unknown>): Promise<PageAnswer> {
    const user = this.person(body);
    const view = this.view(user, text(body, 'viewId'));
    this.options.standIn.closeView(view);
    if (view.view.notify_on_close !== true) return ok();
    const ack = await this.options.driver.viewClosed(view, user);
    return this.options.driver.answerOf(ack).accepted ? ok() : appFailed('the app did not take view_closed');
  }

  async options_(body: OptionsBody & Record<string, unknown>): Promise<PageAnswer> {
    const user = this.person(body);
    const view = this.view(user, text(body, 'viewId'), { homeToo: true });
    const actionId = text(body, 'actionId');
    const found = [...elementsOf(blocksOf(view))].find((e) => e.element.action_id === actionId);
    if (!found || !String(found.element.type).endsWith('external_select')) return refuse(`no external select ${actionId} in ${view.id}`);
    const values = formValues(view, body.values ?? {});
    const ack = await this.options.driver.blockSuggestion({ userId: user, actionId, value: text(body, 'query'), view, values });
    if (!this.options.driver.answerOf(ack).accepted) return appFailed(`the app did not answer the options of ${actionId}`);
    // Slack shows an empty menu when the answer breaks a rule.
    return ok({ options: ack.problems.length > 0 ? [] : pageOptions(ack.options) });
  }

  async home(body: HomeBody & Record<string, unknown>): Promise<PageAnswer> {
    const user = this.person(body);
    const ack = await this.options.driver.appHomeOpened(user);
    return this.options.driver.answerOf(ack).accepted ? ok() : appFailed('the app did not take app_home_opened');
  }
}

/** Elements whose choices are their own options, not the app's or the directory's. */
const OWN_OPTIONS = new Set(['static_select', 'multi_static_select', 'radio_buttons', 'checkboxes']);

/** A select's choice must be one of its options, unless the app supplies them (external select). */
function checkOption(element: Record<string, unknown>, value: unknown): void {
  if (typeof value !== 'string') refuse(`selectedValue must be a string for ${String(element.action_id)}`);
  if (!OWN_OPTIONS.has(String(element.type))) return;
  if (!optionsOf(element).some((o) => o.value === value)) refuse(`${String(element.action_id)} has no option ${String(value)}`);
}

/** The page's `block_id → action_id → value` as the driver takes it (by action_id), for inputs the view has. */
function formValues(view: StandInView, values: unknown): FormValues {
  if (!isObject(values)) return refuse('values must map block_ids to action_ids to values');
  const inputs = new Map<string, Record<string, unknown>>();
  for (const block of blocksOf(view)) {
    if (isObject(block) && block.type === 'input' && isObject(block.element)) inputs.set(String(block.element.action_id), block.element);
  }
  const form: FormValues = {};
  for (const byAction of Object.values(values)) {
    if (!isObject(byAction)) return refuse('values must map block_ids to action_ids to values');
    for (const [actionId, value] of Object.entries(byAction)) {
      const element = inputs.get(actionId) ?? refuse(`the view has no input ${actionId}`);
      form[actionId] = pageInput(actionId, value);
      for (const picked of Array.isArray(value) ? value : value === null ? [] : [value]) checkOption(element, picked);
    }
  }
  return form;
}

function pageInput(actionId: string, value: unknown): PageInputValue {
  if (value === null || typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  return refuse(`the value of ${actionId} must be text, null or a list of values`);
}

/** An options answer (`options` or `option_groups`) as the page lists it. */
function pageOptions(body: unknown): PageOption[] {
  if (!isObject(body)) return [];
  return optionsOf(body).map((o) => ({
    text: isObject(o.text) && typeof o.text.text === 'string' ? o.text.text : String(o.value),
    value: String(o.value),
  }));
}
