import { denyModal } from '../../blocks/denyModal.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Deny: opens the modal that asks for a reason (the denial itself is its submission). */
export async function onDenyClicked(edge: SlackEdge, { body, client, userId, requestId }: Click): Promise<void> {
  // Someone who may not decide is told so at once, before being asked for a reason.
  const request = await edge.services.requests.mayDecide(requestId, userId);
  await client.views.open({ trigger_id: body.trigger_id, view: denyModal(requestId, request) });
}
