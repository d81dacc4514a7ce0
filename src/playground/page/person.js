/**
 * One person's column: who they are, tabs for their DM with Sesame, the approvals channel and
 * their App Home, a composer for the slash command, the modal stack over the column, and the
 * SQL box. Each part is redrawn only when what it shows changed.
 */
import { h, renderBlocks } from './blocks.js';
import { messageList } from './messages.js';
import { modalLayer } from './modal.js';
import { readCredentials, sqlBox } from './sql.js';

const ROLE_LABEL = { requester: 'Requester', approver: 'Approver', admin: 'Admin' };

function initials(name) {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w[0])
    .join('')
    .slice(0, 2)
    .toUpperCase();
}

function personHead(person) {
  return h(
    'div',
    { className: 'person-head' },
    h('div', { className: `avatar role-${person.role}`, text: initials(person.name) }),
    h(
      'div',
      { className: 'person-who' },
      h('div', { className: 'person-name', text: person.name }),
      h('div', { className: 'person-meta', text: `${ROLE_LABEL[person.role] ?? person.role} · ${person.email}` }),
    ),
  );
}

/** The message box: only the slash command goes anywhere, as `/api/command` with the text after it. */
function composer({ command, say, send }) {
  const input = h('input', {
    type: 'text',
    className: 'composer-input',
    'data-testid': 'composer',
    placeholder: '/access …',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const form = h(
    'form',
    { className: 'composer' },
    input,
    h('button', { type: 'submit', className: 'bk-button primary', 'data-testid': 'composer-send', text: 'Send' }),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = command();
    const typed = input.value.trim();
    if (typed !== name && !typed.startsWith(`${name} `)) {
      say({ ok: false, error: `Only the slash command works here: start with ${name}` });
      return;
    }
    input.value = '';
    await send('command', { text: typed.slice(name.length).trim() });
  });
  return form;
}

/** The tabs over the panes; `onShow(key)` runs when one is opened. */
function tabStrip(panes, onShow) {
  const tabs = {};
  let current = 'messages';
  const show = (key) => {
    current = key;
    for (const [k, pane] of Object.entries(panes)) pane.hidden = k !== key;
    for (const [k, tab] of Object.entries(tabs)) {
      tab.classList.toggle('active', k === key);
      if (k === key) tab.classList.remove('fresh');
    }
    onShow(key);
  };
  const tab = (key, label) => {
    tabs[key] = h('button', { type: 'button', className: 'tab', 'data-testid': `tab-${key}`, text: label, onclick: () => show(key) });
    return tabs[key];
  };
  const root = h('nav', { className: 'tabs' }, tab('messages', 'Messages'), tab('channel', '#approvals'), tab('home', 'Home'));
  for (const [k, pane] of Object.entries(panes)) pane.hidden = k !== current;
  tabs.messages.classList.add('active');
  return {
    root,
    rename: (key, label) => {
      tabs[key].textContent = label;
    },
    /** Marks a tab that is not shown when what it holds changed. */
    fresh: (key, changed) => {
      if (changed && current !== key) tabs[key].classList.add('fresh');
    },
  };
}

/** A line under the panes saying what the server refused, until the next request. */
function noticeLine() {
  const root = h('div', { className: 'person-notice', 'data-testid': 'person-notice', hidden: true });
  const say = (answer) => {
    root.hidden = !(answer?.ok === false && answer.error);
    if (!root.hidden) root.textContent = answer.error;
    return answer;
  };
  return { root, say };
}

export function personColumn(person, deps) {
  const user = person.id;
  const col = { state: null, names: {}, lastCredentials: null, expanded: new Set(), homeSignature: '' };
  const notice = noticeLine();
  const send = async (path, body) => notice.say(await deps.post(path, { user, ...body }));
  const ctxFor = (surface) => ({
    names: col.names,
    confirm: deps.confirm,
    act: (el, blockId, selectedValue) =>
      send('action', {
        surface,
        actionId: el.action_id,
        ...(blockId ? { blockId } : {}),
        ...(selectedValue !== undefined && selectedValue !== null && el.type !== 'button' ? { selectedValue } : {}),
      }),
  });

  const dm = messageList({ testid: 'dm', ctxFor, expanded: col.expanded, empty: 'No messages yet. Try the composer below.' });
  const channel = messageList({ testid: 'channel', ctxFor, expanded: col.expanded, empty: 'Nothing posted in the channel yet.' });
  const home = h('div', { className: 'pane home', 'data-testid': 'home' });
  const tabs = tabStrip({ messages: dm.root, channel: channel.root, home }, (key) => {
    if (key === 'messages') dm.reveal();
    if (key === 'channel') channel.reveal();
    // Slack tells the app each time someone opens the Home tab.
    if (key === 'home') send('home', {});
  });
  const modal = modalLayer({ send, names: () => col.names });
  const sql = sqlBox({
    latestCredentials: () => modal.openCredentials() ?? col.lastCredentials,
    run: (body) => deps.post('sql', body),
  });
  const root = h(
    'section',
    { className: 'person', 'data-testid': `person-${user}`, 'data-role': person.role },
    personHead(person),
    tabs.root,
    h('div', { className: 'panes' }, dm.root, channel.root, home, modal.root),
    notice.root,
    composer({ command: () => col.state?.command ?? '/access', say: notice.say, send }),
    sql.root,
  );

  const drawHome = (view) => {
    const next = JSON.stringify([view, col.names]);
    if (next === col.homeSignature) return;
    col.homeSignature = next;
    home.replaceChildren(
      view
        ? renderBlocks(view.view.blocks, ctxFor({ kind: 'view', viewId: view.id }))
        : h('div', { className: 'empty', text: 'Opening the App Home…' }),
    );
  };

  return {
    root,
    update(state, p, names) {
      col.state = state;
      col.names = names;
      const approvalsId = state.approvals.id;
      const mine = (inChannel) => p.ephemeral.filter((e) => (e.channel === approvalsId) === inChannel);
      tabs.rename('channel', `#${state.approvals.name}`);
      tabs.fresh('messages', dm.update(p.dm, mine(false), names, state.botUserId));
      tabs.fresh('channel', channel.update(state.approvals.messages, mine(true), names, state.botUserId));
      drawHome(p.home);
      for (const view of p.modals) col.lastCredentials = readCredentials(view.view) ?? col.lastCredentials;
      modal.update(p.modals, names, ctxFor);
      sql.setDatabase(state.database);
    },
  };
}
