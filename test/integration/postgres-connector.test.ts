import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresTargetDatabase } from '../../src/adapters/postgres/PostgresTargetDatabase.ts';
import { ConnectorSetupError } from '../../src/domain/errors.ts';
import type { CheckReport } from '../../src/ports/TargetDatabase.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { inMinutes, newPassword, rowsOf, targetFor, type TestTarget } from '../support/postgresTarget.ts';

const errors = (report: CheckReport) => report.findings.filter((f) => f.level === 'error');

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: a connector set up exactly as the RDS documentation says`, () => {
    let cluster: TestCluster;
    let t: TestTarget;
    const integration = `pg${version}`;
    const appSchema = { integration, database: APP.database, schema: 'public' };

    before(async () => {
      cluster = await startCluster(version);
      t = targetFor(cluster);
    });

    after(async () => {
      await t?.db.close();
      await cluster?.stop();
    });

    it('is not a superuser, and check tells the truth about what it lacks', async () => {
      const [connector] = await cluster.query<{ rolsuper: boolean }>('SELECT rolsuper FROM pg_roles WHERE rolname = $1', [APP.connector]);
      assert.equal(connector!.rolsuper, false);
      const report = await t.db.check();
      assert.equal(report.integration, integration);
      assert.match(report.serverVersion ?? '', new RegExp(`^${version}\\.`));
      const appOwner = report.findings.find((f) => f.message.includes(`privileges of ${APP.owner}`));
      assert.ok(appOwner, JSON.stringify(report, null, 2));
      assert.deepEqual(appOwner.fixSql, [`GRANT "${APP.owner}" TO "${APP.connector}";`]);
      if (version <= 15) {
        assert.deepEqual(errors(report), [], JSON.stringify(report, null, 2));
        assert.equal(appOwner.level, 'warn');
        assert.match(appOwner.message, /Sesame will take membership of app_owner itself when first needed/);
      } else {
        assert.equal(appOwner.level, 'error');
        const fixes = errors(report).flatMap((f) => f.fixSql ?? []);
        assert.ok(fixes.includes(`GRANT "${APP.otherOwner}" TO "${APP.connector}";`), JSON.stringify(report, null, 2));
        assert.ok(fixes.includes(`GRANT "${APP.grantableRole}" TO "${APP.connector}" WITH ADMIN OPTION;`));
      }
    });

    if (version <= 15) {
      it('takes membership of the owner itself when first needed, and records it', async () => {
        const username = 'first.grant@example.com';
        await t.db.grant({ username, ownerLabel: username, target: appSchema, permission: 'readonly', validUntil: inMinutes(30) });
        const selfGrants = t.audit.filter((e) => e.action === 'connector.self_granted');
        assert.deepEqual(
          selfGrants.map((e) => e.details.role),
          [APP.owner],
        );
        assert.equal(selfGrants[0]!.details.database, APP.database);
        const password = newPassword();
        await t.db.setPassword(username, password);
        const client = await cluster.loginAs(username, password);
        assert.equal((await rowsOf(client, 'SELECT * FROM public.customers')).length, 3);
        await client.end();
        // Once taken, it is not taken (nor recorded) again.
        await t.db.grant({ username, ownerLabel: username, target: appSchema, permission: 'readonly', validUntil: inMinutes(30) });
        assert.equal(t.audit.length, selfGrants.length);
      });
    } else {
      it('fails a grant with the exact statement an admin must run, and works once it is run', async () => {
        const username = 'first.grant@example.com';
        const grant = () =>
          t.db.grant({ username, ownerLabel: username, target: appSchema, permission: 'readonly', validUntil: inMinutes(30) });
        await assert.rejects(grant(), (err: Error) => {
          assert.ok(err instanceof ConnectorSetupError, err.message);
          assert.deepEqual(err.sql, [`GRANT "${APP.owner}" TO "${APP.connector}";`]);
          assert.match(err.message, /Ask a database admin to run: GRANT "app_owner" TO "sesame_connector";/);
          return true;
        });
        await assert.rejects(
          t.db.grant({
            username,
            ownerLabel: username,
            target: { integration, database: APP.database },
            permission: `role:${APP.grantableRole}`,
            validUntil: inMinutes(30),
          }),
          (err: Error) => {
            assert.ok(err instanceof ConnectorSetupError);
            assert.deepEqual(err.sql, [`GRANT "${APP.grantableRole}" TO "${APP.connector}" WITH ADMIN OPTION;`]);
            return true;
          },
        );
        assert.equal((await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).length, 0, 'nothing was created');

        // The admin runs exactly what check printed.
        const report = await t.db.check();
        for (const statement of errors(report).flatMap((f) => f.fixSql ?? [])) await cluster.query(statement, [], { database: 'postgres' });
        const after = await t.db.check();
        assert.deepEqual(errors(after), [], JSON.stringify(after, null, 2));

        await grant();
        const password = newPassword();
        await t.db.setPassword(username, password);
        const client = await cluster.loginAs(username, password);
        assert.equal((await rowsOf(client, 'SELECT * FROM public.customers')).length, 3);
        await client.end();
        assert.deepEqual(t.audit, [], 'nothing was taken without the admin');
      });
    }

    it('on objects a superuser owns, asks for grant options instead of failing with a bare permission error', async () => {
      await cluster.query(
        `CREATE SCHEMA vault; GRANT USAGE ON SCHEMA vault TO ${APP.connector}; CREATE TABLE vault.keys (id int); INSERT INTO vault.keys VALUES (7);`,
      );
      const username = 'vault.reader@example.com';
      const grant = () =>
        t.db.grant({
          username,
          ownerLabel: username,
          target: { integration, database: APP.database, schema: 'vault' },
          permission: 'readonly',
          validUntil: inMinutes(30),
        });
      await assert.rejects(grant(), (err: Error) => {
        assert.ok(err instanceof ConnectorSetupError, err.message);
        assert.deepEqual(err.sql, [
          `\\connect "${APP.database}"`,
          `GRANT USAGE ON SCHEMA "vault" TO "${APP.connector}" WITH GRANT OPTION;`,
          `GRANT SELECT ON TABLE "vault"."keys" TO "${APP.connector}" WITH GRANT OPTION;`,
        ]);
        return true;
      });
      await cluster.query(
        `GRANT USAGE ON SCHEMA vault TO ${APP.connector} WITH GRANT OPTION; GRANT SELECT ON vault.keys TO ${APP.connector} WITH GRANT OPTION;`,
      );
      await grant();
      const password = newPassword();
      await t.db.setPassword(username, password);
      const client = await cluster.loginAs(username, password);
      assert.deepEqual(await rowsOf(client, 'SELECT id FROM vault.keys'), [{ id: 7 }]);
      await client.end();
    });

    it('grants the same scope to many people at once without colliding', async () => {
      const people = Array.from({ length: 8 }, (_, i) => `crowd${i}@example.com`);
      const results = await Promise.all(
        people.map((username) =>
          t.db.grant({
            username,
            ownerLabel: username,
            target: { integration, database: APP.database, schema: 'sales' },
            permission: 'readwrite',
            validUntil: inMinutes(30),
          }),
        ),
      );
      assert.equal(new Set(results.map((r) => r.roles[0])).size, 1);
      assert.ok(results.every((r) => r.userCreated));
      const managed = await t.db.listManagedUsers();
      for (const username of people) {
        assert.deepEqual(managed.find((u) => u.username === username)?.roles, results[0]!.roles);
      }
    });

    it('shares one group role between integrations that point at the same server', async () => {
      const other = targetFor(cluster, { name: `${integration}-again` });
      try {
        const mine = await t.db.grant({
          username: 'shared@example.com',
          ownerLabel: 'x',
          target: appSchema,
          permission: 'readonly',
          validUntil: inMinutes(30),
        });
        const theirs = await other.db.grant({
          username: 'shared@example.com',
          ownerLabel: 'x',
          target: { ...appSchema, integration: `${integration}-again` },
          permission: 'readonly',
          validUntil: inMinutes(30),
        });
        assert.deepEqual(theirs.roles, mine.roles);
        assert.equal(theirs.userCreated, false);
        assert.equal(await other.db.serverKey(), await t.db.serverKey());
      } finally {
        await other.db.close();
      }
    });

    it('asks for the credentials afresh once when the server refuses them, picking up a rotated secret', async () => {
      const rotated = newPassword();
      await cluster.query(`ALTER ROLE ${APP.connector} PASSWORD '${rotated}'`);
      const asked: (boolean | undefined)[] = [];
      const db = new PostgresTargetDatabase({
        config: cluster.integrationConfig(),
        // A cache that still holds the old secret until asked for a fresh one.
        credentials: async (options) => {
          asked.push(options?.fresh);
          return options?.fresh ? rotated : cluster.connector.password;
        },
      });
      try {
        assert.ok(Array.isArray(await db.listManagedUsers()));
        assert.deepEqual(asked, [undefined, true]);
      } finally {
        await db.close();
        await cluster.query(`ALTER ROLE ${APP.connector} PASSWORD '${cluster.connector.password}'`);
      }
    });

    it("reports a server it cannot reach as unavailable, naming it but not the connector's password", async () => {
      const down = targetFor(cluster, { port: 1 });
      try {
        const report = await down.db.check();
        // Besides the error, only the warning about its sslMode (disable), which needs no connection.
        const [error, ...others] = report.findings.filter((f) => !/uses sslMode disable/.test(f.message));
        assert.deepEqual(others, []);
        assert.equal(error!.level, 'error');
        assert.match(error!.message, /cannot connect to .*127\.0\.0\.1:1/);
        assert.ok(!JSON.stringify(report).includes(cluster.connector.password));
        await assert.rejects(
          down.db.grant({
            username: 'x@example.com',
            ownerLabel: 'x',
            target: { ...appSchema, integration: `pg${version}` },
            permission: 'readonly',
            validUntil: inMinutes(5),
          }),
          { name: 'TargetUnavailableError' },
        );
      } finally {
        await down.db.close();
      }
    });
  });
}
