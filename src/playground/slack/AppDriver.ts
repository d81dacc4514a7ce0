/**
 * What people do in Slack, as an app receives it: each method builds Slack's payload
 * (interactionPayloads.ts) from what the stand-in shows and hands it to a transport, signed HTTP
 * (SignedAppDriver) or a Socket Mode envelope (SocketModeDriver).
 */
import { validateOptionsResponse } from './blockKitRules.ts';
import {
  type AppAnswer,
  appHomeOpenedEvent,
  userChangeEvent,
  type BlockActionInput,
  type BlockSuggestionInput,
  blockActionPayload,
  blockSuggestionPayload,
  type Delivery,
  elementsOf,
  type FormValues,
  isView,
  type SlashCommandInput,
  type Surface,
  slashCommandFields,
  blocksOf,
  type ViewSubmissionInput,
  viewClosedPayload,
  viewSubmissionPayload,
} from './interactionPayloads.ts';
import type { SlackStandIn, StandInView } from './SlackStandIn.ts';

/**
 * What people do in Slack, delivered to the app by a transport (`deliver`) that resolves with
 * the app's acknowledgement, of type `A`.
 */
export abstract class AppDriver<A> {
  protected constructor(protected readonly standIn: SlackStandIn) {}

  /** Sends one delivery to the app and resolves with its acknowledgement. */
  protected abstract deliver(delivery: Delivery): Promise<A>;

  /** The response body in an acknowledgement. */
  abstract answerOf(ack: A): AppAnswer;

  /** A slash command, with the trigger_id and response_url it carried. */
  async slashCommand(input: SlashCommandInput): Promise<A & { triggerId: string; responseUrl: string }> {
    const { fields, triggerId, responseUrl } = slashCommandFields(this.standIn, input);
    const ack = await this.deliver({ kind: 'command', fields });
    return { ...ack, triggerId, responseUrl };
  }

  /** A block_actions interaction: a click or a pick in a message, an ephemeral message or a view. */
  blockAction(input: BlockActionInput): Promise<A> {
    return this.deliver({ kind: 'interaction', payload: blockActionPayload(this.standIn, input) });
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
    return this.deliver({ kind: 'interaction', payload: viewSubmissionPayload(this.standIn, input) });
  }

  /**
   * Submits an open modal with `values` and applies the app's answer to the standIn as Slack would
   * (closes the modal, or updates, pushes or shows errors). `problems` lists the rules a view the
   * app answered with breaks.
   */
  async submitView(view: StandInView, values: FormValues, userId = view.userId): Promise<A & { problems: string[] }> {
    const ack = await this.viewSubmission({ userId, view, values });
    const answer = this.answerOf(ack);
    const problems = answer.accepted ? this.standIn.applyViewSubmissionResponse(view.id, answer.body) : [];
    return { ...ack, problems };
  }

  /** A view_closed: the person closed the modal (sent only when the app set `notify_on_close`). */
  viewClosed(view: StandInView, userId = view.userId): Promise<A> {
    return this.deliver({ kind: 'interaction', payload: viewClosedPayload(this.standIn, userId, view) });
  }

  /**
   * A block_suggestion: an external select asking the app for options as the person types.
   * `options` is the app's answer; `problems` the rules it breaks (Slack shows an empty menu then).
   */
  async blockSuggestion(input: BlockSuggestionInput): Promise<A & { options: unknown; problems: string[] }> {
    const ack = await this.deliver({ kind: 'interaction', payload: blockSuggestionPayload(this.standIn, input) });
    const answer = this.answerOf(ack);
    return { ...ack, options: answer.body, problems: answer.accepted ? validateOptionsResponse(answer.body) : [] };
  }

  /** The Events API callback for a person opening the app's Home tab. */
  appHomeOpened(userId: string, tab: 'home' | 'messages' = 'home'): Promise<A> {
    return this.deliver({ kind: 'event', body: appHomeOpenedEvent(this.standIn, userId, tab) });
  }

  /** The Events API callback for a profile change; `deleted` when the person was deactivated. */
  userChange(userId: string, deleted: boolean, eventId = `Ev${Date.now().toString(36).toUpperCase()}U`): Promise<A> {
    return this.deliver({ kind: 'event', body: userChangeEvent(this.standIn, userId, deleted, eventId) });
  }
}
