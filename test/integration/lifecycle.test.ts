/**
 * The whole lifecycle on real parts: the services, the SQLite store in a file, and the
 * PostgreSQL engine against a real server with an RDS-like, non-superuser connector. Access is
 * proven by logging in with the credentials a person is shown.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildSesame, type Sesame } from '../../src/app.ts';
import { runCli } from '../../src/cli.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { configJsonSchemaText } from '../../src/config/jsonSchema.ts';
import { FakeDirectory, ManualClock, RecordingNotifier } from '../support/fakes.ts';
import { APP, localIntegrationYaml, pgVersions, READ_NOW_FLOW_YAML, startCluster, type TestCluster } from '../support/postgres.ts';
import { assertDenied, rowsOf } from '../support/postgresTarget.ts';
import { PEOPLE } from '../support/services.ts';
import { capturingLogger } from '../support/logs.ts';

const HOUR = 3_600_000;
const PG_ENV = 'LIFECYCLE_PG_PASSWORD';

function configText(cluster: TestCluster, dir: string): string {
  return `
slack: { admins: [U0ADMIN] }
state: { sqlite: ${join(dir, 'sesame.db')} }
integrations:
${localIntegrationYaml(cluster, PG_ENV, ['owners: { integration: [U0BOB] }', `grantableRoles: [${APP.grantableRole}]`])}
accessFlows:
${READ_NOW_FLOW_YAML}
  - name: write-approved
    requestors: ["*"]
    permissions: [readwrite]
    maxDuration: 2h
    approvers: [integration-owner]
`;
}

for (const version of pgVersions()) {
  describe(`the access lifecycle on PostgreSQL ${version}`, () => {
    let cluster: TestCluster;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    const clock = new ManualClock(new Date());
    const logs = capturingLogger();
    const notifier = new RecordingNotifier();
    const open: Sesame[] = [];

    function start(): Sesame {
      const config = parseConfigText(configText(cluster, dir), env);
      const sesame = buildSesame(config, {
        logger: logs.logger,
        clock,
        notifier,
        directory: new FakeDirectory(PEOPLE),
      });
      open.push(sesame);
      return sesame;
    }

    before(async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      dir = mkdtempSync(join(tmpdir(), 'sesame-lifecycle-'));
      env = { ...process.env, [PG_ENV]: cluster.connector.password };
    });
    after(async () => {
      for (const s of open) await s.close();
      await cluster?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('grants, shows working credentials, and survives a restart that comes after the expiry', async () => {
      const first = start();
      const req = await first.services.requests.requestAccess({
        requesterSlackId: 'U0ALICE',
        target: { integration: 'local', database: APP.database, schema: 'public' },
        permission: 'readonly',
        durationMinutes: 60,
        reason: 'look at last night’s orders',
      });
      assert.equal(req.status, 'granted');
      const creds = await first.services.credentials.revealCredentials(req.id, 'U0ALICE');
      assert.equal(creds.customAccessDetails, 'Connect through the office VPN.');
      const session = new pg.Client({ connectionString: creds.uri });
      await session.connect();
      session.on('error', () => {});
      assert.ok((await rowsOf(session, 'SELECT count(*) FROM public.orders')).length === 1);
      await assertDenied(session, 'INSERT INTO public.customers (name) VALUES ($1)', ['x']);
      await assertDenied(session, 'SELECT * FROM sales.deals');
      const [validUntil] = await cluster.query<{ v: Date }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [creds.username]);
      assert.equal(validUntil?.v.getTime(), req.expiresAt!.getTime());

      // Sesame goes down; the grant's time passes; Sesame starts again.
      await first.close();
      clock.advance(HOUR + 1000);
      const second = start();
      // What the bot does at start: finish interrupted work, then the start-up jobs (expiry first).
      await second.services.grants.resume();
      await second.scheduler.start();
      const ended = await second.store.getRequest(req.id);
      assert.equal(ended?.status, 'expired');
      await assert.rejects(session.query('SELECT 1'), 'the open session was terminated');
      const fresh = new pg.Client({ connectionString: creds.uri });
      await assert.rejects(fresh.connect(), /not permitted to log in|password authentication failed/);
      await fresh.end().catch(() => {});

      // Nothing secret reached the store file, the audit trail or the logs.
      const stored = readFileSync(join(dir, 'sesame.db')).toString('latin1');
      const auditText = JSON.stringify(await second.store.listAudit(new Date(0)));
      for (const secret of [creds.password!, cluster.connector.password]) {
        assert.ok(!stored.includes(secret), 'secret in the state store');
        assert.ok(!auditText.includes(secret), 'secret in the audit trail');
        assert.ok(!logs.lines.some((l) => l.includes(secret)), 'secret in a log line');
      }
    });

    it('keeps a second grant’s access when the first ends, then reconciles access nobody granted', async () => {
      const sesame = start();
      const read = await sesame.services.requests.requestAccess({
        requesterSlackId: 'U0CAROL',
        target: { integration: 'local', database: APP.database, schema: 'public' },
        permission: 'readonly',
        durationMinutes: 30,
        reason: 'report',
      });
      const write = await sesame.services.requests.requestAccess({
        requesterSlackId: 'U0CAROL',
        target: { integration: 'local', database: APP.database, schema: 'sales', table: 'deals' },
        permission: 'readwrite',
        durationMinutes: 120,
        reason: 'fix a deal',
      });
      assert.equal(write.status, 'pending');
      assert.equal(
        (await sesame.services.requests.decide({ requestId: write.id, actorSlackId: 'U0BOB', decision: 'approve' })).status,
        'granted',
      );
      const creds = await sesame.services.credentials.revealCredentials(write.id, 'U0CAROL');
      const login = async () => {
        const c = new pg.Client({ connectionString: creds.uri });
        await c.connect();
        return c;
      };
      let c = await login();
      await rowsOf(c, 'SELECT * FROM public.customers');
      await rowsOf(c, 'UPDATE sales.deals SET title = title WHERE id = 1');
      await c.end();

      clock.advance(31 * 60_000);
      await sesame.services.revocations.expireDue();
      assert.equal((await sesame.store.getRequest(read.id))?.status, 'expired');
      c = await login();
      await assertDenied(c, 'SELECT * FROM public.customers');
      await rowsOf(c, 'UPDATE sales.deals SET title = title WHERE id = 1');
      await c.end();

      // A membership the store knows nothing of (a store restored from an old backup, say):
      // reconciliation takes it away again.
      await cluster.query(`GRANT "${read.grantedRoles![0]}" TO "${creds.username}"`, [], {
        as: { user: cluster.connector.username, password: cluster.connector.password },
      });
      const report = await sesame.services.maintenance.reconcile();
      assert.deepEqual(report.errors, []);
      assert.equal(report.usersCorrected, 1);
      c = await login();
      await assertDenied(c, 'SELECT * FROM public.customers');
      await rowsOf(c, 'UPDATE sales.deals SET title = title WHERE id = 1');
      await c.end();
    });

    it('runs the CLI: check tells the truth, sweep ends what is due, audit exports JSON lines, schema matches', async () => {
      const configPath = join(dir, 'sesame.yml');
      writeFileSync(configPath, configText(cluster, dir));
      const out: string[] = [];
      const err: string[] = [];
      const io = {
        out: (l: string) => out.push(l),
        err: (l: string) => err.push(l),
        env: { ...env, SESAME_CONFIG: configPath },
        logger: logs.logger,
      };

      assert.equal(await runCli(['check'], io), 0, `${err.join('\n')}${out.join('\n')}`);
      assert.match(out.join('\n'), /All integrations are ready/);

      out.length = 0;
      assert.equal(await runCli(['sweep'], io), 0, err.join('\n'));
      assert.deepEqual(Object.keys(JSON.parse(out[0]!)), ['expired', 'timedOut', 'reconciled']);

      out.length = 0;
      assert.equal(await runCli(['audit', '--since', '2000-01-01'], io), 0, err.join('\n'));
      const events = out.map((l) => JSON.parse(l) as { action: string });
      assert.ok(events.some((e) => e.action === 'grant.granted') && events.some((e) => e.action === 'grant.expired'));
      assert.ok(!out.join('\n').includes(cluster.connector.password));

      out.length = 0;
      assert.equal(await runCli(['audit', '--since', 'yesterday-ish'], io), 2);
      assert.match(err.at(-1)!, /is not a date; write it like 2026-01-01/);

      out.length = 0;
      assert.equal(await runCli(['schema'], io), 0);
      assert.equal(`${out.join('\n')}\n`, configJsonSchemaText());

      assert.equal(await runCli(['frobnicate'], io), 2);
      assert.match(err.at(-1)!, /Unknown command "frobnicate"/);
    });

    it('check on a fresh RDS-like server lists exactly what an admin must run', async () => {
      const fresh = await startCluster(version);
      try {
        const configPath = join(dir, 'fresh.yml');
        writeFileSync(configPath, configText(fresh, dir).replace(join(dir, 'sesame.db'), join(dir, 'fresh.db')));
        const out: string[] = [];
        const io = {
          out: (l: string) => out.push(l),
          err: (l: string) => out.push(l),
          env: { ...process.env, [PG_ENV]: fresh.connector.password, SESAME_CONFIG: configPath },
          logger: logs.logger,
        };
        const code = await runCli(['check'], io);
        const text = out.join('\n');
        if (version >= 16) {
          assert.equal(code, 1, text);
          assert.match(text, /GRANT "app_owner" TO "sesame_connector";/);
          const statements = [...text.matchAll(/^\s+(GRANT .*;)$/gm)].map((m) => m[1]!);
          for (const s of statements) await fresh.query(s);
          out.length = 0;
          assert.equal(await runCli(['check'], io), 0, out.join('\n'));
        } else {
          assert.equal(code, 0, text);
          assert.match(text, /warn .*app_owner/);
        }
      } finally {
        await fresh.stop();
      }
    });
  });
}

for (const version of pgVersions().filter((v) => v <= 15)) {
  describe(`the connector on PostgreSQL ${version} takes the memberships it needs itself`, () => {
    it('and the audit trail records it', async () => {
      const cluster = await startCluster(version); // no completeConnectorSetup: as the RDS docs leave it
      const dir = mkdtempSync(join(tmpdir(), 'sesame-selfgrant-'));
      const env = { ...process.env, [PG_ENV]: cluster.connector.password };
      const sesame = buildSesame(parseConfigText(configText(cluster, dir), env), {
        logger: capturingLogger('silent').logger,
        directory: new FakeDirectory(PEOPLE),
      });
      try {
        const req = await sesame.services.requests.requestAccess({
          requesterSlackId: 'U0ALICE',
          target: { integration: 'local', database: APP.database, schema: 'public' },
          permission: 'readonly',
          durationMinutes: 30,
          reason: 'first grant on a fresh server',
        });
        assert.equal(req.status, 'granted', req.lastError);
        const selfGranted = (await sesame.store.listAudit(new Date(0))).filter((e) => e.action === 'connector.self_granted');
        assert.ok(
          selfGranted.some((e) => JSON.stringify(e.details).includes(APP.owner)),
          JSON.stringify(selfGranted),
        );
      } finally {
        await sesame.close();
        await cluster.stop();
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
