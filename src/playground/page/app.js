/**
 * The playground's page: Slack, played by a few sample people side by side. It renders
 * `GET /api/state` and turns every click, choice and submission into a POST the server hands to
 * the Slack stand-in, which sends Sesame exactly what Slack would. `GET /api/events` says when to
 * fetch the state again; only the parts that changed are redrawn, so typing is never lost.
 */
import { h, textObject } from './blocks.js';
import { eventsPane } from './events.js';
import { emojify } from './mrkdwn.js';
import { personColumn } from './person.js';

const app = {
  state: null,
  names: {},
  columns: new Map(),
  events: eventsPane(),
};

/** Posts to the server; answers its JSON, `{ ok: false, error }` when it could not be reached. */
export async function post(path, body) {
  try {
    const response = await fetch(`api/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
    refresh();
    return answer;
  } catch (error) {
    return { ok: false, error: `The playground did not answer: ${error?.message ?? error}` };
  }
}

/** A confirm dialog, as Slack shows one for a button with `confirm`. Answers whether to go on. */
export function confirmDialog(dialog) {
  return new Promise((resolve) => {
    const close = (answer) => {
      layer.remove();
      resolve(answer);
    };
    const ctx = { names: app.names };
    const danger = dialog.style === 'danger';
    const layer = h(
      'div',
      { className: 'confirm-layer', 'data-testid': 'confirm-dialog' },
      h(
        'div',
        { className: 'confirm', role: 'dialog', 'aria-modal': 'true' },
        h('div', { className: 'confirm-title', text: emojify(dialog.title?.text ?? 'Are you sure?') }),
        textObject(dialog.text, ctx, 'confirm-text'),
        h(
          'div',
          { className: 'confirm-buttons' },
          h('button', {
            type: 'button',
            className: 'bk-button',
            'data-testid': 'confirm-no',
            text: emojify(dialog.deny?.text ?? 'Cancel'),
            onclick: () => close(false),
          }),
          h('button', {
            type: 'button',
            className: `bk-button ${danger ? 'danger' : 'primary'}`,
            'data-testid': 'confirm-yes',
            text: emojify(dialog.confirm?.text ?? 'Yes'),
            onclick: () => close(true),
          }),
        ),
      ),
    );
    layer.addEventListener('keydown', (event) => event.key === 'Escape' && close(false));
    document.body.appendChild(layer);
    layer.querySelector('[data-testid="confirm-yes"]').focus();
  });
}

function banner(state) {
  const el = document.getElementById('banner');
  el.replaceChildren(
    h('strong', { text: 'Sesame playground' }),
    ' · not Slack: a stand-in plays it, and Sesame runs for real against a sample PostgreSQL. Data lives in a temporary folder ',
    h('code', { 'data-testid': 'banner-data-dir', text: state.banner.dataDir }),
    ' and is gone when it stops. Listening on ',
    h('code', { 'data-testid': 'banner-address', text: state.banner.address }),
    ' only (127.0.0.1).',
  );
}

function render(state) {
  app.state = state;
  app.names = { [state.botUserId]: 'Sesame' };
  for (const p of state.people) app.names[p.id] = p.name;
  banner(state);
  const people = document.getElementById('people');
  people.style.setProperty('--people', String(Math.max(1, state.people.length)));
  for (const person of state.people) {
    let column = app.columns.get(person.id);
    if (!column) {
      column = personColumn(person, { post, confirm: confirmDialog });
      app.columns.set(person.id, column);
      people.appendChild(column.root);
    }
    column.update(state, person, app.names);
  }
  app.events.update(state.audit, app.names);
}

let inFlight = null;
let again = false;

/** Fetches the state and redraws; calls made while a fetch runs are folded into one more. */
export function refresh() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = (async () => {
    try {
      const response = await fetch('api/state', { cache: 'no-store' });
      if (response.ok) {
        render(await response.json());
        document.body.dataset.ready = 'true';
        document.getElementById('offline').hidden = true;
      }
    } catch {
      document.getElementById('offline').hidden = false;
    } finally {
      inFlight = null;
      if (again) {
        again = false;
        refresh();
      }
    }
  })();
  return inFlight;
}

function listen() {
  const source = new EventSource('api/events');
  source.addEventListener('change', () => refresh());
  source.addEventListener('open', () => refresh());
  source.addEventListener('error', () => {
    document.getElementById('offline').hidden = false;
  });
}

document.getElementById('app').appendChild(app.events.root);
listen();
refresh();
