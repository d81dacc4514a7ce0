import type { SlackEdge } from '../context.ts';
import { answerOptions, none, type SuggestionArgs } from './answerOptions.ts';

/** The tables of the chosen schema that the person's flows cover. */
export async function onTableOptions(edge: SlackEdge, args: SuggestionArgs): Promise<void> {
  const userId = args.body.user.id;
  await answerOptions(edge, args, (form, search) =>
    form.integration && form.database && form.schema
      ? edge.services.catalog.tables(userId, form.integration, form.database, form.schema, search)
      : none(),
  );
}
