/**
 * Repeat grants: a person joining a group role whose scope has not changed since the engine last
 * granted it takes one round trip; whatever changed in scope (a new table, a new owner, a new
 * schema, a table dropped and created again, a privilege taken from the group) sends the full
 * grant again, and the person, logged in, gets exactly the access of the permission.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type pg from 'pg';
import type { Permission } from '../../src/domain/permission.ts';
import type { Target } from '../../src/domain/target.ts';
import { APP, pgVersions, type TestCluster } from '../support/postgres.ts';
import { assertDenied, inMinutes, newPassword, rowsOf, useEngineOn, type TestTarget } from '../support/postgresTarget.ts';

const TIMEOUT_MS = 240_000;

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: repeat grants on an unchanged scope`, { timeout: TIMEOUT_MS }, () => {
    const engine = useEngineOn(version);
    const clients = engine.clients;
    let cluster: TestCluster;
    let t: TestTarget;

    const where = (database: string, schema?: string, table?: string): Target => ({
      integration: `pg${version}`,
      database,
      ...(schema !== undefined ? { schema } : {}),
      ...(table !== undefined ? { table } : {}),
    });

    /** Grants, returning the statements it sent. */
    async function grant(username: string, target: Target, permission: Permission = 'readonly') {
      const from = t.statements.length;
      const result = await t.db.grant({
        username,
        ownerLabel: `${username} [U0REPEAT]`,
        ownerId: 'U0REPEAT',
        target,
        permission,
        validUntil: inMinutes(60),
      });
      return { ...result, sent: t.statements.slice(from) };
    }

    async function endAll(username: string, roles: string[]) {
      await t.db.revoke({ username, roles, keepRoles: [], validUntil: null });
    }

    async function login(username: string, database: string = APP.database): Promise<pg.Client> {
      const password = newPassword();
      await t.db.setPassword(username, password);
      const client = await cluster.loginAs(username, password, database);
      clients.push(client);
      return client;
    }

    /** Grants again after the first grant ended, as a person asking for the same access does. */
    async function grantAgain(username: string, target: Target, permission: Permission = 'readonly') {
      const first = await grant(username, target, permission);
      await endAll(username, first.roles);
      return grant(username, target, permission);
    }

    const full = (sent: { name: string }[]) => sent.length > 1;

    before(() => {
      cluster = engine.cluster();
      t = engine.t();
    });

    it('an existing user joining an existing group on an unchanged scope sends one statement in one round trip', async () => {
      const target = where(APP.database, 'public');
      await grant('repeat.warm@example.com', target);
      const again = await grantAgain('repeat.one@example.com', target);
      assert.equal(again.sent.length, 1, again.sent.map((s) => s.name).join('; '));
      assert.match(again.sent[0]!.text, /^DO LANGUAGE plpgsql/);
      const client = await login('repeat.one@example.com');
      assert.equal((await rowsOf(client, 'SELECT * FROM public.customers')).length, 3, 'reads the three customers');
      await assertDenied(client, "INSERT INTO public.customers (name) VALUES ('x')");
      await assertDenied(client, 'SELECT * FROM sales.deals');
      if (version >= 16) {
        const [m] = await cluster.query<{ set_option: boolean; inherit_option: boolean }>(
          'SELECT set_option, inherit_option FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole',
          [again.roles[0], '"repeat.one@example.com"'],
        );
        assert.deepEqual(m, { set_option: false, inherit_option: true });
      }
    });

    it('a table created in scope by its owner is covered at the next grant', async () => {
      const target = where(APP.database, 'sales');
      await grantAgain('repeat.new@example.com', target);
      await cluster.query('SET ROLE app_owner; CREATE TABLE sales.repeat_new (id int); INSERT INTO sales.repeat_new VALUES (7)');
      const { sent } = await grant('repeat.new@example.com', target);
      assert.ok(full(sent), 'the scope changed: the full grant runs');
      const client = await login('repeat.new@example.com');
      assert.deepEqual(await rowsOf(client, 'SELECT id FROM sales.repeat_new'), [{ id: 7 }]);
      await assertDenied(client, 'INSERT INTO sales.repeat_new VALUES (8)');
      assert.equal((await grant('repeat.new@example.com', target)).sent.length, 1, 'unchanged again: one round trip');
    });

    it('a table dropped and created again, and a table given to another owner, are covered', async () => {
      await cluster.query(
        'SET ROLE app_owner; CREATE SCHEMA IF NOT EXISTS churn; CREATE TABLE churn.t (id int); INSERT INTO churn.t VALUES (1)',
      );
      const target = where(APP.database, 'churn');
      await grantAgain('repeat.churn@example.com', target);
      await cluster.query('SET ROLE app_owner; DROP TABLE churn.t; CREATE TABLE churn.t (id int); INSERT INTO churn.t VALUES (2)');
      assert.ok(full((await grant('repeat.churn@example.com', target)).sent));
      const client = await login('repeat.churn@example.com');
      assert.deepEqual(await rowsOf(client, 'SELECT id FROM churn.t'), [{ id: 2 }]);
      // Another owner's table, and then the first one handed to that owner.
      await cluster.query(`GRANT USAGE, CREATE ON SCHEMA churn TO ${APP.otherOwner}`);
      await cluster.query(`SET ROLE ${APP.otherOwner}; CREATE TABLE churn.other (id int); INSERT INTO churn.other VALUES (3)`);
      assert.ok(full((await grant('repeat.churn@example.com', target)).sent));
      assert.deepEqual(await rowsOf(client, 'SELECT id FROM churn.other'), [{ id: 3 }]);
      await cluster.query(`ALTER TABLE churn.t OWNER TO ${APP.otherOwner}`);
      assert.ok(full((await grant('repeat.churn@example.com', target)).sent), 'a new owner: the full grant runs');
      assert.deepEqual(await rowsOf(client, 'SELECT id FROM churn.t'), [{ id: 2 }]);
      await assertDenied(client, 'DELETE FROM churn.t');
    });

    it('a new schema in a database-scope grant is covered at the next grant', async () => {
      const target = where(APP.otherDatabase);
      await grantAgain('repeat.db@example.com', target);
      assert.equal((await grant('repeat.db@example.com', target)).sent.length, 1);
      await cluster.query(
        `SET ROLE ${APP.otherOwner}; CREATE SCHEMA fresh; CREATE TABLE fresh.items (id int); INSERT INTO fresh.items VALUES (5)`,
        [],
        { database: APP.otherDatabase },
      );
      assert.ok(full((await grant('repeat.db@example.com', target)).sent));
      const client = await login('repeat.db@example.com', APP.otherDatabase);
      assert.deepEqual(await rowsOf(client, 'SELECT id FROM fresh.items'), [{ id: 5 }]);
      await assertDenied(client, 'INSERT INTO fresh.items VALUES (6)');
    });

    it('a privilege taken from the group behind Sesame’s back is given back at the next grant', async () => {
      const target = where(APP.database, 'public');
      const { roles } = await grantAgain('repeat.revoked@example.com', target);
      await cluster.query(`REVOKE SELECT ON public.customers FROM "${roles[0]}"`);
      assert.ok(full((await grant('repeat.revoked@example.com', target)).sent));
      const client = await login('repeat.revoked@example.com');
      await rowsOf(client, 'SELECT * FROM public.customers');
    });

    it('a user that is not Sesame’s, or is someone else’s, is refused and left as it was', async () => {
      const target = where(APP.database, 'public');
      await grant('repeat.guard@example.com', target);
      await cluster.query('CREATE ROLE "repeat.stranger@example.com" NOLOGIN');
      await assert.rejects(grant('repeat.stranger@example.com', target), /Sesame did not create/);
      const [stranger] = await cluster.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_auth_members WHERE member = '"repeat.stranger@example.com"'::regrole`,
      );
      assert.equal(stranger?.n, 0);
      await grant('repeat.theirs@example.com', target);
      await assert.rejects(
        t.db.grant({
          username: 'repeat.theirs@example.com',
          ownerLabel: 'someone else',
          ownerId: 'U0OTHER',
          target,
          permission: 'readonly',
          validUntil: inMinutes(60),
        }),
        /belongs to another person/,
      );
    });

    it('admin on a repeat grant still gets CREATE on the person’s own user, never on the group', async () => {
      const target = where(APP.database, 'public');
      await grant('repeat.admin.warm@example.com', target, 'admin');
      const again = await grantAgain('repeat.admin@example.com', target, 'admin');
      assert.equal(again.sent.length, 1);
      const client = await login('repeat.admin@example.com');
      await rowsOf(client, 'CREATE TABLE public.repeat_admin_own (id int)');
      const [owner] = await cluster.query<{ owner: string }>(
        `SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'repeat_admin_own'`,
      );
      assert.equal(owner?.owner, 'repeat.admin@example.com');
      const [group] = await cluster.query<{ create: boolean }>(`SELECT has_schema_privilege($1, 'public', 'CREATE') AS create`, [
        again.roles[0],
      ]);
      assert.equal(group?.create, false);
    });
  });
}
