/**
 * The modal stack over a person's column: the top view with its title, blocks, submit and close
 * buttons. What the person typed is kept per view, block and action ID, so a view Sesame updates
 * (a picker that redraws the form) keeps the answers whose blocks stay.
 */
import { collectValues, h, renderBlocks } from './blocks.js';
import { emojify } from './mrkdwn.js';
import { readCredentials } from './sql.js';

/**
 * The `errors` Sesame answered a submission with (block_id → message): in the answer to the
 * submit, or on the view until it changes.
 */
export function errorsOf(answer, view) {
  const candidates = [answer?.errors, view?.errors];
  for (const errors of candidates) if (errors && typeof errors === 'object' && Object.keys(errors).length) return errors;
  return null;
}

/** Where the focus is inside `root` (which input, and the caret), to put it back after a redraw. */
function saveFocus(root) {
  const focused = root.contains(document.activeElement) ? document.activeElement : null;
  if (!focused?.dataset.actionId) return () => undefined;
  const blockId = focused.closest('[data-block-id]')?.dataset.blockId ?? '';
  const actionId = focused.dataset.actionId;
  const caret = 'selectionStart' in focused ? focused.selectionStart : null;
  return () => {
    const again = root.querySelector(`[data-block-id="${CSS.escape(blockId)}"] [data-action-id="${CSS.escape(actionId)}"]`);
    if (!again) return;
    again.focus();
    if (caret !== null && 'setSelectionRange' in again) again.setSelectionRange(caret, caret);
  };
}

/** The modal itself: title (and how deep the stack is), blocks, close and submit. */
function modalBox(top, depth, ctx, { submit, close }) {
  const view = top.view;
  return h(
    'div',
    { className: 'modal', role: 'dialog', 'data-testid': 'modal', 'data-view-id': top.id, 'data-callback-id': view.callback_id ?? '' },
    h(
      'div',
      { className: 'modal-head' },
      depth > 1 ? h('span', { className: 'modal-depth', title: 'Modals stacked', text: `${depth} ›` }) : null,
      h('div', { className: 'modal-title', 'data-testid': 'modal-title', text: emojify(view.title?.text ?? '') }),
      h('button', { type: 'button', className: 'modal-x', title: 'Close', 'data-testid': 'modal-x', text: '×', onclick: close }),
    ),
    h('div', { className: 'modal-body' }, renderBlocks(view.blocks, ctx)),
    h(
      'div',
      { className: 'modal-foot' },
      h('button', {
        type: 'button',
        className: 'bk-button',
        'data-testid': 'modal-close',
        text: emojify(view.close?.text ?? 'Cancel'),
        onclick: close,
      }),
      view.submit
        ? h('button', {
            type: 'button',
            className: 'bk-button primary',
            'data-testid': 'modal-submit',
            text: emojify(view.submit.text ?? 'Submit'),
            onclick: submit,
          })
        : null,
    ),
  );
}

export function modalLayer({ send, names }) {
  const root = h('div', { className: 'modal-layer', 'data-testid': 'modal-layer', hidden: true });
  const typed = new Map();
  const errors = new Map();
  let stack = [];
  let signature = '';
  let ctxFor = null;

  const formFor = (view) => {
    const form = {
      get: (blockId, actionId) => typed.get(`${view.id}|${blockId}|${actionId}`),
      set: (blockId, actionId, value, labels) => typed.set(`${view.id}|${blockId}|${actionId}`, { value, labels }),
      errors: errors.get(view.id) ?? errorsOf(null, view),
      options: async (el, blockId, query) => {
        const answer = await send('options', {
          viewId: view.id,
          actionId: el.action_id,
          blockId,
          query,
          values: collectValues(view.view.blocks, form),
        });
        return Array.isArray(answer?.options) ? answer.options : [];
      },
    };
    return form;
  };

  const draw = () => {
    const top = stack.at(-1);
    root.hidden = !top;
    if (!top) {
      root.replaceChildren();
      return;
    }
    const restoreFocus = saveFocus(root);
    const form = formFor(top);
    const submit = async () => {
      errors.delete(top.id);
      const answer = await send('submit', { viewId: top.id, values: collectValues(top.view.blocks, form) });
      const found = errorsOf(answer, null);
      if (found) {
        errors.set(top.id, found);
        draw();
      }
    };
    const close = () => send('close', { viewId: top.id });
    root.replaceChildren(modalBox(top, stack.length, { ...ctxFor({ kind: 'view', viewId: top.id }), form }, { submit, close }));
    restoreFocus();
  };

  return {
    root,
    /** The credentials of the credentials modal, when one is open. */
    openCredentials() {
      for (const view of [...stack].reverse()) {
        const creds = readCredentials(view.view);
        if (creds) return creds;
      }
      return null;
    },
    update(modals, currentNames, nextCtxFor) {
      ctxFor = nextCtxFor;
      stack = modals;
      const open = new Set(modals.map((m) => m.id));
      for (const key of typed.keys()) if (!open.has(key.split('|')[0])) typed.delete(key);
      for (const id of errors.keys()) if (!open.has(id)) errors.delete(id);
      const top = modals.at(-1);
      const next = JSON.stringify([top ?? null, modals.length, currentNames ?? names()]);
      if (next === signature) return;
      signature = next;
      // The view changed: what it carries now replaces errors read from the submit's answer.
      if (top) errors.delete(top.id);
      draw();
    },
  };
}
