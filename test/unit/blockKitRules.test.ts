/**
 * Slack's Block Kit limits as the fake Slack enforces them: for every rule, an example at the
 * limit passes and one just past it fails with exactly one violation that names the rule.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BLOCK_KIT_LIMITS as L,
  validateBlocks,
  validateMessage,
  validateOptionsResponse,
  validateView,
} from '../../src/playground/slack/blockKitRules.ts';

const chars = (n: number, c = 'x') => c.repeat(n);
const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const section = (text: string, extra: Record<string, unknown> = {}) => ({ type: 'section', text: mrkdwn(text), ...extra });
const button = (extra: Record<string, unknown> = {}) => ({ type: 'button', text: plain('Approve'), action_id: 'approve', ...extra });
const actions = (...elements: unknown[]) => ({ type: 'actions', elements });
const option = (text = 'one', value = 'one') => ({ text: plain(text), value });
const select = (extra: Record<string, unknown> = {}) => ({ type: 'static_select', action_id: 'pick', options: [option()], ...extra });
const input = (element: unknown, extra: Record<string, unknown> = {}) => ({ type: 'input', label: plain('Reason'), element, ...extra });
const textInput = (extra: Record<string, unknown> = {}) => ({ type: 'plain_text_input', action_id: 'reason', ...extra });
const modal = (extra: Record<string, unknown> = {}) => ({
  type: 'modal',
  title: plain('Request access'),
  submit: plain('Request'),
  close: plain('Cancel'),
  blocks: [input(textInput())],
  ...extra,
});
const confirm = (extra: Record<string, unknown> = {}) => ({
  title: plain('Sure?'),
  text: mrkdwn('Revoke access now?'),
  confirm: plain('Revoke'),
  deny: plain('Keep'),
  ...extra,
});
const sections = (n: number) => Array.from({ length: n }, (_, i) => section(`line ${i}`));
const buttons = (n: number) => Array.from({ length: n }, (_, i) => button({ action_id: `b${i}` }));
const options = (n: number) => Array.from({ length: n }, (_, i) => option(`o${i}`, `v${i}`));

interface Rule {
  name: string;
  check: (payload: unknown) => string[];
  good: unknown;
  bad: unknown;
  violation: RegExp;
}

const message = (blocks: unknown) => validateBlocks(blocks as unknown[], 'message');
const inMessage = (...blocks: unknown[]) => blocks;
const view = (v: unknown) => validateView(v);
const msg = (m: unknown) => validateMessage(m as { text?: unknown; blocks?: unknown });

const rules: Rule[] = [
  {
    name: '50 blocks in a message',
    check: message,
    good: sections(50),
    bad: sections(51),
    violation: /^blocks: blocks has 51 items; Slack allows at most 50$/,
  },
  {
    name: '100 blocks in a modal',
    check: (b) => validateBlocks(b as unknown[], 'modal'),
    good: sections(100),
    bad: sections(101),
    violation: /blocks has 101 items; Slack allows at most 100/,
  },
  {
    name: '100 blocks in the Home tab',
    check: (b) => validateBlocks(b as unknown[], 'home'),
    good: sections(100),
    bad: sections(101),
    violation: /blocks has 101 items; Slack allows at most 100/,
  },
  {
    name: '100 blocks in a view',
    check: view,
    good: { type: 'home', blocks: sections(100) },
    bad: { type: 'home', blocks: sections(101) },
    violation: /^view\.blocks: blocks has 101 items/,
  },
  {
    name: 'section text ≤ 3,000',
    check: message,
    good: [section(chars(3000))],
    bad: [section(chars(3001))],
    violation: /^blocks\[0\]\.text\.text: section text is 3,001 characters; Slack allows at most 3,000$/,
  },
  {
    name: 'section fields ≤ 10',
    check: message,
    good: [{ type: 'section', fields: Array(10).fill(mrkdwn('f')) }],
    bad: [{ type: 'section', fields: Array(11).fill(mrkdwn('f')) }],
    violation: /^blocks\[0\]\.fields: section fields has 11 items; Slack allows at most 10$/,
  },
  {
    name: 'section field ≤ 2,000',
    check: message,
    good: [{ type: 'section', fields: [mrkdwn(chars(2000))] }],
    bad: [{ type: 'section', fields: [mrkdwn(chars(2001))] }],
    violation: /^blocks\[0\]\.fields\[0\]\.text: .*2,001 characters; Slack allows at most 2,000$/,
  },
  {
    name: 'section needs text or fields',
    check: message,
    good: [section('hi')],
    bad: [{ type: 'section' }],
    violation: /^blocks\[0\]: a section needs text or fields$/,
  },
  {
    name: 'header text ≤ 150',
    check: message,
    good: [{ type: 'header', text: plain(chars(150)) }],
    bad: [{ type: 'header', text: plain(chars(151)) }],
    violation: /^blocks\[0\]\.text\.text: header text is 151 characters; Slack allows at most 150$/,
  },
  {
    name: 'header text is plain_text',
    check: message,
    good: [{ type: 'header', text: plain('Access') }],
    bad: [{ type: 'header', text: mrkdwn('*Access*') }],
    violation: /^blocks\[0\]\.text\.type: header text must be plain_text, not mrkdwn$/,
  },
  {
    name: 'context elements ≤ 10',
    check: message,
    good: [{ type: 'context', elements: Array(10).fill(mrkdwn('c')) }],
    bad: [{ type: 'context', elements: Array(11).fill(mrkdwn('c')) }],
    violation: /^blocks\[0\]\.elements: context elements has 11 items; Slack allows at most 10$/,
  },
  {
    name: 'actions elements ≤ 25',
    check: message,
    good: [actions(...buttons(25))],
    bad: [actions(...buttons(26))],
    violation: /^blocks\[0\]\.elements: actions elements has 26 items; Slack allows at most 25$/,
  },
  {
    name: 'actions elements ≥ 1',
    check: message,
    good: [actions(button())],
    bad: [actions()],
    violation: /^blocks\[0\]\.elements: actions elements has 0 items; Slack needs at least 1$/,
  },
  {
    name: 'button text ≤ 75',
    check: message,
    good: [actions(button({ text: plain(chars(75)) }))],
    bad: [actions(button({ text: plain(chars(76)) }))],
    violation: /^blocks\[0\]\.elements\[0\]\.text\.text: button text is 76 characters; Slack allows at most 75$/,
  },
  {
    name: 'button text is plain_text',
    check: message,
    good: [actions(button())],
    bad: [actions(button({ text: mrkdwn('*Go*') }))],
    violation: /^blocks\[0\]\.elements\[0\]\.text\.type: button text must be plain_text/,
  },
  {
    name: 'button value ≤ 2,000',
    check: message,
    good: [actions(button({ value: chars(2000) }))],
    bad: [actions(button({ value: chars(2001) }))],
    violation: /^blocks\[0\]\.elements\[0\]\.value: button value is 2,001 characters; Slack allows at most 2,000$/,
  },
  {
    name: 'button style primary or danger',
    check: message,
    good: [actions(button({ style: 'danger' }))],
    bad: [actions(button({ style: 'green' }))],
    violation: /^blocks\[0\]\.elements\[0\]\.style: style must be primary or danger, not "green"$/,
  },
  {
    name: 'button url ≤ 3,000',
    check: message,
    good: [actions(button({ url: `https://x.test/${chars(3000 - 15)}` }))],
    bad: [actions(button({ url: `https://x.test/${chars(3000 - 14)}` }))],
    violation: /^blocks\[0\]\.elements\[0\]\.url: url is 3,001 characters; Slack allows at most 3,000$/,
  },
  {
    name: 'url is absolute',
    check: message,
    good: [actions(button({ url: 'https://example.com' }))],
    bad: [actions(button({ url: '/relative' }))],
    violation: /url must be an absolute http\(s\) URL$/,
  },
  {
    name: 'action_id ≤ 255',
    check: message,
    good: [actions(button({ action_id: chars(255) }))],
    bad: [actions(button({ action_id: chars(256) }))],
    violation: /^blocks\[0\]\.elements\[0\]\.action_id: action_id is 256 characters; Slack allows at most 255$/,
  },
  {
    name: 'action_id unique within a message',
    check: message,
    good: [actions(button({ action_id: 'a' })), actions(button({ action_id: 'b' }))],
    bad: [actions(button({ action_id: 'a' })), actions(button({ action_id: 'a' }))],
    violation: /^blocks\[1\]\.elements\[0\]\.action_id: action_id "a" is already used at blocks\[0\]\.elements\[0\]\.action_id/,
  },
  {
    name: 'action_id unique within a view',
    check: view,
    good: modal({ blocks: [input(textInput({ action_id: 'a' })), input(textInput({ action_id: 'b' }))] }),
    bad: modal({ blocks: [input(textInput({ action_id: 'a' })), input(textInput({ action_id: 'a' }))] }),
    violation: /^view\.blocks\[1\]\.element\.action_id: action_id "a" is already used/,
  },
  {
    name: 'block_id ≤ 255',
    check: message,
    good: [section('x', { block_id: chars(255) })],
    bad: [section('x', { block_id: chars(256) })],
    violation: /^blocks\[0\]\.block_id: block_id is 256 characters; Slack allows at most 255$/,
  },
  {
    name: 'block_id unique',
    check: message,
    good: inMessage(section('x', { block_id: 'a' }), section('y', { block_id: 'b' })),
    bad: inMessage(section('x', { block_id: 'a' }), section('y', { block_id: 'a' })),
    violation: /^blocks\[1\]\.block_id: block_id "a" is already used at blocks\[0\]\.block_id/,
  },
  {
    name: 'text object type',
    check: message,
    good: [section('ok')],
    bad: [{ type: 'section', text: { type: 'markdown', text: 'x' } }],
    violation: /^blocks\[0\]\.text\.type: text object type must be plain_text or mrkdwn, not "markdown"$/,
  },
  {
    name: 'text object text non-empty',
    check: message,
    good: [section('x')],
    bad: [section('')],
    violation: /^blocks\[0\]\.text\.text: section text must not be empty$/,
  },
  {
    name: 'text object text required',
    check: message,
    good: [section('x')],
    bad: [{ type: 'section', text: { type: 'mrkdwn' } }],
    violation: /^blocks\[0\]\.text\.text: section text is required$/,
  },
  {
    name: 'emoji only on plain_text',
    check: message,
    good: [{ type: 'header', text: { ...plain('x'), emoji: true } }],
    bad: [{ type: 'section', text: { ...mrkdwn('x'), emoji: true } }],
    violation: /^blocks\[0\]\.text\.emoji: emoji is only allowed on plain_text text objects$/,
  },
  {
    name: 'unknown block type',
    check: message,
    good: [{ type: 'divider' }],
    bad: [{ type: 'table' }],
    violation: /^blocks\[0\]\.type: unknown block type "table"$/,
  },
  {
    name: 'unknown element type',
    check: message,
    good: [actions(button())],
    bad: [actions({ type: 'slider', action_id: 's' })],
    violation: /^blocks\[0\]\.elements\[0\]\.type: unknown element type "slider"$/,
  },
  {
    name: 'element allowed in its block',
    check: message,
    good: [input(textInput())],
    bad: [actions(textInput())],
    violation: /^blocks\[0\]\.elements\[0\]\.type: plain_text_input is not allowed in an actions block$/,
  },
  {
    name: 'input label ≤ 2,000',
    check: message,
    good: [input(textInput(), { label: plain(chars(2000)) })],
    bad: [input(textInput(), { label: plain(chars(2001)) })],
    violation: /^blocks\[0\]\.label\.text: input label is 2,001 characters; Slack allows at most 2,000$/,
  },
  {
    name: 'input needs an element',
    check: message,
    good: [input(textInput())],
    bad: [{ type: 'input', label: plain('Reason') }],
    violation: /^blocks\[0\]\.element: an input block needs an element$/,
  },
  {
    name: 'placeholder ≤ 150',
    check: message,
    good: [input(textInput({ placeholder: plain(chars(150)) }))],
    bad: [input(textInput({ placeholder: plain(chars(151)) }))],
    violation: /^blocks\[0\]\.element\.placeholder\.text: placeholder is 151 characters; Slack allows at most 150$/,
  },
  {
    name: 'plain_text_input max_length ≤ 3,000',
    check: message,
    good: [input(textInput({ max_length: 3000 }))],
    bad: [input(textInput({ max_length: 3001 }))],
    violation: /^blocks\[0\]\.element\.max_length: max_length must be a whole number from 1 to 3,000$/,
  },
  {
    name: 'plain_text_input min_length ≤ max_length',
    check: message,
    good: [input(textInput({ min_length: 10, max_length: 10 }))],
    bad: [input(textInput({ min_length: 11, max_length: 10 }))],
    violation: /^blocks\[0\]\.element: min_length \(11\) is greater than max_length \(10\)$/,
  },
  {
    name: 'static_select options ≤ 100',
    check: message,
    good: [actions(select({ options: options(100) }))],
    bad: [actions(select({ options: options(101) }))],
    violation: /^blocks\[0\]\.elements\[0\]\.options: options has 101 items; Slack allows at most 100$/,
  },
  {
    name: 'static_select options or option_groups',
    check: message,
    good: [actions(select())],
    bad: [actions(select({ options: undefined }))],
    violation: /^blocks\[0\]\.elements\[0\]: needs exactly one of options or option_groups$/,
  },
  {
    name: 'option text ≤ 75',
    check: message,
    good: [actions(select({ options: [option(chars(75))] }))],
    bad: [actions(select({ options: [option(chars(76))] }))],
    violation: /^blocks\[0\]\.elements\[0\]\.options\[0\]\.text\.text: option text is 76 characters; Slack allows at most 75$/,
  },
  {
    name: 'option value ≤ 150',
    check: message,
    good: [actions(select({ options: [option('a', chars(150))] }))],
    bad: [actions(select({ options: [option('a', chars(151))] }))],
    violation: /^blocks\[0\]\.elements\[0\]\.options\[0\]\.value: option value is 151 characters; Slack allows at most 150$/,
  },
  {
    name: 'option group label ≤ 75',
    check: message,
    good: [actions(select({ options: undefined, option_groups: [{ label: plain(chars(75)), options: [option()] }] }))],
    bad: [actions(select({ options: undefined, option_groups: [{ label: plain(chars(76)), options: [option()] }] }))],
    violation: /option_groups\[0\]\.label\.text: option group label is 76 characters/,
  },
  {
    name: 'overflow options ≤ 5',
    check: message,
    good: [actions({ type: 'overflow', action_id: 'more', options: options(5) })],
    bad: [actions({ type: 'overflow', action_id: 'more', options: options(6) })],
    violation: /^blocks\[0\]\.elements\[0\]\.options: options has 6 items; Slack allows at most 5$/,
  },
  {
    name: 'checkboxes options ≤ 10',
    check: message,
    good: [actions({ type: 'checkboxes', action_id: 'c', options: options(10) })],
    bad: [actions({ type: 'checkboxes', action_id: 'c', options: options(11) })],
    violation: /^blocks\[0\]\.elements\[0\]\.options: options has 11 items; Slack allows at most 10$/,
  },
  {
    name: 'option url only in overflow',
    check: message,
    good: [actions({ type: 'overflow', action_id: 'more', options: [{ ...option(), url: 'https://x.test' }] })],
    bad: [actions(select({ options: [{ ...option(), url: 'https://x.test' }] }))],
    violation: /options\[0\]\.url: url is only allowed on overflow menu options$/,
  },
  {
    name: 'confirm title ≤ 100',
    check: message,
    good: [actions(button({ confirm: confirm({ title: plain(chars(100)) }) }))],
    bad: [actions(button({ confirm: confirm({ title: plain(chars(101)) }) }))],
    violation: /^blocks\[0\]\.elements\[0\]\.confirm\.title\.text: confirm title is 101 characters; Slack allows at most 100$/,
  },
  {
    name: 'confirm text ≤ 300',
    check: message,
    good: [actions(button({ confirm: confirm({ text: mrkdwn(chars(300)) }) }))],
    bad: [actions(button({ confirm: confirm({ text: mrkdwn(chars(301)) }) }))],
    violation: /confirm\.text\.text: confirm text is 301 characters; Slack allows at most 300$/,
  },
  {
    name: 'confirm button ≤ 30',
    check: message,
    good: [actions(button({ confirm: confirm({ confirm: plain(chars(30)) }) }))],
    bad: [actions(button({ confirm: confirm({ confirm: plain(chars(31)) }) }))],
    violation: /confirm\.confirm\.text: confirm button is 31 characters; Slack allows at most 30$/,
  },
  {
    name: 'deny button ≤ 30',
    check: message,
    good: [actions(button({ confirm: confirm({ deny: plain(chars(30)) }) }))],
    bad: [actions(button({ confirm: confirm({ deny: plain(chars(31)) }) }))],
    violation: /confirm\.deny\.text: deny button is 31 characters; Slack allows at most 30$/,
  },
  {
    name: 'confirm style',
    check: message,
    good: [actions(button({ confirm: confirm({ style: 'danger' }) }))],
    bad: [actions(button({ confirm: confirm({ style: 'red' }) }))],
    violation: /confirm\.style: style must be primary or danger/,
  },
  {
    name: 'image alt_text ≤ 2,000',
    check: message,
    good: [{ type: 'image', image_url: 'https://x.test/a.png', alt_text: chars(2000) }],
    bad: [{ type: 'image', image_url: 'https://x.test/a.png', alt_text: chars(2001) }],
    violation: /^blocks\[0\]\.alt_text: alt_text is 2,001 characters; Slack allows at most 2,000$/,
  },
  {
    name: 'markdown blocks ≤ 12,000 together',
    check: message,
    good: [
      { type: 'markdown', text: chars(6000) },
      { type: 'markdown', text: chars(6000) },
    ],
    bad: [
      { type: 'markdown', text: chars(6000) },
      { type: 'markdown', text: chars(6001) },
    ],
    violation: /^blocks\[1\]\.text: markdown blocks total 12,001 characters so far/,
  },
  {
    name: 'message text ≤ 40,000',
    check: msg,
    good: { text: chars(40_000) },
    bad: { text: chars(40_001) },
    violation: /^text: message text is 40,001 characters; Slack truncates past 40,000$/,
  },
  {
    name: 'message needs text or blocks',
    check: msg,
    good: { blocks: [section('x')] },
    bad: { text: '' },
    violation: /^text: a message needs text or blocks$/,
  },
  {
    name: 'message blocks ≤ 50',
    check: msg,
    good: { text: 'x', blocks: sections(50) },
    bad: { text: 'x', blocks: sections(51) },
    violation: /^blocks: blocks has 51 items/,
  },
  {
    name: 'modal title ≤ 24',
    check: view,
    good: modal({ title: plain(chars(24)) }),
    bad: modal({ title: plain(chars(25)) }),
    violation: /^view\.title\.text: modal title is 25 characters; Slack allows at most 24$/,
  },
  {
    name: 'modal title is plain_text',
    check: view,
    good: modal(),
    bad: modal({ title: mrkdwn('*Access*') }),
    violation: /^view\.title\.type: modal title must be plain_text, not mrkdwn$/,
  },
  {
    name: 'modal title required',
    check: view,
    good: modal(),
    bad: modal({ title: undefined }),
    violation: /^view\.title: modal title is required$/,
  },
  {
    name: 'modal submit ≤ 24',
    check: view,
    good: modal({ submit: plain(chars(24)) }),
    bad: modal({ submit: plain(chars(25)) }),
    violation: /^view\.submit\.text: submit button is 25 characters; Slack allows at most 24$/,
  },
  {
    name: 'modal close ≤ 24',
    check: view,
    good: modal({ close: plain(chars(24)) }),
    bad: modal({ close: plain(chars(25)) }),
    violation: /^view\.close\.text: close button is 25 characters; Slack allows at most 24$/,
  },
  {
    name: 'modal with inputs needs submit',
    check: view,
    good: modal({ submit: undefined, blocks: [section('read only')] }),
    bad: modal({ submit: undefined }),
    violation: /^view\.submit: a modal with input blocks needs a submit button$/,
  },
  {
    name: 'private_metadata ≤ 3,000',
    check: view,
    good: modal({ private_metadata: chars(3000) }),
    bad: modal({ private_metadata: chars(3001) }),
    violation: /^view\.private_metadata: private_metadata is 3,001 characters; Slack allows at most 3,000$/,
  },
  {
    name: 'callback_id ≤ 255',
    check: view,
    good: modal({ callback_id: chars(255) }),
    bad: modal({ callback_id: chars(256) }),
    violation: /^view\.callback_id: callback_id is 256 characters; Slack allows at most 255$/,
  },
  {
    name: 'options response ≤ 100 options',
    check: validateOptionsResponse,
    good: { options: options(100) },
    bad: { options: options(101) },
    violation: /^response\.options: options has 101 items; Slack allows at most 100$/,
  },
  {
    name: 'options response option value ≤ 150',
    check: validateOptionsResponse,
    good: { option_groups: [{ label: plain('prod'), options: [option('a', chars(150))] }] },
    bad: { option_groups: [{ label: plain('prod'), options: [option('a', chars(151))] }] },
    violation: /^response\.option_groups\[0\]\.options\[0\]\.value: option value is 151 characters/,
  },
  {
    name: 'view type modal or home',
    check: view,
    good: { type: 'home', blocks: [] },
    bad: { type: 'sheet', blocks: [] },
    violation: /^view\.type: view type must be modal or home, not "sheet"$/,
  },
  {
    name: 'view needs blocks',
    check: view,
    good: { type: 'home', blocks: [section('x')] },
    bad: { type: 'home' },
    violation: /^view\.blocks: blocks is required$/,
  },
];

describe('Block Kit rules', () => {
  for (const rule of rules) {
    it(`${rule.name}: accepts the limit, refuses past it`, () => {
      assert.deepEqual(rule.check(rule.good), [], 'the good example must pass');
      const problems = rule.check(rule.bad);
      assert.equal(problems.length, 1, `exactly one violation expected, got: ${JSON.stringify(problems)}`);
      assert.match(problems[0]!, rule.violation);
    });
  }

  it('names every violation of a payload at once, each with its path', () => {
    const problems = validateBlocks(
      [section(chars(3001)), { type: 'header', text: plain(chars(151)) }, actions(button({ text: plain(chars(76)), value: chars(2001) }))],
      'message',
    );
    assert.deepEqual(
      problems.map((p) => p.split(':')[0]),
      ['blocks[0].text.text', 'blocks[1].text.text', 'blocks[2].elements[0].text.text', 'blocks[2].elements[0].value'],
    );
  });

  it('accepts a realistic approval message and request modal', () => {
    const approval = [
      { type: 'header', text: plain('Access request') },
      {
        type: 'section',
        text: mrkdwn('*<@U1>* asks for *read* on `prod/app`'),
        fields: [mrkdwn('*Duration*\n1h'), mrkdwn('*Reason*\nincident')],
      },
      { type: 'context', elements: [mrkdwn('Request r-1'), { type: 'image', image_url: 'https://x.test/i.png', alt_text: 'db' }] },
      { type: 'divider' },
      actions(
        button({ action_id: 'approve', style: 'primary', value: 'r-1' }),
        button({ action_id: 'deny', text: plain('Deny'), style: 'danger', value: 'r-1', confirm: confirm() }),
      ),
    ];
    assert.deepEqual(validateMessage({ text: 'Access request from <@U1>', blocks: approval }), []);
    const requestModal = modal({
      callback_id: 'request',
      private_metadata: JSON.stringify({ channel: 'C1' }),
      blocks: [
        input(
          { type: 'external_select', action_id: 'database', min_query_length: 0 },
          { block_id: 'db', label: plain('Database'), dispatch_action: true },
        ),
        input(select({ action_id: 'permission' }), { block_id: 'perm', label: plain('Permission') }),
        input(textInput({ action_id: 'reason', multiline: true, max_length: 2000 }), {
          block_id: 'reason',
          label: plain('Reason'),
          optional: true,
          hint: plain('Why?'),
        }),
      ],
    });
    assert.deepEqual(validateView(requestModal), []);
  });

  it('exposes the limits it enforces', () => {
    assert.equal(L.messageBlocks, 50);
    assert.equal(L.viewBlocks, 100);
    assert.equal(L.buttonTextChars, 75);
    assert.equal(L.modalTitleChars, 24);
  });
});
