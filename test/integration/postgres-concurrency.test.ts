import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { inMinutes, targetFor, type TestTarget } from '../support/postgresTarget.ts';

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: grants at once on a fresh server`, { timeout: 180_000 }, () => {
    let cluster: TestCluster;
    let target: TestTarget;
    let otherReplica: TestTarget;
    before(async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      target = targetFor(cluster);
      otherReplica = targetFor(cluster);
    });
    after(async () => {
      await target?.db.close();
      await otherReplica?.db.close();
      await cluster?.stop();
    });

    it('grants eight people the same new scope at once, each in one go', async () => {
      // More grants than a database's pool has connections, all needing the same new group role.
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          target.db.grant({
            username: `burst${i}@example.com`,
            ownerLabel: 'burst',
            target: { integration: target.db.integration, database: APP.database, schema: 'sales' },
            permission: 'readwrite',
            validUntil: inMinutes(30),
          }),
        ),
      );
      const failed = results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason));
      assert.deepEqual(failed, []);
      const [row] = await cluster.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member WHERE u.rolname LIKE 'burst%'`,
      );
      assert.equal(row?.n, 8);
    });

    it('two replicas grant the same new scopes at once: the server keeps them apart, nothing fails', async () => {
      // Two engines are two Sesame processes: the in-process lock of one does not hold the other.
      const grants = Array.from({ length: 12 }, (_, i) =>
        (i % 2 === 0 ? target : otherReplica).db.grant({
          username: `replica${i}@example.com`,
          ownerLabel: 'replica',
          target: { integration: target.db.integration, database: APP.database, schema: i % 3 === 0 ? 'public' : 'sales' },
          permission: i % 4 < 2 ? 'readonly' : 'readwrite',
          validUntil: inMinutes(30),
        }),
      );
      const failed = (await Promise.allSettled(grants))
        .filter((r) => r.status === 'rejected')
        .map((r) => String((r as PromiseRejectedResult).reason));
      assert.deepEqual(failed, []);
      const [row] = await cluster.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_auth_members m JOIN pg_roles u ON u.oid = m.member WHERE u.rolname LIKE 'replica%'`,
      );
      assert.equal(row?.n, 12);
      const locks = await cluster.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'");
      assert.equal(locks[0]?.n, 0, 'no group-role lock is left held');
    });
  });
}
