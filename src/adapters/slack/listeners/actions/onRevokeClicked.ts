import { STATUS_WORDS } from '../../blocks/text.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/**
 * Revoke: ends the grant now (every part's, for a request for several targets); the grant
 * service decides whether the clicker may.
 */
export async function onRevokeClicked(edge: SlackEdge, { userId, requestId, tell }: Click): Promise<void> {
  const ended = await edge.services.whole.revoke(requestId, userId);
  await tell(ended.map((r) => `:lock: \`${r.id}\` is ${STATUS_WORDS[r.status]}.`).join('\n'));
}
