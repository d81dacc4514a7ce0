import { STATUS_WORDS } from '../../blocks/text.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Approve: the request service decides whether the clicker may, and records the approval. */
export async function onApproveClicked(edge: SlackEdge, { userId, requestId, tell }: Click): Promise<void> {
  const decided = await edge.services.requests.decide({ requestId, actorSlackId: userId, decision: 'approve' });
  await tell(
    decided.status === 'pending'
      ? `:white_check_mark: You approved \`${decided.id}\`; it still waits for the other approvers.`
      : `:white_check_mark: You approved \`${decided.id}\`; it is ${STATUS_WORDS[decided.status]}.`,
  );
}
