/**
 * The SQL box of a person: runs one statement on the sample server as the database user Sesame
 * granted, with the password from the credentials modal, and shows the rows or PostgreSQL's error.
 */
import { h } from './blocks.js';
import { decodeEntities } from './mrkdwn.js';

/** The callback ID of Sesame's credentials modal. */
export const CREDENTIALS_VIEW = 'sesame.credentials';

/**
 * Reads the credentials modal: its fields (`*User*\n\`name\``), the password section and, as a
 * fallback, the connection URI. Answers `{ username, password, database, host, port }` or null.
 */
export function readCredentials(view) {
  if (!view || view.callback_id !== CREDENTIALS_VIEW) return null;
  const found = {};
  const take = (text) => {
    const m = /^\*([^*]+)\*\n([\s\S]*)$/.exec(text ?? '');
    if (!m) return;
    const value = m[2].trim();
    const fenced = /^```([\s\S]*)```$/.exec(value);
    const ticked = /^`([\s\S]*)`$/.exec(value);
    found[m[1].trim().toLowerCase()] = decodeEntities(fenced ? fenced[1] : ticked ? ticked[1] : value);
  };
  for (const block of view.blocks ?? []) {
    if (block.type !== 'section') continue;
    if (block.text) take(block.text.text);
    for (const field of block.fields ?? []) take(field.text);
  }
  const creds = { username: found.user, password: found.password, database: found.database, host: found.host, port: found.port };
  if (found['connection uri'] && (!creds.username || !creds.password)) {
    try {
      const uri = new URL(found['connection uri'].trim());
      creds.username ||= decodeURIComponent(uri.username);
      creds.password ||= decodeURIComponent(uri.password);
      creds.database ||= decodeURIComponent(uri.pathname.slice(1));
    } catch {
      // Not a URI: the fields alone are used.
    }
  }
  return creds.username ? creds : null;
}

/**
 * Builds the SQL box. `latestCredentials()` answers the credentials of the open modal or of the
 * last one shown; `run(body)` posts to the server and answers its JSON.
 */
export function sqlBox({ latestCredentials, run }) {
  const field = (testid, placeholder, type = 'text') =>
    h('input', { type, className: 'sql-field', placeholder, 'data-testid': testid, autocomplete: 'off', spellcheck: 'false' });
  const username = field('sql-username', 'user');
  // Masked like any password field, so a screenshot of the page never carries one.
  const password = field('sql-password', 'password', 'password');
  const database = field('sql-database', 'database');
  const sql = h('textarea', { className: 'sql-text', rows: 2, 'data-testid': 'sql-text', spellcheck: 'false', placeholder: 'SELECT …' });
  const result = h('div', { className: 'sql-result', 'data-testid': 'sql-result', 'data-state': 'idle' });
  const note = h('span', { className: 'sql-note' });
  const where = h('span', { className: 'sql-where' });

  const useCredentials = () => {
    const creds = latestCredentials();
    if (!creds) {
      note.textContent = 'Click Show credentials on a grant first.';
      return;
    }
    username.value = creds.username ?? '';
    password.value = creds.password ?? '';
    if (creds.database) database.value = creds.database;
    note.textContent = creds.password ? 'Filled in.' : 'No password in that modal.';
  };

  const runButton = h('button', { type: 'button', className: 'bk-button primary', 'data-testid': 'sql-run', text: 'Run' });
  const execute = async () => {
    if (!sql.value.trim()) return;
    runButton.disabled = true;
    result.dataset.state = 'running';
    result.replaceChildren(h('div', { className: 'sql-running', text: 'Running…' }));
    try {
      const answer = await run({ username: username.value, password: password.value, database: database.value, sql: sql.value });
      showAnswer(result, answer);
    } catch (error) {
      showAnswer(result, { ok: false, error: String(error?.message ?? error) });
    } finally {
      runButton.disabled = false;
    }
  };
  runButton.addEventListener('click', execute);
  sql.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) execute();
  });

  const root = h(
    'section',
    { className: 'sql', 'data-testid': 'sql' },
    h(
      'div',
      { className: 'sql-head' },
      h('strong', { text: 'SQL' }),
      where,
      h('button', {
        type: 'button',
        className: 'bk-button small',
        'data-testid': 'sql-use-credentials',
        text: 'Use credentials',
        title: 'Fill in the user and password from the Show credentials window',
        onclick: useCredentials,
      }),
    ),
    h('div', { className: 'sql-creds' }, username, password, database),
    h('div', { className: 'sql-run-row' }, sql, runButton),
    note,
    result,
  );
  return {
    root,
    /** The sample server's address, and its database as the default (unless the person typed one). */
    setDatabase(db) {
      where.textContent = ` on ${db.host}:${db.port}`;
      if (!database.value) database.value = db.database;
    },
  };
}

function showAnswer(result, answer) {
  if (!answer?.ok) {
    result.dataset.state = 'error';
    result.replaceChildren(h('div', { className: 'sql-error', 'data-testid': 'sql-error', text: answer?.error ?? 'failed' }));
    return;
  }
  result.dataset.state = 'ok';
  const columns = answer.columns ?? [];
  const rows = answer.rows ?? [];
  const cell = (value) => (value === null ? 'NULL' : typeof value === 'object' ? JSON.stringify(value) : String(value));
  result.replaceChildren(
    h('div', { className: 'sql-command', text: `${answer.command ?? ''} · ${rows.length} row${rows.length === 1 ? '' : 's'}` }),
    columns.length
      ? h(
          'table',
          { className: 'sql-table', 'data-testid': 'sql-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              columns.map((c) => h('th', { text: c })),
            ),
          ),
          h(
            'tbody',
            {},
            rows.map((row) =>
              h(
                'tr',
                {},
                row.map((v) => h('td', { className: v === null ? 'null' : null, text: cell(v) })),
              ),
            ),
          ),
        )
      : null,
  );
}
