import type { SlackEdge } from '../context.ts';
import { answerOptions, none, type SuggestionArgs } from './answerOptions.ts';

/** The databases of the chosen integration that the person's flows cover. */
export async function onDatabaseOptions(edge: SlackEdge, args: SuggestionArgs): Promise<void> {
  const userId = args.body.user.id;
  await answerOptions(edge, args, (form, search) =>
    form.integration ? edge.services.catalog.databases(userId, form.integration, search) : none(),
  );
}
