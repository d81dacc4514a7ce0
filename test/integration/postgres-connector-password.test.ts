import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ConnectionPools, UnverifiedServerPasswordError, type ConnectionTarget } from '../../src/adapters/postgres/connection.ts';
import type { SslMode } from '../../src/config/schema.ts';
import { TargetUnavailableError } from '../../src/domain/errors.ts';
import { startFakePostgres, type PasswordRequest } from '../support/fakePostgres.ts';
import { pollUntil } from '../support/poll.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { targetFor } from '../support/postgresTarget.ts';

const PASSWORD = 'Connector-Password-Never-Sent-7x9';
/** Shaped like an RDS IAM auth token, which the connector sends as a clear-text password. */
const IAM_TOKEN =
  'db.example.com:5432/?Action=connect&DBUser=sesame_connector&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=900&X-Amz-Signature=0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';
const UNVERIFIED = ['disable', 'allow', 'prefer', 'require'] as const satisfies readonly SslMode[];

interface Attempt {
  port: number;
  sslMode: SslMode;
  secret: string;
  host?: string;
  sslRootCert?: string;
  user?: string;
}

/**
 * Opens one connection through ConnectionPools, runs `work` on it, and says how often the
 * connector's credential was asked for.
 */
async function connect<T>(attempt: Attempt, work: (client: pg.PoolClient) => Promise<T> = async () => undefined as T) {
  const target: ConnectionTarget = {
    integration: 'impostor-test',
    host: attempt.host ?? '127.0.0.1',
    port: attempt.port,
    user: attempt.user ?? APP.connector,
    sslMode: attempt.sslMode,
    ...(attempt.sslRootCert ? { sslRootCert: attempt.sslRootCert } : {}),
  };
  let asked = 0;
  const pools = new ConnectionPools({
    target: async () => target,
    credentials: async () => {
      asked++;
      return attempt.secret;
    },
  });
  try {
    const result = await pools.withClient('postgres', work);
    return { result, asked: () => asked };
  } catch (err) {
    (err as { asked?: number }).asked = asked;
    throw err;
  } finally {
    await pools.closeAll();
  }
}

/** The connection was refused for asking the password in a readable form, saying why and what to do. */
function assertRefusedReadable(err: unknown, secret: string, request: PasswordRequest, over: RegExp): true {
  assert.ok(err instanceof TargetUnavailableError, `${(err as Error).name}: ${(err as Error).message}`);
  const form = request === 'cleartext' ? 'in clear text' : 'as an MD5 hash';
  assert.match(err.message, new RegExp(`the server asked for the connector's password ${form} over`));
  assert.match(err.message, over);
  assert.match(err.message, /set sslMode: verify-full \(with sslRootCert naming the server's CA\) or make the server use scram-sha-256/);
  assert.ok(!err.message.includes(secret), 'the secret is not in the message');
  assert.equal((err as { asked?: number }).asked, 0, 'the credential was not even asked for');
  return true;
}

function md5Answer(secret: string, user: string, salt: Buffer): string {
  const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');
  return `md5${md5(Buffer.concat([Buffer.from(md5(secret + user)), salt]))}`;
}

describe('the connector answers an impostor nothing it could sign in with', { timeout: 60_000 }, () => {
  for (const request of ['cleartext', 'md5'] as const) {
    for (const [what, secret] of [
      ['password', PASSWORD],
      ['IAM token', IAM_TOKEN],
    ] as const) {
      it(`${request}: a server without TLS gets no ${what} in disable, allow or prefer`, async () => {
        for (const sslMode of ['disable', 'allow', 'prefer'] as const) {
          const fake = await startFakePostgres({ request, tls: false });
          try {
            await assert.rejects(connect({ port: fake.port, sslMode, secret }), (err) =>
              assertRefusedReadable(err, secret, request, /over a connection without TLS/),
            );
            assert.ok(fake.requests() > 0, `${sslMode}: the server asked`);
            assert.equal(fake.received().length, 0, `${sslMode}: nothing was sent after the request`);
          } finally {
            await fake.close();
          }
        }
      });

      it(`${request}: a server whose certificate is not verified gets no ${what} in any mode below verify-ca`, async () => {
        for (const sslMode of UNVERIFIED) {
          const fake = await startFakePostgres({ request, tls: true });
          try {
            const over = sslMode === 'disable' ? /without TLS/ : /over TLS whose certificate was not verified/;
            await assert.rejects(connect({ port: fake.port, sslMode, secret }), (err) => {
              assertRefusedReadable(err, secret, request, over);
              if (sslMode === 'require') assert.ok((err as Error).cause instanceof UnverifiedServerPasswordError);
              return true;
            });
            assert.ok(fake.requests() > 0, `${sslMode}: the server asked`);
            assert.equal(fake.received().length, 0, `${sslMode}: nothing was sent after the request`);
          } finally {
            await fake.close();
          }
        }
      });
    }

    it(`${request}: a server whose certificate is verified (verify-full, verify-ca) gets its answer`, async () => {
      const fake = await startFakePostgres({ request, tls: true });
      try {
        const expected = request === 'cleartext' ? PASSWORD : md5Answer(PASSWORD, APP.connector, fake.md5Salt);
        await connect({ port: fake.port, sslMode: 'verify-full', host: 'localhost', sslRootCert: fake.caFile!, secret: PASSWORD });
        assert.ok(fake.received().includes(expected), 'verify-full: the answer arrived');
        const before = fake.received().length;
        // The certificate names localhost: verify-ca checks the chain only.
        await connect({ port: fake.port, sslMode: 'verify-ca', host: '127.0.0.1', sslRootCert: fake.caFile!, secret: PASSWORD });
        assert.ok(fake.received().subarray(before).includes(expected), 'verify-ca: the answer arrived');
      } finally {
        await fake.close();
      }
    });
  }
});

/** The pg_hba.conf of a test cluster, with the connector's TCP logins set to `method`. */
async function connectorAuth(cluster: TestCluster, method: 'password' | 'md5' | 'scram-sha-256'): Promise<void> {
  const [row] = await cluster.query<{ hba_file: string }>('SHOW hba_file');
  const rules = [
    'local all all scram-sha-256',
    `host all ${APP.connector} 127.0.0.1/32 ${method}`,
    'host all all 127.0.0.1/32 scram-sha-256',
    '',
  ];
  writeFileSync(row!.hba_file, rules.join('\n'));
  await cluster.query('SELECT pg_reload_conf()');
  // The postmaster reloads on its own time: wait until a new login meets the new rule.
  const wanted = { password: 'authenticationCleartextPassword', md5: 'authenticationMD5Password', 'scram-sha-256': 'authenticationSASL' }[
    method
  ];
  let seen = '';
  await pollUntil(
    async () => {
      seen = await firstPasswordRequest(cluster);
      return seen === wanted;
    },
    () => `${wanted} after reloading pg_hba.conf; the server still asks with ${seen}`,
    { intervalMs: 50 },
  );
}

/** Which password request a plain pg client meets when it signs in as the connector. */
async function firstPasswordRequest(cluster: TestCluster): Promise<string> {
  const client = new pg.Client({ ...cluster.superuser('postgres'), user: APP.connector, password: cluster.connector.password });
  client.on('error', () => undefined);
  const requests = ['authenticationCleartextPassword', 'authenticationMD5Password', 'authenticationSASL'];
  let seen = 'none';
  for (const r of requests) client.connection.once(r, () => (seen = seen === 'none' ? r : seen));
  await client.connect().catch(() => undefined);
  await client.end().catch(() => undefined);
  return seen;
}

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: how the connector signs in, mode by mode`, { timeout: 180_000 }, () => {
    let cluster: TestCluster;
    /** Each sslMode with the host and CA that make it succeed against the cluster, and whether it uses TLS. */
    let modes: { sslMode: SslMode; host: string; sslRootCert?: string; tls: boolean }[];

    before(async () => {
      cluster = await startCluster(version, { ssl: true });
      const ca = cluster.tls!.caFile;
      modes = [
        { sslMode: 'disable', host: '127.0.0.1', tls: false },
        { sslMode: 'allow', host: '127.0.0.1', tls: false },
        { sslMode: 'prefer', host: '127.0.0.1', tls: true },
        { sslMode: 'require', host: '127.0.0.1', tls: true },
        { sslMode: 'verify-ca', host: '127.0.0.1', sslRootCert: ca, tls: true },
        { sslMode: 'verify-full', host: 'localhost', sslRootCert: ca, tls: true },
      ];
    });

    after(async () => {
      await cluster?.stop();
    });

    const signIn = (mode: (typeof modes)[number]) =>
      connect(
        {
          port: cluster.port,
          sslMode: mode.sslMode,
          host: mode.host,
          ...(mode.sslRootCert ? { sslRootCert: mode.sslRootCert } : {}),
          secret: cluster.connector.password,
        },
        async (client) =>
          (
            await client.query<{ user: string; ssl: boolean }>(
              'SELECT current_user AS user, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()',
            )
          ).rows[0],
      );

    it('SCRAM logins work in every sslMode', async () => {
      for (const mode of modes) {
        const { result } = await signIn(mode);
        assert.deepEqual(result, { user: APP.connector, ssl: mode.tls }, mode.sslMode);
      }
    });

    for (const [method, request] of [
      ['password', 'cleartext'],
      ['md5', 'md5'],
    ] as const) {
      it(`a server asking ${request === 'cleartext' ? 'in clear text' : 'for MD5'} is answered only over verified TLS`, async () => {
        const literal = `'${cluster.connector.password.replaceAll("'", "''")}'`;
        if (method === 'md5') {
          // The server asks for MD5 only when it holds an MD5 hash of the password.
          await cluster.query(`SET password_encryption = 'md5'; ALTER ROLE ${APP.connector} PASSWORD ${literal}`);
        }
        await connectorAuth(cluster, method);
        try {
          for (const mode of modes) {
            if (mode.sslMode === 'verify-ca' || mode.sslMode === 'verify-full') {
              const { result } = await signIn(mode);
              assert.deepEqual(result, { user: APP.connector, ssl: true }, mode.sslMode);
            } else {
              const over =
                mode.sslMode === 'disable' || mode.sslMode === 'allow' ? /without TLS/ : /TLS whose certificate was not verified/;
              await assert.rejects(signIn(mode), (err) => assertRefusedReadable(err, cluster.connector.password, request, over));
            }
          }
          // `sesame check` says the same, with the integration's name.
          const t = targetFor(cluster, { sslMode: 'prefer' });
          try {
            const report = await t.db.check();
            const refused = report.findings.find((f) => f.level === 'error');
            assert.match(
              refused?.message ?? '',
              /asked for the connector's password .* over .*set sslMode: verify-full/,
              JSON.stringify(report),
            );
            assert.ok(!JSON.stringify(report).includes(cluster.connector.password));
          } finally {
            await t.db.close();
          }
        } finally {
          await connectorAuth(cluster, 'scram-sha-256');
          if (method === 'md5')
            await cluster.query(`SET password_encryption = 'scram-sha-256'; ALTER ROLE ${APP.connector} PASSWORD ${literal}`);
        }
      });
    }

    it('sesame check warns about an sslMode below verify-ca, naming the integration, and not about verify-full', async () => {
      for (const sslMode of UNVERIFIED) {
        const t = targetFor(cluster, { name: `weak-${sslMode}`, sslMode });
        try {
          const report = await t.db.check();
          const warning = report.findings.find((f) => f.level === 'warn' && f.message.includes(`sslMode ${sslMode}`));
          assert.ok(warning, `${sslMode}: ${JSON.stringify(report)}`);
          assert.match(warning.message, new RegExp(`^weak-${sslMode} uses sslMode ${sslMode}`));
          assert.match(warning.message, /pose as the server/);
          assert.match(warning.message, /Set sslMode: verify-full/);
          assert.ok(
            report.findings.some((f) => f.level === 'ok' && f.message.startsWith('Connected to PostgreSQL')),
            'the rest of the check still runs',
          );
        } finally {
          await t.db.close();
        }
      }
      const verified = targetFor(cluster, { host: 'localhost', sslMode: 'verify-full', sslRootCert: cluster.tls!.caFile });
      try {
        const report = await verified.db.check();
        assert.ok(!report.findings.some((f) => /sslMode/.test(f.message)), JSON.stringify(report));
      } finally {
        await verified.db.close();
      }
    });
  });
}
