import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DUE_FOR_REVOCATION_SQL, PENDING_PAST_TTL_SQL, SqliteStateStore } from '../../src/adapters/sqlite/SqliteStateStore.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from '../../src/adapters/sqlite/migrations/index.ts';
import { ConflictError } from '../../src/domain/errors.ts';
import { MINUTE, T0, at, moveThrough, newRequest } from '../support/stateFixtures.ts';

const CHILD = join(import.meta.dirname, '..', 'support', 'sqliteStoreProcess.ts');

let dir: string;
let files = 0;
/** A path for a new database file, in a directory that does not exist yet. */
function freshPath(): string {
  return join(dir, `case-${++files}`, 'nested', 'sesame.db');
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'sesame-sqlite-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the second-process helper and resolves with its stdout lines once it exits. */
function runChild(args: string[], onLine?: (line: string) => void): Promise<string[]> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n')) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        lines.push(line);
        onLine?.(line);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolvePromise(lines) : reject(new Error(`child exited ${code}: ${stderr}`))));
  });
}

describe('SqliteStateStore on a file', () => {
  it('creates the parent directory, records the schema version, and re-opens idempotently', async () => {
    const path = freshPath();
    const clock = { now: () => at(5 * MINUTE) };
    const first = SqliteStateStore.open(path, { clock });
    const request = await first.createRequest(newRequest(), 'pending');
    await first.close();
    assert.ok(existsSync(path));

    for (let i = 0; i < 2; i++) {
      const again = SqliteStateStore.open(path, { clock: { now: () => at(60 * MINUTE) } });
      assert.deepEqual(await again.getRequest(request.id), request);
      await again.close();
    }

    const raw = new Database(path, { readonly: true });
    try {
      const rows = raw.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();
      assert.deepEqual(
        rows,
        MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied_at: at(5 * MINUTE).getTime() })),
      );
      assert.equal(LATEST_SCHEMA_VERSION, MIGRATIONS.length);
    } finally {
      raw.close();
    }
  });

  it('numbers its migrations 1, 2, 3… with distinct names', () => {
    assert.deepEqual(
      MIGRATIONS.map((m) => m.version),
      MIGRATIONS.map((_, i) => i + 1),
    );
    assert.equal(new Set(MIGRATIONS.map((m) => m.name)).size, MIGRATIONS.length);
  });

  it('refuses a file written by a newer schema, and leaves it untouched', async () => {
    const path = freshPath();
    await SqliteStateStore.open(path).close();
    const raw = new Database(path);
    raw
      .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
      .run(LATEST_SCHEMA_VERSION + 1, 'from the future', T0.getTime());
    raw.close();
    const before = readFileSync(path);
    assert.throws(
      () => SqliteStateStore.open(path),
      (err: unknown) => err instanceof ConflictError && err.message.includes(`schema version ${LATEST_SCHEMA_VERSION + 1}`),
    );
    assert.deepEqual(readFileSync(path), before);
  });

  it('runs in WAL mode', async () => {
    const path = freshPath();
    const store = SqliteStateStore.open(path);
    await store.createRequest(newRequest(), 'pending');
    // The WAL file exists beside the database while a connection has it open.
    assert.ok(existsSync(`${path}-wal`));
    const raw = new Database(path);
    try {
      // journal_mode=WAL is recorded in the file itself; a fresh connection reports it.
      assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    } finally {
      raw.close();
      await store.close();
    }
  });

  it('shows committed writes to a second connection and to a second process', async () => {
    const path = freshPath();
    const writer = SqliteStateStore.open(path);
    const reader = SqliteStateStore.open(path);
    try {
      const created = await writer.createRequest(newRequest({ reason: 'seen elsewhere' }), 'pending');
      assert.deepEqual(await reader.getRequest(created.id), created);
      const approved = await writer.transition(created.id, ['pending'], 'approved', { decidedBy: 'U0BOB' });
      assert.deepEqual(await reader.getRequest(created.id), approved);

      const [line] = await runChild(['read', path, created.id]);
      const seen = JSON.parse(line ?? 'null') as Record<string, unknown>;
      assert.equal(seen.id, created.id);
      assert.equal(seen.status, 'approved');
      assert.equal(seen.decidedBy, 'U0BOB');
      assert.equal(seen.reason, 'seen elsewhere');
    } finally {
      await writer.close();
      await reader.close();
    }
  });

  // Also proves the busy timeout: without it the loser of a write lock fails with SQLITE_BUSY.
  it('lets exactly one of two processes racing on the same requests win each', async () => {
    const path = freshPath();
    const store = SqliteStateStore.open(path);
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) ids.push((await store.createRequest(newRequest(), 'pending')).id);
    const goFile = join(dir, `go-${files}`);
    let ready = 0;
    const onLine = (line: string): void => {
      if (line === 'ready' && ++ready === 2) writeFileSync(goFile, '');
    };
    const results = await Promise.all([
      runChild(['approve', path, ids.join(','), goFile], onLine),
      runChild(['approve', path, [...ids].reverse().join(','), goFile], onLine),
    ]);
    const [wonA, wonB] = results.map((lines) => JSON.parse(lines.at(-1) ?? '[]') as string[]);
    assert.ok(wonA && wonB);
    assert.equal(wonA.length + wonB.length, ids.length);
    assert.deepEqual([...wonA, ...wonB].sort(), [...ids].sort());
    for (const id of ids) {
      const request = await store.getRequest(id);
      assert.equal(request?.status, 'approved');
      assert.equal(request?.version, 2);
    }
    await store.close();
  });

  it('keeps audit events append-only even against direct SQL', async () => {
    const path = freshPath();
    const store = SqliteStateStore.open(path);
    await store.appendAudit({ at: T0, action: 'grant.granted', actor: 'U0BOB', details: { roles: ['r1'] } });
    await store.close();
    const raw = new Database(path);
    try {
      assert.throws(() => raw.prepare("UPDATE audit_events SET actor = 'U0MALLORY'").run(), /append-only/);
      assert.throws(() => raw.prepare('DELETE FROM audit_events').run(), /append-only/);
      assert.deepEqual(raw.prepare('SELECT actor, details FROM audit_events').all(), [{ actor: 'U0BOB', details: '{"roles":["r1"]}' }]);
    } finally {
      raw.close();
    }
  });

  it('rolls a state change back when its audit event cannot be written', async () => {
    const store = SqliteStateStore.open(freshPath());
    const created = await store.createRequest(newRequest(), 'pending');
    await assert.rejects(
      store.transition(created.id, ['pending'], 'approved', { decidedBy: 'U0BOB' }, () => {
        throw new Error('the audit event could not be made');
      }),
      /could not be made/,
    );
    assert.equal((await store.getRequest(created.id))?.status, 'pending');
    assert.deepEqual(await store.listAudit(new Date(0)), []);
    await store.close();
  });

  it('has no column that could hold a password or other secret', async () => {
    const path = freshPath();
    await SqliteStateStore.open(path).close();
    const raw = new Database(path, { readonly: true });
    try {
      const tables = raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .pluck()
        .all() as string[];
      assert.ok(tables.includes('requests') && tables.includes('audit_events'));
      const columns = tables.flatMap((table) =>
        (raw.pragma(`table_info(${JSON.stringify(table)})`) as { name: string }[]).map((c) => `${table}.${c.name}`),
      );
      const suspicious = columns.filter((c) => /pass|secret|token|credential/i.test(c));
      assert.deepEqual(suspicious, ['managed_users.password_set_at']);
    } finally {
      raw.close();
    }
  });

  it('works in memory too', async () => {
    const store = SqliteStateStore.open(':memory:');
    const created = await store.createRequest(newRequest(), 'pending');
    assert.deepEqual(await store.getRequest(created.id), created);
    await store.close();
  });
});

describe('SqliteStateStore with many requests', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'sesame-sqlite-many-')), 'sesame.db');
  const total = 10_000;
  let store: SqliteStateStore;

  before(async () => {
    store = SqliteStateStore.open(path);
    // Every seventh request is granted and every seventh revoking; the rest are approved with an
    // expiry in the past, which the sweep must skip.
    for (let i = 0; i < total; i++) {
      const expiresAt = at(i * MINUTE);
      const created = await store.createRequest(newRequest({ createdAt: at(i), expiresAt }), 'approved');
      if (i % 7 === 3) await moveThrough(store, created.id, 'approved', 'granted');
      if (i % 7 === 6) {
        await moveThrough(store, created.id, 'approved', 'revoking', { nextAttemptAt: at(i * MINUTE + 30_000) });
      }
    }
  });

  after(async () => {
    await store.close();
    rmSync(join(path, '..'), { recursive: true, force: true });
  });

  it('answers the expiry sweep from indexes, not by reading every request', () => {
    const raw = new Database(path, { readonly: true });
    try {
      for (const sql of [DUE_FOR_REVOCATION_SQL, PENDING_PAST_TTL_SQL]) {
        const plan = raw
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all({ now: T0.getTime(), limit: 100 })
          .map((row) => (row as { detail: string }).detail);
        assert.ok(
          plan.some((d) => /USING INDEX requests_status_/.test(d)),
          plan.join('\n'),
        );
        assert.ok(!plan.some((d) => /^SCAN requests\b/.test(d)), plan.join('\n'));
      }
    } finally {
      raw.close();
    }
  });

  it('lists what is due among 10,000 requests correctly (the query plan above keeps it fast)', async () => {
    const now = at(1_000 * MINUTE);
    const due = await store.listDueForRevocation(now, 500);
    // Granted with i ≤ 1000 (every 7th from 3), revoking with a retry at i·60 s + 30 s ≤ now (from 6).
    const expected: number[] = [];
    for (let i = 0; i <= 1_000; i++) {
      if (i % 7 === 3 || (i % 7 === 6 && i < 1_000)) expected.push(i);
    }
    assert.deepEqual(
      due.map((r) => r.expiresAt?.getTime()),
      expected.map((i) => at(i * MINUTE).getTime()),
    );
  });
});
