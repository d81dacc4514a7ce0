/**
 * `sesame state migrate`: a SQLite state filled through the store's own API is copied into an
 * empty PostgreSQL state database and read back equal; a second copy into the now non-empty
 * database is refused and changes nothing; Sesame built on `state.postgres` reads the copy.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NoDirectory } from '../../src/adapters/log/NoDirectory.ts';
import { PostgresStateStore } from '../../src/adapters/postgresState/PostgresStateStore.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/SqliteStateStore.ts';
import { buildSesame } from '../../src/app.ts';
import { runCli } from '../../src/cli.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import type { StateStore } from '../../src/ports/StateStore.ts';
import { readState } from '../../src/stateMigrate.ts';
import { pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { at, fullRequest, MINUTE, managedUser, newRequest } from '../support/stateFixtures.ts';

/** A state with something of every kind, written through the store's API as Sesame writes it. */
async function fill(store: StateStore): Promise<void> {
  const parent = await store.createRequest(newRequest(), 'pending', (r) => ({
    at: at(0),
    action: 'request.created',
    actor: 'U0ALICE',
    requestId: r.id,
  }));
  await store.addApproval({ requestId: parent.id, approverId: 'U0BOB', decision: 'approve', comment: 'ok', at: at(MINUTE) });
  await store.transition(parent.id, ['pending'], 'approved', { decidedAt: at(MINUTE), decidedBy: 'U0BOB' }, (r) => ({
    at: at(MINUTE),
    action: 'request.approved',
    actor: 'U0BOB',
    requestId: r.id,
    details: { approvers: ['U0BOB'], nested: { n: 1 } },
  }));
  await store.transition(parent.id, ['approved'], 'granting');
  await store.transition(parent.id, ['granting'], 'granted', {
    grantedAt: at(2 * MINUTE),
    grantedRoles: ['r1', 'r2'],
    expiresAt: at(62 * MINUTE),
  });
  const extension = await store.createRequest(fullRequest(parent.id), 'pending');
  await store.addApproval({ requestId: extension.id, approverId: 'U0CAROL', decision: 'deny', at: at(3 * MINUTE) });
  await store.upsertManagedUser(managedUser());
  await store.upsertManagedUser(managedUser({ username: 'sesame_bob', slackId: 'U0BOB', email: 'bob@example.com' }));
  await store.updateManagedUser('db-ABCDEFGHIJKL', 'sesame_bob', { passwordSetAt: at(5), droppedAt: at(9 * MINUTE) });
  await store.appendAudit({ at: at(4 * MINUTE), action: 'credentials.revealed', actor: 'U0ALICE', integration: 'prod' });
  await store.addNotification({ requestId: parent.id, audience: 'approver', recipient: 'U0BOB', channel: 'D1', ts: '1.0001', at: at(0) });
  await store.addNotification({ requestId: parent.id, audience: 'channel', channel: 'C1', ts: '1.0002', at: at(1) });
  const session = { requestId: parent.id, integration: 'prod', dbUser: 'sesame_alice', requester: 'U0ALICE', sessionId: '6650f1a5.1092' };
  await store.recordSessions(
    [
      { ...session, id: 'prod/db-1/error/postgresql.log@0', at: at(3 * MINUTE), kind: 'connect' },
      {
        ...session,
        id: 'prod/db-1/error/postgresql.log@120',
        at: at(3 * MINUTE + 5),
        kind: 'statement',
        database: 'app',
        commandTag: 'SELECT',
        statement: 'select 1',
      },
    ],
    {},
  );
}

const version = pgVersions()[0]!;

describe(`sesame state migrate (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  const dir = mkdtempSync(join(tmpdir(), 'sesame-state-migrate-'));
  const file = join(dir, 'sesame.db');
  const password = randomBytes(18).toString('base64url');
  let uri: string;
  const logger = createLogger({ level: 'silent' });

  before(async () => {
    cluster = await startCluster(version);
    await cluster.query(`CREATE ROLE sesame_state LOGIN PASSWORD '${password}'`, [], { database: 'postgres' });
    await cluster.query('CREATE DATABASE sesame_state OWNER sesame_state', [], { database: 'postgres' });
    uri = `postgres://sesame_state:${password}@127.0.0.1:${cluster.port}/sesame_state`;
    const sqlite = SqliteStateStore.open(file);
    await fill(sqlite);
    await sqlite.close();
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the command, answering its exit code and what it printed. */
  async function migrate(): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const argv = ['state', 'migrate', '--to', uri, '--from', file, '--ssl-mode', 'disable'];
    const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, logger });
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  async function bothStates() {
    const sqlite = SqliteStateStore.open(file);
    const postgres = PostgresStateStore.open({ uri, sslMode: 'disable' });
    try {
      return { sqlite: await readState(sqlite), postgres: await readState(postgres) };
    } finally {
      await Promise.all([sqlite.close(), postgres.close()]);
    }
  }

  it('copies every record, prints the counts of both sides, and reads back equal', async () => {
    const run = await migrate();
    assert.equal(run.code, 0, run.err);
    assert.match(run.out, /requests\s+2 read\s+2 written/);
    assert.match(run.out, /approvals\s+2 read\s+2 written/);
    assert.match(run.out, /managedUsers\s+2 read\s+2 written/);
    assert.match(run.out, /audit\s+3 read\s+3 written/);
    assert.match(run.out, /notifications\s+2 read\s+2 written/);
    assert.match(run.out, /sessions\s+2 read\s+2 written/);
    assert.match(run.out, /The counts match\./);
    assert.doesNotMatch(run.out + run.err, new RegExp(password));
    const { sqlite, postgres } = await bothStates();
    assert.deepEqual(postgres, sqlite);
  });

  it('refuses a second copy into the now non-empty database, and changes nothing', async () => {
    const before = (await bothStates()).postgres;
    const run = await migrate();
    assert.equal(run.code, 2);
    assert.match(run.err, /state database sesame_state on 127\.0\.0\.1:\d+ is not empty \(2 requests, 2 approvals/);
    assert.doesNotMatch(run.out + run.err, new RegExp(password));
    assert.deepEqual((await bothStates()).postgres, before);
  });

  it('Sesame built on state.postgres works on the copy, numbering new audit events after the copied ones', async () => {
    const config = parseConfigText('state:\n  postgres: ${STATE_URI}\n  sslMode: disable\n', { STATE_URI: uri });
    const sesame = buildSesame(config, { logger, directory: new NoDirectory() });
    try {
      await sesame.store.ping();
      const copied = await sesame.store.listRequests({});
      assert.equal(copied.length, 2);
      await sesame.store.appendAudit({ at: at(10 * MINUTE), action: 'reconcile.revoked', actor: 'system' });
      const ids = (await sesame.store.listAudit(at(0))).map((e) => e.id);
      assert.deepEqual(ids, [1, 2, 3, 4]);
    } finally {
      await sesame.close();
    }
  });
});
