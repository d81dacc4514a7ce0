/**
 * A conversation as Slack shows it: messages oldest first with their author, time and blocks,
 * threads folded behind "N replies", and ephemeral replies marked "Only visible to you".
 */
import { h, renderBlocks } from './blocks.js';
import { renderMrkdwn } from './mrkdwn.js';

/** Orders Slack timestamps ("1700000000.000100") without losing digits to floating point. */
export function compareTs(a, b) {
  const [as, af = ''] = String(a).split('.');
  const [bs, bf = ''] = String(b).split('.');
  if (as.length !== bs.length) return as.length - bs.length;
  if (as !== bs) return as < bs ? -1 : 1;
  const width = Math.max(af.length, bf.length);
  const x = af.padEnd(width, '0');
  const y = bf.padEnd(width, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

function clock(ts) {
  const d = new Date(Number(String(ts).split('.')[0]) * 1000);
  if (Number.isNaN(d.getTime())) return '';
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

function body(item, ctx, names) {
  if (Array.isArray(item.blocks) && item.blocks.length) return renderBlocks(item.blocks, ctx);
  return h('div', { className: 'bk-text' }, renderMrkdwn(document, item.text ?? '', names));
}

function author(id, env) {
  return h(
    'span',
    { className: 'msg-author' },
    h('strong', { text: env.names[id] ?? id }),
    id === env.botUserId ? h('span', { className: 'app-tag', text: 'APP' }) : null,
  );
}

function threadToggle(count, open, onclick) {
  return h('button', {
    type: 'button',
    className: 'thread-toggle',
    'data-testid': 'thread-toggle',
    text: open ? 'Hide replies' : `${count} repl${count === 1 ? 'y' : 'ies'}`,
    onclick,
  });
}

/**
 * A message with its thread. env: { names, botUserId, ctxFor, expanded (keys of open threads),
 * toggle(key) }.
 */
function message(m, env, thread) {
  const ctx = env.ctxFor({ kind: 'message', channel: m.channel, ts: m.ts });
  const key = `${m.channel}/${m.ts}`;
  const replies = m.replies ?? [];
  const open = env.expanded.has(key);
  const isBot = m.user === env.botUserId;
  return h(
    'div',
    { className: `msg${thread ? ' reply' : ''}`, 'data-testid': 'message', 'data-ts': m.ts, 'data-channel': m.channel },
    h('div', { className: `msg-avatar${isBot ? ' bot' : ''}`, text: isBot ? '🔑' : (env.names[m.user] ?? '?').slice(0, 1) }),
    h(
      'div',
      { className: 'msg-main' },
      h(
        'div',
        { className: 'msg-head' },
        author(m.user, env),
        h('span', { className: 'msg-time', text: clock(m.ts) }),
        m.edited ? h('span', { className: 'msg-edited', text: '(edited)' }) : null,
      ),
      body(m, ctx, env.names),
      replies.length ? threadToggle(replies.length, open, () => env.toggle(key)) : null,
      open
        ? h(
            'div',
            { className: 'thread', 'data-testid': 'thread' },
            replies.map((r) => message(r, env, true)),
          )
        : null,
    ),
  );
}

/** A reply only this person sees, marked as Slack marks it. */
function ephemeral(e, env) {
  const ctx = env.ctxFor({ kind: 'ephemeral', channel: e.channel, ts: e.ts });
  return h(
    'div',
    { className: 'msg ephemeral', 'data-testid': 'ephemeral', 'data-ts': e.ts },
    h('div', { className: 'msg-avatar bot', text: '🔑' }),
    h(
      'div',
      { className: 'msg-main' },
      h('div', { className: 'msg-head' }, author(env.botUserId, env), h('span', { className: 'msg-time', text: clock(e.ts) })),
      body(e, ctx, env.names),
      h('div', { className: 'only-you', text: '👁 Only visible to you' }),
    ),
  );
}

export function messageList({ testid, ctxFor, expanded, empty }) {
  const root = h('div', { className: 'pane messages', 'data-testid': testid });
  let signature = '';
  // Whether the reader is at the newest message: new ones then scroll into view.
  let stick = true;
  root.addEventListener('scroll', () => {
    if (root.clientHeight > 0) stick = root.scrollHeight - root.scrollTop - root.clientHeight < 40;
  });

  let last = null;
  const redraw = () => {
    if (!last) return false;
    const { messages, ephemerals, names, botUserId } = last;
    const next = JSON.stringify([messages, ephemerals, names, [...expanded]]);
    if (next === signature) return false;
    signature = next;
    const toggle = (key) => {
      if (expanded.has(key)) expanded.delete(key);
      else expanded.add(key);
      redraw();
    };
    const env = { names, botUserId, ctxFor, expanded, toggle };
    const items = messages.map((m) => ({ ts: m.ts, node: () => message(m, env, false) }));
    for (const e of ephemerals) items.push({ ts: e.ts, node: () => ephemeral(e, env) });
    items.sort((a, b) => compareTs(a.ts, b.ts));
    const top = root.scrollTop;
    root.replaceChildren(...(items.length ? items.map((i) => i.node()) : [h('div', { className: 'empty', text: empty })]));
    root.scrollTop = stick ? root.scrollHeight : top;
    return true;
  };

  return {
    root,
    /** Called when the pane is shown again: a reader who was at the bottom stays there. */
    reveal() {
      if (stick) root.scrollTop = root.scrollHeight;
    },
    /** Redraws if anything shown changed; answers whether it did. */
    update(messages, ephemerals, names, botUserId) {
      last = { messages, ephemerals, names, botUserId };
      return redraw();
    },
  };
}
