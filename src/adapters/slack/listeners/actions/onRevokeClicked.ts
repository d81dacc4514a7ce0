import { STATUS_WORDS } from '../../blocks/text.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Revoke: ends the grant now; the grant service decides whether the clicker may. */
export async function onRevokeClicked(edge: SlackEdge, { userId, requestId, tell }: Click): Promise<void> {
  const ended = await edge.services.revocations.revoke(requestId, userId);
  await tell(`:lock: \`${ended.id}\` is ${STATUS_WORDS[ended.status]}.`);
}
