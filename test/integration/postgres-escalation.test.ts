/**
 * Attacks on the grant model, tried the way an attacker would: log in as the person who got a
 * grant, try to keep or spread access (SET ROLE, SECURITY DEFINER, triggers, GRANT, default
 * privileges, planted objects), end the grant, log in as someone else, and check that the
 * attack failed. Real PostgreSQL, RDS-like non-superuser connector, tables owned by app_owner.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type pg from 'pg';
import { HEIR_ROLE } from '../../src/adapters/postgres/groupRoles.ts';
import { postgresTargetDatabase } from '../../src/adapters/postgres/postgresTargetDatabases.ts';
import type { Permission } from '../../src/domain/permission.ts';
import type { Target } from '../../src/domain/target.ts';
import { APP, pgVersions, type TestCluster } from '../support/postgres.ts';
import { assertDenied, inMinutes, newPassword, rowsOf, useEngineOn, type TestTarget } from '../support/postgresTarget.ts';

const TIMEOUT_MS = 240_000;

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: nothing outlives a grant`, { timeout: TIMEOUT_MS }, () => {
    const engine = useEngineOn(version);
    const clients = engine.clients;
    let cluster: TestCluster;
    let t: TestTarget;
    const inheritOnly = version >= 16;

    const where = (database?: string, schema?: string, table?: string): Target => ({
      integration: `pg${version}`,
      ...(database !== undefined ? { database } : {}),
      ...(schema !== undefined ? { schema } : {}),
      ...(table !== undefined ? { table } : {}),
    });

    async function grant(username: string, target: Target, permission: Permission, minutes = 60) {
      return t.db.grant({ username, ownerLabel: `${username} (U0${username.length})`, target, permission, validUntil: inMinutes(minutes) });
    }

    /** Grants and logs in as the person, the way they would with the credentials they are shown. */
    async function grantAndLogin(username: string, target: Target, permission: Permission, database = target.database ?? APP.database) {
      const { roles } = await grant(username, target, permission);
      const password = newPassword();
      await t.db.setPassword(username, password);
      const client = await cluster.loginAs(username, password, database);
      clients.push(client);
      return { client, roles, password };
    }

    async function login(username: string, password: string, database: string = APP.database): Promise<pg.Client> {
      const client = await cluster.loginAs(username, password, database);
      clients.push(client);
      return client;
    }

    /** Ends every grant of the person. */
    function endAll(username: string, roles: string[]) {
      return t.db.revoke({ username, roles, keepRoles: [], validUntil: null });
    }

    /** Lets a person log in again with no grant left (as a later grant on something else would). */
    async function readonlyOn(username: string, table: [string, string]): Promise<{ client: pg.Client; roles: string[] }> {
      const r = await grantAndLogin(username, where(APP.database, table[0], table[1]), 'readonly');
      return { client: r.client, roles: r.roles };
    }

    before(() => {
      cluster = engine.cluster();
      t = engine.t();
    });

    it('an admin cannot act as the shared group role: no SET ROLE into it (16+), nothing created as it (all)', async () => {
      const { client, roles } = await grantAndLogin('setrole@example.com', where(APP.database, 'public'), 'admin');
      const group = roles[0]!;
      if (inheritOnly) {
        await assertDenied(client, `SET ROLE "${group}"`);
        const [m] = await cluster.query<{ set_option: boolean; inherit_option: boolean }>(
          `SELECT set_option, inherit_option FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole`,
          [group, '"setrole@example.com"'],
        );
        assert.deepEqual(m, { set_option: false, inherit_option: true });
      } else {
        // Up to 15 any membership allows SET ROLE; the group holds nothing that creates.
        await rowsOf(client, `SET ROLE "${group}"`);
        await assertDenied(
          client,
          `CREATE FUNCTION public.as_group(q text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE q; END$$`,
        );
        await assertDenied(client, 'CREATE TABLE public.as_group_table (id int)');
        await rowsOf(client, 'RESET ROLE');
      }
      // As themselves they may create (admin), and what they create is their own.
      await rowsOf(client, 'CREATE TABLE public.mine_not_groups (id int)');
      await assert.rejects(client.query(`ALTER TABLE public.mine_not_groups OWNER TO "${group}"`));
      const owned = await cluster.query(`SELECT 1 FROM pg_shdepend WHERE refobjid = $1::regrole AND deptype = 'o'`, [group]);
      assert.equal(owned.length, 0, 'the group role owns nothing');
      const [privs] = await cluster.query<{ group_create: boolean; user_create: boolean }>(
        `SELECT has_schema_privilege($1, 'public', 'CREATE') AS group_create, has_schema_privilege($2, 'public', 'CREATE') AS user_create`,
        [group, 'setrole@example.com'],
      );
      assert.deepEqual(privs, { group_create: false, user_create: true }, 'CREATE sits on the person, not on the shared role');
      await endAll('setrole@example.com', roles);
    });

    it('a SECURITY DEFINER function planted under admin runs for no one after the grant, nor after clean-up (findings 1, 2)', async () => {
      const mallory = 'mallory@example.com';
      const { client, roles } = await grantAndLogin(mallory, where(APP.database, 'public'), 'admin');
      await rowsOf(
        client,
        `CREATE FUNCTION public.run_as_me(q text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE q; END$$`,
      );
      const bob = await grantAndLogin('bob@example.com', where(APP.database, 'public', 'customers'), 'readonly');

      const revoked = await endAll(mallory, roles);
      assert.ok(
        revoked.leftovers.some(
          (l) =>
            l.what === 'privilege handed out' &&
            l.grantee === 'PUBLIC' &&
            l.object.includes('run_as_me') &&
            l.definition?.includes('SECURITY DEFINER'),
        ),
        `the removal is reported with the function's definition: ${JSON.stringify(revoked.leftovers)}`,
      );
      await assertDenied(bob.client, `SELECT public.run_as_me('UPDATE public.orders SET amount = 0')`);
      await assertDenied(bob.client, `SELECT public.run_as_me('CREATE ROLE backdoor LOGIN')`);

      const dropped = await t.db.dropUser(mallory);
      assert.ok(
        dropped.neutralised.some((n) => n.object.includes('run_as_me')),
        'made SECURITY INVOKER before it was handed on',
      );
      await assertDenied(bob.client, `SELECT public.run_as_me('CREATE ROLE backdoor LOGIN')`);
      await assertDenied(bob.client, 'UPDATE public.orders SET amount = 0');
      await assertDenied(bob.client, 'CREATE TABLE public.bobs (id int)');
      assert.equal((await cluster.query(`SELECT 1 FROM pg_roles WHERE rolname = 'backdoor'`)).length, 0);

      const [fn] = await cluster.query<{ owner: string; secdef: boolean; public_execute: boolean }>(
        `SELECT pg_get_userbyid(proowner) AS owner, prosecdef AS secdef, has_function_privilege('public', oid, 'EXECUTE') AS public_execute
           FROM pg_proc WHERE proname = 'run_as_me'`,
      );
      assert.deepEqual(fn, { owner: HEIR_ROLE, secdef: false, public_execute: false });
      const [heir] = await cluster.query<{ can_login: boolean; memberships: number; superuser: boolean; createrole: boolean }>(
        `SELECT rolcanlogin AS can_login, rolsuper AS superuser, rolcreaterole AS createrole,
                (SELECT count(*)::int FROM pg_auth_members WHERE member = r.oid) AS memberships
           FROM pg_roles r WHERE rolname = $1`,
        [HEIR_ROLE],
      );
      assert.deepEqual(heir, { can_login: false, memberships: 0, superuser: false, createrole: false });
      const heirPrivileges = await cluster.query(
        `SELECT 1 FROM pg_namespace n, aclexplode(n.nspacl) a WHERE a.grantee = $1::regrole AND n.nspowner <> a.grantee`,
        [HEIR_ROLE],
      );
      assert.equal(heirPrivileges.length, 0, 'the heir holds no privilege');
      await endAll('bob@example.com', bob.roles);
    });

    it('a trigger planted on the owner’s table is removed at revocation, with what it granted (finding 5)', async () => {
      const eve = 'eve@example.com';
      const { client, roles } = await grantAndLogin(eve, where(APP.database, 'sales'), 'admin');
      await rowsOf(
        client,
        `CREATE FUNCTION sales.grab() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN EXECUTE format('GRANT SELECT ON sales.leads TO %I', 'eve@example.com'); RETURN NEW; END$$`,
      );
      await rowsOf(client, 'CREATE TRIGGER grab BEFORE INSERT ON sales.deals FOR EACH ROW EXECUTE FUNCTION sales.grab()');
      // The application writes while the grant lasts: the trigger runs as app_owner.
      await cluster.query(`SET ROLE ${APP.owner}; INSERT INTO sales.deals (title, value) VALUES ('during', 1); RESET ROLE;`);

      const revoked = await endAll(eve, roles);
      const kinds = revoked.leftovers.map((l) => l.what);
      assert.ok(kinds.includes('planted trigger'), JSON.stringify(revoked.leftovers));
      assert.ok(kinds.includes('direct privilege'), JSON.stringify(revoked.leftovers));
      assert.match(revoked.leftovers.find((l) => l.what === 'planted trigger')!.definition ?? '', /CREATE TRIGGER grab/);
      const triggers = await cluster.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'grab'`);
      assert.equal(triggers.length, 0);

      // The application writes again after the revocation: nothing is granted any more.
      await cluster.query(`SET ROLE ${APP.owner}; INSERT INTO sales.deals (title, value) VALUES ('after', 2); RESET ROLE;`);
      // Eve comes back with a small grant elsewhere: what she planted gave her nothing.
      const again = await readonlyOn(eve, ['public', 'customers']);
      await assertDenied(again.client, 'SELECT * FROM sales.leads');
      await endAll(eve, again.roles);
    });

    it('functions planted to shadow built-ins never run as the connector', async () => {
      const user = 'shadow@example.com';
      const { client, roles } = await grantAndLogin(user, where(APP.database, 'public'), 'admin');
      // An aggregate taking text is a closer match than pg_catalog's array_agg(anynonarray): a
      // session whose search_path reaches public would run it for the connector's catalog queries.
      await rowsOf(
        client,
        `CREATE FUNCTION public.grab_state(acc text[], v text) RETURNS text[] LANGUAGE plpgsql AS $$
         BEGIN
           BEGIN EXECUTE 'CREATE ROLE shadow_backdoor LOGIN'; EXCEPTION WHEN OTHERS THEN NULL; END;
           BEGIN EXECUTE format('GRANT ${APP.owner} TO %I', 'shadow@example.com'); EXCEPTION WHEN OTHERS THEN NULL; END;
           RETURN acc || v;
         END$$;
         CREATE AGGREGATE public.array_agg(text) (SFUNC = public.grab_state, STYPE = text[]);
         CREATE FUNCTION public.aclexplode(aclitem[]) RETURNS TABLE (grantor oid, grantee oid, privilege_type text, is_grantable boolean)
           LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'CREATE ROLE shadow_backdoor2 LOGIN'; END $$;`,
      );
      // The connector's work on this person: revocation, reconciliation, clean-up.
      await t.db.listManagedUsers();
      await endAll(user, roles);
      await t.db.removeLeftovers({ username: user, keepRoles: [], everything: true });
      await t.db.dropUser(user);
      const backdoors = await cluster.query(`SELECT rolname FROM pg_roles WHERE rolname LIKE 'shadow_backdoor%'`);
      assert.deepEqual(backdoors, []);
      const owners = await cluster.query(
        `SELECT 1 FROM pg_auth_members WHERE roleid = $1::regrole AND member IN (SELECT oid FROM pg_roles WHERE rolname = $2)`,
        [APP.owner, user],
      );
      assert.deepEqual(owners, []);
      await cluster.query(
        'DROP AGGREGATE public.array_agg(text); DROP FUNCTION public.grab_state(text[], text); DROP FUNCTION public.aclexplode(aclitem[])',
      );
    });

    it('reconciliation finds a privilege that reached the person after the revocation', async () => {
      const user = 'late@example.com';
      const { roles } = await grant(user, where(APP.database, 'public'), 'readonly');
      await endAll(user, roles);
      await cluster.query(`GRANT SELECT ON sales.leads TO "${user}"`);
      const removed = await t.db.removeLeftovers({ username: user, keepRoles: [], everything: true });
      assert.deepEqual(
        removed.map((r) => [r.what, r.object, r.privileges]),
        [['direct privilege', 'table sales.leads', ['SELECT']]],
      );
      const [left] = await cluster.query<{ can: boolean }>(`SELECT has_table_privilege($1, 'sales.leads', 'SELECT') AS can`, [user]);
      assert.equal(left!.can, false);
    });

    it('a partial revocation takes effect at once in open sessions (finding 6)', async () => {
      const user = 'partial@example.com';
      const rw = await grantAndLogin(user, where(APP.database, 'public'), 'readwrite');
      const { roles: roRoles } = await grant(user, where(APP.database, 'sales'), 'readonly');
      const session = rw.client;
      if (inheritOnly) {
        // No SET ROLE from 16 on; a cursor opened under the grant is the way to keep reading.
        await assertDenied(session, `SET ROLE "${rw.roles[0]}"`);
        await rowsOf(session, 'BEGIN');
        await rowsOf(session, 'DECLARE kept CURSOR WITH HOLD FOR SELECT * FROM public.customers');
        await rowsOf(session, 'COMMIT');
        assert.equal((await rowsOf(session, 'FETCH 1 FROM kept')).length, 1);
      } else {
        await rowsOf(session, `SET ROLE "${rw.roles[0]}"`);
      }

      await t.db.revoke({ username: user, roles: rw.roles, keepRoles: roRoles, validUntil: inMinutes(60) });
      if (inheritOnly) await assert.rejects(session.query('FETCH 2 FROM kept'), 'the cursor does not outlive the grant');
      else
        await assert.rejects(
          session.query(`INSERT INTO public.customers (name) VALUES ('kept')`),
          'the SET ROLE session does not outlive the grant',
        );
      const fresh = await login(user, rw.password);
      assert.equal((await rowsOf(fresh, 'SELECT * FROM sales.deals')).length > 0, true, 'the other grant still works');
      await assertDenied(fresh, `INSERT INTO public.customers (name) VALUES ('nope')`);
      await endAll(user, [...rw.roles, ...roRoles]);
    });

    it('privileges handed out on the person’s own objects, default privileges and members go at the end', async () => {
      const user = 'sharer@example.com';
      const { client, roles } = await grantAndLogin(user, where(APP.database, 'public'), 'admin');
      const friend = await grantAndLogin('friend@example.com', where(APP.database, 'public', 'customers'), 'readonly');
      await rowsOf(client, 'CREATE TABLE public.shared_copy AS SELECT * FROM public.customers');
      await rowsOf(client, 'GRANT SELECT ON public.shared_copy TO "friend@example.com", PUBLIC');
      await rowsOf(client, 'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC');
      await rowsOf(client, `ALTER DEFAULT PRIVILEGES FOR ROLE "${roles[0]}" GRANT ALL ON TABLES TO "${user}"`);
      // A role can never make others members of itself; if a server lets it, the sweep takes it back.
      await client.query('GRANT "sharer@example.com" TO "friend@example.com"').catch(() => undefined);
      assert.equal((await rowsOf(friend.client, 'SELECT * FROM public.shared_copy')).length, 3);

      const revoked = await endAll(user, roles);
      const kinds = new Set(revoked.leftovers.map((l) => l.what));
      assert.ok(kinds.has('privilege handed out') && kinds.has('default privileges'), JSON.stringify(revoked.leftovers));
      await assertDenied(friend.client, 'SELECT * FROM public.shared_copy');
      const defaults = await cluster.query(`SELECT 1 FROM pg_default_acl WHERE defaclrole IN ($1::regrole, $2::regrole)`, [
        `"${user}"`,
        roles[0],
      ]);
      assert.equal(defaults.length, 0);
      const members = await cluster.query(`SELECT 1 FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole`, [
        `"${user}"`,
        '"friend@example.com"',
      ]);
      assert.equal(members.length, 0);
      await endAll('friend@example.com', friend.roles);
    });

    it('looks in every database: a function planted in another database is neutralised too', async () => {
      const user = 'elsewhere@example.com';
      const { client, roles } = await grantAndLogin(user, where(APP.otherDatabase), 'admin', APP.otherDatabase);
      await rowsOf(
        client,
        `CREATE FUNCTION public.leak() RETURNS SETOF public.notes LANGUAGE sql SECURITY DEFINER AS 'SELECT * FROM public.notes'`,
      );
      const reader = await grantAndLogin('reader@example.com', where(APP.otherDatabase, 'public', 'notes'), 'readonly', APP.otherDatabase);
      await endAll(user, roles);
      await assertDenied(reader.client, 'SELECT * FROM public.leak()');
      await endAll('reader@example.com', reader.roles);
    });

    it('CREATE stays while another admin grant covers it and goes with the last', async () => {
      const user = 'twoadmins@example.com';
      const schemaGrant = await grant(user, where(APP.database, 'sales'), 'admin');
      const databaseGrant = await grant(user, where(APP.database), 'admin');
      const canCreate = async () =>
        (await cluster.query<{ can: boolean }>(`SELECT has_schema_privilege($1, 'sales', 'CREATE') AS can`, [user]))[0]!.can;
      assert.equal(await canCreate(), true);
      await t.db.revoke({ username: user, roles: schemaGrant.roles, keepRoles: databaseGrant.roles, validUntil: inMinutes(60) });
      assert.equal(await canCreate(), true, 'the database-wide admin grant still explains CREATE on sales');
      await t.db.revoke({ username: user, roles: databaseGrant.roles, keepRoles: [], validUntil: null });
      assert.equal(await canCreate(), false);
      const [db] = await cluster.query<{ can: boolean }>(`SELECT has_database_privilege($1, $2, 'CREATE') AS can`, [user, APP.database]);
      assert.equal(db!.can, false);
    });

    it('with userAuth: iam, the end of the last grant takes rds_iam away as well as login, and check says what remains', async () => {
      await cluster.query('CREATE ROLE rds_iam NOLOGIN');
      await cluster.query(`GRANT rds_iam TO ${APP.connector} WITH ADMIN OPTION`);
      // The engine's IAM path on a plain server that has RDS's rds_iam role (the config allows
      // userAuth: iam on RDS integrations only, so the engine is built from the config directly).
      const iam = { db: postgresTargetDatabase({ ...cluster.integrationConfig(), userAuth: 'iam' }) };
      try {
        const user = 'iam.person@example.com';
        const { roles } = await iam.db.grant({
          username: user,
          ownerLabel: user,
          target: where(APP.database, 'public'),
          permission: 'readonly',
          validUntil: inMinutes(30),
        });
        const member = async () =>
          (await cluster.query(`SELECT 1 FROM pg_auth_members WHERE roleid = 'rds_iam'::regrole AND member = $1::regrole`, [`"${user}"`]))
            .length;
        assert.equal(await member(), 1);
        await iam.db.revoke({ username: user, roles, keepRoles: [], validUntil: null });
        assert.equal(await member(), 0);
        const [role] = await cluster.query<{ can_login: boolean }>('SELECT rolcanlogin AS can_login FROM pg_roles WHERE rolname = $1', [
          user,
        ]);
        assert.equal(role!.can_login, false);
        const report = await iam.db.check();
        assert.ok(report.findings.some((f) => f.level === 'warn' && /VALID UNTIL does not stop IAM token logins/.test(f.message)));
      } finally {
        await iam.db.close();
      }
    });

    it('reconciliation repairs shared roles left by an older grant model', async () => {
      const user = 'legacy@example.com';
      const { roles } = await grant(user, where(APP.database, 'public'), 'admin');
      const group = roles[0]!;
      // What the old model left: CREATE on the group, a SECURITY DEFINER function it owns,
      // default privileges for it, and (16+) a membership that allows SET ROLE.
      await cluster.query(`GRANT CREATE ON SCHEMA public TO "${group}"`);
      await cluster.query(
        `CREATE FUNCTION public.legacy_backdoor(q text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN EXECUTE q; END$$;
         ALTER FUNCTION public.legacy_backdoor(text) OWNER TO "${group}";
         ALTER DEFAULT PRIVILEGES FOR ROLE "${group}" GRANT ALL ON TABLES TO PUBLIC;`,
      );
      if (inheritOnly) await cluster.query(`GRANT "${group}" TO "${user}" WITH SET TRUE GRANTED BY ${APP.connector}`);

      const removed = await t.db.secureSharedRoles();
      assert.ok(removed.length >= 3, JSON.stringify(removed));
      const [state] = await cluster.query<{ create: boolean; owner: string; secdef: boolean; defaults: number }>(
        `SELECT has_schema_privilege($1, 'public', 'CREATE') AS create,
                (SELECT pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'legacy_backdoor') AS owner,
                (SELECT prosecdef FROM pg_proc WHERE proname = 'legacy_backdoor') AS secdef,
                (SELECT count(*)::int FROM pg_default_acl WHERE defaclrole = $1::regrole) AS defaults`,
        [group],
      );
      assert.deepEqual(state, { create: false, owner: HEIR_ROLE, secdef: false, defaults: 0 });
      if (inheritOnly) {
        const [m] = await cluster.query<{ set_option: boolean }>(
          `SELECT bool_or(set_option) AS set_option FROM pg_auth_members WHERE roleid = $1::regrole AND member = $2::regrole`,
          [group, `"${user}"`],
        );
        assert.equal(m!.set_option, false);
      }
      assert.deepEqual(await t.db.secureSharedRoles(), [], 'a second pass finds nothing');
      await endAll(user, roles);
    });
  });
}
