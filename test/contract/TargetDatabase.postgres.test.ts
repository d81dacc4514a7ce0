import { after, before, describe } from 'node:test';
import type pg from 'pg';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { targetFor } from '../support/postgresTarget.ts';
import { targetDatabaseContract, type TargetDatabaseWorld } from './TargetDatabase.contract.ts';

/** Quotes a role name for SQL (names here come from the suite, with `@` and dots in them). */
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The world on a real server: people log in and run SQL; an admin (the superuser) plants things. */
function postgresWorld(cluster: TestCluster): TargetDatabaseWorld {
  const clients: pg.Client[] = [];
  /** Runs `work` as the person on a fresh connection, or answers false when they cannot sign in. */
  async function as(username: string, password: string, database: string, work: (c: pg.Client) => Promise<unknown>): Promise<boolean> {
    let client: pg.Client;
    try {
      client = await cluster.loginAs(username, password, database);
    } catch {
      return false;
    }
    try {
      await work(client);
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
  return {
    db: targetFor(cluster).db,
    grantableRole: APP.grantableRole,
    // PUBLIC may connect to `postgres`: signing in there tests login alone, not appdb's CONNECT.
    canLogin: (username, password) => as(username, password, 'postgres', (c) => c.query('SELECT 1')),
    canRead: (username, password, table) => as(username, password, APP.database, (c) => c.query(`SELECT * FROM ${table} LIMIT 1`)),
    canCreateIn: (username, password, schema) =>
      as(username, password, APP.database, async (c) => {
        await c.query('BEGIN');
        try {
          await c.query(`CREATE TABLE ${schema}.contract_probe (id int)`);
        } finally {
          await c.query('ROLLBACK');
        }
      }),
    async openSession(username, password) {
      const client = await cluster.loginAs(username, password);
      clients.push(client);
      return {
        alive: () =>
          client.query('SELECT 1').then(
            () => true,
            () => false,
          ),
        close: () => client.end().catch(() => undefined),
      };
    },
    async createForeignRole(name) {
      await cluster.query(`CREATE ROLE ${ident(name)} LOGIN`);
    },
    roleExists: async (name) => (await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).length === 1,
    async grantSelectOutsideSesame(role, table) {
      await cluster.query(`GRANT SELECT ON ${table} TO ${ident(role)}`);
    },
    async grantCreateOutsideSesame(role, schema) {
      await cluster.query(`GRANT CREATE ON SCHEMA ${schema} TO ${ident(role)}`);
    },
    async close() {
      await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    },
  };
}

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}`, { timeout: 180_000 }, () => {
    let cluster: TestCluster | undefined;
    before(async () => {
      cluster = await startCluster(version);
      // From 16 on, an admin gives the connector the owners' privileges; up to 15 it takes them itself.
      if (version >= 16) await cluster.completeConnectorSetup();
    });
    after(async () => {
      await cluster?.stop();
    });
    targetDatabaseContract(`PostgresTargetDatabase on PostgreSQL ${version}`, () => postgresWorld(cluster!), { timeout: 120_000 });
  });
}
