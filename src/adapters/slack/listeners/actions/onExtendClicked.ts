import { extendModal } from '../../blocks/extendModal.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Extend: opens the modal that asks for how much longer (the extension is its submission). */
export async function onExtendClicked(edge: SlackEdge, { body, client, userId, requestId }: Click): Promise<void> {
  const mine = await edge.services.requests.list(userId, { limit: 100 });
  await client.views.open({
    trigger_id: body.trigger_id,
    view: extendModal(
      requestId,
      mine.find((r) => r.id === requestId),
    ),
  });
}
