import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CATALOG_BATCH, CATALOG_MAX, CATALOG_SCAN_CAP } from '../../src/adapters/postgres/catalogSearch.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { targetFor, type TestTarget } from '../support/postgresTarget.ts';

/** More tables than one search may read, named t_00001, t_00002, … */
const MANY = CATALOG_SCAN_CAP + 100;

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: the catalog behind the request modal`, { timeout: 180_000 }, () => {
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

    it('reads a bounded page per statement, and finds ASCII and non-ASCII names in a large schema', async () => {
      await cluster.query(`CREATE SCHEMA many AUTHORIZATION ${APP.owner}`);
      await cluster.query(
        `DO $$ BEGIN
           FOR i IN 1..${MANY} LOOP EXECUTE format('CREATE TABLE many.%I ()', 't_' || lpad(i::text, 5, '0')); END LOOP;
         END $$`,
      );
      // In the C collation's (byte) order "a_…" comes first and "Ü…" after every ASCII name.
      for (const name of ['a_Ünterlagen', 'Überstunden_2024', 'zz_ÜBERSTUNDEN_alt', '\u212Aey_accounts']) {
        await cluster.query(`CREATE TABLE many."${name}" ()`);
      }
      const list = async (search?: string) => {
        target.statements.length = 0;
        const names = await target.db.listTables(APP.database, 'many', search === undefined ? {} : { search });
        const statements = target.statements.filter((s) => s.name === 'list tables');
        for (const s of statements) {
          assert.match(s.text, /\n LIMIT \$\d+$/, 'every statement has a LIMIT');
          assert.ok((s.values!.at(-1) as number) <= CATALOG_BATCH, `a page of ${String(s.values!.at(-1))} names`);
        }
        return { names, statements: statements.length };
      };

      // No search, or an ASCII one: SQL decides, one page of at most CATALOG_MAX names.
      const all = await list();
      assert.equal(all.names.length, CATALOG_MAX);
      assert.deepEqual(all.names.slice(0, 2), ['a_Ünterlagen', 't_00001']);
      assert.equal(all.statements, 1);
      assert.deepEqual(await list('T_0210'), { names: ['t_02100'], statements: 1 });
      // Lower case folds the Kelvin sign to k, which the C collation's ILIKE does not see.
      assert.deepEqual((await list('KEY_acc')).names, ['\u212Aey_accounts']);

      // Non-ASCII: the ASCII letters narrow in SQL, Sesame decides, whatever the name's case.
      assert.deepEqual(await list('über'), { names: ['zz_ÜBERSTUNDEN_alt', 'Überstunden_2024'], statements: 1 });
      // Nothing to narrow by: pages in name order up to the cap, then what was found.
      const umlaut = await list('ü');
      assert.deepEqual(umlaut.names, ['a_Ünterlagen']);
      assert.equal(umlaut.statements, CATALOG_SCAN_CAP / CATALOG_BATCH);
      // A search longer than any name needs no statement.
      assert.deepEqual(await list('x'.repeat(200)), { names: [], statements: 0 });
    });
  });
}
