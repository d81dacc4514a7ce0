/**
 * Block Kit, drawn the way Slack draws it: sections (text, fields, an accessory), context,
 * header, divider, actions, and inputs for modals. Clicks and choices go to `ctx.act`; modal
 * inputs keep what the person typed in `ctx.form`, keyed by block and action ID.
 *
 * ctx: { names, act(element, blockId, selectedValue), confirm(dialog) → Promise<boolean>,
 *        form?: { get(blockId, actionId), set(blockId, actionId, value, label), errors, options(element, blockId, query) } }
 */
import { emojify, renderMrkdwn } from './mrkdwn.js';

export function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'className') e.className = value;
    else if (key === 'text') e.textContent = value;
    else if (key.startsWith('on')) e.addEventListener(key.slice(2), value);
    else e.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    e.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return e;
}

/** A text object: mrkdwn is rendered, plain_text shown as is (emoji shortcodes when asked). */
export function textObject(obj, ctx, className = 'bk-text') {
  const e = h('div', { className });
  if (!obj) return e;
  if (obj.type === 'mrkdwn') e.appendChild(renderMrkdwn(document, obj.text ?? '', ctx.names));
  else e.textContent = obj.emoji === false ? (obj.text ?? '') : emojify(obj.text ?? '');
  return e;
}

function plain(obj) {
  return obj ? emojify(obj.text ?? '') : '';
}

export function renderBlocks(blocks, ctx) {
  const wrap = h('div', { className: 'bk-blocks' });
  for (const block of Array.isArray(blocks) ? blocks : []) wrap.appendChild(renderBlock(block, ctx));
  return wrap;
}

function renderBlock(block, ctx) {
  const blockId = block.block_id;
  switch (block.type) {
    case 'section':
      return section(block, ctx);
    case 'context':
      return h(
        'div',
        { className: 'bk-context' },
        (block.elements ?? []).map((el) =>
          el.type === 'image' ? h('span', { className: 'bk-context-img', text: el.alt_text ?? '' }) : textObject(el, ctx, 'bk-context-el'),
        ),
      );
    case 'header':
      return h('div', { className: 'bk-header', text: plain(block.text) });
    case 'divider':
      return h('hr', { className: 'bk-divider' });
    case 'actions':
      return h(
        'div',
        { className: 'bk-actions', 'data-block-id': blockId },
        (block.elements ?? []).map((el) => element(el, blockId, ctx, { dispatch: true })),
      );
    case 'input':
      return input(block, ctx);
    case 'image':
      return h('div', { className: 'bk-context', text: `[image: ${block.alt_text ?? ''}]` });
    default:
      return h('div', { className: 'bk-unknown', text: `(${block.type} block)` });
  }
}

function section(block, ctx) {
  const body = h('div', { className: 'bk-section-body' });
  if (block.text) body.appendChild(textObject(block.text, ctx));
  if (Array.isArray(block.fields) && block.fields.length) {
    body.appendChild(
      h(
        'div',
        { className: 'bk-fields' },
        block.fields.map((f) => textObject(f, ctx, 'bk-field')),
      ),
    );
  }
  const e = h('div', { className: 'bk-section', 'data-block-id': block.block_id }, body);
  if (block.accessory)
    e.appendChild(h('div', { className: 'bk-accessory' }, element(block.accessory, block.block_id, ctx, { dispatch: true })));
  return e;
}

function input(block, ctx) {
  const el = block.element ?? {};
  const error = ctx.form?.errors?.[block.block_id];
  return h(
    'div',
    { className: `bk-input${error ? ' has-error' : ''}`, 'data-block-id': block.block_id, 'data-testid': `input-${block.block_id}` },
    h(
      'label',
      { className: 'bk-label' },
      plain(block.label),
      block.optional ? h('span', { className: 'bk-optional', text: ' (optional)' }) : null,
    ),
    element(el, block.block_id, ctx, { dispatch: Boolean(block.dispatch_action), inInput: true }),
    block.hint ? h('div', { className: 'bk-hint', text: plain(block.hint) }) : null,
    error ? h('div', { className: 'bk-error', 'data-testid': `error-${block.block_id}`, text: String(error) }) : null,
  );
}

/** One interactive element. `dispatch`: a choice is sent to Sesame at once (not only on submit). */
function element(el, blockId, ctx, { dispatch, inInput = false }) {
  switch (el.type) {
    case 'button':
      return button(el, blockId, ctx);
    case 'static_select':
    case 'multi_static_select':
      return staticSelect(el, blockId, ctx, dispatch, inInput);
    case 'external_select':
    case 'multi_external_select':
      return externalSelect(el, blockId, ctx, dispatch, inInput);
    case 'plain_text_input':
      return textInput(el, blockId, ctx);
    default:
      return h('span', { className: 'bk-unknown', text: `(${el.type})` });
  }
}

function button(el, blockId, ctx) {
  const styleClass = el.style === 'primary' ? ' primary' : el.style === 'danger' ? ' danger' : '';
  const b = h('button', {
    type: 'button',
    className: `bk-button${styleClass}`,
    'data-testid': `action-${el.action_id}`,
    'data-action-id': el.action_id,
    text: plain(el.text),
  });
  b.addEventListener('click', async () => {
    if (el.confirm && !(await ctx.confirm(el.confirm))) return;
    b.disabled = true;
    try {
      await ctx.act(el, blockId, el.value);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

function optionsOf(el) {
  const groups = Array.isArray(el.option_groups) ? el.option_groups.flatMap((g) => g.options ?? []) : [];
  return [...(el.options ?? []), ...groups];
}

function initialValue(el) {
  if (el.type === 'plain_text_input') return el.initial_value ?? null;
  if (el.type.startsWith('multi_')) return (el.initial_options ?? []).map((o) => o.value);
  return el.initial_option?.value ?? null;
}

/** The value the modal holds for an element now: what the person set, or the view's initial value. */
export function currentValue(el, blockId, form) {
  const stored = form?.get(blockId, el.action_id);
  return stored === undefined ? initialValue(el) : stored.value;
}

function staticSelect(el, blockId, ctx, dispatch, inInput) {
  const multi = el.type === 'multi_static_select';
  const current = inInput ? currentValue(el, blockId, ctx.form) : (el.initial_option?.value ?? null);
  const chosen = new Set(multi ? (current ?? []) : current === null ? [] : [current]);
  const select = h(
    'select',
    { className: 'bk-select', multiple: multi, 'data-testid': `select-${el.action_id}`, 'data-action-id': el.action_id },
    multi ? null : h('option', { value: '', text: plain(el.placeholder) || 'Select an item', disabled: true, selected: chosen.size === 0 }),
    optionsOf(el).map((o) => h('option', { value: o.value, text: plain(o.text), selected: chosen.has(o.value) })),
  );
  select.addEventListener('change', () => {
    const values = [...select.selectedOptions].map((o) => o.value);
    const value = multi ? values : (values[0] ?? null);
    if (inInput) ctx.form?.set(blockId, el.action_id, value);
    if (dispatch && !multi) ctx.act(el, blockId, value);
  });
  return select;
}

function textInput(el, blockId, ctx) {
  const value = currentValue(el, blockId, ctx.form) ?? '';
  const attrs = {
    className: 'bk-text-input',
    placeholder: plain(el.placeholder),
    maxlength: el.max_length,
    'data-testid': `text-${el.action_id}`,
    'data-action-id': el.action_id,
  };
  const field = el.multiline ? h('textarea', { ...attrs, rows: 3 }) : h('input', { ...attrs, type: 'text' });
  field.value = value;
  field.addEventListener('input', () => ctx.form?.set(blockId, el.action_id, field.value === '' ? null : field.value));
  return field;
}

/** The chosen options of an external select, each with a button that removes it. */
function chipList(chosen, remove) {
  return chosen.map((c) =>
    h(
      'span',
      { className: 'bk-chip', 'data-value': c.value },
      c.text,
      h('button', { type: 'button', className: 'bk-chip-x', title: 'Remove', text: '×', onclick: () => remove(c) }),
    ),
  );
}

/** The suggestions Sesame answered, or a line saying there are none. */
function suggestionList(options, pick) {
  if (!options.length) return [h('div', { className: 'bk-suggestion-empty', text: 'No matches' })];
  return options.map((o) =>
    h('button', {
      type: 'button',
      className: 'bk-suggestion',
      'data-value': o.value,
      text: o.text,
      // Keeps the focus in the text box, so choosing does not close the list first.
      onmousedown: (event) => event.preventDefault(),
      onclick: () => pick({ text: o.text, value: o.value }),
    }),
  );
}

/**
 * An external select: a text box whose suggestions Sesame answers as the person types, and the
 * chosen options as chips (one for a single select).
 */
function externalSelect(el, blockId, ctx, dispatch, inInput) {
  const multi = el.type === 'multi_external_select';
  const stored = ctx.form?.get(blockId, el.action_id);
  const initial = multi ? (el.initial_options ?? []) : el.initial_option ? [el.initial_option] : [];
  let chosen = stored ? (stored.labels ?? []) : initial.map((o) => ({ text: plain(o.text), value: o.value }));
  const box = h('input', {
    type: 'text',
    className: 'bk-text-input bk-external-query',
    placeholder: plain(el.placeholder) || 'Type to search',
    'data-testid': `external-${el.action_id}`,
    'data-action-id': el.action_id,
    autocomplete: 'off',
  });
  const list = h('div', { className: 'bk-suggestions', 'data-testid': `suggestions-${el.action_id}`, hidden: true });
  const chips = h('div', { className: 'bk-chips' });
  const change = (next) => {
    chosen = next;
    chips.replaceChildren(...chipList(chosen, (c) => change(chosen.filter((x) => x !== c))));
    const value = multi ? chosen.map((c) => c.value) : (chosen[0]?.value ?? null);
    if (inInput) ctx.form?.set(blockId, el.action_id, value, chosen);
    return value;
  };
  const pick = (option) => {
    box.value = '';
    list.hidden = true;
    const value = change(multi ? [...chosen.filter((c) => c.value !== option.value), option] : [option]);
    if (dispatch && !multi) ctx.act(el, blockId, value);
  };
  let asked = 0;
  const suggest = async () => {
    if (box.value.length < (el.min_query_length ?? 3)) {
      list.hidden = true;
      return;
    }
    const ticket = ++asked;
    const options = (await ctx.form?.options(el, blockId, box.value)) ?? [];
    if (ticket !== asked) return;
    list.replaceChildren(...suggestionList(options, pick));
    list.hidden = false;
  };
  let timer = null;
  box.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });
  box.addEventListener('focus', suggest);
  box.addEventListener('blur', () => setTimeout(() => (list.hidden = true), 150));
  chips.replaceChildren(...chipList(chosen, (c) => change(chosen.filter((x) => x !== c))));
  return h('div', { className: 'bk-external' }, chips, box, list);
}

/** Every input block of a view with the value it holds now, as `block_id → action_id → value`. */
export function collectValues(blocks, form) {
  const values = {};
  for (const block of Array.isArray(blocks) ? blocks : []) {
    if (block.type !== 'input' || !block.element?.action_id) continue;
    values[block.block_id] = { [block.element.action_id]: currentValue(block.element, block.block_id, form) };
  }
  return values;
}
