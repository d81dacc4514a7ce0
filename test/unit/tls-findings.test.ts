import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertIamTls } from '../../src/adapters/aws/connectorCredentials.ts';
import { tlsFindings } from '../../src/adapters/postgres/tlsFindings.ts';
import { integrationSchema, SSL_MODES, type IntegrationConfig } from '../../src/config/schema.ts';
import { rdsIntegration } from '../support/aws/rdsIntegration.ts';
import { InputError } from '../../src/domain/errors.ts';

const local = (extra: Record<string, unknown>) =>
  integrationSchema.parse({
    name: 'local',
    type: 'postgresql',
    host: 'db',
    database: 'app',
    username: 'c',
    password: 'pw-for-tests',
    ...extra,
  });
const rds = (extra: Record<string, unknown>) => rdsIntegration({ instanceId: 'prod-1', username: 'c', password: 'pw-for-tests', ...extra });

describe('sesame check on TLS', { timeout: 10_000 }, () => {
  it('warns about every sslMode below verify-ca, saying what an attacker can do and how to fix it', () => {
    for (const sslMode of SSL_MODES) {
      for (const integration of [local({ sslMode }), rds({ sslMode })]) {
        const findings = tlsFindings(integration);
        if (sslMode === 'verify-ca' || sslMode === 'verify-full') {
          assert.deepEqual(findings, [], sslMode);
          continue;
        }
        assert.equal(findings.length, 1, sslMode);
        const [warning] = findings;
        assert.equal(warning!.level, 'warn');
        assert.match(warning!.message, new RegExp(`^${integration.name} uses sslMode ${sslMode}, which `));
        assert.match(warning!.message, /pose as the server or sit in the middle, read and change every statement/);
        assert.match(
          warning!.message,
          integration.type === 'aws-rds-postgresql'
            ? /Set sslMode: verify-full; the RDS CA bundle is built in\.$/
            : /Set sslMode: verify-full, with sslRootCert/,
        );
      }
    }
    assert.deepEqual(tlsFindings(local({})), [], 'the default verifies');
  });

  it('says what require with a CA file checks and what it does not', () => {
    const [warning] = tlsFindings(local({ sslMode: 'require', sslRootCert: './ca.pem' }));
    assert.equal(warning?.level, 'warn');
    assert.match(warning!.message, /treats as verify-ca \(the certificate chain is checked, the host name is not\)/);
  });

  it('refuses an IAM token over any sslMode that does not verify the server, for configs made in code', () => {
    for (const sslMode of ['disable', 'allow', 'prefer', 'require'] as const) {
      const integration = { ...rds({ authType: 'iam', password: undefined }), sslMode } as IntegrationConfig;
      assert.throws(
        () => assertIamTls(integration),
        (err: Error) =>
          err instanceof InputError && err.message.includes(`its sslMode is ${sslMode}, which does not verify the server's certificate`),
      );
    }
    assert.doesNotThrow(() => assertIamTls(rds({ authType: 'iam', password: undefined, sslMode: 'verify-ca' })));
  });
});
