import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConnectionPools } from '../../src/adapters/postgres/connection.ts';
import { startFakePostgres, type FakePostgres } from '../support/fakePostgres.ts';
import { pollUntil } from '../support/poll.ts';

describe('connection pools of a server', { timeout: 60_000 }, () => {
  let server: FakePostgres;
  before(async () => {
    server = await startFakePostgres({ request: 'cleartext', tls: true });
  });
  after(() => server.close());

  const poolsOn = (poolIdleMs: number) =>
    new ConnectionPools({
      target: async () => ({
        integration: 'idle-test',
        host: 'localhost',
        port: server.port,
        user: 'sesame_connector',
        sslMode: 'verify-full',
        sslRootCert: server.caFile!,
      }),
      credentials: async () => 'connector-password',
      maxConnectionsPerDatabase: 2,
      poolIdleMs,
    });

  it('ends a pool nobody used for a while, never one that is in use, and opens it again when asked', async () => {
    const pools = poolsOn(50);
    try {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const held = pools.withClient('held', () => gate);
      await pools.withClient('passing', async () => undefined);
      await pollUntil(() => pools.openDatabases().includes('held'), 'the held pool to open');
      await pollUntil(() => !pools.openDatabases().includes('passing'), 'the unused pool to be ended');
      assert.deepEqual(pools.openDatabases(), ['held']);
      release();
      await held;
      await pollUntil(() => pools.openDatabases().length === 0, 'the pool released to be ended');
      assert.equal(await pools.withClient('passing', async () => 'again'), 'again');
      assert.deepEqual(pools.openDatabases(), ['passing']);
    } finally {
      await pools.closeAll();
    }
    assert.deepEqual(pools.openDatabases(), []);
  });

  it('keeps a pool used within the idle time', async () => {
    const pools = poolsOn(60_000);
    try {
      await pools.withClient('appdb', async () => undefined);
      await pools.withClient('appdb', async () => undefined);
      assert.deepEqual(pools.openDatabases(), ['appdb']);
    } finally {
      await pools.closeAll();
    }
  });
});
