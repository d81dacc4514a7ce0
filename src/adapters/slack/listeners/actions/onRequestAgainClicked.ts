import { requestAgainModal } from '../../blocks/requestAgainModal.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/**
 * Request again, on the DM of a request that ended: opens the request modal filled in with what
 * it asked for, within the click's trigger. The service refuses anyone but the requester; the
 * submission is the request modal's, checked as any other.
 */
export async function onRequestAgainClicked(edge: SlackEdge, { body, client, userId, requestId }: Click): Promise<void> {
  const { previous, options } = await edge.services.requestAgain.start(requestId, userId);
  await client.views.open({ trigger_id: body.trigger_id, view: requestAgainModal(options, previous) });
}
