import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionRecord, StateStore } from '../../../src/ports/StateStore.ts';
import { MINUTE, at, newRequest } from '../../support/stateFixtures.ts';

/** Session records per request and the watermarks of the logs they came from. */
export function sessionRecordsContract(store: StateStore): void {
  describe('session records and watermarks', () => {
    const record = (requestId: string, n: number, overrides: Partial<SessionRecord> = {}): SessionRecord => ({
      id: `prod/prod-db-1/error/postgresql.log.2026-06-01-09@${n * 100}`,
      requestId,
      integration: 'prod',
      dbUser: 'alice@example.com',
      requester: 'U0ALICE',
      at: at(n * MINUTE + 7),
      database: 'appdb',
      sessionId: '6650f1a5.1092',
      kind: 'statement',
      commandTag: 'SELECT',
      statement: `select ${n} from "odd ""table"""; -- ünïcode`,
      ...overrides,
    });

    it('stores each record once, in order, with its watermarks in the same write', async () => {
      const r = await store.createRequest(newRequest(), 'pending');
      const other = await store.createRequest(newRequest({ requester: { slackId: 'U0BOB' } }), 'pending');
      const connect = record(r.id, 1, { kind: 'connect', commandTag: undefined, statement: undefined, database: undefined });
      delete connect.commandTag;
      delete connect.statement;
      delete connect.database;
      assert.equal(await store.recordSessions([connect, record(r.id, 2)], { 'rds:prod-db-1': '{"files":1}' }), 2);
      assert.equal(await store.recordSessions([record(r.id, 2), record(r.id, 3), record(other.id, 4, { requester: 'U0BOB' })], {}), 2);
      const all = await store.listSessionRecords({});
      assert.deepEqual(
        all.map((x) => x.id.split('@')[1]),
        ['100', '200', '300', '400'],
      );
      assert.ok(
        all.every((x, i) => i === 0 || x.seq > all[i - 1]!.seq),
        'in the order stored',
      );
      assert.deepEqual(all[0], { ...connect, seq: all[0]!.seq });
      assert.deepEqual(all[1], { ...record(r.id, 2), seq: all[1]!.seq });
      assert.deepEqual((await store.listSessionRecords({ requestId: other.id })).length, 1);
      assert.deepEqual((await store.listSessionRecords({ requester: 'U0ALICE' })).length, 3);
      assert.deepEqual((await store.listSessionRecords({ since: at(3 * MINUTE) })).length, 2);
      assert.deepEqual(
        (await store.listSessionRecords({ afterSeq: all[1]!.seq, limit: 1 })).map((x) => x.id),
        [all[2]!.id],
      );
      assert.equal(await store.watermark('rds:prod-db-1'), '{"files":1}');
      assert.equal(await store.watermark('rds:none'), undefined);
      await store.setWatermark('rds:prod-db-1', '{"files":2}');
      assert.equal(await store.watermark('rds:prod-db-1'), '{"files":2}');
    });

    it('writes neither records nor watermarks when one record is refused', async () => {
      const r = await store.createRequest(newRequest(), 'pending');
      await assert.rejects(store.recordSessions([record(r.id, 1), record('RNOPE22', 2)], { 'rds:x': 'moved' }));
      assert.deepEqual(await store.listSessionRecords({}), []);
      assert.equal(await store.watermark('rds:x'), undefined);
    });
  });
}
