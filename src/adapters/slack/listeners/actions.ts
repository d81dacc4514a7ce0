import type { App, BlockAction, ButtonAction, webApi } from '@slack/bolt';
import { normalizeRequestId } from '../../../domain/request.ts';
import { forgetSecret, registerSecret } from '../../../logger.ts';
import { credentialsModal } from '../blocks/credentialsModal.ts';
import { denyModal } from '../blocks/denyModal.ts';
import { plain, section } from '../blocks/elements.ts';
import { extendModal } from '../blocks/extendModal.ts';
import { requestModal, readRequestForm } from '../blocks/requestModal.ts';
import { LIMITS, STATUS_WORDS } from '../blocks/text.ts';
import { ACTION, requestActionPattern, type RequestAction } from '../ids.ts';
import { explainAndLog, publishHome, type SlackEdge } from './context.ts';

interface Click {
  body: BlockAction;
  client: webApi.WebClient;
  userId: string;
  requestId: string;
  /** Tells the clicker privately: ephemeral beside a message, a notice on the Home tab. */
  tell: (text: string) => Promise<void>;
}

/**
 * The buttons. Each click is acknowledged at once; the button carries only the request ID,
 * and every decision about who may do what is the service's, made again on each click.
 */
export function registerActions(app: App, edge: SlackEdge): void {
  const { services } = edge.sesame;

  onRequestButton(app, edge, 'approve', async ({ userId, requestId, tell }) => {
    const decided = await services.requests.decide({ requestId, actorSlackId: userId, decision: 'approve' });
    await tell(
      decided.status === 'pending'
        ? `:white_check_mark: You approved \`${decided.id}\`; it still waits for the other approvers.`
        : `:white_check_mark: You approved \`${decided.id}\`; it is ${STATUS_WORDS[decided.status]}.`,
    );
  });

  onRequestButton(app, edge, 'deny', async ({ body, client, userId, requestId }) => {
    // Someone who may not decide is told so at once, before being asked for a reason.
    const request = await services.requests.mayDecide(requestId, userId);
    await client.views.open({ trigger_id: body.trigger_id, view: denyModal(requestId, request) });
  });

  onRequestButton(app, edge, 'showCredentials', async ({ body, client, userId, requestId }) => {
    // The trigger expires 3 seconds after the click and minting a password takes a round trip
    // to the database: a modal opens at once and is filled in when the password is set.
    const opened = await client.views.open({ trigger_id: body.trigger_id, view: waitingModal('Making a new password…') });
    const viewId = opened.view?.id;
    try {
      const creds = await services.grants.revealCredentials(requestId, userId);
      // Known as a secret while it is on its way, so no log line can carry it.
      registerSecret(creds.password);
      try {
        if (viewId) await client.views.update({ view_id: viewId, view: credentialsModal(creds) });
      } finally {
        forgetSecret(creds.password);
      }
    } catch (err) {
      const { text } = explainAndLog(edge, err, 'show credentials');
      if (viewId) await client.views.update({ view_id: viewId, view: waitingModal(text) });
    }
  });

  onRequestButton(app, edge, 'extend', async ({ body, client, userId, requestId }) => {
    const mine = await services.requests.list(userId, { limit: 100 });
    await client.views.open({ trigger_id: body.trigger_id, view: extendModal(requestId, mine.find((r) => r.id === requestId)) });
  });

  onRequestButton(app, edge, 'revoke', async ({ userId, requestId, tell }) => {
    const ended = await services.grants.revoke(requestId, userId);
    await tell(`:lock: \`${ended.id}\` is ${STATUS_WORDS[ended.status]}.`);
  });

  onRequestButton(app, edge, 'cancel', async ({ userId, requestId, tell }) => {
    const cancelled = await services.requests.cancel(requestId, userId);
    await tell(`:heavy_multiplication_x: \`${cancelled.id}\` is ${STATUS_WORDS[cancelled.status]}.`);
  });

  // Choosing an integration in the request modal redraws it with what that integration offers.
  app.action<BlockAction>(ACTION.pickIntegration, async ({ ack, body, client }) => {
    await ack();
    const view = body.view;
    if (!view) return;
    try {
      const picked = body.actions[0];
      const chosen = (picked?.type === 'static_select' ? picked.selected_option?.value : undefined) ?? readRequestForm(view.state.values).integration;
      const options = await services.requests.requestOptions(body.user.id);
      await client.views.update({ view_id: view.id, hash: view.hash, view: requestModal(options, chosen) });
    } catch (err) {
      explainAndLog(edge, err, 'request modal update');
    }
  });

  // Picking a database, schema or table needs no answer beyond the acknowledgement: the
  // choice is read when the form is submitted.
  for (const id of [ACTION.pickDatabase, ACTION.pickSchema, ACTION.pickTable]) {
    app.action(id, async ({ ack }) => ack());
  }
}

/**
 * Registers a request button's listener: acknowledges, takes the request ID from the button's
 * value, and tells the clicker what went wrong when the service refuses. Clicks on the Home tab
 * republish it, so it never shows a stale button for long.
 */
function onRequestButton(app: App, edge: SlackEdge, action: RequestAction, handle: (click: Click) => Promise<void>): void {
  app.action<BlockAction<ButtonAction>>(requestActionPattern(action), async ({ ack, body, action: button, client, respond }) => {
    await ack();
    const userId = body.user.id;
    const onHome = body.view?.type === 'home';
    let notice: string | undefined;
    const tell = async (text: string) => {
      if (onHome) notice = text;
      else await respond({ response_type: 'ephemeral', replace_original: false, text });
    };
    const requestId = normalizeRequestId(button.value ?? '');
    try {
      if (!requestId) throw new Error(`The button carried no request ID (${action}).`);
      await handle({ body, client, userId, requestId, tell });
    } catch (err) {
      await tell(explainAndLog(edge, err, `button ${action}`).text).catch(() => undefined);
    }
    if (onHome) await publishHome(edge, client, userId, notice);
  });
}

/** A modal that says what is happening, or what went wrong, before or instead of the content. */
function waitingModal(text: string) {
  return {
    type: 'modal' as const,
    title: plain('Your credentials', LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalTitle),
    blocks: [section(text)],
  };
}
