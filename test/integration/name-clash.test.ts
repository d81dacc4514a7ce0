/**
 * Two people whose names a template maps to one database user (`{emailLocal}` for
 * alice@corp.example and alice@contractor.example) never share it: the second request fails
 * with a message for the admin, and the first person's access is untouched. Services, SQLite
 * store and real PostgreSQL; access proven by logging in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildSesame, type Sesame } from '../../src/app.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { ConflictError } from '../../src/domain/errors.ts';
import { FakeDirectory, ManualClock, RecordingNotifier } from '../support/fakes.ts';
import { APP, localIntegrationYaml, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { assertDenied, inMinutes, rowsOf, targetFor } from '../support/postgresTarget.ts';
import { capturingLogger } from '../support/logs.ts';

const PG_ENV = 'CLASH_PG_PASSWORD';

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: two people never share a database user (finding 3)`, { timeout: 180_000 }, () => {
    let cluster: TestCluster;
    let dir: string;
    let sesame: Sesame;
    const clients: pg.Client[] = [];

    before(async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      dir = mkdtempSync(join(tmpdir(), 'sesame-clash-'));
      const config = parseConfigText(
        `
slack: { admins: [U0ADMIN] }
state: { sqlite: ${join(dir, 'sesame.db')} }
integrations:
${localIntegrationYaml(cluster, PG_ENV, ['userNameTemplate: "{emailLocal}"'])}
accessFlows:
  - name: auto
    requestors: ["*"]
    permissions: [readonly, readwrite]
    maxDuration: 8h
    approvers: []
`,
        { ...process.env, [PG_ENV]: cluster.connector.password },
      );
      sesame = buildSesame(config, {
        logger: capturingLogger().logger,
        clock: new ManualClock(new Date()),
        notifier: new RecordingNotifier(),
        directory: new FakeDirectory({
          U0CORP: 'alice@corp.example',
          U0CONTRACTOR: 'alice@contractor.example',
          U0ADMIN: 'admin@example.com',
        }),
      });
    });
    after(async () => {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
      await sesame?.close();
      await cluster?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    async function login(uri: string): Promise<pg.Client> {
      const c = new pg.Client({ connectionString: uri });
      c.on('error', () => undefined);
      await c.connect();
      clients.push(c);
      return c;
    }

    it('refuses the second person and leaves the first one’s access as it was', async () => {
      const first = await sesame.services.requests.requestAccess({
        requesterSlackId: 'U0CORP',
        target: { integration: 'local', database: APP.database, schema: 'public' },
        permission: 'readwrite',
        durationMinutes: 60,
        reason: 'fix orders',
      });
      assert.equal(first.status, 'granted');
      const firstCreds = await sesame.services.credentials.revealCredentials(first.id, 'U0CORP');
      assert.equal(firstCreds.username, 'alice');

      const second = await sesame.services.requests.requestAccess({
        requesterSlackId: 'U0CONTRACTOR',
        target: { integration: 'local', database: APP.database, schema: 'sales' },
        permission: 'readonly',
        durationMinutes: 60,
        reason: 'look at deals',
      });
      assert.equal(second.status, 'failed');
      assert.match(second.lastError ?? '', /already belongs to another person/);
      assert.match(second.lastError ?? '', /userNameTemplate/);
      await assert.rejects(sesame.services.credentials.revealCredentials(second.id, 'U0CONTRACTOR'));

      // The first person's user works as before, with nothing the second asked for.
      const c = await login(firstCreds.uri);
      await rowsOf(c, `INSERT INTO public.customers (name) VALUES ('still mine')`);
      await assertDenied(c, 'SELECT * FROM sales.deals');
      const users = await sesame.store.listManagedUsers();
      assert.deepEqual(
        users.map((u) => [u.username, u.slackId]),
        [['alice', 'U0CORP']],
      );
    });

    it('the engine refuses too when only the role’s mark knows whose user it is', async () => {
      const t = targetFor(cluster);
      try {
        const grant = (ownerId: string) =>
          t.db.grant({
            username: 'marked.user',
            ownerLabel: `${ownerId}@example.com`,
            ownerId,
            target: { integration: `pg${version}`, database: APP.database, schema: 'public' },
            permission: 'readonly',
            validUntil: inMinutes(30),
          });
        await grant('U0FIRST');
        await assert.rejects(
          grant('U0SECOND'),
          (err: Error) => err instanceof ConflictError && /belongs to another person/.test(err.message),
        );
        await grant('U0FIRST');
      } finally {
        await t.db.close();
      }
    });
  });
}
