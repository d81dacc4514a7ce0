import type { App } from '@slack/bolt';
import { ACTION } from '../../ids.ts';
import type { SlackEdge } from '../context.ts';
import { onDatabaseOptions } from './onDatabaseOptions.ts';
import { onSchemaOptions } from './onSchemaOptions.ts';
import { onTableOptions } from './onTableOptions.ts';

/**
 * Options of the request modal's database, schema and table pickers, loaded as the person types
 * (block_suggestion): the catalog service lists only what the person's flows cover. A picker
 * whose parent is not chosen yet offers nothing.
 */
export function registerOptions(app: App, edge: SlackEdge): void {
  app.options<'block_suggestion'>(ACTION.pickDatabase, (args) => onDatabaseOptions(edge, args));
  app.options<'block_suggestion'>(ACTION.pickSchema, (args) => onSchemaOptions(edge, args));
  app.options<'block_suggestion'>(ACTION.pickTable, (args) => onTableOptions(edge, args));
}
