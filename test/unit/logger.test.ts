/**
 * The redactor's list of secrets stays bounded: expiring secrets (IAM tokens, one per
 * connection) are forgotten when they stop working and capped in number, while permanent ones
 * (Slack tokens, connector passwords) are never pushed out by them.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { createAwsConnectorCredentials, IAM_TOKEN_LIFETIME_MS } from '../../src/adapters/aws/connectorCredentials.ts';
import type { RdsResolver } from '../../src/adapters/aws/RdsResolver.ts';
import { ConnectionPools } from '../../src/adapters/postgres/connection.ts';
import { integrationSchema } from '../../src/config/schema.ts';
import { redact, registeredSecretCounts, registerSecret, SecretRegistry } from '../../src/logger.ts';
import type { SecretSource } from '../../src/ports/SecretSource.ts';

const MINUTE = 60_000;
const token = (n: number) => `prod-db.example.com:5432/?Action=connect&DBUser=sesame&X-Amz-Signature=${n.toString(16).padStart(64, '0')}`;

describe('the secret redactor', { timeout: 60_000 }, () => {
  it('keeps a bounded list through 50,000 IAM tokens, forgetting each when it expires', () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const secrets = new SecretRegistry({ now: () => now, maxExpiring: 1000 });
    const permanent = ['xoxb-slack-bot-token-1234', 'connector-password-5678', 'signing-secret-9abc'];
    for (const p of permanent) secrets.add(p);

    // A token a second for 50,000 seconds: only the last 15 minutes' worth are still good.
    let largest = 0;
    for (let i = 0; i < 50_000; i++) {
      secrets.add(token(i), IAM_TOKEN_LIFETIME_MS);
      largest = Math.max(largest, secrets.counts().expiring);
      now += 1000;
    }
    assert.equal(largest, 15 * 60, 'never more than the tokens that still work');
    assert.deepEqual(secrets.counts(), { permanent: 3, expiring: 15 * 60 - 1 });
    const line = (t: string) => `connect failed with ${t} for ${permanent.join(' ')}`;
    assert.equal(secrets.replaceIn(line(token(49_999))), `connect failed with [REDACTED] for [REDACTED] [REDACTED] [REDACTED]`);
    // One that expired is forgotten; the pattern-based redaction still hides its signature.
    assert.ok(secrets.replaceIn(token(0)).includes('X-Amz-Signature='));

    // A flood at one moment: the cap holds, the oldest go first, the permanent ones stay.
    for (let i = 50_000; i < 100_000; i++) secrets.add(token(i), IAM_TOKEN_LIFETIME_MS);
    assert.deepEqual(secrets.counts(), { permanent: 3, expiring: 1000 });
    assert.equal(secrets.replaceIn(line(token(99_999))), `connect failed with [REDACTED] for [REDACTED] [REDACTED] [REDACTED]`);
    assert.equal(secrets.replaceIn(token(98_999)), token(98_999), 'the oldest were dropped first');

    now += IAM_TOKEN_LIFETIME_MS;
    assert.deepEqual(secrets.counts(), { permanent: 3, expiring: 0 });
    assert.equal(secrets.replaceIn(permanent.join(' ')), '[REDACTED] [REDACTED] [REDACTED]');
  });

  it('keeps a permanent secret permanent when it is registered again with a lifetime, and forgets either kind', () => {
    let now = 0;
    const secrets = new SecretRegistry({ now: () => now });
    secrets.add('the-connector-password');
    secrets.add('the-connector-password', MINUTE);
    now += 2 * MINUTE;
    assert.equal(secrets.replaceIn('pw the-connector-password'), 'pw [REDACTED]');
    secrets.add('a-token-for-a-minute', MINUTE);
    secrets.forget('a-token-for-a-minute');
    secrets.forget('the-connector-password');
    assert.deepEqual(secrets.counts(), { permanent: 0, expiring: 0 });
  });

  it("registers the connector's IAM tokens with their 15 minutes, not for ever", async () => {
    const integration = integrationSchema.parse({
      name: 'iam',
      type: 'aws-rds-postgresql',
      region: 'us-east-1',
      instanceId: 'prod-db',
      database: 'app',
      username: 'sesame_connector',
      authType: 'iam',
      sslMode: 'verify-full',
    });
    const endpoint = { host: 'prod-db.example.com', port: 5432 };
    const resolver = { resolve: async () => ({ endpoint }), endpoint: async () => endpoint } as unknown as RdsResolver;
    const minted: string[] = [];
    const credentials = createAwsConnectorCredentials(integration, {
      resolver,
      secrets: {} as SecretSource,
      signer: async () => {
        minted.push(token(minted.length + 7_000_000));
        return minted.at(-1)!;
      },
    })!;
    assert.deepEqual(await credentials(), { password: token(7_000_000), lifetimeMs: IAM_TOKEN_LIFETIME_MS });

    registerSecret('a-permanent-slack-token');
    const before = registeredSecretCounts();
    const server = await scramAskingServer();
    const pools = new ConnectionPools({
      target: async () => ({ integration: 'iam', host: '127.0.0.1', port: server.port, user: 'sesame_connector', sslMode: 'disable' }),
      credentials,
    });
    try {
      await assert.rejects(pools.withClient('app', async () => undefined));
    } finally {
      await pools.closeAll();
      await server.close();
    }
    const sent = minted.slice(1);
    assert.ok(sent.length >= 1, 'the connection asked for a token');
    const after = registeredSecretCounts();
    assert.equal(after.permanent, before.permanent, 'no token among the permanent secrets');
    assert.equal(after.expiring, before.expiring + sent.length);
    for (const t of sent) assert.equal(redact(`token ${t}`), 'token [REDACTED]');
  });
});

/**
 * A server that speaks just enough of PostgreSQL's protocol to ask for SCRAM (so the client
 * asks its password callback) and then refuses the login.
 */
async function scramAskingServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    let messages = 0;
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        // The start-up message has no type byte; every later one has.
        const offset = messages === 0 ? 0 : 1;
        if (buffered.length < offset + 4) return;
        const length = buffered.readInt32BE(offset);
        if (buffered.length < offset + length) return;
        buffered = buffered.subarray(offset + length);
        messages++;
        if (messages === 1) {
          const mechanisms = Buffer.from('SCRAM-SHA-256\0\0');
          const body = Buffer.alloc(4);
          body.writeInt32BE(10);
          socket.write(message('R', Buffer.concat([body, mechanisms])));
        } else {
          socket.end(message('E', Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed\0\0')));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no address');
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}
