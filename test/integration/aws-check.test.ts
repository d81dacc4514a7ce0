/**
 * `sesame check`'s AWS findings against the fake AWS, which here checks SigV4 signatures and
 * refuses unknown keys as AWS does: every missing set-up step is an error or warning that says
 * what to do, and no finding ever shows a secret.
 */
import assert from 'node:assert/strict';
import { after, before, afterEach, describe, it } from 'node:test';
import { awsCheckFindings } from '../../src/adapters/aws/awsCheck.ts';
import { AwsClients } from '../../src/adapters/aws/AwsClients.ts';
import { RdsResolver } from '../../src/adapters/aws/RdsResolver.ts';
import { SecretsManagerSecretSource } from '../../src/adapters/aws/SecretsManagerSecretSource.ts';
import { integrationSchema, type IntegrationConfig } from '../../src/config/schema.ts';
import type { CheckFinding } from '../../src/ports/TargetDatabase.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { awsClientConfig, TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY } from '../support/aws/awsEnv.ts';
import { rdsIntegration } from '../support/aws/rdsIntegration.ts';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const US = 'us-east-1';
const GOOD_PASSWORD = 'Connector-Password-Never-Shown-1';

function deps(clients: AwsClients) {
  return { clients, resolver: new RdsResolver({ clients }), secrets: new SecretsManagerSecretSource({ clients }) };
}

function levels(findings: CheckFinding[]): string[] {
  return findings.map((f) => f.level);
}

function find(findings: CheckFinding[], pattern: RegExp): CheckFinding {
  const found = findings.find((f) => pattern.test(f.message));
  assert.ok(found, `no finding matches ${pattern}: ${JSON.stringify(findings, null, 2)}`);
  return found;
}

describe('awsCheckFindings', () => {
  let fake: FakeAws;
  let clients: AwsClients;
  let goodSecret: string;
  let masterSecret: string;

  const rds = (overrides: Record<string, unknown>): IntegrationConfig =>
    rdsIntegration({ instanceId: 'good-db', secretArn: goodSecret, ...overrides });

  before(async () => {
    fake = await FakeAws.start({ credentials: { [TEST_AWS_ACCESS_KEY_ID]: TEST_AWS_SECRET_ACCESS_KEY } });
    const { endpoint, credentials } = awsClientConfig(fake);
    clients = new AwsClients({ endpoint, credentials, maxAttempts: 1 });
    fake.addInstance({ region: US, id: 'good-db', engineVersion: '16.4', iamAuth: true, tags: { owner: '@dba' } });
    fake.addLogFile(US, 'good-db', 'error/postgresql.log.2026-06-01-09', 'x\n');
    fake.addInstance({ region: US, id: 'no-iam-db', iamAuth: false });
    fake.addInstance({ region: US, id: 'creating-db', status: 'creating', iamAuth: true });
    fake.addInstance({ region: US, id: 'shop', engine: 'mysql' });
    fake.addCluster({ region: US, id: 'orders', iamAuth: false });
    goodSecret = fake.putSecret(US, 'sesame/connector', { username: 'sesame_connector', password: GOOD_PASSWORD }).arn;
    masterSecret = fake.putSecret(US, 'rds!db-master', { username: 'postgres', password: 'Master-Password-Never-Shown-2' }).arn;
  });
  after(async () => {
    clients.destroy();
    await fake.stop();
  });
  afterEach(() => fake.clearFailures());

  it('finds nothing wrong with a complete set-up, and says what it checked', async () => {
    const findings = await awsCheckFindings(rds({ userAuth: 'iam', audit: true, owners: { resourceTagKey: 'owner' } }), deps(clients));
    assert.deepEqual(levels(findings), ['ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    find(findings, /verified \(verify-full\) against the RDS CA bundle/);
    find(findings, /AWS answers with Sesame's credentials: the DB instance good-db in us-east-1 runs postgres 16\.4/);
    find(findings, /IAM database authentication is enabled on good-db, as people \(userAuth: iam\) need/);
    find(findings, /The tag owner of good-db names its owner: @dba/);
    find(findings, /may read the log files of good-db/);
    find(findings, /The secret arn:aws:secretsmanager:.* is readable and holds a password for sesame_connector/);
    assert.ok(!JSON.stringify(findings).includes(GOOD_PASSWORD));
  });

  it('says when AWS refuses the credentials, for RDS and for the secret', async () => {
    const { endpoint, credentials } = awsClientConfig(fake);
    const wrong = new AwsClients({ endpoint, credentials: { ...credentials, secretAccessKey: 'not-the-key' }, maxAttempts: 1 });
    try {
      const findings = await awsCheckFindings(rds({}), deps(wrong));
      assert.deepEqual(levels(findings), ['ok', 'error', 'error']);
      assert.match(findings[1]!.message, /AWS refused Sesame's credentials when it tried to describe the DB instance good-db in us-east-1/);
      assert.match(findings[2]!.message, /AWS refused Sesame's credentials when it tried to read the secret/);
    } finally {
      wrong.destroy();
    }
  });

  it('says when the instance is missing, not PostgreSQL, or not available yet', async () => {
    find(
      await awsCheckFindings(rds({ instanceId: 'nope' }), deps(clients)),
      /names instanceId nope, but RDS has no DB instance nope in us-east-1/,
    );
    const mysql = find(await awsCheckFindings(rds({ instanceId: 'shop' }), deps(clients)), /runs mysql, not PostgreSQL/);
    assert.equal(mysql.level, 'error');
    const creating = find(await awsCheckFindings(rds({ instanceId: 'creating-db' }), deps(clients)), /is creating, not available/);
    assert.equal(creating.level, 'warn');
  });

  it('says how to enable IAM authentication where the connector or people need it', async () => {
    const instance = find(
      await awsCheckFindings(rds({ instanceId: 'no-iam-db', authType: 'iam', secretArn: undefined }), deps(clients)),
      /IAM database authentication is disabled on no-iam-db/,
    );
    assert.equal(instance.level, 'error');
    assert.match(instance.message, /the connector \(authType: iam\) sign/);
    assert.match(
      instance.message,
      /aws rds modify-db-instance --db-instance-identifier no-iam-db --enable-iam-database-authentication --apply-immediately --region us-east-1/,
    );
    const cluster = find(
      await awsCheckFindings(rds({ instanceId: undefined, clusterId: 'orders', userAuth: 'iam' }), deps(clients)),
      /IAM database authentication is disabled on orders/,
    );
    assert.match(cluster.message, /aws rds modify-db-cluster --db-cluster-identifier orders/);
  });

  it('says when the secret is missing or holds another user’s password, never showing it', async () => {
    const missing = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf';
    find(await awsCheckFindings(rds({ secretArn: missing }), deps(clients)), /Secrets Manager has no secret .*gone-AbCdEf/);
    const findings = await awsCheckFindings(rds({ secretArn: masterSecret }), deps(clients));
    const mismatch = find(findings, /holds the password of the database user postgres/);
    assert.equal(mismatch.level, 'error');
    assert.ok(!JSON.stringify(findings).includes('Master-Password-Never-Shown-2'));
  });

  it('warns about unverified TLS and refuses a plain-text sslMode for IAM', async () => {
    const require = find(await awsCheckFindings(rds({ sslMode: 'require' }), deps(clients)), /uses sslMode require/);
    assert.equal(require.level, 'warn');
    assert.match(require.message, /Set sslMode: verify-full/);
    const plain = find(
      // The config schema refuses this at load; the check still catches it in a config made in code.
      await awsCheckFindings(
        { ...rds({ sslMode: 'verify-full', authType: 'iam', secretArn: undefined }), sslMode: 'prefer' },
        deps(clients),
      ),
      /over TLS only, but its sslMode is prefer/,
    );
    assert.equal(plain.level, 'error');
    const ownCa = find(await awsCheckFindings(rds({ sslMode: 'verify-ca', sslRootCert: './ca.pem' }), deps(clients)), /verify-ca/);
    assert.match(ownCa.message, /against the CA file \.\/ca\.pem/);
  });

  it('warns about a missing owner tag, and says when the session logs cannot be read', async () => {
    const untagged = find(
      await awsCheckFindings(rds({ instanceId: 'no-iam-db', owners: { resourceTagKey: 'owner' } }), deps(clients)),
      /has no owner tag/,
    );
    assert.equal(untagged.level, 'warn');
    fake.fail('DescribeDBLogFiles', 'AccessDenied', 403);
    const logs = find(await awsCheckFindings(rds({ audit: true }), deps(clients)), /audit: true needs the session logs/);
    assert.equal(logs.level, 'error');
    assert.match(logs.message, /Allow rds:DescribeDBLogFiles and rds:DownloadDBLogFilePortion/);
  });

  it('checks only the secret of a plain PostgreSQL integration', async () => {
    fake.clearCalls();
    const findings = await awsCheckFindings(
      integrationSchema.parse({
        name: 'local',
        type: 'postgresql',
        host: 'db',
        database: 'app',
        username: 'sesame_connector',
        secretArn: goodSecret,
      }),
      deps(clients),
    );
    assert.deepEqual(levels(findings), ['ok']);
    assert.deepEqual(
      fake.calls().map((c) => c.action),
      ['GetSecretValue'],
    );
  });
});
