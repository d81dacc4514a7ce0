import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresStateStore } from '../../src/adapters/postgresState/PostgresStateStore.ts';
import { LATEST_SCHEMA_VERSION } from '../../src/adapters/postgresState/migrations/index.ts';
import { redact } from '../../src/logger.ts';
import { freePort, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { stateDatabases } from '../support/stateDatabases.ts';
import { stateStoreContract } from './StateStore.contract.ts';

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}`, { timeout: 180_000 }, () => {
    let cluster: TestCluster | undefined;
    const databases = stateDatabases(() => cluster!);
    before(async () => {
      cluster = await startCluster(version);
      await databases.createRole();
    });
    after(async () => {
      await cluster?.stop();
    });

    stateStoreContract(
      `PostgresStateStore on PostgreSQL ${version}`,
      async () => PostgresStateStore.open({ uri: await databases.fresh(), sslMode: 'disable' }),
      { timeout: 150_000 },
    );

    describe('migrations', () => {
      it('two stores opening one empty database at once both succeed, and each version is applied once', async () => {
        const uri = await databases.fresh();
        const stores = [0, 1, 2].map(() => PostgresStateStore.open({ uri, sslMode: 'disable' }));
        try {
          await Promise.all(stores.map((s) => s.ready()));
          await Promise.all(stores.map((s) => s.ping()));
        } finally {
          await Promise.all(stores.map((s) => s.close()));
        }
        const database = new URL(uri).pathname.slice(1);
        const rows = await cluster!.query<{ version: number; n: string }>(
          'SELECT version, count(*) AS n FROM sesame_schema_migrations GROUP BY version ORDER BY version',
          [],
          { database },
        );
        assert.deepEqual(
          rows.map((r) => [r.version, Number(r.n)]),
          Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => [i + 1, 1]),
        );
      });

      it('refuses a database a newer Sesame migrated, saying which version it needs', async () => {
        const uri = await databases.fresh();
        const first = PostgresStateStore.open({ uri, sslMode: 'disable' });
        await first.ready();
        await first.close();
        const newer = LATEST_SCHEMA_VERSION + 1;
        await cluster!.query(`INSERT INTO sesame_schema_migrations VALUES (${newer}, 'from the future', now())`, [], {
          database: new URL(uri).pathname.slice(1),
        });
        const store = PostgresStateStore.open({ uri, sslMode: 'disable' });
        try {
          await assert.rejects(store.ready(), (err: Error) => {
            assert.match(err.message, new RegExp(`schema version ${newer}, written by a newer Sesame`));
            assert.match(err.message, new RegExp(`knows versions up to ${LATEST_SCHEMA_VERSION}`));
            assert.match(err.message, new RegExp(`Run a Sesame that knows schema version ${newer}`));
            return true;
          });
          // Every call fails the same way, rather than working on a schema it does not know.
          await assert.rejects(store.getRequest('R1'), /written by a newer Sesame/);
        } finally {
          await store.close();
        }
      });

      it('an unreachable database: a clear error naming host, port and database, never the password', async () => {
        const port = await freePort();
        const password = 'Very-Secret-State-Password';
        const store = PostgresStateStore.open({ uri: `postgres://sesame:${password}@127.0.0.1:${port}/sesame_state`, sslMode: 'disable' });
        try {
          await assert.rejects(store.ready(), (err: Error) => {
            assert.match(err.message, new RegExp(`state database sesame_state on 127\\.0\\.0\\.1:${port} cannot be reached`));
            assert.doesNotMatch(`${err.message} ${err.stack} ${JSON.stringify(err)}`, /Very-Secret/);
            return true;
          });
          // Opening the store registers the password with the logger: no log line can show it.
          assert.doesNotMatch(redact(`the password is ${password}`), /Very-Secret/);
          await assert.rejects(store.ping(), /cannot be reached/);
        } finally {
          await store.close();
        }
      });

      it('a wrong password: the same clear error, without the password', async () => {
        const uri = (await databases.fresh()).replace(databases.password, 'Wrong-Secret-Password');
        const store = PostgresStateStore.open({ uri, sslMode: 'disable' });
        try {
          await assert.rejects(store.ready(), (err: Error) => {
            assert.match(err.message, /cannot be reached: .*password authentication failed/);
            assert.doesNotMatch(err.message, /Wrong-Secret/);
            return true;
          });
        } finally {
          await store.close();
        }
      });
    });
  });
}
