import type { App, BlockSuggestion } from '@slack/bolt';
import { option } from '../blocks/elements.ts';
import { readRequestForm } from '../blocks/requestModal.ts';
import { LIMITS } from '../blocks/text.ts';
import { ACTION } from '../ids.ts';
import { explainAndLog, type SlackEdge } from './context.ts';

/**
 * Options of the request modal's database, schema and table pickers, loaded as the person types
 * (block_suggestion): the catalog service lists only what the person's flows cover. A picker
 * whose parent is not chosen yet offers nothing.
 */
export function registerOptions(app: App, edge: SlackEdge): void {
  const { catalog } = edge.sesame.services;
  app.options<'block_suggestion'>(ACTION.pickDatabase, async ({ ack, body }) => {
    await answer(ack, edge, body, (form, search) => (form.integration ? catalog.databases(body.user.id, form.integration, search) : none()));
  });
  app.options<'block_suggestion'>(ACTION.pickSchema, async ({ ack, body }) => {
    await answer(ack, edge, body, (form, search) =>
      form.integration && form.database ? catalog.schemas(body.user.id, form.integration, form.database, search) : none(),
    );
  });
  app.options<'block_suggestion'>(ACTION.pickTable, async ({ ack, body }) => {
    await answer(ack, edge, body, (form, search) =>
      form.integration && form.database && form.schema
        ? catalog.tables(body.user.id, form.integration, form.database, form.schema, search)
        : none(),
    );
  });
}

async function none(): Promise<string[]> {
  return [];
}

async function answer(
  ack: (response: { options: ReturnType<typeof option>[] }) => Promise<void>,
  edge: SlackEdge,
  body: BlockSuggestion,
  list: (form: ReturnType<typeof readRequestForm>, search: string | undefined) => Promise<string[]>,
): Promise<void> {
  const values = body.view?.state?.values ?? {};
  const search = body.value?.trim() || undefined;
  let names: string[] = [];
  try {
    const form = readRequestForm(values as Parameters<typeof readRequestForm>[0]);
    // The modal keeps the integration it was drawn for in private_metadata.
    form.integration ??= body.view?.private_metadata || undefined;
    names = await list(form, search);
  } catch (err) {
    explainAndLog(edge, err, 'catalog options');
  }
  // Slack shows at most 100 options; the search narrows longer lists.
  await ack({ options: names.slice(0, LIMITS.options).map((n) => option(n, n)) });
}
