import { isSesameError } from '../../domain/errors.ts';
import { redact } from '../../logger.ts';
import { ADMINS_WERE_TOLD } from './blocks/text.ts';

/** What to tell a person about an error, and whether it was a mistake of theirs. */
export interface ErrorExplanation {
  /** Ephemeral text: what was wrong and what to do next. */
  text: string;
  /** True for errors in what the person typed or chose (the usage helps then). */
  isInputError: boolean;
  /** True for errors nobody planned for: they are logged, and the person sees no internals. */
  unexpected: boolean;
  /**
   * For errors whose message is written for admins (it names hosts, the connector, what the
   * database said): the person is told what happened in other words, and the message itself is
   * for the admins' alert.
   */
  forAdmins?: string;
}

/**
 * The one place where an error's code becomes words for a person (ARCHITECTURE.md: only the edge
 * does this). Messages of Sesame's own errors are written to be shown; anything else is an
 * internal failure whose text may hold details nobody in Slack should see, so it is replaced by
 * a sentence that says what to do.
 */
export function explainError(err: unknown): ErrorExplanation {
  if (!isSesameError(err)) {
    return {
      text: ':warning: Something went wrong inside Sesame, so nothing was changed. Try again in a minute; if it keeps happening, a Sesame admin can find the details in its logs.',
      isInputError: false,
      unexpected: true,
    };
  }
  const message = neutralise(redact(err.message));
  switch (err.code) {
    case 'input':
      return { text: `:warning: ${message}`, isInputError: true, unexpected: false };
    case 'not_allowed':
      return { text: `:no_entry: ${message}`, isInputError: false, unexpected: false };
    case 'not_found':
      return { text: `:mag: ${message}`, isInputError: false, unexpected: false };
    case 'conflict':
      return { text: `:information_source: ${message}`, isInputError: false, unexpected: false };
    // These messages name hosts, the connector and what the database said (PRODUCT.md §6).
    case 'target_unavailable':
      return {
        text: `:electric_plug: Sesame could not do this on the database just now. ${ADMINS_WERE_TOLD}; try again in a few minutes.`,
        isInputError: false,
        unexpected: false,
        forAdmins: message,
      };
    case 'connector_setup':
      return {
        text: `:wrench: Sesame cannot do this on that database until an admin finishes setting it up. ${ADMINS_WERE_TOLD} and what to run; try again once they have.`,
        isInputError: false,
        unexpected: false,
        forAdmins: message,
      };
    case 'config':
      return {
        text: `:wrench: Sesame's configuration has a problem; tell a Sesame admin. ${message}`,
        isInputError: false,
        unexpected: false,
      };
  }
}

/**
 * The explanation with the command's usage after it, for errors in what was typed: malformed
 * input, and things asked for that do not exist or that no flow offers.
 */
export function explainWithUsage(err: unknown, usage: readonly string[]): ErrorExplanation {
  const explained = explainError(err);
  const aboutWhatWasTyped = isSesameError(err) && (err.code === 'input' || err.code === 'not_allowed' || err.code === 'not_found');
  if (!aboutWhatWasTyped) return explained;
  return { ...explained, text: `${explained.text}\n\n*Usage*\n${usage.map((u) => `• ${u}`).join('\n')}` };
}

/**
 * Error messages quote what people typed. Mentions of users that the services put there on
 * purpose (`<@U0BOB>`) stay; any other `<…>` (a broadcast like `<!channel>`, a fake link) and
 * `&` are escaped so quoted input renders as text.
 */
function neutralise(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replace(/<(?!@[UW][A-Z0-9]+>)/g, '&lt;')
    .replace(/(?<!<@[UW][A-Z0-9]+)>/g, '&gt;');
}
