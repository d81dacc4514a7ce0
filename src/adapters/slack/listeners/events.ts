import type { App } from '@slack/bolt';
import { explainAndLog, publishHome, type SlackEdge } from './context.ts';

/** app_home_opened: the Home tab is drawn afresh each time the person opens it. */
export function registerEvents(app: App, edge: SlackEdge): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    try {
      await publishHome(edge, client, event.user);
    } catch (err) {
      explainAndLog(edge, err, 'app home');
    }
  });
}
