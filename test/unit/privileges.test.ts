import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coversOwnedSequences, privilegePlan } from '../../src/domain/privileges.ts';

describe('privilegePlan', () => {
  it('readonly: CONNECT, USAGE on the schema, SELECT on relations and sequences, at every scope', () => {
    for (const scope of ['instance', 'database', 'schema', 'table'] as const) {
      assert.deepEqual(privilegePlan('readonly', scope), {
        database: ['CONNECT'],
        schema: ['USAGE'],
        tables: ['SELECT'],
        sequences: ['SELECT'],
        routines: [],
      });
    }
  });

  it('readwrite adds writing rows, drawing sequence numbers and temporary tables', () => {
    for (const scope of ['instance', 'database', 'schema', 'table'] as const) {
      assert.deepEqual(privilegePlan('readwrite', scope), {
        database: ['CONNECT', 'TEMPORARY'],
        schema: ['USAGE'],
        tables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
        sequences: ['SELECT', 'USAGE', 'UPDATE'],
        routines: [],
      });
    }
  });

  it('admin adds TRUNCATE, REFERENCES, TRIGGER, EXECUTE and CREATE on the schema', () => {
    assert.deepEqual(privilegePlan('admin', 'schema'), {
      database: ['CONNECT', 'TEMPORARY'],
      schema: ['USAGE', 'CREATE'],
      tables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
      sequences: ['SELECT', 'USAGE', 'UPDATE'],
      routines: ['EXECUTE'],
    });
  });

  it('admin gives CREATE on the database only where the whole database is in scope', () => {
    assert.deepEqual(privilegePlan('admin', 'database').database, ['CONNECT', 'TEMPORARY', 'CREATE']);
    assert.deepEqual(privilegePlan('admin', 'instance').database, ['CONNECT', 'TEMPORARY', 'CREATE']);
    assert.ok(!privilegePlan('admin', 'schema').database.includes('CREATE'));
    assert.ok(!privilegePlan('admin', 'table').database.includes('CREATE'));
  });

  it('admin on one table reaches no further than that table', () => {
    const plan = privilegePlan('admin', 'table');
    assert.deepEqual(plan.schema, ['USAGE']);
    assert.deepEqual(plan.routines, []);
    assert.ok(plan.tables.includes('TRUNCATE'));
  });

  it('every permission includes what the weaker ones give', () => {
    for (const scope of ['instance', 'database', 'schema', 'table'] as const) {
      const [ro, rw, admin] = (['readonly', 'readwrite', 'admin'] as const).map((p) => privilegePlan(p, scope));
      for (const kind of ['database', 'schema', 'tables', 'sequences', 'routines'] as const) {
        for (const p of ro![kind]) assert.ok((rw![kind] as string[]).includes(p), `${scope} ${kind} ${p}`);
        for (const p of rw![kind]) assert.ok((admin![kind] as string[]).includes(p), `${scope} ${kind} ${p}`);
      }
    }
  });

  it("covers a table's own sequences for readwrite and admin, not for readonly", () => {
    assert.equal(coversOwnedSequences('readonly'), false);
    assert.equal(coversOwnedSequences('readwrite'), true);
    assert.equal(coversOwnedSequences('admin'), true);
  });
});
