/**
 * A person's VALID UNTIL is the latest expiry of all their live grants, not the expiry of the
 * grant made last: a short grant given while a long one runs must not cut the long one's logins
 * short. Sesame's clock is set 50 minutes behind the server's, so that the short grant's own
 * expiry is already past for PostgreSQL: had it become VALID UNTIL, logging in would fail now.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildSesame, type Sesame } from '../../src/app.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { FakeDirectory, ManualClock } from '../support/fakes.ts';
import { capturingLogger } from '../support/logs.ts';
import { APP, localIntegrationYaml, pgVersions, READ_NOW_FLOW_YAML, startCluster, type TestCluster } from '../support/postgres.ts';
import { assertDenied, rowsOf } from '../support/postgresTarget.ts';
import { PEOPLE } from '../support/services.ts';

const MINUTE = 60_000;
const PG_ENV = 'VALID_UNTIL_PG_PASSWORD';

function configText(cluster: TestCluster, dir: string): string {
  return `
slack: { admins: [U0ADMIN] }
state: { sqlite: ${join(dir, 'sesame.db')} }
integrations:
${localIntegrationYaml(cluster, PG_ENV)}
accessFlows:
${READ_NOW_FLOW_YAML}
  - name: write-now
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}], schemas: [sales] }]
    permissions: [readwrite]
    maxDuration: 1h
    approvers: []
`;
}

for (const version of pgVersions()) {
  describe(`VALID UNTIL with two grants, on PostgreSQL ${version}`, { timeout: 120_000 }, () => {
    let cluster: TestCluster;
    let dir: string;
    let sesame: Sesame;
    const clock = new ManualClock(new Date(Date.now() - 50 * MINUTE));

    before(async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      dir = mkdtempSync(join(tmpdir(), 'sesame-valid-until-'));
      const env = { ...process.env, [PG_ENV]: cluster.connector.password };
      sesame = buildSesame(parseConfigText(configText(cluster, dir), env), {
        logger: capturingLogger('silent').logger,
        clock,
        directory: new FakeDirectory(PEOPLE),
      });
    });
    after(async () => {
      await sesame?.close();
      await cluster?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function validUntil(user: string): Promise<number | undefined> {
      const [row] = await cluster.query<{ v: Date | null }>('SELECT rolvaliduntil AS v FROM pg_roles WHERE rolname = $1', [user]);
      return row?.v?.getTime();
    }

    async function login(requestId: string): Promise<pg.Client> {
      const { uri } = await sesame.services.credentials.revealCredentials(requestId, 'U0DAVE');
      const client = new pg.Client({ connectionString: uri });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    }

    it('a shorter grant after a long one keeps the long one’s expiry, and logins go on after it ends', async () => {
      const long = await sesame.services.requests.requestAccess({
        requesterSlackId: 'U0DAVE',
        target: { integration: 'local', database: APP.database, schema: 'public' },
        permission: 'readonly',
        durationMinutes: 240,
        reason: 'a long report',
      });
      assert.equal(long.status, 'granted', long.lastError);
      const short = await sesame.services.requests.requestAccess({
        requesterSlackId: 'U0DAVE',
        target: { integration: 'local', database: APP.database, schema: 'sales' },
        permission: 'readwrite',
        durationMinutes: 30,
        reason: 'a quick fix',
      });
      assert.equal(short.status, 'granted', short.lastError);
      assert.equal(short.dbUser, long.dbUser);
      assert.ok(short.expiresAt!.getTime() < Date.now(), 'for the server, the short grant’s own expiry has passed');
      assert.equal(await validUntil(long.dbUser!), long.expiresAt!.getTime());

      let session = await login(short.id);
      await rowsOf(session, 'SELECT * FROM public.customers');
      await rowsOf(session, 'UPDATE sales.deals SET title = title WHERE id = 1');
      await session.end();

      clock.advance(31 * MINUTE);
      await sesame.services.revocations.expireDue();
      assert.equal((await sesame.store.getRequest(short.id))?.status, 'expired');
      assert.equal((await sesame.store.getRequest(long.id))?.status, 'granted');
      assert.equal(await validUntil(long.dbUser!), long.expiresAt!.getTime());
      session = await login(long.id);
      await rowsOf(session, 'SELECT * FROM public.customers');
      await assertDenied(session, 'UPDATE sales.deals SET title = title WHERE id = 1');
      await session.end();
    });
  });
}
