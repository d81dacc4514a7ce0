import type { App } from '@slack/bolt';
import type { SlackEdge } from '../context.ts';
import { onAppHomeOpened } from './onAppHomeOpened.ts';
import { onUserChange } from './onUserChange.ts';

/** The events Sesame subscribes to: the Home tab being opened, and a person deactivated. */
export function registerEvents(app: App, edge: SlackEdge): void {
  app.event('app_home_opened', (args) => onAppHomeOpened(edge, args));
  app.event('user_change', (args) => onUserChange(edge, args));
}
