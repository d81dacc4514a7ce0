/**
 * The numbers and vocabularies of Slack's Block Kit (docs.slack.dev/reference/block-kit): every
 * documented limit by name, the block types, and which elements each block may hold.
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

export const L = BLOCK_KIT_LIMITS;

export const BLOCK_TYPES = ['section', 'divider', 'header', 'context', 'actions', 'input', 'image', 'rich_text', 'markdown'] as const;
export type BlockType = (typeof BLOCK_TYPES)[number];

/** Single and multi select menus, accepted wherever a menu fits (actions, section, input). */
export const SELECT_MENUS = ['static', 'external', 'users', 'conversations', 'channels'].flatMap((source) => [
  `${source}_select`,
  `multi_${source}_select`,
]);

/** Elements an actions block may hold (Slack's "compatible elements" for actions). */
export const ACTIONS_ELEMENTS = new Set([
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
export const SECTION_ACCESSORIES = new Set([
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
export const INPUT_ELEMENTS = new Set([
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

export const KNOWN_ELEMENTS = new Set([...ACTIONS_ELEMENTS, ...SECTION_ACCESSORIES, ...INPUT_ELEMENTS]);

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
