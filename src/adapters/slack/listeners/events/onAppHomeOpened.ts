import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { explainAndLog, publishHome, type SlackEdge } from '../context.ts';

/** app_home_opened: the Home tab is drawn afresh each time the person opens it. */
export async function onAppHomeOpened(
  edge: SlackEdge,
  { event, client }: SlackEventMiddlewareArgs<'app_home_opened'> & AllMiddlewareArgs,
): Promise<void> {
  if (event.tab !== 'home') return;
  try {
    await publishHome(edge, client, event.user);
  } catch (err) {
    explainAndLog(edge, err, 'app home');
  }
}
