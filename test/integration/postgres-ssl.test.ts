import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { SslMode } from '../../src/config/schema.ts';
import { ConnectionPools, type ConnectionTarget } from '../../src/adapters/postgres/connection.ts';
import { TargetUnavailableError } from '../../src/domain/errors.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { targetFor } from '../support/postgresTarget.ts';

/**
 * Opens one connection with the given sslMode and reports whether it uses TLS, as the server
 * sees it. Throws what the connection layer throws when it cannot connect.
 */
async function connectWith(
  cluster: TestCluster,
  sslMode: SslMode,
  options: { host?: string; sslRootCert?: string } = {},
): Promise<{ tls: boolean }> {
  const target: ConnectionTarget = {
    integration: 'tls-test',
    host: options.host ?? cluster.host,
    port: cluster.port,
    user: cluster.connector.username,
    sslMode,
    sslRootCert: options.sslRootCert,
  };
  const pools = new ConnectionPools({ target: async () => target, credentials: async () => cluster.connector.password });
  try {
    return await pools.withClient('postgres', async (client) => {
      const { rows } = await client.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      return { tls: rows[0]!.ssl };
    });
  } finally {
    await pools.closeAll();
  }
}

async function assertRefused(attempt: Promise<unknown>, reason: RegExp, password: string): Promise<void> {
  await assert.rejects(attempt, (err: Error) => {
    assert.ok(err instanceof TargetUnavailableError, `${err.name}: ${err.message}`);
    assert.match(err.message, reason);
    assert.ok(!err.message.includes(password));
    return true;
  });
}

for (const version of pgVersions()) {
  describe(`PostgreSQL ${version}: sslMode means what it means in libpq`, () => {
    let tlsOnly: TestCluster;
    let plain: TestCluster;

    before(async () => {
      [tlsOnly, plain] = await Promise.all([startCluster(version, { ssl: true, sslOnly: true }), startCluster(version)]);
    });

    after(async () => {
      await Promise.all([tlsOnly?.stop(), plain?.stop()]);
    });

    it('verify-full accepts the right CA and host name, and refuses another host name or CA', async () => {
      const ca = tlsOnly.tls!.caFile;
      assert.deepEqual(await connectWith(tlsOnly, 'verify-full', { host: 'localhost', sslRootCert: ca }), { tls: true });
      // The certificate names localhost, not 127.0.0.1.
      await assertRefused(
        connectWith(tlsOnly, 'verify-full', { host: '127.0.0.1', sslRootCert: ca }),
        /127\.0\.0\.1|altnames|ERR_TLS_CERT_ALTNAME_INVALID/,
        tlsOnly.connector.password,
      );
      await assertRefused(
        connectWith(tlsOnly, 'verify-full', { host: 'localhost', sslRootCert: tlsOnly.tls!.otherCaFile }),
        /self[- ]signed|unable to verify|local issuer/i,
        tlsOnly.connector.password,
      );
    });

    it('verify-ca checks the chain but not the host name', async () => {
      assert.deepEqual(await connectWith(tlsOnly, 'verify-ca', { host: '127.0.0.1', sslRootCert: tlsOnly.tls!.caFile }), { tls: true });
      await assertRefused(
        connectWith(tlsOnly, 'verify-ca', { host: '127.0.0.1', sslRootCert: tlsOnly.tls!.otherCaFile }),
        /self[- ]signed|unable to verify|local issuer/i,
        tlsOnly.connector.password,
      );
    });

    it('require encrypts without a CA, and verifies the chain when one is given (as libpq does)', async () => {
      assert.deepEqual(await connectWith(tlsOnly, 'require'), { tls: true });
      assert.deepEqual(await connectWith(tlsOnly, 'require', { sslRootCert: tlsOnly.tls!.caFile }), { tls: true });
      await assertRefused(
        connectWith(tlsOnly, 'require', { sslRootCert: tlsOnly.tls!.otherCaFile }),
        /self[- ]signed|unable to verify|local issuer/i,
        tlsOnly.connector.password,
      );
    });

    it('prefer and allow use TLS where the server insists on it; disable does not', async () => {
      assert.deepEqual(await connectWith(tlsOnly, 'prefer'), { tls: true });
      // allow tries without TLS first, is refused, and falls back to TLS.
      assert.deepEqual(await connectWith(tlsOnly, 'allow'), { tls: true });
      await assertRefused(connectWith(tlsOnly, 'disable'), /no encryption|pg_hba/, tlsOnly.connector.password);
    });

    it('against a server without TLS: disable, allow and prefer connect in plain text; require fails clearly', async () => {
      assert.deepEqual(await connectWith(plain, 'disable'), { tls: false });
      assert.deepEqual(await connectWith(plain, 'allow'), { tls: false });
      assert.deepEqual(await connectWith(plain, 'prefer'), { tls: false });
      await assertRefused(connectWith(plain, 'require'), /does not support SSL/, plain.connector.password);
      await assertRefused(connectWith(plain, 'verify-full', { host: 'localhost' }), /does not support SSL/, plain.connector.password);
    });

    it('the engine works through TLS end to end, with a readable error for a missing CA file', async () => {
      const t = targetFor(tlsOnly, { host: 'localhost', sslMode: 'verify-full', sslRootCert: tlsOnly.tls!.caFile });
      try {
        const report = await t.db.check();
        assert.ok(
          report.findings.some((f) => f.level === 'ok' && f.message.startsWith('Connected to PostgreSQL')),
          JSON.stringify(report),
        );
        assert.deepEqual(await t.db.connectionInfo(), {
          host: 'localhost',
          port: tlsOnly.port,
          database: APP.database,
          sslMode: 'verify-full',
        });
      } finally {
        await t.db.close();
      }
      const missing = targetFor(tlsOnly, { host: 'localhost', sslMode: 'verify-full', sslRootCert: '/nonexistent/ca.pem' });
      try {
        await assertRefused(missing.db.listManagedUsers(), /sslRootCert file \/nonexistent\/ca\.pem/, tlsOnly.connector.password);
      } finally {
        await missing.db.close();
      }
    });
  });
}
