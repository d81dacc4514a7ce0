/**
 * What Slack shows, as the stand-in keeps it: messages with their threads and edits, ephemerals,
 * modals with their stacks and Home tabs, each checked against Block Kit's documented limits
 * (blockKitRules.ts) and refused with Slack's error; the trigger_ids and response_urls handed to
 * the app, with Slack's lifetimes; and the change listeners told of every request answered.
 */
import { randomBytes } from 'node:crypto';
import { validateBlocks, validateMessage, validateView } from './blockKitRules.ts';
import { StandInDirectory } from './StandInDirectory.ts';
import {
  type Answer,
  type Args,
  fail,
  isObject,
  type ResponseUrl,
  type ResponseUrlContext,
  type SlackStandInOptions,
  type StandInEphemeral,
  type StandInMessage,
  type StandInView,
  type Trigger,
  TRIGGER_TTL_MS,
} from './standInModel.ts';

export class StandInWorkspace extends StandInDirectory {
  /** Base URL of the server, e.g. `http://127.0.0.1:PORT`. */
  readonly baseUrl: string;

  protected readonly channelMessages: StandInMessage[] = [];
  protected readonly ephemeralMessages: StandInEphemeral[] = [];
  protected readonly modalViews = new Map<string, StandInView>();
  protected readonly homeViews = new Map<string, StandInView>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly responseUrls = new Map<string, ResponseUrl>();
  private readonly waiters = new Set<() => void>();
  private readonly listeners = new Set<() => void>();
  private sequence = 0;

  protected constructor(options: SlackStandInOptions, baseUrl: string) {
    super(options);
    this.baseUrl = baseUrl;
  }

  // ---- what Slack shows ----------------------------------------------------------------------
  /** Messages in their current state (thread replies inside their parent), oldest first. */
  messages(channel?: string): StandInMessage[] {
    return this.channelMessages.filter((m) => !m.deleted && (channel === undefined || m.channel === channel));
  }

  /** The messages of the bot's DM with a user. */
  dmMessages(userId: string): StandInMessage[] {
    return this.messages(this.dmChannelId(userId));
  }

  /** A message (or thread reply) by channel and ts, in its current state. */
  message(channel: string, ts: string): StandInMessage | undefined {
    for (const m of this.channelMessages) {
      if (m.channel !== channel) continue;
      if (m.ts === ts) return m;
      const reply = m.replies.find((r) => r.ts === ts);
      if (reply) return reply;
    }
    return undefined;
  }

  /** Ephemeral messages still shown, to one person or to all. */
  ephemerals(userId?: string): StandInEphemeral[] {
    return this.ephemeralMessages.filter((e) => !e.deleted && (userId === undefined || e.user === userId));
  }

  /** Modals opened, pushed or updated, in their current state; of one person or of all. */
  views(userId?: string): StandInView[] {
    return [...this.modalViews.values()].filter((v) => userId === undefined || v.userId === userId);
  }

  /** A modal by its ID. */
  view(viewId: string): StandInView | undefined {
    return this.modalViews.get(viewId);
  }

  /** The Home tab last published for a person. */
  homeView(userId: string): StandInView | undefined {
    return this.homeViews.get(userId);
  }

  /**
   * Resolves with the first truthy value `probe` returns, checked now and after every request
   * the stand-in answers; rejects after `timeoutMs`, naming `what` it waited for.
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

  /** Calls `listener` after every request the stand-in answers (a message, an edit, a view…); returns the unsubscribe. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells the waiters and listeners that something may have changed. */
  notify(): void {
    for (const waiter of [...this.waiters]) waiter();
    for (const listener of [...this.listeners]) listener();
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

  /** The response_url with `id`, when one was issued. */
  responseUrl(id: string): ResponseUrl | undefined {
    return this.responseUrls.get(id);
  }

  /** Shows an ephemeral message to one person. */
  addEphemeral(ephemeral: Omit<StandInEphemeral, 'ts' | 'edits' | 'deleted'>): StandInEphemeral {
    const shown: StandInEphemeral = { ...ephemeral, ts: this.nextTs(), edits: [], deleted: false };
    this.ephemeralMessages.push(shown);
    return shown;
  }

  /** Opens a modal (or pushes one onto `root`'s stack) for a person. */
  openModal(userId: string, view: Record<string, unknown>, root?: StandInView): StandInView {
    const opened = this.newView('modal', userId, view, root);
    this.modalViews.set(opened.id, opened);
    return opened;
  }

  /** Closes a modal, as the person's X or Cancel does; the views under it stay. */
  closeView(view: StandInView): void {
    view.closed = true;
    this.notify();
  }

  /** Publishes a person's Home tab, replacing the one shown. */
  publishHome(userId: string, view: Record<string, unknown>): StandInView {
    const current = this.homeViews.get(userId);
    if (current) this.replaceView(current, view);
    else this.homeViews.set(userId, this.newView('home', userId, view));
    return this.homeViews.get(userId)!;
  }

  // ---- the model ----------------------------------------------------------------------------
  /** Replaces a message's content, keeping the version before it. */
  edit(message: StandInMessage | StandInEphemeral, content: { text: string; blocks: unknown[] }): void {
    message.edits.push({ text: message.text, blocks: message.blocks });
    Object.assign(message, content);
  }

  /** The message or ephemeral a response_url's interaction came from, unless deleted. */
  originalOf(target: ResponseUrl): StandInMessage | StandInEphemeral | undefined {
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

  /** Posts a message (or a thread reply) as the bot. */
  post(
    channelArg: unknown,
    content: { text: string; blocks: unknown[] },
    threadTs: string | undefined,
    via: StandInMessage['via'],
  ): StandInMessage | Answer {
    const channel = this.resolveChannel(channelArg);
    if (!channel) return fail('channel_not_found');
    const message: StandInMessage = {
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
  messageContent(args: Args): { text: string; blocks: unknown[] } | Answer {
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
  messagePayload(m: StandInMessage): Record<string, unknown> {
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

  /** The view object Slack answers views.* with and puts in interaction payloads. */
  viewPayload(v: StandInView, stateValues: Record<string, unknown> = {}): Record<string, unknown> {
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
  checkedView(arg: unknown, type: 'modal' | 'home'): Record<string, unknown> | Answer {
    if (!isObject(arg)) return fail('invalid_arguments', ['view: view must be a JSON object']);
    const problems = validateView(arg);
    if (arg.type !== type) problems.push(`view.type: this method takes a ${type} view`);
    if (problems.length > 0) return fail('invalid_arguments', problems);
    return arg;
  }

  /** Uses a trigger_id once, within its lifetime; the trigger or Slack's error. */
  exchangeTrigger(id: unknown): Trigger | Answer {
    if (typeof id !== 'string' || id.length === 0) return fail('invalid_arguments', ['trigger_id: trigger_id is required']);
    const trigger = this.triggers.get(id);
    if (!trigger) return fail('invalid_trigger_id');
    if (trigger.used) return fail('exchanged_trigger_id');
    if (this.now() - trigger.issuedAt >= TRIGGER_TTL_MS) return fail('expired_trigger_id');
    trigger.used = true;
    return trigger;
  }

  private newView(type: 'modal' | 'home', userId: string, view: Record<string, unknown>, root?: StandInView): StandInView {
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

  /** Shows a new version of a view. */
  replaceView(target: StandInView, view: Record<string, unknown>): void {
    target.view = view;
    target.versions.push(view);
    target.errors = undefined;
    target.hash = `${Math.floor(this.now() / 1000)}.${randomBytes(4).toString('hex')}`;
  }

  /**
   * Applies what an app answered a view_submission with (`response_action` update, push, clear
   * or errors), as Slack would. Returns the problems when the answered view breaks a rule.
   */
  applyViewSubmissionResponse(viewId: string, ack: unknown): string[] {
    const problems = this.applyResponseAction(viewId, ack);
    this.notify();
    return problems;
  }

  private applyResponseAction(viewId: string, ack: unknown): string[] {
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
        if (!isObject(ack.errors)) return ['errors must map block_ids to messages'];
        current.errors = Object.fromEntries(Object.entries(ack.errors).map(([blockId, error]) => [blockId, String(error)]));
        return [];
      default:
        return [`unknown response_action ${JSON.stringify(ack.response_action)}`];
    }
  }
}
