import type { AllMiddlewareArgs, BlockAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { readRequestForm, requestModal } from '../../blocks/requestModal.ts';
import { explainAndLog, type SlackEdge } from '../context.ts';

/** Choosing an integration in the request modal redraws it with what that integration offers. */
export async function onIntegrationPicked(
  edge: SlackEdge,
  { ack, body, client }: SlackActionMiddlewareArgs<BlockAction> & AllMiddlewareArgs,
): Promise<void> {
  await ack();
  const view = body.view;
  if (!view) return;
  try {
    const picked = body.actions[0];
    const chosen =
      (picked?.type === 'static_select' ? picked.selected_option?.value : undefined) ?? readRequestForm(view.state.values).integration;
    const options = await edge.services.requests.requestOptions(body.user.id);
    await client.views.update({ view_id: view.id, hash: view.hash, view: requestModal(options, chosen) });
  } catch (err) {
    explainAndLog(edge, err, 'request modal update');
  }
}
