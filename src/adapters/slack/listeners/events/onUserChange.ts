import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { explainAndLog, type SlackEdge } from '../context.ts';

/**
 * user_change: a person deactivated in Slack (`deleted: true`) loses every grant and request at
 * once (PRODUCT.md §6); any other change of a profile is not Sesame's business.
 */
export async function onUserChange(edge: SlackEdge, { event }: SlackEventMiddlewareArgs<'user_change'> & AllMiddlewareArgs): Promise<void> {
  const user = event.user as { id?: string; deleted?: boolean };
  if (user.deleted !== true || !user.id) return;
  try {
    await edge.services.departures.personLeft(user.id);
  } catch (err) {
    explainAndLog(edge, err, 'user_change');
  }
}
