import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConnectionPools } from '../../src/adapters/postgres/connection.ts';
import { startFakePostgres, type FakePostgres } from '../support/fakePostgres.ts';

/** What pg reports when the server ended a connection that sat idle in the pool. */
const terminated = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });

describe('a pooled connection the server ended while idle', { timeout: 60_000 }, () => {
  let server: FakePostgres;
  let pools: ConnectionPools;
  before(async () => {
    server = await startFakePostgres({ request: 'cleartext', tls: true });
    pools = new ConnectionPools({
      target: async () => ({
        integration: 'retry-test',
        host: 'localhost',
        port: server.port,
        user: 'sesame_connector',
        sslMode: 'verify-full',
        sslRootCert: server.caFile!,
      }),
      credentials: async () => 'connector-password',
      maxConnectionsPerDatabase: 1,
    });
  });
  after(async () => {
    await pools.closeAll();
    await server.close();
  });

  it('runs the work once more on a fresh connection when a reused one turns out dead', async () => {
    await pools.withClient('app', async () => undefined); // the connection is now pooled
    const clients: unknown[] = [];
    const answer = await pools.withClient('app', async (client) => {
      clients.push(client);
      if (clients.length === 1) throw terminated();
      return 'done';
    });
    assert.equal(answer, 'done');
    assert.equal(clients.length, 2);
    assert.notEqual(clients[0], clients[1], 'the dead connection was dropped, not reused');
  });

  it('does not run it again when a fresh connection fails, nor for other errors', async () => {
    let calls = 0;
    await assert.rejects(
      pools.withClient('fresh-db', async () => {
        calls++;
        throw terminated();
      }),
      /administrator command/,
    );
    assert.equal(calls, 1, 'a first use that fails is not retried');
    calls = 0;
    await assert.rejects(
      pools.withClient('app', async () => {
        calls++;
        throw Object.assign(new Error('permission denied for table orders'), { code: '42501' });
      }),
      /permission denied/,
    );
    assert.equal(calls, 1);
  });
});
