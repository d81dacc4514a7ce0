import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { targetFor, type TestTarget } from '../support/postgresTarget.ts';

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: the catalog behind the request modal`, () => {
    let cluster: TestCluster;
    let target: TestTarget;
    before(async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      await cluster.query(`CREATE SCHEMA "we""ird; schema" AUTHORIZATION ${APP.owner}`);
      await cluster.query(`CREATE TABLE "we""ird; schema"."Überstunden" (id int)`);
      target = targetFor(cluster);
    });
    after(async () => {
      await target?.db.close();
      await cluster?.stop();
    });

    it('lists connectable databases, never templates', async () => {
      const dbs = await target.db.listDatabases();
      assert.ok(dbs.includes(APP.database) && dbs.includes(APP.otherDatabase));
      assert.ok(!dbs.includes('template0') && !dbs.includes('template1'));
      assert.deepEqual(await target.db.listDatabases({ search: 'APP' }), [APP.database]);
      assert.equal((await target.db.listDatabases({ limit: 1 })).length, 1);
    });

    it('lists schemas without PostgreSQL’s own, and names that need quoting', async () => {
      const schemas = await target.db.listSchemas(APP.database);
      assert.ok(schemas.includes('public') && schemas.includes('sales') && schemas.includes('we"ird; schema'));
      assert.ok(!schemas.some((s) => s === 'pg_catalog' || s === 'information_schema' || s.startsWith('pg_toast')));
    });

    it('lists tables and views of a schema, filtered by a search', async () => {
      const tables = await target.db.listTables(APP.database, 'public');
      assert.ok(tables.includes('orders') && tables.includes('customer_names') && tables.includes('order_totals'));
      assert.ok(!tables.includes('invoice_numbers'), 'sequences are not offered as tables');
      assert.deepEqual(await target.db.listTables(APP.database, 'we"ird; schema', { search: 'über' }), ['Überstunden']);
      assert.deepEqual(await target.db.listTables(APP.database, 'no such schema'), []);
    });
  });
}
