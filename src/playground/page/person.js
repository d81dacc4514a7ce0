/**
 * One person's column: who they are, tabs for their DM with Sesame, the approvals channel and
 * their App Home, a composer for the slash command, the modal stack over the column, and the
 * SQL box. Each part is redrawn only when what it shows changed.
 */
import { h } from './blocks.js';
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

export function personColumn(person, deps) {
  const user = person.id;
  const col = {
    tab: 'messages',
    person,
    state: null,
    names: {},
    lastCredentials: null,
    expanded: new Set(),
  };
  const notice = h('div', { className: 'person-notice', 'data-testid': 'person-notice', hidden: true });
  const say = (answer) => {
    if (answer?.ok === false && answer.error) {
      notice.textContent = answer.error;
      notice.hidden = false;
    } else {
      notice.hidden = true;
    }
    return answer;
  };
  const send = async (path, body) => say(await deps.post(path, { user, ...body }));
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
  let homeSignature = '';
  const panes = { messages: dm.root, channel: channel.root, home };

  const tabs = {};
  const tabButton = (key, label) => {
    tabs[key] = h('button', { type: 'button', className: 'tab', 'data-testid': `tab-${key}`, text: label, onclick: () => show(key) });
    return tabs[key];
  };
  const show = (key) => {
    col.tab = key;
    for (const [k, pane] of Object.entries(panes)) pane.hidden = k !== key;
    if (key === 'messages') dm.reveal();
    if (key === 'channel') channel.reveal();
    for (const [k, tab] of Object.entries(tabs)) {
      tab.classList.toggle('active', k === key);
      if (k === key) tab.classList.remove('fresh');
    }
    // Slack tells the app each time someone opens the Home tab.
    if (key === 'home') send('home', {});
  };

  const composerInput = h('input', {
    type: 'text',
    className: 'composer-input',
    'data-testid': 'composer',
    placeholder: '/access …',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const composer = h(
    'form',
    { className: 'composer' },
    composerInput,
    h('button', { type: 'submit', className: 'bk-button primary', 'data-testid': 'composer-send', text: 'Send' }),
  );
  composer.addEventListener('submit', async (event) => {
    event.preventDefault();
    const command = col.state?.command ?? '/access';
    const typed = composerInput.value.trim();
    if (typed !== command && !typed.startsWith(`${command} `)) {
      say({ ok: false, error: `Only the slash command works here: start with ${command}` });
      return;
    }
    composerInput.value = '';
    await send('command', { text: typed.slice(command.length).trim() });
  });

  const modal = modalLayer({ user, send, deps, names: () => col.names });
  const sql = sqlBox({
    latestCredentials: () => modal.openCredentials() ?? col.lastCredentials,
    run: (body) => deps.post('sql', body),
  });

  const title = h(
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
  const root = h(
    'section',
    { className: 'person', 'data-testid': `person-${user}`, 'data-role': person.role },
    title,
    h('nav', { className: 'tabs' }, tabButton('messages', 'Messages'), tabButton('channel', '#approvals'), tabButton('home', 'Home')),
    h('div', { className: 'panes' }, dm.root, channel.root, home, modal.root),
    notice,
    composer,
    sql.root,
  );
  for (const [k, pane] of Object.entries(panes)) pane.hidden = k !== col.tab;
  tabs.messages.classList.add('active');

  const markFresh = (key, changed) => {
    if (changed && col.tab !== key) tabs[key].classList.add('fresh');
  };

  return {
    root,
    update(state, p, names) {
      col.state = state;
      col.person = p;
      col.names = names;
      const approvalsId = state.approvals.id;
      tabs.channel.textContent = `#${state.approvals.name}`;
      const surface = { user };
      markFresh(
        'messages',
        dm.update(
          p.dm,
          p.ephemeral.filter((e) => e.channel !== approvalsId),
          names,
          state.botUserId,
          surface,
        ),
      );
      markFresh(
        'channel',
        channel.update(
          state.approvals.messages,
          p.ephemeral.filter((e) => e.channel === approvalsId),
          names,
          state.botUserId,
          surface,
        ),
      );
      const homeNext = JSON.stringify([p.home, names]);
      if (homeNext !== homeSignature) {
        homeSignature = homeNext;
        home.replaceChildren(
          p.home
            ? deps.blocks(p.home.view.blocks, ctxFor({ kind: 'view', viewId: p.home.id }))
            : h('div', { className: 'empty', text: 'Opening the App Home…' }),
        );
      }
      for (const view of p.modals) col.lastCredentials = readCredentials(view.view) ?? col.lastCredentials;
      modal.update(p.modals, names, ctxFor);
      sql.setDatabase(state.database);
    },
  };
}
