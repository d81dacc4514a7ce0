import { STATUS_WORDS } from '../../blocks/text.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Cancel: withdraws the clicker's own request while it waits. */
export async function onCancelClicked(edge: SlackEdge, { userId, requestId, tell }: Click): Promise<void> {
  const cancelled = await edge.services.requests.cancel(requestId, userId);
  await tell(`:heavy_multiplication_x: \`${cancelled.id}\` is ${STATUS_WORDS[cancelled.status]}.`);
}
