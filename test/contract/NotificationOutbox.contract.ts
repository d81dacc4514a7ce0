/**
 * What every NotificationOutbox does: one delivery at a time per key, in queue order; nothing
 * before it is due; a claim that runs out goes to another owner, and its first owner can then
 * change nothing; steps done survive a retry.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { NotificationOutbox } from '../../src/ports/Coordination.ts';

export interface OutboxUnderTest {
  outbox: NotificationOutbox;
  close(): Promise<void>;
}

const T0 = new Date('2026-06-01T09:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const LEASE = 30_000;

export function notificationOutboxContract(name: string, make: () => Promise<OutboxUnderTest>, options: { timeout: number }): void {
  describe(name, { timeout: options.timeout }, () => {
    const opened: OutboxUnderTest[] = [];
    after(() => Promise.all(opened.map((o) => o.close())));
    async function fresh(): Promise<NotificationOutbox> {
      const made = await make();
      opened.push(made);
      return made.outbox;
    }

    it('hands out what was queued, as JSON, with no step done and one attempt', async () => {
      const outbox = await fresh();
      const payload = { request: { id: 'R1', createdAt: T0.toISOString(), groups: [{ ids: ['U1'] }] }, attempts: 3, note: 'é ✓' };
      await outbox.enqueue({ key: 'R1', kind: 'requestUpdated', payload }, T0);
      assert.equal(await outbox.backlog(), 1);
      const entry = await outbox.claim('a', T0, LEASE);
      assert.ok(entry);
      assert.deepEqual(
        { key: entry.key, kind: entry.kind, payload: entry.payload, done: entry.done, attempts: entry.attempts },
        { key: 'R1', kind: 'requestUpdated', payload, done: [], attempts: 1 },
      );
      assert.equal(entry.createdAt.getTime(), T0.getTime());
      assert.equal(await outbox.claim('b', T0, LEASE), undefined, 'claimed already');
      await outbox.complete(entry.id, 'a');
      assert.equal(await outbox.backlog(), 0);
      assert.equal(await outbox.claim('b', at(1), LEASE), undefined);
    });

    it('hands out only the head of each key: one of a key at a time, in queue order, keys side by side', async () => {
      const outbox = await fresh();
      await outbox.enqueue({ key: 'A', kind: 'k', payload: 1 }, T0);
      await outbox.enqueue({ key: 'A', kind: 'k', payload: 2 }, T0);
      await outbox.enqueue({ key: 'B', kind: 'k', payload: 3 }, T0);
      const a1 = await outbox.claim('x', T0, LEASE);
      const b1 = await outbox.claim('y', T0, LEASE);
      assert.deepEqual([a1?.payload, b1?.payload], [1, 3]);
      assert.equal(await outbox.claim('z', T0, LEASE), undefined, "A's second waits for its first");
      await outbox.complete(a1!.id, 'x');
      const a2 = await outbox.claim('z', T0, LEASE);
      assert.equal(a2?.payload, 2);
      assert.ok(a2!.id > a1!.id);
    });

    it('hands out nothing before it is due, and a retried entry keeps the later ones of its key waiting', async () => {
      const outbox = await fresh();
      await outbox.enqueue({ key: 'A', kind: 'k', payload: 1 }, at(1_000));
      assert.equal(await outbox.claim('x', T0, LEASE), undefined, 'not due yet');
      const first = await outbox.claim('x', at(1_000), LEASE);
      assert.ok(first);
      await outbox.enqueue({ key: 'A', kind: 'k', payload: 2 }, at(1_000));
      assert.equal(await outbox.stepDone(first.id, 'x', 'dm U1', at(1_100), LEASE), true);
      await outbox.retryLater(first.id, 'x', at(5_000), 'Slack said no');
      assert.equal(await outbox.claim('y', at(2_000), LEASE), undefined, 'the retry is not due, and the second waits for it');
      const again = await outbox.claim('y', at(5_000), LEASE);
      assert.deepEqual([again?.id, again?.payload, again?.attempts, again?.done], [first.id, 1, 2, ['dm U1']]);
      await outbox.complete(again!.id, 'y');
      assert.equal((await outbox.claim('y', at(5_000), LEASE))?.payload, 2);
    });

    it('records each step once and renews the claim with it', async () => {
      const outbox = await fresh();
      await outbox.enqueue({ key: 'A', kind: 'k', payload: null }, T0);
      const entry = (await outbox.claim('x', T0, 1_000))!;
      assert.equal(await outbox.stepDone(entry.id, 'x', 'one', at(900), 1_000), true);
      assert.equal(await outbox.stepDone(entry.id, 'x', 'one', at(900), 1_000), true);
      assert.equal(await outbox.stepDone(entry.id, 'x', 'two', at(900), 1_000), true);
      assert.equal(await outbox.claim('y', at(1_500), 1_000), undefined, 'renewed until 1.9 s');
      const taken = await outbox.claim('y', at(2_000), 1_000);
      assert.deepEqual(taken?.done, ['one', 'two']);
    });

    it('renews a claim while its owner holds it, and not once another owner took it', async () => {
      const outbox = await fresh();
      await outbox.enqueue({ key: 'A', kind: 'k', payload: null }, T0);
      const entry = (await outbox.claim('x', T0, 1_000))!;
      assert.equal(await outbox.renew(entry.id, 'x', at(800), 1_000), true);
      assert.equal(await outbox.claim('y', at(1_500), 1_000), undefined, 'renewed until 1.8 s');
      const taken = await outbox.claim('y', at(1_900), 1_000);
      assert.equal(taken?.id, entry.id);
      assert.equal(await outbox.renew(entry.id, 'x', at(1_950), 1_000), false);
      assert.equal(await outbox.claim('x', at(2_500), 1_000), undefined, "the old owner's renewal changed nothing");
    });

    it('gives a claim that ran out to another owner; the first owner then changes nothing', async () => {
      const outbox = await fresh();
      await outbox.enqueue({ key: 'A', kind: 'k', payload: null }, T0);
      await outbox.enqueue({ key: 'A', kind: 'k', payload: 'next' }, T0);
      const mine = (await outbox.claim('dead', T0, 1_000))!;
      assert.equal(await outbox.claim('live', at(1_000), 1_000), undefined, 'the claim lasts its whole lease');
      const theirs = await outbox.claim('live', at(1_001), 1_000);
      assert.deepEqual([theirs?.id, theirs?.attempts], [mine.id, 2]);
      assert.equal(await outbox.stepDone(mine.id, 'dead', 'late', at(1_002), 1_000), false);
      await outbox.retryLater(mine.id, 'dead', at(1_003), 'late');
      await outbox.complete(mine.id, 'dead');
      assert.equal(await outbox.backlog(), 2, 'the first owner completed nothing');
      assert.equal(await outbox.claim('other', at(1_500), 1_000), undefined, 'still held by its new owner');
      assert.equal(await outbox.stepDone(mine.id, 'live', 'post', at(1_500), 1_000), true);
      await outbox.complete(mine.id, 'live');
      assert.equal((await outbox.claim('other', at(1_500), 1_000))?.payload, 'next');
      assert.equal(await outbox.backlog(), 1);
    });

    it('changes nothing for an owner that never held the entry', async () => {
      const outbox = await fresh();
      await outbox.enqueue({ key: 'A', kind: 'k', payload: null }, T0);
      const entry = (await outbox.claim('x', T0, LEASE))!;
      assert.equal(await outbox.stepDone(entry.id, 'y', 's', T0, LEASE), false);
      await outbox.complete(entry.id, 'y');
      await outbox.retryLater(entry.id, 'y', T0, 'no');
      assert.equal(await outbox.backlog(), 1);
      assert.equal(await outbox.claim('y', T0, LEASE), undefined, 'still claimed by x');
    });
  });
}
