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

/** The surface a list of blocks is sent to; it decides the block count limit. */
export type BlockSurface = 'message' | 'modal' | 'home';

/** Every limit the rules enforce, by name, so tests and builders can refer to the same numbers. */
export const BLOCK_KIT_LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  messageTextChars: 40_000,
  textObjectChars: 3000,
  sectionTextChars: 3000,
  sectionFields: 10,
  sectionFieldChars: 2000,
  headerTextChars: 150,
  contextElements: 10,
  actionsElements: 25,
  markdownBlocksTotalChars: 12_000,
  blockIdChars: 255,
  actionIdChars: 255,
  buttonTextChars: 75,
  buttonValueChars: 2000,
  accessibilityLabelChars: 75,
  urlChars: 3000,
  placeholderChars: 150,
  inputLabelChars: 2000,
  inputHintChars: 2000,
  selectOptions: 100,
  optionGroups: 100,
  optionGroupLabelChars: 75,
  optionTextChars: 75,
  optionValueChars: 150,
  optionDescriptionChars: 75,
  overflowOptions: 5,
  checkboxOptions: 10,
  radioOptions: 10,
  plainTextInputLengthMax: 3000,
  confirmTitleChars: 100,
  confirmTextChars: 300,
  confirmButtonChars: 30,
  imageAltTextChars: 2000,
  imageTitleChars: 2000,
  modalTitleChars: 24,
  modalButtonChars: 24,
  privateMetadataChars: 3000,
  callbackIdChars: 255,
  externalIdChars: 255,
} as const;

const L = BLOCK_KIT_LIMITS;

const BLOCK_TYPES = ['section', 'divider', 'header', 'context', 'actions', 'input', 'image', 'rich_text', 'markdown'] as const;
type BlockType = (typeof BLOCK_TYPES)[number];

/** Single and multi select menus, accepted wherever a menu fits (actions, section, input). */
const SELECT_MENUS = ['static', 'external', 'users', 'conversations', 'channels'].flatMap((source) => [
  `${source}_select`,
  `multi_${source}_select`,
]);

/** Elements an actions block may hold (Slack's "compatible elements" for actions). */
const ACTIONS_ELEMENTS = new Set([
  ...SELECT_MENUS,
  'button',
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'overflow',
  'radio_buttons',
  'rich_text_input',
  'timepicker',
  'workflow_button',
]);

/** Elements a section may show beside its text. */
const SECTION_ACCESSORIES = new Set([
  ...SELECT_MENUS,
  'button',
  'checkboxes',
  'datepicker',
  'image',
  'overflow',
  'radio_buttons',
  'timepicker',
  'workflow_button',
]);

/** Elements an input block may collect a value with. */
const INPUT_ELEMENTS = new Set([
  ...SELECT_MENUS,
  'checkboxes',
  'datepicker',
  'datetimepicker',
  'email_text_input',
  'file_input',
  'number_input',
  'plain_text_input',
  'radio_buttons',
  'rich_text_input',
  'timepicker',
  'url_text_input',
]);

const KNOWN_ELEMENTS = new Set([...ACTIONS_ELEMENTS, ...SECTION_ACCESSORIES, ...INPUT_ELEMENTS]);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Walks one payload (a message or a view) and collects every violation with its path. action_id
 * and block_id uniqueness span the whole payload, so one checker is used per payload.
 */
class BlockKitChecker {
  readonly problems: string[] = [];
  private readonly actionIds = new Map<string, string>();
  private readonly blockIds = new Map<string, string>();
  private markdownChars = 0;

  private problem(path: string, message: string): void {
    this.problems.push(`${path}: ${message}`);
  }

  /** A string no longer than `max`; `required` also rejects a missing or empty one. */
  private string(path: string, value: unknown, what: string, max: number, required = false): value is string {
    if (value === undefined) {
      if (required) this.problem(path, `${what} is required`);
      return false;
    }
    if (typeof value !== 'string') {
      this.problem(path, `${what} must be a string`);
      return false;
    }
    if (required && value.length === 0) this.problem(path, `${what} must not be empty`);
    if (value.length > max) {
      this.problem(path, `${what} is ${formatCount(value.length)} characters; Slack allows at most ${formatCount(max)}`);
    }
    return true;
  }

  /** A list of at most `max` items (and at least `min`); returns the items to check further. */
  private list(path: string, value: unknown, what: string, max: number, min = 0): unknown[] {
    if (!Array.isArray(value)) {
      this.problem(path, `${what} must be an array`);
      return [];
    }
    if (value.length < min) this.problem(path, `${what} has ${value.length} items; Slack needs at least ${min}`);
    if (value.length > max) {
      this.problem(path, `${what} has ${formatCount(value.length)} items; Slack allows at most ${formatCount(max)}`);
    }
    return value;
  }

  /**
   * A text object: `type` plain_text or mrkdwn, non-empty `text` within `max` characters.
   * `plainOnly` is for the many fields Slack restricts to plain_text.
   */
  text(path: string, value: unknown, what: string, max: number, options: { plainOnly?: boolean; required?: boolean } = {}): void {
    const required = options.required ?? true;
    if (value === undefined) {
      if (required) this.problem(path, `${what} is required`);
      return;
    }
    if (!isObject(value)) {
      this.problem(path, `${what} must be a text object ({ type, text })`);
      return;
    }
    const type = value.type;
    if (type !== 'plain_text' && type !== 'mrkdwn') {
      this.problem(`${path}.type`, `text object type must be plain_text or mrkdwn, not ${JSON.stringify(type)}`);
    } else if (options.plainOnly && type !== 'plain_text') {
      this.problem(`${path}.type`, `${what} must be plain_text, not mrkdwn`);
    }
    if (value.emoji !== undefined && type !== 'plain_text') {
      this.problem(`${path}.emoji`, 'emoji is only allowed on plain_text text objects');
    }
    if (value.verbatim !== undefined && type !== 'mrkdwn') {
      this.problem(`${path}.verbatim`, 'verbatim is only allowed on mrkdwn text objects');
    }
    this.string(`${path}.text`, value.text, what, Math.min(max, L.textObjectChars), true);
  }

  /** A block_id or action_id: within 255 characters and not used before in this payload. */
  private uniqueId(path: string, value: unknown, kind: 'block_id' | 'action_id'): void {
    if (!this.string(path, value, kind, kind === 'block_id' ? L.blockIdChars : L.actionIdChars)) return;
    if (value.length === 0) this.problem(path, `${kind} must not be empty`);
    const seen = kind === 'block_id' ? this.blockIds : this.actionIds;
    const earlier = seen.get(value);
    if (earlier) this.problem(path, `${kind} ${JSON.stringify(value)} is already used at ${earlier}; ${kind}s must be unique`);
    else seen.set(value, path);
  }

  private url(path: string, value: unknown): void {
    if (!this.string(path, value, 'url', L.urlChars)) return;
    if (!/^https?:\/\//i.test(value)) this.problem(path, 'url must be an absolute http(s) URL');
  }

  private confirm(path: string, value: unknown): void {
    if (value === undefined) return;
    if (!isObject(value)) {
      this.problem(path, 'confirm must be a confirmation dialog object');
      return;
    }
    this.text(`${path}.title`, value.title, 'confirm title', L.confirmTitleChars, { plainOnly: true });
    this.text(`${path}.text`, value.text, 'confirm text', L.confirmTextChars);
    this.text(`${path}.confirm`, value.confirm, 'confirm button', L.confirmButtonChars, { plainOnly: true });
    this.text(`${path}.deny`, value.deny, 'deny button', L.confirmButtonChars, { plainOnly: true });
    this.style(`${path}.style`, value.style);
  }

  private style(path: string, value: unknown): void {
    if (value !== undefined && value !== 'primary' && value !== 'danger') {
      this.problem(path, `style must be primary or danger, not ${JSON.stringify(value)}`);
    }
  }

  private option(path: string, value: unknown, options: { mrkdwnAllowed?: boolean; urlAllowed?: boolean } = {}): void {
    if (!isObject(value)) {
      this.problem(path, 'option must be an option object ({ text, value })');
      return;
    }
    this.text(`${path}.text`, value.text, 'option text', L.optionTextChars, { plainOnly: !options.mrkdwnAllowed });
    this.string(`${path}.value`, value.value, 'option value', L.optionValueChars, true);
    this.text(`${path}.description`, value.description, 'option description', L.optionDescriptionChars, {
      plainOnly: true,
      required: false,
    });
    if (value.url !== undefined) {
      if (options.urlAllowed) this.url(`${path}.url`, value.url);
      else this.problem(`${path}.url`, 'url is only allowed on overflow menu options');
    }
  }

  private options(
    path: string,
    value: unknown,
    max: number,
    min: number,
    options: { mrkdwnAllowed?: boolean; urlAllowed?: boolean } = {},
  ): void {
    for (const [i, o] of this.list(path, value, 'options', max, min).entries()) this.option(`${path}[${i}]`, o, options);
  }

  /** Options or option groups of a static select or an options response (exactly one of the two). */
  selectOptions(path: string, element: Json): void {
    const hasOptions = element.options !== undefined;
    const hasGroups = element.option_groups !== undefined;
    if (hasOptions === hasGroups) {
      this.problem(path, 'needs exactly one of options or option_groups');
    }
    if (hasOptions) this.options(`${path}.options`, element.options, L.selectOptions, 1);
    if (hasGroups) {
      this.list(`${path}.option_groups`, element.option_groups, 'option_groups', L.optionGroups, 1).forEach((group, i) => {
        const groupPath = `${path}.option_groups[${i}]`;
        if (!isObject(group)) {
          this.problem(groupPath, 'option group must be an object ({ label, options })');
          return;
        }
        this.text(`${groupPath}.label`, group.label, 'option group label', L.optionGroupLabelChars, { plainOnly: true });
        this.options(`${groupPath}.options`, group.options, L.selectOptions, 1);
      });
    }
  }

  private imageElement(path: string, element: Json): void {
    if (element.image_url === undefined && element.slack_file === undefined) {
      this.problem(path, 'an image needs image_url or slack_file');
    } else if (element.image_url !== undefined) {
      this.url(`${path}.image_url`, element.image_url);
    }
    this.string(`${path}.alt_text`, element.alt_text, 'alt_text', L.imageAltTextChars, true);
  }

  /** One element, where `allowed` lists what the containing block accepts. */
  element(path: string, value: unknown, allowed: Set<string>, container: string): void {
    if (!isObject(value)) {
      this.problem(path, 'element must be an object');
      return;
    }
    const type = value.type;
    if (typeof type !== 'string' || !KNOWN_ELEMENTS.has(type)) {
      this.problem(`${path}.type`, `unknown element type ${JSON.stringify(type)}`);
      return;
    }
    if (!allowed.has(type)) {
      this.problem(`${path}.type`, `${type} is not allowed in ${container}`);
      return;
    }
    if (type === 'image') {
      this.imageElement(path, value);
      return;
    }
    if (value.action_id !== undefined) this.uniqueId(`${path}.action_id`, value.action_id, 'action_id');
    this.text(`${path}.placeholder`, value.placeholder, 'placeholder', L.placeholderChars, { plainOnly: true, required: false });
    this.confirm(`${path}.confirm`, value.confirm);
    switch (type) {
      case 'button':
        this.text(`${path}.text`, value.text, 'button text', L.buttonTextChars, { plainOnly: true });
        this.string(`${path}.value`, value.value, 'button value', L.buttonValueChars);
        if (value.url !== undefined) this.url(`${path}.url`, value.url);
        this.style(`${path}.style`, value.style);
        this.string(`${path}.accessibility_label`, value.accessibility_label, 'accessibility_label', L.accessibilityLabelChars);
        break;
      case 'static_select':
      case 'multi_static_select':
        this.selectOptions(path, value);
        break;
      case 'external_select':
      case 'multi_external_select':
        if (
          value.min_query_length !== undefined &&
          !(Number.isInteger(value.min_query_length) && (value.min_query_length as number) >= 0)
        ) {
          this.problem(`${path}.min_query_length`, 'min_query_length must be a whole number of characters, 0 or more');
        }
        break;
      case 'overflow':
        this.options(`${path}.options`, value.options, L.overflowOptions, 1, { urlAllowed: true });
        break;
      case 'checkboxes':
        this.options(`${path}.options`, value.options, L.checkboxOptions, 1, { mrkdwnAllowed: true });
        break;
      case 'radio_buttons':
        this.options(`${path}.options`, value.options, L.radioOptions, 1, { mrkdwnAllowed: true });
        break;
      case 'plain_text_input':
        this.plainTextInput(path, value);
        break;
    }
    if (value.initial_option !== undefined) {
      this.option(`${path}.initial_option`, value.initial_option, { mrkdwnAllowed: type === 'radio_buttons' });
    }
  }

  private plainTextInput(path: string, element: Json): void {
    const { min_length: min, max_length: max } = element;
    if (min !== undefined && !(Number.isInteger(min) && (min as number) >= 0 && (min as number) <= L.plainTextInputLengthMax)) {
      this.problem(`${path}.min_length`, `min_length must be a whole number from 0 to ${formatCount(L.plainTextInputLengthMax)}`);
    }
    if (max !== undefined && !(Number.isInteger(max) && (max as number) >= 1 && (max as number) <= L.plainTextInputLengthMax)) {
      this.problem(`${path}.max_length`, `max_length must be a whole number from 1 to ${formatCount(L.plainTextInputLengthMax)}`);
    }
    if (typeof min === 'number' && typeof max === 'number' && min > max) {
      this.problem(path, `min_length (${min}) is greater than max_length (${max})`);
    }
    if (typeof element.initial_value === 'string' && typeof max === 'number' && element.initial_value.length > max) {
      this.problem(`${path}.initial_value`, `initial_value is longer than max_length (${max})`);
    }
  }

  /** One block of any kind. */
  block(path: string, value: unknown): void {
    if (!isObject(value)) {
      this.problem(path, 'block must be an object');
      return;
    }
    const type = value.type;
    if (typeof type !== 'string' || !(BLOCK_TYPES as readonly string[]).includes(type)) {
      this.problem(`${path}.type`, `unknown block type ${JSON.stringify(type)}`);
      return;
    }
    if (value.block_id !== undefined) this.uniqueId(`${path}.block_id`, value.block_id, 'block_id');
    this.blockBody(path, type as BlockType, value);
  }

  private blockBody(path: string, type: BlockType, block: Json): void {
    switch (type) {
      case 'section':
        if (block.text === undefined && block.fields === undefined) this.problem(path, 'a section needs text or fields');
        if (block.text !== undefined) this.text(`${path}.text`, block.text, 'section text', L.sectionTextChars);
        if (block.fields !== undefined) {
          for (const [i, field] of this.list(`${path}.fields`, block.fields, 'section fields', L.sectionFields, 1).entries()) {
            this.text(`${path}.fields[${i}]`, field, 'section field', L.sectionFieldChars);
          }
        }
        if (block.accessory !== undefined) this.element(`${path}.accessory`, block.accessory, SECTION_ACCESSORIES, 'a section accessory');
        break;
      case 'divider':
        break;
      case 'header':
        this.text(`${path}.text`, block.text, 'header text', L.headerTextChars, { plainOnly: true });
        break;
      case 'context':
        this.list(`${path}.elements`, block.elements, 'context elements', L.contextElements, 1).forEach((element, i) => {
          const elementPath = `${path}.elements[${i}]`;
          if (isObject(element) && element.type === 'image') this.imageElement(elementPath, element);
          else this.text(elementPath, element, 'context element', L.textObjectChars);
        });
        break;
      case 'actions':
        for (const [i, element] of this.list(`${path}.elements`, block.elements, 'actions elements', L.actionsElements, 1).entries()) {
          this.element(`${path}.elements[${i}]`, element, ACTIONS_ELEMENTS, 'an actions block');
        }
        break;
      case 'input':
        this.text(`${path}.label`, block.label, 'input label', L.inputLabelChars, { plainOnly: true });
        this.text(`${path}.hint`, block.hint, 'input hint', L.inputHintChars, { plainOnly: true, required: false });
        if (block.element === undefined) this.problem(`${path}.element`, 'an input block needs an element');
        else this.element(`${path}.element`, block.element, INPUT_ELEMENTS, 'an input block');
        for (const flag of ['optional', 'dispatch_action'] as const) {
          if (block[flag] !== undefined && typeof block[flag] !== 'boolean') this.problem(`${path}.${flag}`, `${flag} must be a boolean`);
        }
        break;
      case 'image':
        this.imageElement(path, block);
        this.text(`${path}.title`, block.title, 'image title', L.imageTitleChars, { plainOnly: true, required: false });
        break;
      case 'rich_text':
        this.list(`${path}.elements`, block.elements, 'rich_text elements', Number.POSITIVE_INFINITY, 1);
        break;
      case 'markdown':
        if (this.string(`${path}.text`, block.text, 'markdown text', L.markdownBlocksTotalChars, true)) {
          this.markdownChars += block.text.length;
          if (this.markdownChars > L.markdownBlocksTotalChars) {
            this.problem(
              `${path}.text`,
              `markdown blocks total ${formatCount(this.markdownChars)} characters so far; Slack allows ${formatCount(L.markdownBlocksTotalChars)} in one payload`,
            );
          }
        }
        break;
    }
  }

  blocks(path: string, blocks: unknown, max: number): void {
    for (const [i, block] of this.list(path, blocks, 'blocks', max).entries()) this.block(`${path}[${i}]`, block);
  }
}

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
