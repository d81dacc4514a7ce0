import type { ReviewOutcome } from '../../../../domain/request.ts';
import type { SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Reviewed / Flagged on a break-glass alert: the review service decides whether the clicker may. */
async function review(edge: SlackEdge, { userId, requestId, tell }: Click, outcome: ReviewOutcome): Promise<void> {
  const reviewed = await edge.services.breakGlass.review(requestId, userId, outcome);
  await tell(
    outcome === 'flagged'
      ? `:triangular_flag_on_post: You flagged break-glass access \`${reviewed.id}\`; Sesame's admins were told.`
      : `:white_check_mark: You marked break-glass access \`${reviewed.id}\` reviewed.`,
  );
}

export const onReviewedClicked = (edge: SlackEdge, click: Click): Promise<void> => review(edge, click, 'reviewed');
export const onFlaggedClicked = (edge: SlackEdge, click: Click): Promise<void> => review(edge, click, 'flagged');
