import type { App } from '@slack/bolt';
import type { SlackEdge } from '../context.ts';
import { onAccessCommand } from './onAccessCommand.ts';

/** The slash command, under the name the config gives it. */
export function registerCommands(app: App, edge: SlackEdge): void {
  app.command(edge.command, (args) => onAccessCommand(edge, args));
}
