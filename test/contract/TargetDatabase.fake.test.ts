import { BUILTIN_PERMISSIONS } from '../../src/domain/permission.ts';
import type { Target } from '../../src/domain/target.ts';
import type { LeftoverRemoval } from '../../src/ports/TargetDatabase.ts';
import { FakeTargetDatabase } from '../support/fakes.ts';
import { targetDatabaseContract, type AppTable, type TargetDatabaseWorld } from './TargetDatabase.contract.ts';

const GRANTABLE_ROLE = 'reporting';

/** The fake's server, read through its model: users, their roles and password, and what a test planted. */
function fakeWorld(): TargetDatabaseWorld {
  const db = new FakeTargetDatabase('fake');
  const loginOk = (username: string, password: string): boolean => {
    const user = db.users.get(username);
    return Boolean(user?.canLogin && user.password === password && (user.validUntil === null || user.validUntil.getTime() > Date.now()));
  };
  /** The roles of `username`, and itself: whose privileges the user has. */
  const holders = (username: string) => [username, ...(db.users.get(username)?.roles ?? [])];
  const planted = (username: string, privilege: string, object: string) =>
    holders(username).some((role) => db.leftovers.get(role)?.some((l) => l.object === object && l.privileges?.includes(privilege)));
  /** The role names the fake gives for every scope that holds `table`. */
  const rolesCovering = (table: AppTable): string[] => {
    const [schema, name] = table.split('.') as [string, string];
    const scopes: Target[] = [
      { integration: db.integration },
      { integration: db.integration, database: 'appdb' },
      { integration: db.integration, database: 'appdb', schema },
      { integration: db.integration, database: 'appdb', schema, table: name },
    ];
    const builtins = scopes.flatMap((target) =>
      BUILTIN_PERMISSIONS.map((permission) => FakeTargetDatabase.roleFor({ target, permission })),
    );
    return table === 'sales.deals' ? [...builtins, GRANTABLE_ROLE] : builtins;
  };
  const plant = (role: string, leftover: Omit<LeftoverRemoval, 'role' | 'database' | 'sql'>) => {
    db.leftovers.set(role, [...(db.leftovers.get(role) ?? []), { database: 'appdb', role, ...leftover, sql: [] }]);
  };
  return {
    db,
    grantableRole: GRANTABLE_ROLE,
    canLogin: async (username, password) => loginOk(username, password),
    canRead: async (username, password, table) =>
      loginOk(username, password) &&
      (rolesCovering(table).some((r) => db.users.get(username)!.roles.has(r)) || planted(username, 'SELECT', `table ${table}`)),
    canCreateIn: async (username, password, schema) => loginOk(username, password) && planted(username, 'CREATE', `schema ${schema}`),
    async openSession(username, password) {
      if (!loginOk(username, password)) throw new Error(`${username} cannot log in`);
      const token = {};
      const open = db.sessions.get(username) ?? new Set();
      db.sessions.set(username, open.add(token));
      return {
        alive: async () => db.sessions.get(username)?.has(token) ?? false,
        close: async () => void db.sessions.get(username)?.delete(token),
      };
    },
    async createForeignRole(name) {
      db.users.set(name, { managed: false, canLogin: true, validUntil: null, roles: new Set() });
    },
    roleExists: async (name) => db.users.has(name),
    grantSelectOutsideSesame: async (role, table) =>
      plant(role, { what: 'direct privilege', object: `table ${table}`, privileges: ['SELECT'] }),
    grantCreateOutsideSesame: async (role, schema) =>
      plant(role, { what: 'privilege of a shared role', object: `schema ${schema}`, privileges: ['CREATE'] }),
    close: async () => undefined,
  };
}

targetDatabaseContract('FakeTargetDatabase', fakeWorld, { timeout: 30_000 });
