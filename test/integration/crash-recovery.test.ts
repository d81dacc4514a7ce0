/**
 * PRODUCT.md §7: every state change is recorded before the database is touched, so a crash at
 * any point is repaired at the next start. Sesame's services run in a child process against a
 * real PostgreSQL, and are killed (SIGKILL) while a grant, then a revocation, waits half way:
 * the test holds a lock on pg_auth_members, which every change of a role membership needs.
 * Sesame then starts again on the same state file, as the bot does, and the person's own login
 * shows what they can do.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { buildSesame, type Sesame } from '../../src/app.ts';
import { parseConfigText } from '../../src/config/load.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import { FakeDirectory, ManualClock } from '../support/fakes.ts';
import { capturingLogger } from '../support/logs.ts';
import { APP, localIntegrationYaml, pgVersions, READ_NOW_FLOW_YAML, startCluster, type TestCluster } from '../support/postgres.ts';
import { assertDenied, rowsOf } from '../support/postgresTarget.ts';
import { PEOPLE } from '../support/services.ts';

const MINUTE = 60_000;
const PG_ENV = 'CRASH_PG_PASSWORD';
const CHILD = join(import.meta.dirname, '..', 'support', 'sesameProcess.ts');
/** A schedule that never fires: the test runs the jobs when it means to. */
const NEVER = '0 0 1 1 *';

function configText(cluster: TestCluster, dir: string): string {
  return `
slack: { admins: [U0ADMIN] }
state: { sqlite: ${join(dir, 'sesame.db')} }
schedule: { expire: "${NEVER}", remind: "${NEVER}", rotate: "${NEVER}", cleanup: "${NEVER}", discover: "${NEVER}" }
integrations:
${localIntegrationYaml(cluster, PG_ENV)}
accessFlows:
${READ_NOW_FLOW_YAML}
`;
}

for (const version of pgVersions()) {
  describe(`Sesame killed half way, on PostgreSQL ${version}`, { timeout: 240_000 }, () => {
    let cluster: TestCluster;
    let dir: string;
    let configPath: string;
    let env: NodeJS.ProcessEnv;
    const logs = capturingLogger('warn');
    const open: Sesame[] = [];

    before(async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      dir = mkdtempSync(join(tmpdir(), 'sesame-crash-'));
      configPath = join(dir, 'sesame.yml');
      writeFileSync(configPath, configText(cluster, dir));
      env = { ...process.env, [PG_ENV]: cluster.connector.password };
    });
    after(async () => {
      for (const s of open) await s.close();
      await cluster?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /** Sesame as the bot builds it, on the test's clock, the same config and state file. */
    function start(clock: ManualClock): Sesame {
      const sesame = buildSesame(parseConfigText(configText(cluster, dir), env), {
        logger: logs.logger,
        clock,
        directory: new FakeDirectory(PEOPLE),
      });
      open.push(sesame);
      return sesame;
    }

    /** What the bot does at start: finish interrupted work, then the start-up jobs (expiry first). */
    async function restart(clock: ManualClock): Promise<Sesame> {
      const sesame = start(clock);
      await sesame.services.grants.resume();
      await sesame.scheduler.start();
      return sesame;
    }

    /**
     * Holds SHARE on pg_auth_members until released: GRANT role TO user and REVOKE role FROM
     * user (and, from PostgreSQL 16, CREATE ROLE) wait for it, whoever runs them.
     */
    async function holdMembershipLock(): Promise<{ release(): Promise<void> }> {
      const holder = new pg.Client(cluster.superuser());
      holder.on('error', () => undefined);
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE pg_catalog.pg_auth_members IN SHARE MODE');
      return {
        async release() {
          await holder.query('ROLLBACK').catch(() => undefined);
          await holder.end().catch(() => undefined);
        },
      };
    }

    /**
     * Runs a command of test/support/sesameProcess.ts, waits until a statement of it matching
     * `statement` waits for the held lock (other statements may wait on locks for a moment),
     * and kills the process there. Returns the statement it was killed in.
     */
    async function killWhileWaiting(args: string[], statement: RegExp): Promise<string> {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, configPath, ...args], {
        env: { ...env, LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d) => (output += d));
      child.stderr.on('data', (d) => (output += d));
      let exited = false;
      const exit = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      void exit.then(() => (exited = true));
      const deadline = Date.now() + 60_000;
      try {
        for (;;) {
          if (exited) throw new Error(`Sesame's process ended before it waited for the lock:\n${output}`);
          const waiting = await cluster.query<{ query: string }>(
            "SELECT query FROM pg_stat_activity WHERE application_name = 'sesame' AND wait_event_type = 'Lock'",
            [],
            { database: 'postgres' },
          );
          const match = waiting.find((w) => statement.test(w.query));
          if (match) return match.query;
          if (Date.now() > deadline) {
            throw new Error(
              `No statement matching ${statement} waited for the lock within 60 s; waiting: ${JSON.stringify(waiting)}\n${output}`,
            );
          }
          await sleep(50);
        }
      } finally {
        child.kill('SIGKILL');
        await exit;
      }
    }

    async function onlyRequestOf(sesame: Sesame, slackId: string): Promise<AccessRequest> {
      const mine = (await sesame.store.listRequests({})).filter((r) => r.requester.slackId === slackId);
      assert.equal(mine.length, 1, JSON.stringify(mine));
      return mine[0]!;
    }

    async function membershipsOf(user: string): Promise<string[]> {
      const rows = await cluster.query<{ role: string }>(
        'SELECT r.rolname AS role FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = $1',
        [user],
      );
      return rows.map((r) => r.role);
    }

    async function assertLoginRefused(uri: string): Promise<void> {
      const login = new pg.Client({ connectionString: uri });
      login.on('error', () => undefined);
      await assert.rejects(login.connect(), /not permitted to log in|password authentication failed/);
      await login.end().catch(() => undefined);
    }

    it('a grant killed half way is granted at the next start, and ends at its expiry', async () => {
      const lock = await holdMembershipLock();
      try {
        const statement = await killWhileWaiting(['request', 'U0ALICE', APP.database, 'public', '60'], /\b(GRANT|CREATE ROLE)\b/i);
        assert.match(statement, /\b(GRANT|CREATE ROLE)\b/i);
      } finally {
        await lock.release();
      }

      const clock = new ManualClock(new Date());
      const peek = start(clock);
      assert.equal((await onlyRequestOf(peek, 'U0ALICE')).status, 'granting', 'the intent was recorded before the kill');
      await peek.close();

      const sesame = await restart(clock);
      const req = await onlyRequestOf(sesame, 'U0ALICE');
      assert.equal(req.status, 'granted', req.lastError);
      const creds = await sesame.services.credentials.revealCredentials(req.id, 'U0ALICE');
      const session = new pg.Client({ connectionString: creds.uri });
      session.on('error', () => undefined);
      await session.connect();
      assert.equal((await rowsOf(session, 'SELECT * FROM public.customers')).length, 3);
      await assertDenied(session, 'SELECT * FROM sales.deals');
      const [role] = await cluster.query<{ v: Date }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [creds.username]);
      assert.equal(role?.v.getTime(), req.expiresAt!.getTime(), 'VALID UNTIL is the grant’s expiry');

      clock.advance(61 * MINUTE);
      await sesame.scheduler.runNow('expire');
      assert.equal((await sesame.store.getRequest(req.id))?.status, 'expired');
      await assert.rejects(session.query('SELECT 1'), 'the open session was ended');
      await session.end().catch(() => undefined);
      await assertLoginRefused(creds.uri);
      assert.deepEqual(await membershipsOf(creds.username), []);
    });

    it('a revocation killed half way is finished at the next start: login refused, privileges gone', async () => {
      const clock = new ManualClock(new Date());
      const first = start(clock);
      const granted = await first.services.requests.requestAccess({
        requesterSlackId: 'U0CAROL',
        target: { integration: 'local', database: APP.database, schema: 'public' },
        permission: 'readonly',
        durationMinutes: 60,
        reason: 'to be revoked',
      });
      assert.equal(granted.status, 'granted', granted.lastError);
      const creds = await first.services.credentials.revealCredentials(granted.id, 'U0CAROL');
      await first.close();
      const session = new pg.Client({ connectionString: creds.uri });
      session.on('error', () => undefined);
      await session.connect();
      assert.equal((await rowsOf(session, 'SELECT * FROM public.customers')).length, 3);

      const lock = await holdMembershipLock();
      try {
        const statement = await killWhileWaiting(['revoke', granted.id, 'U0CAROL'], /\bREVOKE\b/i);
        assert.match(statement, /\bREVOKE\b/i);
      } finally {
        await lock.release();
      }

      const sesame = await restart(clock);
      const req = await sesame.store.getRequest(granted.id);
      assert.equal(req?.status, 'revoked', req?.lastError);
      await assert.rejects(rowsOf(session, 'SELECT * FROM public.customers'), 'the open session lost its access');
      await session.end().catch(() => undefined);
      await assertLoginRefused(creds.uri);
      assert.deepEqual(await membershipsOf(creds.username), []);
      const audit = (await sesame.store.listAudit(new Date(0))).filter((e) => e.requestId === granted.id).map((e) => e.action);
      assert.ok(audit.includes('grant.revoking') && audit.includes('grant.revoked'), audit.join(', '));
    });
  });
}
