import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresStateStore } from '../../src/adapters/postgresState/PostgresStateStore.ts';
import type { NotificationOutbox } from '../../src/ports/Coordination.ts';
import { pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { notificationOutboxContract } from './NotificationOutbox.contract.ts';

/** A store on a new, empty database of the cluster, signed in as the superuser. */
async function freshStore(cluster: TestCluster, name: string): Promise<{ uri: string; store: PostgresStateStore }> {
  await cluster.query(`CREATE DATABASE ${name}`, [], { database: 'postgres' });
  const su = cluster.superuser();
  const uri = `postgres://${su.user}:${encodeURIComponent(String(su.password))}@127.0.0.1:${cluster.port}/${name}`;
  const store = PostgresStateStore.open({ uri, sslMode: 'disable' });
  await store.ready();
  return { uri, store };
}

const T0 = new Date('2026-06-01T09:00:00Z');

/**
 * One replica's claim loop: claims, holds the entry a moment, completes it, until the outbox is
 * empty. `held` is what every replica holds now, by key; a second holder of a key fails.
 */
async function claimUntilEmpty(outbox: NotificationOutbox, owner: string, held: Map<string, string>, seen: Map<string, number[]>) {
  for (let idle = 0; idle < 50; ) {
    const entry = await outbox.claim(owner, T0, 60_000);
    if (!entry) {
      if ((await outbox.backlog()) === 0) return;
      idle++;
      await new Promise((resolve) => setTimeout(resolve, 2));
      continue;
    }
    idle = 0;
    assert.equal(held.get(entry.key), undefined, `${entry.key} held by ${held.get(entry.key)} and ${owner} at once`);
    held.set(entry.key, owner);
    seen.set(entry.key, [...(seen.get(entry.key) ?? []), entry.id]);
    await new Promise((resolve) => setImmediate(resolve));
    // Let go before the entry goes: the next of its key may be claimed the moment it is gone.
    held.delete(entry.key);
    await outbox.complete(entry.id, owner);
  }
  throw new Error(`${owner} found the outbox stuck`);
}

for (const version of pgVersions()) {
  describe(`PostgresOutbox on PostgreSQL ${version}`, { timeout: 180_000 }, () => {
    let cluster: TestCluster | undefined;
    let databases = 0;
    before(async () => {
      cluster = await startCluster(version);
    });
    after(async () => {
      await cluster?.stop();
    });

    notificationOutboxContract(
      `PostgresOutbox (PostgreSQL ${version})`,
      async () => {
        const { store } = await freshStore(cluster!, `outbox_${++databases}`);
        return { outbox: store.outbox(), close: () => store.close() };
      },
      { timeout: 150_000 },
    );

    it('two replicas claiming at once, many times: no entry twice, no key twice at once, each key in order', async () => {
      const { uri, store: first } = await freshStore(cluster!, `outbox_${++databases}`);
      const second = PostgresStateStore.open({ uri, sslMode: 'disable' });
      try {
        for (let round = 0; round < 8; round++) {
          const queued = new Map<string, number>();
          const enqueue = (store: PostgresStateStore, from: number) =>
            (async () => {
              for (let i = 0; i < 30; i++) {
                const key = `R${(from + i) % 5}`;
                await store.outbox().enqueue({ key, kind: 'requestUpdated', payload: { i } }, T0);
                queued.set(key, (queued.get(key) ?? 0) + 1);
              }
            })();
          const held = new Map<string, string>();
          const seen = new Map<string, number[]>();
          // Both replicas queue and claim at the same time, each on its own pool.
          await Promise.all([enqueue(first, 0), enqueue(second, 2)]);
          await Promise.all([
            claimUntilEmpty(first.outbox(), `one-${round}`, held, seen),
            claimUntilEmpty(second.outbox(), `two-${round}`, held, seen),
            claimUntilEmpty(second.outbox(), `three-${round}`, held, seen),
          ]);
          const all = [...seen.values()].flat();
          assert.equal(new Set(all).size, all.length, 'an entry was delivered twice');
          assert.equal(all.length, 60);
          for (const [key, ids] of seen) {
            assert.deepEqual(
              ids,
              [...ids].sort((a, b) => a - b),
              `${key} out of order`,
            );
            assert.equal(ids.length, queued.get(key));
          }
        }
      } finally {
        await second.close();
        await first.close();
      }
    });

    it('keeps entries queued at once from two replicas for one key in the order they were committed', async () => {
      const { uri, store: first } = await freshStore(cluster!, `outbox_${++databases}`);
      const second = PostgresStateStore.open({ uri, sslMode: 'disable' });
      try {
        await Promise.all(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? first : second).outbox().enqueue({ key: 'R1', kind: 'k', payload: { i } }, T0)),
        );
        const held = new Map<string, string>();
        const seen = new Map<string, number[]>();
        await Promise.all([claimUntilEmpty(first.outbox(), 'a', held, seen), claimUntilEmpty(second.outbox(), 'b', held, seen)]);
        assert.equal(seen.get('R1')?.length, 40);
      } finally {
        await second.close();
        await first.close();
      }
    });
  });
}
