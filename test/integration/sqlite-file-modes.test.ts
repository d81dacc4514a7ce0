/**
 * PRODUCT.md §7: the state file and its directory are readable by Sesame's own OS user only,
 * under the usual umask 022 too: the database and SQLite's -wal and -shm files are 0600, the
 * directories Sesame creates 0700.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { SqliteStateStore } from '../../src/adapters/sqlite/SqliteStateStore.ts';
import { capturingLogger } from '../support/logs.ts';
import { newRequest } from '../support/stateFixtures.ts';

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8);

describe('the SQLite state file under umask 022', { timeout: 60_000 }, () => {
  let dir: string;
  let umask: number;
  before(() => {
    umask = process.umask(0o022);
    dir = mkdtempSync(join(tmpdir(), 'sesame-modes-'));
  });
  after(() => {
    process.umask(umask);
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates its directories 0700 and the database, -wal and -shm files 0600', async () => {
    const path = join(dir, 'new', 'state', 'sesame.db');
    const { logger, lines } = capturingLogger('warn');
    const store = SqliteStateStore.open(path, { logger });
    try {
      await store.createRequest(newRequest({ id: 'R0000001' }), 'pending');
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        assert.ok(existsSync(file), `${file} exists while the store is open`);
        assert.equal(modeOf(file), '600', file);
      }
      assert.equal(modeOf(join(dir, 'new', 'state')), '700');
      assert.equal(modeOf(join(dir, 'new')), '700');
      assert.deepEqual(lines, []);
    } finally {
      await store.close();
    }
  });

  it('narrows files an older version left readable, and warns about a directory others can list', async () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chmodSync(shared, 0o755);
    const path = join(shared, 'sesame.db');
    // A file as SQLite makes it under umask 022, with its WAL kept by a second connection.
    const older = new Database(path);
    try {
      older.pragma('journal_mode = WAL');
      older.exec('CREATE TABLE left_by_an_older_version (a)');
      for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(modeOf(file), '644');
      const { logger, lines } = capturingLogger('warn');
      const store = SqliteStateStore.open(path, { logger });
      try {
        for (const file of [path, `${path}-wal`, `${path}-shm`]) assert.equal(modeOf(file), '600', file);
        assert.equal(modeOf(shared), '755', 'a directory that was there is left as it is');
        const warning = lines
          .map((l) => JSON.parse(l) as { level: string; msg: string; directory?: string })
          .find((l) => l.directory === shared);
        assert.equal(warning?.level, 'warn');
        assert.match(warning.msg, /other OS users.*chmod 700/);
      } finally {
        await store.close();
      }
    } finally {
      older.close();
    }
  });
});
