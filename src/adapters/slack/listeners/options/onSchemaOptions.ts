import type { SlackEdge } from '../context.ts';
import { answerOptions, none, type SuggestionArgs } from './answerOptions.ts';

/** The schemas of the chosen database that the person's flows cover. */
export async function onSchemaOptions(edge: SlackEdge, args: SuggestionArgs): Promise<void> {
  const userId = args.body.user.id;
  await answerOptions(edge, args, (form, search) =>
    form.integration && form.database ? edge.services.catalog.schemas(userId, form.integration, form.database, search) : none(),
  );
}
