/**
 * Slack's documented Block Kit limits, as a checker that names every violation.
 *
 * The numbers come from Slack's Block Kit reference (docs.slack.dev/reference/block-kit: blocks,
 * block elements, composition objects, view objects) and the chat.postMessage reference. Slack
 * answers a payload that breaks one of them with `invalid_blocks` (or truncates it, for message
 * text), so a builder that passes here renders in Slack and a test that feeds a builder's output
 * through these rules fails where Slack would.
 *
 * Lengths are counted in UTF-16 code units (`string.length`), which is never fewer than the
 * characters Slack counts, so the check errs on the strict side.
 */
import { BlockKitChecker } from './blockKitChecker.ts';
import { type BlockSurface, formatCount, isObject, L } from './blockKitLimits.ts';

export { BLOCK_KIT_LIMITS, type BlockSurface } from './blockKitLimits.ts';

function blockLimit(where: BlockSurface): number {
  return where === 'message' ? L.messageBlocks : L.viewBlocks;
}

/**
 * Violations of Slack's Block Kit rules in `blocks` sent to a surface (a message: 50 blocks; a
 * modal or the Home tab: 100). Empty means Slack would accept them.
 */
export function validateBlocks(blocks: unknown[], where: BlockSurface): string[] {
  const checker = new BlockKitChecker();
  checker.blocks('blocks', blocks, blockLimit(where));
  return checker.problems;
}

/**
 * Violations in a message as chat.postMessage, chat.update, chat.postEphemeral or a response_url
 * take it: the top-level `text` (Slack truncates past 40,000 characters, treated here as an
 * error) and its blocks. A message needs `text` or `blocks`.
 */
export function validateMessage(message: { text?: unknown; blocks?: unknown }): string[] {
  const checker = new BlockKitChecker();
  if (message.text !== undefined && message.text !== null) {
    if (typeof message.text !== 'string') checker.problems.push('text: text must be a string');
    else if (message.text.length > L.messageTextChars) {
      checker.problems.push(
        `text: message text is ${formatCount(message.text.length)} characters; Slack truncates past ${formatCount(L.messageTextChars)}`,
      );
    }
  }
  const hasText = typeof message.text === 'string' && message.text.length > 0;
  const hasBlocks = Array.isArray(message.blocks) && message.blocks.length > 0;
  if (!hasText && !hasBlocks) checker.problems.push('text: a message needs text or blocks');
  if (message.blocks !== undefined && message.blocks !== null) checker.blocks('blocks', message.blocks, L.messageBlocks);
  return checker.problems;
}

/**
 * Violations of Slack's view object rules: a modal (title ≤ 24, submit and close ≤ 24, submit
 * required with input blocks, 100 blocks, private_metadata ≤ 3,000, callback_id ≤ 255) or a
 * Home tab (100 blocks, the same metadata limits).
 */
export function validateView(view: unknown): string[] {
  const checker = new BlockKitChecker();
  const problems = checker.problems;
  if (!isObject(view)) {
    problems.push('view: a view must be an object');
    return problems;
  }
  if (view.type !== 'modal' && view.type !== 'home') {
    problems.push(`view.type: view type must be modal or home, not ${JSON.stringify(view.type)}`);
    return problems;
  }
  if (view.type === 'modal') {
    checker.text('view.title', view.title, 'modal title', L.modalTitleChars, { plainOnly: true });
    checker.text('view.submit', view.submit, 'submit button', L.modalButtonChars, { plainOnly: true, required: false });
    checker.text('view.close', view.close, 'close button', L.modalButtonChars, { plainOnly: true, required: false });
    const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isObject(b) && b.type === 'input');
    if (hasInput && view.submit === undefined) problems.push('view.submit: a modal with input blocks needs a submit button');
  }
  for (const [key, max] of [
    ['private_metadata', L.privateMetadataChars],
    ['callback_id', L.callbackIdChars],
    ['external_id', L.externalIdChars],
  ] as const) {
    const value = view[key];
    if (value === undefined) continue;
    if (typeof value !== 'string') problems.push(`view.${key}: ${key} must be a string`);
    else if (value.length > max) {
      problems.push(`view.${key}: ${key} is ${formatCount(value.length)} characters; Slack allows at most ${formatCount(max)}`);
    }
  }
  if (view.blocks === undefined) problems.push('view.blocks: blocks is required');
  else checker.blocks('view.blocks', view.blocks, L.viewBlocks);
  return problems;
}

/**
 * Violations in an app's answer to a block_suggestion (an external select asking for options):
 * `{ options }` or `{ option_groups }`, at most 100 each, every option within Slack's limits.
 * Slack shows an empty menu for an answer that breaks them.
 */
export function validateOptionsResponse(body: unknown): string[] {
  const checker = new BlockKitChecker();
  if (!isObject(body)) return ['response: an options response must be a JSON object'];
  checker.selectOptions('response', body);
  return checker.problems;
}
