import { STATUS_WORDS } from '../../blocks/text.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Cancel: withdraws the clicker's own request (every waiting part of one for several targets). */
export async function onCancelClicked(edge: SlackEdge, { userId, requestId, tell }: Click): Promise<void> {
  const cancelled = await edge.services.whole.cancel(requestId, userId);
  await tell(cancelled.map((r) => `:heavy_multiplication_x: \`${r.id}\` is ${STATUS_WORDS[r.status]}.`).join('\n'));
}
