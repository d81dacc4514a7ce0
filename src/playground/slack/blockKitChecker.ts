/**
 * The walk behind blockKitRules.ts: one payload's blocks, elements and composition objects
 * checked against Block Kit's limits (blockKitLimits.ts), every violation named with its path.
 */
import {
  ACTIONS_ELEMENTS,
  BLOCK_TYPES,
  type BlockType,
  formatCount,
  INPUT_ELEMENTS,
  isObject,
  type Json,
  KNOWN_ELEMENTS,
  L,
  SECTION_ACCESSORIES,
} from './blockKitLimits.ts';

/**
 * Walks one payload (a message or a view) and collects every violation with its path. action_id
 * and block_id uniqueness span the whole payload, so one checker is used per payload.
 */
export class BlockKitChecker {
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
