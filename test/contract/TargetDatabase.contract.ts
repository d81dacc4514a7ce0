import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/domain/errors.ts';
import type { Permission } from '../../src/domain/permission.ts';
import type { Target } from '../../src/domain/target.ts';
import type { GrantResult, ManagedUserState, TargetDatabase } from '../../src/ports/TargetDatabase.ts';

/** A table of the application every implementation's server holds, as `schema.table`. */
export type AppTable = 'public.customers' | 'public.orders' | 'sales.deals';

/** An open session of a person, for seeing whether revoking ended it. */
export interface PersonSession {
  /** True while the session still answers a query. */
  alive(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * What a test needs besides the port: a way to see, from outside the port, what a person can do
 * with their user, and to make what the contract speaks of (roles Sesame did not create, things
 * left behind). On real PostgreSQL it logs in as the person and runs SQL; on a fake it asks the
 * fake's model.
 *
 * The server holds a database `appdb` with the tables of {@link AppTable}, and a role
 * `grantableRole`, in the integration's grantable roles, that may read `sales.deals` only.
 */
export interface TargetDatabaseWorld {
  db: TargetDatabase;
  grantableRole: string;
  /** Whether `username` can sign in with `password` (to a database anyone may connect to). */
  canLogin(username: string, password: string): Promise<boolean>;
  /** Whether `username` can sign in to appdb with `password` and read `table`. */
  canRead(username: string, password: string, table: AppTable): Promise<boolean>;
  /** Whether `username` can sign in to appdb with `password` and create a table in `schema`. */
  canCreateIn(username: string, password: string, schema: 'public'): Promise<boolean>;
  /** Signs in to appdb as `username`; fails when the person cannot. */
  openSession(username: string, password: string): Promise<PersonSession>;
  /** Creates a role named `name` that Sesame did not create. */
  createForeignRole(name: string): Promise<void>;
  /** Whether a role named `name` exists on the server. */
  roleExists(name: string): Promise<boolean>;
  /** An admin gives `role` SELECT on `table` directly, outside Sesame: something left behind. */
  grantSelectOutsideSesame(role: string, table: AppTable): Promise<void>;
  /** An admin gives `role` CREATE on `schema` outside Sesame, as an older grant model did. */
  grantCreateOutsideSesame(role: string, schema: 'public'): Promise<void>;
  /** Ends what the world opened; the suite calls it after each test, then `db.close()`. */
  close(): Promise<void>;
}

export interface TargetDatabaseContractOptions {
  /** The limit of the whole suite (node:test's describe option). */
  timeout: number;
}

/** An expiry `minutes` from now, to the second (the precision PostgreSQL's VALID UNTIL keeps here). */
function inMinutes(minutes: number): Date {
  return new Date(Math.floor(Date.now() / 1000) * 1000 + minutes * 60_000);
}

function newPassword(): string {
  return randomBytes(18).toString('base64url');
}

/**
 * The behaviour every {@link TargetDatabase} must have, as the port's comments state it.
 * `createWorld` is called before each test; the suite closes what it returns after the test.
 * Worlds may share one server: every test uses user names no other test uses.
 */
export function targetDatabaseContract(
  name: string,
  createWorld: () => TargetDatabaseWorld | Promise<TargetDatabaseWorld>,
  options: TargetDatabaseContractOptions,
): void {
  describe(`TargetDatabase contract: ${name}`, { timeout: options.timeout }, () => {
    let w: TargetDatabaseWorld;
    let db: TargetDatabase;
    const run = randomBytes(3).toString('hex');
    let users = 0;

    beforeEach(async () => {
      w = await createWorld();
      db = w.db;
    });

    afterEach(async () => {
      await w.close();
      await db.close();
    });

    /** A user name no other test uses. */
    const someone = (who: string) => `${who}.${run}.${++users}@example.com`;

    const target = (database?: string, schema?: string, table?: string): Target => ({
      integration: db.integration,
      ...(database !== undefined ? { database } : {}),
      ...(schema !== undefined ? { schema } : {}),
      ...(table !== undefined ? { table } : {}),
    });
    const tableTarget = (table: AppTable) => {
      const [schema, name] = table.split('.') as [string, string];
      return target('appdb', schema, name);
    };

    const grant = (username: string, where: Target, permission: Permission = 'readonly', validUntil = inMinutes(60), ownerId?: string) =>
      db.grant({ username, ownerLabel: `${username} (test)`, ...(ownerId ? { ownerId } : {}), target: where, permission, validUntil });

    /** Grants readonly on `table` and gives the user a fresh password. */
    async function grantRead(username: string, table: AppTable): Promise<GrantResult & { password: string }> {
      const result = await grant(username, tableTarget(table));
      const password = newPassword();
      await db.setPassword(username, password);
      return { ...result, password };
    }

    const listed = async (username: string): Promise<ManagedUserState | undefined> =>
      (await db.listManagedUsers()).find((u) => u.username === username);

    const endAll = (username: string, roles: readonly string[]) => db.revoke({ username, roles, keepRoles: [], validUntil: null });

    async function assertNotOurs(work: Promise<unknown>): Promise<void> {
      await assert.rejects(work, (err: Error) => {
        assert.ok(err instanceof ConflictError, `expected a ConflictError, got ${err.name}: ${err.message}`);
        return true;
      });
    }

    describe('grant', () => {
      it('creates a marked user that can log in and read the target, and only the target', async () => {
        const user = someone('first');
        const expiry = inMinutes(60);
        const result = await grant(user, tableTarget('public.customers'), 'readonly', expiry);
        assert.equal(result.userCreated, true);
        assert.equal(result.roles.length, 1, JSON.stringify(result.roles));
        const password = newPassword();
        await db.setPassword(user, password);
        assert.equal(await w.canLogin(user, password), true);
        assert.equal(await w.canRead(user, password, 'public.customers'), true);
        assert.equal(await w.canRead(user, password, 'public.orders'), false);
        assert.equal(await w.canRead(user, password, 'sales.deals'), false);
        assert.equal(await w.canLogin(user, newPassword()), false, 'any other password is refused');

        const state = await listed(user);
        assert.ok(state, 'the user carries the mark: listManagedUsers lists it');
        assert.equal(state.canLogin, true);
        assert.equal(state.validUntil?.getTime(), expiry.getTime());
        assert.deepEqual(state.roles, result.roles);
        assert.equal(state.mayHaveLeftovers, false);
      });

      it('adds to the same user at a second grant, and sets VALID UNTIL to the one given', async () => {
        const user = someone('second');
        const first = await grantRead(user, 'public.customers');
        const later = inMinutes(120);
        const second = await grant(user, tableTarget('public.orders'), 'readonly', later);
        assert.equal(second.userCreated, false);
        assert.notDeepEqual(second.roles, first.roles, 'another scope, another role');
        assert.equal(await w.canRead(user, first.password, 'public.customers'), true, 'the first grant still holds');
        assert.equal(await w.canRead(user, first.password, 'public.orders'), true);
        const state = await listed(user);
        assert.deepEqual(state?.roles.slice().sort(), [...first.roles, ...second.roles].sort());
        assert.equal(state?.validUntil?.getTime(), later.getTime());
      });

      it('grants an existing grantable role by membership (role:<name>)', async () => {
        const user = someone('role');
        const result = await grant(user, target('appdb'), `role:${w.grantableRole}`);
        assert.deepEqual(result.roles, [w.grantableRole]);
        const password = newPassword();
        await db.setPassword(user, password);
        assert.equal(await w.canRead(user, password, 'sales.deals'), true);
        assert.equal(await w.canRead(user, password, 'public.customers'), false);
        const state = await listed(user);
        assert.ok(state?.roles.includes(w.grantableRole));
        assert.equal(state?.groupRoles.includes(w.grantableRole), false, 'a grantable role is not one of Sesame’s group roles');
      });

      it('lists the roles of built-in permissions as group roles', async () => {
        const user = someone('groups');
        const { roles } = await grant(user, tableTarget('public.orders'), 'readwrite');
        assert.deepEqual((await listed(user))?.groupRoles, roles);
      });

      it('refuses a name taken by a role Sesame did not create, for every method, and leaves that role alone', async () => {
        const user = someone('taken');
        await w.createForeignRole(user);
        await assertNotOurs(grant(user, tableTarget('public.customers')));
        await assertNotOurs(db.revoke({ username: user, roles: [], keepRoles: [], validUntil: null }));
        await assertNotOurs(db.setPassword(user, newPassword()));
        await assertNotOurs(db.removeLeftovers({ username: user, keepRoles: [], everything: true }));
        await assertNotOurs(db.dropUser(user));
        assert.equal(await w.roleExists(user), true, 'the role is still there');
        assert.equal(await listed(user), undefined, 'and is not listed as managed');
      });

      it('never gives a user whose mark names one person to another person', async () => {
        const user = someone('owned');
        const alice = await grant(user, tableTarget('public.customers'), 'readonly', inMinutes(60), 'U0ALICE');
        assert.equal(alice.userCreated, true);
        assert.equal((await grant(user, tableTarget('public.customers'), 'readonly', inMinutes(60), 'U0ALICE')).userCreated, false);
        await assertNotOurs(grant(user, tableTarget('public.orders'), 'readonly', inMinutes(60), 'U0BOB'));
        assert.deepEqual((await listed(user))?.roles, alice.roles);
      });

      it('lets VALID UNTIL end login by itself: an expiry in the past refuses the password', async () => {
        const user = someone('expired');
        const { password } = await grantRead(user, 'public.customers');
        await grant(user, tableTarget('public.customers'), 'readonly', new Date(Date.now() - 60_000));
        assert.equal(await w.canLogin(user, password), false);
      });

      it('is idempotent: the same grant twice gives the same roles and one user', async () => {
        const user = someone('twice');
        const first = await grant(user, tableTarget('public.customers'));
        const again = await grant(user, tableTarget('public.customers'));
        assert.deepEqual(again, { roles: first.roles, userCreated: false });
        assert.deepEqual((await listed(user))?.roles, first.roles);
      });
    });

    describe('revoke', () => {
      it('of one of two grants keeps the other’s access and ends open sessions', async () => {
        const user = someone('overlap');
        const kept = await grantRead(user, 'public.customers');
        const ending = await grant(user, tableTarget('public.orders'));
        const session = await w.openSession(user, kept.password);
        try {
          const result = await db.revoke({ username: user, roles: ending.roles, keepRoles: kept.roles, validUntil: inMinutes(60) });
          assert.deepEqual(result.removedRoles, ending.roles);
          assert.ok(result.terminatedSessions >= 1, `terminatedSessions: ${result.terminatedSessions}`);
          assert.equal(await session.alive(), false, 'the open session was ended');
        } finally {
          await session.close();
        }
        assert.equal(await w.canRead(user, kept.password, 'public.customers'), true);
        assert.equal(await w.canRead(user, kept.password, 'public.orders'), false);
        const state = await listed(user);
        assert.equal(state?.canLogin, true);
        assert.deepEqual(state?.roles, kept.roles);
      });

      it('never removes a role another live grant still needs (keepRoles)', async () => {
        const user = someone('keep');
        const { roles, password } = await grantRead(user, 'public.customers');
        const result = await db.revoke({ username: user, roles, keepRoles: roles, validUntil: inMinutes(30) });
        assert.deepEqual(result.removedRoles, []);
        assert.equal(await w.canRead(user, password, 'public.customers'), true);
        assert.deepEqual((await listed(user))?.roles, roles);
      });

      it('of the last grant removes its roles, disables login and ends open sessions', async () => {
        const user = someone('last');
        const { roles, password } = await grantRead(user, 'public.customers');
        const session = await w.openSession(user, password);
        try {
          const result = await endAll(user, roles);
          assert.deepEqual(result.removedRoles, roles);
          assert.ok(result.terminatedSessions >= 1, `terminatedSessions: ${result.terminatedSessions}`);
          assert.equal(await session.alive(), false);
        } finally {
          await session.close();
        }
        assert.equal(await w.canLogin(user, password), false);
        assert.equal(await w.canRead(user, password, 'public.customers'), false);
        const state = await listed(user);
        assert.equal(state?.canLogin, false, 'the user stays, unable to log in');
        assert.deepEqual(state?.roles, []);
      });

      it('twice is harmless, and a new password does not bring login back', async () => {
        const user = someone('again');
        const { roles, password } = await grantRead(user, 'public.customers');
        await endAll(user, roles);
        const repeat = await endAll(user, roles);
        assert.equal(repeat.leftovers.length, 0);
        const fresh = newPassword();
        await db.setPassword(user, fresh);
        assert.equal(await w.canLogin(user, password), false);
        assert.equal(await w.canLogin(user, fresh), false);
        const state = await listed(user);
        assert.equal(state?.canLogin, false);
        assert.deepEqual(state?.roles, []);
      });

      it('of a user that does not exist does nothing and does not fail', async () => {
        const user = someone('ghost');
        const result = await endAll(user, []);
        assert.deepEqual(result, { removedRoles: [], terminatedSessions: 0, leftovers: [] });
        assert.equal(await listed(user), undefined);
      });

      it('is followed by a grant that enables the same user again', async () => {
        const user = someone('back');
        const first = await grantRead(user, 'public.customers');
        await endAll(user, first.roles);
        const again = await grant(user, tableTarget('public.customers'));
        assert.equal(again.userCreated, false);
        assert.equal(await w.canRead(user, first.password, 'public.customers'), true);
        assert.equal((await listed(user))?.canLogin, true);
      });

      it('of the last grant removes and reports what the person was given outside Sesame', async () => {
        const user = someone('planted');
        const { roles, password } = await grantRead(user, 'public.customers');
        await w.grantSelectOutsideSesame(user, 'public.orders');
        const result = await endAll(user, roles);
        assert.ok(
          result.leftovers.some((l) => l.role === user && l.what === 'direct privilege'),
          JSON.stringify(result.leftovers),
        );
        await grant(user, tableTarget('public.customers'));
        assert.equal(await w.canRead(user, password, 'public.orders'), false, 'the privilege is gone');
      });
    });

    describe('credentials', () => {
      it('a new password replaces the old one', async () => {
        const user = someone('rotate');
        const { password: old } = await grantRead(user, 'public.customers');
        assert.equal(await w.canLogin(user, old), true);
        const fresh = newPassword();
        await db.setPassword(user, fresh);
        assert.equal(await w.canLogin(user, old), false, 'the old password no longer works');
        assert.equal(await w.canLogin(user, fresh), true);
        assert.equal(await w.canRead(user, fresh, 'public.customers'), true);
      });

      it('setting a password on a user that does not exist is a NotFoundError', async () => {
        await assert.rejects(db.setPassword(someone('nobody'), newPassword()), NotFoundError);
      });
    });

    describe('leftovers', () => {
      it('removeLeftovers takes away what the live grants do not explain, once', async () => {
        const user = someone('sweep');
        const { roles, password } = await grantRead(user, 'public.customers');
        assert.equal((await listed(user))?.mayHaveLeftovers, false);
        await w.grantSelectOutsideSesame(user, 'public.orders');
        assert.equal(await w.canRead(user, password, 'public.orders'), true, 'the planted privilege works');
        assert.equal((await listed(user))?.mayHaveLeftovers, true);

        const removed = await db.removeLeftovers({ username: user, keepRoles: roles, everything: false });
        assert.ok(
          removed.some((l) => l.role === user && l.what === 'direct privilege'),
          JSON.stringify(removed),
        );
        assert.equal(await w.canRead(user, password, 'public.orders'), false);
        assert.equal(await w.canRead(user, password, 'public.customers'), true, 'the live grant is untouched');
        assert.equal((await listed(user))?.mayHaveLeftovers, false);
        assert.deepEqual(await db.removeLeftovers({ username: user, keepRoles: roles, everything: false }), []);
      });

      it('removeLeftovers of a user that does not exist finds nothing', async () => {
        assert.deepEqual(await db.removeLeftovers({ username: someone('absent'), keepRoles: [], everything: true }), []);
      });

      it('secureSharedRoles takes CREATE away from a group role, keeps its grants, and finds nothing the second time', async () => {
        const user = someone('shared.role');
        const { roles, password } = await grantRead(user, 'public.customers');
        await w.grantCreateOutsideSesame(roles[0]!, 'public');
        assert.equal(await w.canCreateIn(user, password, 'public'), true, 'the planted privilege works');
        const removed = await db.secureSharedRoles();
        assert.ok(
          removed.some((l) => l.role === roles[0]),
          JSON.stringify(removed),
        );
        assert.equal(await w.canCreateIn(user, password, 'public'), false);
        assert.equal(await w.canRead(user, password, 'public.customers'), true);
        assert.deepEqual(await db.secureSharedRoles(), []);
      });
    });

    describe('dropUser', () => {
      it('drops the user, is idempotent, and a later grant creates it anew', async () => {
        const user = someone('drop');
        const { roles, password } = await grantRead(user, 'public.customers');
        await endAll(user, roles);
        const result = await db.dropUser(user);
        assert.equal(result.dropped, true);
        assert.equal(await w.roleExists(user), false);
        assert.equal(await listed(user), undefined);
        assert.equal((await db.dropUser(user)).dropped, false, 'an absent user is already dropped');
        assert.equal((await grant(user, tableTarget('public.customers'))).userCreated, true);
        assert.equal(await w.canLogin(user, password), false, 'the new user does not have the old password');
      });

      it('drops a user with live grants and open sessions', async () => {
        const user = someone('drop.live');
        const { password } = await grantRead(user, 'public.customers');
        const session = await w.openSession(user, password);
        try {
          assert.equal((await db.dropUser(user)).dropped, true);
          assert.equal(await session.alive(), false);
        } finally {
          await session.close();
        }
        assert.equal(await w.canLogin(user, password), false);
        assert.equal(await w.roleExists(user), false);
      });
    });

    describe('catalog and set-up', () => {
      it('lists databases that accept connections, never templates', async () => {
        const databases = await db.listDatabases();
        assert.ok(databases.includes('appdb'), JSON.stringify(databases));
        assert.ok(!databases.some((d) => d.startsWith('template')), JSON.stringify(databases));
      });

      it('lists schemas without the system ones, and tables of a schema', async () => {
        const schemas = await db.listSchemas('appdb');
        assert.ok(schemas.includes('public') && schemas.includes('sales'), JSON.stringify(schemas));
        for (const system of ['pg_catalog', 'information_schema', 'pg_toast']) assert.ok(!schemas.includes(system), system);
        const tables = await db.listTables('appdb', 'public');
        assert.ok(tables.includes('customers') && tables.includes('orders'), JSON.stringify(tables));
        assert.ok(!tables.includes('deals'), 'another schema’s table');
      });

      it('keeps names containing the search, whatever the case, up to the limit', async () => {
        assert.deepEqual(await db.listTables('appdb', 'public', { search: 'CUSTOMERS' }), ['customers']);
        assert.equal((await db.listTables('appdb', 'public', { limit: 1 })).length, 1);
        assert.deepEqual(await db.listSchemas('appdb', { search: 'SAL' }), ['sales']);
        assert.deepEqual(await db.listDatabases({ search: 'APPD' }), ['appdb']);
      });

      it('check names the integration and finds no error on a connector set up as documented', async () => {
        const report = await db.check();
        assert.equal(report.integration, db.integration);
        assert.deepEqual(
          report.findings.filter((f) => f.level === 'error'),
          [],
        );
      });

      it('gives a stable server key and connection details without secrets', async () => {
        assert.equal(await db.serverKey(), await db.serverKey());
        const info = await db.connectionInfo();
        assert.ok(info.host && info.port > 0, JSON.stringify(info));
        assert.equal(info.database, 'appdb');
        assert.ok(!/password/i.test(JSON.stringify(info)));
      });
    });
  });
}
