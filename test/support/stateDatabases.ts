import { randomBytes } from 'node:crypto';
import type { TestCluster } from './postgres.ts';

/**
 * A role Sesame signs in as to its state database (not a superuser: it owns its databases and
 * nothing else), and a fresh database of its own per store.
 */
export function stateDatabases(cluster: () => TestCluster, role = 'sesame_state') {
  const password = randomBytes(18).toString('base64url');
  let databases = 0;
  return {
    role,
    password,
    async createRole() {
      await cluster().query(`CREATE ROLE ${role} LOGIN PASSWORD '${password}'`, [], { database: 'postgres' });
    },
    /** The URI of a new, empty database. */
    async fresh(): Promise<string> {
      const name = `${role}_${++databases}`;
      await cluster().query(`CREATE DATABASE ${name} OWNER ${role}`, [], { database: 'postgres' });
      return `postgres://${role}:${password}@127.0.0.1:${cluster().port}/${name}`;
    },
  };
}
