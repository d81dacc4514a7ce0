import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type pg from 'pg';
import { ConflictError, InputError, NotAllowedError, NotFoundError } from '../../src/domain/errors.ts';
import type { Permission } from '../../src/domain/permission.ts';
import type { Target } from '../../src/domain/target.ts';
import { HEIR_ROLE } from '../../src/adapters/postgres/groupRoles.ts';
import { APP, pgVersions, type TestCluster } from '../support/postgres.ts';
import { assertDenied, inMinutes, newPassword, rowsOf, targetFor, useEngineOn, type TestTarget } from '../support/postgresTarget.ts';

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: granting and revoking access`, { timeout: 240_000 }, () => {
    const engine = useEngineOn(version);
    const clients = engine.clients;
    let cluster: TestCluster;
    let t: TestTarget;

    const target = (database?: string, schema?: string, table?: string): Target => ({
      integration: `pg${version}`,
      ...(database !== undefined ? { database } : {}),
      ...(schema !== undefined ? { schema } : {}),
      ...(table !== undefined ? { table } : {}),
    });

    /** Grants, sets a password and logs in as the user, the way a person would. */
    async function grantAndLogin(
      username: string,
      where: Target,
      permission: Permission,
      database = where.database ?? APP.database,
    ): Promise<{ client: pg.Client; roles: string[]; password: string }> {
      const { roles } = await t.db.grant({
        username,
        ownerLabel: `${username} (U0TEST)`,
        target: where,
        permission,
        validUntil: inMinutes(60),
      });
      const password = newPassword();
      await t.db.setPassword(username, password);
      const client = await cluster.loginAs(username, password, database);
      clients.push(client);
      return { client, roles, password };
    }

    before(() => {
      cluster = engine.cluster();
      t = engine.t();
    });

    it('readonly on a schema reads tables, views, materialized views and sequences, and nothing else', async () => {
      const { client, roles } = await grantAndLogin('ro.schema@example.com', target(APP.database, 'public'), 'readonly');
      assert.equal(roles.length, 1);
      assert.match(roles[0]!, /^sesame_ro_[0-9a-f]{12}$/);
      assert.equal((await rowsOf(client, 'SELECT * FROM public.customers')).length, 3);
      assert.equal((await rowsOf(client, 'SELECT * FROM public.customer_names')).length, 3);
      assert.ok((await rowsOf(client, 'SELECT * FROM public.order_totals')).length > 0);
      assert.deepEqual(await rowsOf(client, 'SELECT last_value::int AS v FROM public.invoice_numbers'), [{ v: 1 }]);
      await assertDenied(client, "INSERT INTO public.customers (name) VALUES ('Mallory')");
      await assertDenied(client, 'UPDATE public.customers SET name = name');
      await assertDenied(client, "SELECT nextval('public.invoice_numbers')");
      await assertDenied(client, 'SELECT * FROM sales.deals');
      await assertDenied(client, 'CREATE TABLE public.mine (id int)');
    });

    it('covers, at the next grant, a table created after an earlier one', async () => {
      const user = 'ro.later@example.com';
      const { client } = await grantAndLogin(user, target(APP.database, 'sales'), 'readonly');
      await cluster.query('SET ROLE app_owner; CREATE TABLE sales.forecasts (id int); INSERT INTO sales.forecasts VALUES (42);');
      await assertDenied(client, 'SELECT * FROM sales.forecasts');
      await t.db.grant({
        username: user,
        ownerLabel: user,
        target: target(APP.database, 'sales'),
        permission: 'readonly',
        validUntil: inMinutes(90),
      });
      assert.deepEqual(await rowsOf(client, 'SELECT id FROM sales.forecasts'), [{ id: 42 }]);
    });

    it('readwrite writes rows, draws sequence numbers and creates temporary tables, but does not truncate', async () => {
      const { client } = await grantAndLogin('rw.schema@example.com', target(APP.database, 'public'), 'readwrite');
      await rowsOf(client, "INSERT INTO public.customers (name) VALUES ('Barbara')");
      await rowsOf(client, "UPDATE public.customers SET name = 'Barbara L.' WHERE name = 'Barbara'");
      await rowsOf(client, "DELETE FROM public.customers WHERE name = 'Barbara L.'");
      await rowsOf(client, 'INSERT INTO public.orders (customer_id, amount) VALUES (3, 1)');
      assert.ok(Number((await rowsOf<{ n: string }>(client, "SELECT nextval('public.invoice_numbers') AS n"))[0]!.n) >= 1);
      await rowsOf(client, 'CREATE TEMP TABLE scratch (x int)');
      await assertDenied(client, 'TRUNCATE public.orders');
      await assertDenied(client, 'CREATE TABLE public.mine (id int)');
      await assertDenied(client, 'SELECT public.add_numbers(1, 2)');
    });

    it('admin truncates, creates tables in the schema and executes functions', async () => {
      const { client } = await grantAndLogin('admin.schema@example.com', target(APP.database, 'sales'), 'admin');
      await rowsOf(client, 'CREATE TABLE sales.admin_made (id int)');
      await rowsOf(client, 'TRUNCATE sales.leads');
      assert.deepEqual(await rowsOf(client, 'SELECT count(*)::int AS n FROM sales.leads'), [{ n: 0 }]);
      await assertDenied(client, 'SELECT public.add_numbers(1, 2)');
      const { client: publicAdmin } = await grantAndLogin('admin.public@example.com', target(APP.database, 'public'), 'admin');
      assert.deepEqual(await rowsOf(publicAdmin, 'SELECT public.add_numbers(1, 2) AS n'), [{ n: 3 }]);
    });

    it('table scope gives that table and its own sequence only', async () => {
      const { client } = await grantAndLogin('rw.table@example.com', target(APP.database, 'public', 'customers'), 'readwrite');
      await rowsOf(client, "INSERT INTO public.customers (name) VALUES ('Frances')");
      assert.ok((await rowsOf(client, 'SELECT * FROM public.customers')).length >= 4);
      await assertDenied(client, 'SELECT * FROM public.orders');
      await assertDenied(client, 'SELECT * FROM public.customer_names');
      await assertDenied(client, "SELECT nextval('public.invoice_numbers')");
      await assertDenied(client, 'SELECT * FROM sales.deals');
      await assertDenied(client, 'TRUNCATE public.customers');
    });

    it('database scope covers every schema of the database', async () => {
      const { client } = await grantAndLogin('ro.database@example.com', target(APP.database), 'readonly');
      assert.ok((await rowsOf(client, 'SELECT * FROM public.orders')).length > 0);
      assert.ok((await rowsOf(client, 'SELECT * FROM sales.deals')).length > 0);
      await assertDenied(client, 'DELETE FROM sales.deals');
    });

    it('instance scope covers every database', async () => {
      const user = 'ro.instance@example.com';
      const { client, password } = await grantAndLogin(user, target(), 'readonly');
      assert.ok((await rowsOf(client, 'SELECT * FROM sales.deals')).length > 0);
      const other = await cluster.loginAs(user, password, APP.otherDatabase);
      clients.push(other);
      assert.deepEqual(await rowsOf(other, 'SELECT body FROM public.notes'), [{ body: 'first note' }]);
      await assertDenied(other, "INSERT INTO public.notes (body) VALUES ('no')");
    });

    it('role:<name> grants membership of a grantable role and refuses any other role', async () => {
      const user = 'role.user@example.com';
      const { client, roles } = await grantAndLogin(user, target(APP.database), `role:${APP.grantableRole}`);
      assert.deepEqual(roles, [APP.grantableRole]);
      assert.ok((await rowsOf(client, 'SELECT * FROM sales.deals')).length > 0);
      await assertDenied(client, 'SELECT * FROM sales.leads');
      await assert.rejects(
        t.db.grant({
          username: user,
          ownerLabel: user,
          target: target(APP.database),
          permission: `role:${APP.owner}`,
          validUntil: inMinutes(10),
        }),
        NotAllowedError,
      );
      const [owner] = await cluster.query<{ members: number }>(
        "SELECT count(*)::int AS members FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = 'app_owner' AND u.rolname = $1",
        [user],
      );
      assert.equal(owner!.members, 0);
    });

    it('a missing database, schema or table is a NotFoundError', async () => {
      const grant = (where: Target) =>
        t.db.grant({ username: 'nobody@example.com', ownerLabel: 'x', target: where, permission: 'readonly', validUntil: inMinutes(5) });
      await assert.rejects(grant(target('nodb')), NotFoundError);
      await assert.rejects(grant(target(APP.database, 'noschema')), NotFoundError);
      await assert.rejects(grant(target(APP.database, 'public', 'notable')), NotFoundError);
    });

    it('revoking one of two overlapping grants keeps what the other gives', async () => {
      const user = 'overlap@example.com';
      const schemaGrant = await grantAndLogin(user, target(APP.database, 'public'), 'readonly');
      const tableGrant = await t.db.grant({
        username: user,
        ownerLabel: user,
        target: target(APP.database, 'public', 'orders'),
        permission: 'readwrite',
        validUntil: inMinutes(60),
      });
      const client = schemaGrant.client;
      await rowsOf(client, 'INSERT INTO public.orders (customer_id, amount) VALUES (1, 99)');

      const result = await t.db.revoke({
        username: user,
        roles: tableGrant.roles,
        keepRoles: schemaGrant.roles,
        validUntil: inMinutes(60),
      });
      assert.deepEqual(result.removedRoles, tableGrant.roles);
      const again = await cluster.loginAs(user, schemaGrant.password);
      clients.push(again);
      assert.ok((await rowsOf(again, 'SELECT * FROM public.orders')).length > 0);
      await assertDenied(again, 'INSERT INTO public.orders (customer_id, amount) VALUES (1, 1)');

      // Revoking a role another live grant still needs removes nothing.
      const kept = await t.db.revoke({ username: user, roles: schemaGrant.roles, keepRoles: schemaGrant.roles, validUntil: inMinutes(60) });
      assert.deepEqual(kept.removedRoles, []);
      assert.ok((await rowsOf(again, 'SELECT * FROM public.customers')).length > 0);
    });

    it('revoking the last grant disables login and ends open sessions', async () => {
      const user = 'last.grant@example.com';
      const { client, roles, password } = await grantAndLogin(user, target(APP.database, 'public'), 'readonly');
      const result = await t.db.revoke({ username: user, roles, keepRoles: [], validUntil: null });
      assert.deepEqual(result.removedRoles, roles);
      assert.ok(result.terminatedSessions >= 1);
      await assert.rejects(client.query('SELECT 1'));
      await assert.rejects(cluster.loginAs(user, password), /not permitted to log in|password authentication failed/);
      const [row] = await cluster.query<{ rolcanlogin: boolean; members: number }>(
        'SELECT rolcanlogin, (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS members FROM pg_roles r WHERE rolname = $1',
        [user],
      );
      assert.deepEqual(row, { rolcanlogin: false, members: 0 });
      const listed = (await t.db.listManagedUsers()).find((u) => u.username === user);
      assert.equal(listed?.canLogin, false);
      assert.deepEqual(listed?.roles, []);
      // Again, after a crash half way: nothing left to do, and no error.
      const repeat = await t.db.revoke({ username: user, roles, keepRoles: [], validUntil: null });
      assert.deepEqual(repeat.removedRoles, roles);
    });

    it('revoke keeps going past a statement that fails, then says what is still there', async () => {
      const user = 'stubborn@example.com';
      const { roles } = await grantAndLogin(user, target(APP.database, 'public'), 'readonly');
      // A membership the connector may not take away on 16 and later (it has no ADMIN on that role).
      await cluster.query('CREATE ROLE locked_role NOLOGIN; GRANT locked_role TO "stubborn@example.com";');
      const revoke = t.db.revoke({ username: user, roles: ['locked_role', ...roles], keepRoles: [], validUntil: null });
      if (version >= 16) {
        await assert.rejects(revoke, (err: Error) => {
          assert.equal(err.name, 'TargetUnavailableError');
          assert.match(err.message, /membership of locked_role/);
          assert.ok(!err.message.includes(roles[0]!), 'the group role was removed');
          return true;
        });
      } else {
        await revoke;
      }
      const [state] = await cluster.query<{ rolcanlogin: boolean; roles: string[] }>(
        `SELECT rolcanlogin, array(SELECT g.rolname::text FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid) AS roles
           FROM pg_roles r WHERE rolname = $1`,
        [user],
      );
      assert.equal(state!.rolcanlogin, false, 'login is disabled whatever else failed');
      assert.deepEqual(state!.roles, version >= 16 ? ['locked_role'] : []);
    });

    it('sets VALID UNTIL to the expiry, and PostgreSQL refuses logins after it even without a revoke', async () => {
      const user = 'valid.until@example.com';
      const expiry = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000);
      await t.db.grant({
        username: user,
        ownerLabel: user,
        target: target(APP.database, 'public'),
        permission: 'readonly',
        validUntil: expiry,
      });
      const [row] = await cluster.query<{ rolvaliduntil: Date }>('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [user]);
      assert.equal(row!.rolvaliduntil.getTime(), expiry.getTime());
      const listed = (await t.db.listManagedUsers()).find((u) => u.username === user);
      assert.equal(listed?.validUntil?.getTime(), expiry.getTime());
      assert.equal(listed?.canLogin, true);

      const password = newPassword();
      await t.db.grant({
        username: user,
        ownerLabel: user,
        target: target(APP.database, 'public'),
        permission: 'readonly',
        validUntil: new Date(Date.now() - 1000),
      });
      await t.db.setPassword(user, password);
      await assert.rejects(cluster.loginAs(user, password), /password authentication failed/);
    });

    it('refuses a name taken by a role Sesame did not create, and leaves that role alone', async () => {
      await cluster.query('CREATE ROLE "taken@example.com" LOGIN VALID UNTIL \'2099-01-01\'');
      const before = await cluster.query('SELECT rolcanlogin, rolvaliduntil FROM pg_roles WHERE rolname = $1', ['taken@example.com']);
      for (const attempt of [
        () =>
          t.db.grant({
            username: 'taken@example.com',
            ownerLabel: 'x',
            target: target(APP.database, 'public'),
            permission: 'readonly',
            validUntil: inMinutes(5),
          }),
        () => t.db.revoke({ username: 'taken@example.com', roles: ['app_owner'], keepRoles: [], validUntil: null }),
        () => t.db.setPassword('taken@example.com', newPassword()),
        () => t.db.dropUser('taken@example.com'),
      ]) {
        await assert.rejects(attempt(), (err: Error) => {
          assert.ok(err instanceof ConflictError, err.message);
          assert.match(err.message, /Sesame did not create/);
          assert.match(err.message, /rename or drop|userNameTemplate/);
          return true;
        });
      }
      assert.deepEqual(
        await cluster.query('SELECT rolcanlogin, rolvaliduntil FROM pg_roles WHERE rolname = $1', ['taken@example.com']),
        before,
      );
      assert.equal(
        (await t.db.listManagedUsers()).some((u) => u.username === 'taken@example.com'),
        false,
      );
    });

    it('quotes names with quotes, semicolons and unicode, and grants on objects that really have them', async () => {
      const schema = 'we"ird; drop';
      const table = 'tåble "x"; --';
      await cluster.query(
        `SET ROLE app_owner; CREATE SCHEMA "we""ird; drop"; CREATE TABLE "we""ird; drop"."tåble ""x""; --" (v text); INSERT INTO "we""ird; drop"."tåble ""x""; --" VALUES ('ok');`,
      );
      const user = `o'brien"; DROP ROLE app_owner; -- ü@example.com`;
      const { client } = await grantAndLogin(user, target(APP.database, schema, table), 'readonly');
      assert.deepEqual(await rowsOf(client, `SELECT v FROM "we""ird; drop"."tåble ""x""; --"`), [{ v: 'ok' }]);
      assert.equal((await cluster.query("SELECT 1 FROM pg_roles WHERE rolname = 'app_owner'")).length, 1);
      await t.db.revoke({ username: user, roles: [], keepRoles: [], validUntil: null });
    });

    it('refuses names over 63 bytes before sending any SQL', async () => {
      const long = `${'é'.repeat(32)}@x`;
      assert.ok(Buffer.byteLength(long) > 63);
      const sent = t.statements.length;
      const base = { ownerLabel: 'x', permission: 'readonly' as const, validUntil: inMinutes(5) };
      await assert.rejects(t.db.grant({ ...base, username: long, target: target(APP.database) }), InputError);
      await assert.rejects(t.db.grant({ ...base, username: 'ok@example.com', target: target(APP.database, 's'.repeat(64)) }), InputError);
      await assert.rejects(
        t.db.grant({ ...base, username: 'ok@example.com', target: target(APP.database, 'public', 't'.repeat(64)) }),
        InputError,
      );
      await assert.rejects(t.db.revoke({ username: long, roles: [], keepRoles: [], validUntil: null }), InputError);
      await assert.rejects(t.db.setPassword(long, newPassword()), InputError);
      await assert.rejects(t.db.dropUser(long), InputError);
      assert.equal(t.statements.length, sent);
    });

    it('drops a user in every database, handing what it created to the heir role, never to the connector', async () => {
      const user = 'leaving@example.com';
      const { client } = await grantAndLogin(user, target(APP.database, 'sales'), 'admin');
      await rowsOf(client, 'CREATE TABLE sales.left_behind (id int)');
      const other = await grantAndLogin(user, target(APP.otherDatabase), 'admin', APP.otherDatabase);
      await rowsOf(other.client, 'CREATE TABLE public.also_left (id int)');

      const result = await t.db.dropUser(user);
      assert.equal(result.dropped, true);
      assert.equal((await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])).length, 0);
      const owners = await cluster.query<{ owner: string }>(
        "SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'sales' AND tablename = 'left_behind'",
      );
      assert.deepEqual(owners, [{ owner: HEIR_ROLE }]);
      const otherOwners = await cluster.query<{ owner: string }>(
        "SELECT tableowner AS owner FROM pg_tables WHERE tablename = 'also_left'",
        [],
        { database: APP.otherDatabase },
      );
      assert.deepEqual(otherOwners, [{ owner: HEIR_ROLE }]);
      // The audit trail learns what was kept and where.
      assert.deepEqual(result.kept.map((k) => k.database).sort(), [APP.database, APP.otherDatabase].sort());
      assert.ok(result.kept.some((k) => k.object.includes('left_behind')));
      await assert.rejects(client.query('SELECT 1'));
      // Idempotent: an absent user is already dropped.
      assert.equal((await t.db.dropUser(user)).dropped, false);
    });

    it('never puts a password in an error or in a statement it reports', async () => {
      const user = 'secretive@example.com';
      const password = newPassword();
      await assert.rejects(t.db.setPassword(user, password), (err: Error) => {
        assert.ok(err instanceof NotFoundError);
        assert.ok(!err.message.includes(password));
        return true;
      });
      await t.db.grant({
        username: user,
        ownerLabel: user,
        target: target(APP.database, 'public'),
        permission: 'readonly',
        validUntil: inMinutes(5),
      });
      await t.db.setPassword(user, password);
      const reported = JSON.stringify(t.statements);
      assert.ok(!reported.includes(password));
      assert.ok(reported.includes("PASSWORD '[REDACTED]'"));

      const wrong = targetFor(cluster, { password: 'not-the-connector-password-1234' });
      await assert.rejects(wrong.db.listManagedUsers(), (err: Error) => {
        assert.equal(err.name, 'TargetUnavailableError');
        assert.match(err.message, /password authentication failed/);
        assert.ok(!err.message.includes('not-the-connector-password-1234'));
        assert.ok(!err.message.includes(cluster.connector.password));
        return true;
      });
      await wrong.db.close();
    });
  });
}
