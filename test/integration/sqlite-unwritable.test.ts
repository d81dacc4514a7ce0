/**
 * A state file Sesame cannot create (a folder it may not write, or a path through a regular
 * file) stops it with an error that names state.sqlite, the file, and what to do, instead of a
 * bare `EACCES … mkdir`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SqliteStateStore } from '../../src/adapters/sqlite/SqliteStateStore.ts';
import { ConfigError } from '../../src/domain/errors.ts';

/** An unprivileged user for the permission case when the tests run as root (root writes anywhere). */
const NOBODY = 65534;

function assertExplains(message: string, path: string): void {
  assert.match(message, /state\.sqlite/);
  assert.ok(message.includes(path), `names the file ${path}: ${message}`);
  assert.match(message, /\$SESAME_STATE/);
  assert.match(message, /\/var\/lib\/sesame/);
  assert.match(message, /chown/);
}

describe('a state file Sesame cannot create', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sesame-unwritable-'));
    chmodSync(dir, 0o755);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('under a regular file: names state.sqlite, the file and what to do', () => {
    const file = join(dir, 'not-a-folder');
    writeFileSync(file, '');
    const path = join(file, 'data', 'sesame.db');
    assert.throws(
      () => SqliteStateStore.open(path),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError, String(err));
        assert.equal(err.issues[0]?.path, 'state.sqlite');
        assertExplains(err.message, path);
        assert.match(err.message, /ENOTDIR|EEXIST/);
        return true;
      },
    );
  });

  it('in a folder its OS user may not write: the same, with EACCES and the uid', (t) => {
    const readOnly = join(dir, 'read-only');
    mkdirSync(readOnly, { mode: 0o755 });
    chmodSync(readOnly, 0o555);
    const path = join(readOnly, 'data', 'sesame.db');
    const script = `
      import { SqliteStateStore } from ${JSON.stringify(new URL('../../src/adapters/sqlite/SqliteStateStore.ts', import.meta.url).href)};
      try { SqliteStateStore.open(${JSON.stringify(path)}); console.log('opened'); } catch (err) { console.log(err.message); }`;
    const asRoot = process.getuid?.() === 0;
    // The unprivileged user's own scratch folder, for tsx's cache.
    const scratch = join(dir, 'scratch');
    mkdirSync(scratch, { mode: 0o777 });
    chmodSync(scratch, 0o777);
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      ...(asRoot ? { uid: NOBODY, gid: NOBODY, env: { ...process.env, HOME: scratch, TMPDIR: scratch } } : {}),
    });
    if (asRoot && (child.error as NodeJS.ErrnoException | undefined)?.code === 'EACCES') {
      t.skip(`uid ${NOBODY} may not run ${process.execPath}`);
      return;
    }
    assert.equal(child.status, 0, child.stderr);
    const message = child.stdout.trim();
    assertExplains(message, path);
    assert.match(message, /EACCES/);
    assert.match(message, new RegExp(`uid ${asRoot ? NOBODY : process.getuid?.()}`));
  });
});
