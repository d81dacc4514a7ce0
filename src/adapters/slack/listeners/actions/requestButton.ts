import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs, webApi } from '@slack/bolt';
import { normalizeRequestId } from '../../../../domain/request.ts';
import type { RequestAction } from '../../ids.ts';
import { acknowledging, explainAndLog, publishHome, type SlackEdge } from '../context.ts';

/**
 * Buttons that change something: acknowledged once the change is recorded (any replica can
 * then finish it), always within Slack's 3 seconds. The others answer at once.
 */
const RECORDED_ACTIONS: ReadonlySet<RequestAction> = new Set(['approve', 'revoke', 'cancel', 'reviewed', 'flagged']);

/** One click on a request's button, as its handler sees it. */
export interface Click {
  body: BlockAction;
  client: webApi.WebClient;
  userId: string;
  requestId: string;
  /** Tells the clicker privately: ephemeral beside a message, a notice on the Home tab. */
  tell: (text: string) => Promise<void>;
}

/** What a request button does once the click is acknowledged and its request ID read. */
export type RequestButtonHandler = (edge: SlackEdge, click: Click) => Promise<void>;

type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * The Bolt listener of a request button: acknowledges, takes the request ID from the button's
 * value, hands the click to `handle`, and tells the clicker what went wrong when the service
 * refuses. Clicks on the Home tab republish it, so it never shows a stale button for long.
 */
export function requestButtonListener(edge: SlackEdge, action: RequestAction, handle: RequestButtonHandler) {
  const recordedFirst = RECORDED_ACTIONS.has(action);
  return async ({ ack, body, action: button, client, respond }: ButtonArgs): Promise<void> => {
    const acking = acknowledging(ack, recordedFirst);
    await acking.started;
    const userId = body.user.id;
    const onHome = body.view?.type === 'home';
    let notice: string | undefined;
    const tell = async (text: string) => {
      await acking.beforeAnswer();
      if (onHome) notice = text;
      else await respond({ response_type: 'ephemeral', replace_original: false, text });
    };
    const requestId = normalizeRequestId(button.value ?? '');
    const work = async () => {
      try {
        if (!requestId) throw new Error(`The button carried no request ID (${action}).`);
        await handle(edge, { body, client, userId, requestId, tell });
      } catch (err) {
        await tell(explainAndLog(edge, err, `button ${action}`).text).catch(() => undefined);
      }
    };
    await acking.run(work);
    if (onHome) await publishHome(edge, client, userId, notice);
  };
}
