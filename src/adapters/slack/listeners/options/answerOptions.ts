import type { AllMiddlewareArgs, SlackOptionsMiddlewareArgs } from '@slack/bolt';
import { option } from '../../blocks/elements.ts';
import { readRequestForm } from '../../blocks/requestModal.ts';
import { LIMITS } from '../../blocks/text.ts';
import { explainAndLog, type SlackEdge } from '../context.ts';

/** A block_suggestion as a picker's listener receives it. */
export type SuggestionArgs = SlackOptionsMiddlewareArgs<'block_suggestion'> & AllMiddlewareArgs;

/** The request form as filled in so far. */
export type RequestForm = ReturnType<typeof readRequestForm>;

/** Nothing to offer: the picker's parent is not chosen yet. */
export async function none(): Promise<string[]> {
  return [];
}

/**
 * Answers a picker with the names `list` gives for the form as filled in so far and what the
 * person typed; a failure is logged and answered with no options.
 */
export async function answerOptions(
  edge: SlackEdge,
  { ack, body }: SuggestionArgs,
  list: (form: RequestForm, search: string | undefined) => Promise<string[]>,
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
