/**
 * The RDS resolver and the Secrets Manager secret source, with the real SDK clients talking to
 * the fake AWS over HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AwsClients } from '../../src/adapters/aws/AwsClients.ts';
import { RdsResolver } from '../../src/adapters/aws/RdsResolver.ts';
import { SecretsManagerSecretSource } from '../../src/adapters/aws/SecretsManagerSecretSource.ts';
import { InputError, NotFoundError, TargetUnavailableError } from '../../src/domain/errors.ts';
import { redact } from '../../src/logger.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { awsClientConfig, TEST_AWS_ACCESS_KEY_ID, TEST_AWS_SECRET_ACCESS_KEY } from '../support/aws/awsEnv.ts';
import { rdsIntegration as rdsIntegrationConfig } from '../support/aws/rdsIntegration.ts';
import { ManualClock } from '../support/fakes.ts';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const US = 'us-east-1';
const EU = 'eu-west-1';

function clientsFor(fake: FakeAws, options: { maxAttempts?: number; secretAccessKey?: string } = {}): AwsClients {
  const { endpoint, credentials } = awsClientConfig(fake);
  return new AwsClients({
    endpoint,
    credentials: options.secretAccessKey ? { ...credentials, secretAccessKey: options.secretAccessKey } : credentials,
    maxAttempts: options.maxAttempts ?? 3,
  });
}

/** The connector's password plays no part in finding the resource. */
const rdsIntegration = (overrides: Record<string, unknown>) => rdsIntegrationConfig({ password: 'unused-here', ...overrides });

async function rejectsWith(promise: Promise<unknown>, type: abstract new (...args: never[]) => Error, ...patterns: RegExp[]) {
  await assert.rejects(promise, (err: Error) => {
    assert.ok(err instanceof type, `${err.name}: ${err.message}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

describe('RdsResolver', () => {
  const clock = new ManualClock();
  let fake: FakeAws;
  let clients: AwsClients;
  let resolver: RdsResolver;
  let prod: ReturnType<FakeAws['addInstance']>;
  let orders: ReturnType<FakeAws['addCluster']>;

  before(async () => {
    fake = await FakeAws.start({ clock });
    clients = clientsFor(fake);
    prod = fake.addInstance({
      region: US,
      id: 'prod-db-1',
      endpoint: 'prod-db-1.abc.us-east-1.rds.amazonaws.com',
      port: 5433,
      engineVersion: '16.4',
      iamAuth: true,
      tags: { owner: '@dba', team: 'core' },
    });
    orders = fake.addCluster({
      region: US,
      id: 'orders',
      endpoint: 'orders.cluster-abc.us-east-1.rds.amazonaws.com',
      engineVersion: '15.7',
    });
    fake.addInstance({ region: US, id: 'orders-a', clusterId: 'orders' });
    fake.addInstance({ region: US, id: 'orders-b', clusterId: 'orders', clusterWriter: true });
    fake.addInstance({ region: US, id: 'shop', engine: 'mysql', engineVersion: '8.0.39' });
    fake.addInstance({ region: US, id: 'new-db', status: 'creating', endpoint: '' });
  });
  after(async () => {
    clients.destroy();
    await fake.stop();
  });
  beforeEach(() => {
    resolver = new RdsResolver({ clients, clock, ttlMs: 60_000 });
    fake.clearCalls();
    fake.clearFailures();
  });

  it('resolves an instance: endpoint, engine, IAM flag, resource id, ARN, account, tags and server key', async () => {
    const r = await resolver.resolve(rdsIntegration({ instanceId: 'prod-db-1' }));
    assert.deepEqual(r, {
      kind: 'instance',
      identifier: 'prod-db-1',
      region: US,
      arn: 'arn:aws:rds:us-east-1:123456789012:db:prod-db-1',
      partition: 'aws',
      accountId: '123456789012',
      resourceId: prod.resourceId,
      engine: 'postgres',
      engineVersion: '16.4',
      status: 'available',
      endpoint: { host: 'prod-db-1.abc.us-east-1.rds.amazonaws.com', port: 5433 },
      iamAuthEnabled: true,
      tags: { owner: '@dba', team: 'core' },
      members: [],
      integration: 'prod',
      serverKey: `rds:us-east-1:${prod.resourceId}`,
    });
    assert.deepEqual(await resolver.endpoint(rdsIntegration({ instanceId: 'prod-db-1' })), {
      host: 'prod-db-1.abc.us-east-1.rds.amazonaws.com',
      port: 5433,
    });
  });

  it('resolves an Aurora cluster with its members, writer first; a member is the same server as its cluster', async () => {
    const cluster = await resolver.resolve(rdsIntegration({ clusterId: 'orders' }));
    assert.deepEqual(
      [cluster.kind, cluster.engine, cluster.resourceId, cluster.members, cluster.endpoint?.host],
      ['cluster', 'aurora-postgresql', orders.resourceId, ['orders-b', 'orders-a'], 'orders.cluster-abc.us-east-1.rds.amazonaws.com'],
    );
    const member = await resolver.resolve(rdsIntegration({ name: 'orders-a', instanceId: 'orders-a' }));
    assert.equal(member.clusterId, 'orders');
    assert.equal(member.serverKey, cluster.serverKey);
  });

  it('lets the config override where Sesame connects, port included or not', async () => {
    assert.deepEqual(await resolver.endpoint(rdsIntegration({ instanceId: 'prod-db-1', host: '127.0.0.1', port: 15432 })), {
      host: '127.0.0.1',
      port: 15432,
    });
    assert.deepEqual(await resolver.endpoint(rdsIntegration({ instanceId: 'prod-db-1', host: 'tunnel.internal' })), {
      host: 'tunnel.internal',
      port: 5433,
    });
  });

  it('asks RDS once per TTL for all integrations on one resource, and again when asked for fresh', async () => {
    const a = rdsIntegration({ instanceId: 'prod-db-1' });
    const b = rdsIntegration({ name: 'prod-other', instanceId: 'PROD-DB-1', database: 'other' });
    await Promise.all([resolver.resolve(a), resolver.resolve(b), resolver.endpoint(a)]);
    assert.equal(fake.calls('DescribeDBInstances').length, 1);
    clock.advance(59_000);
    await resolver.resolve(b);
    assert.equal(fake.calls('DescribeDBInstances').length, 1);
    clock.advance(2_000);
    await resolver.resolve(a);
    assert.equal(fake.calls('DescribeDBInstances').length, 2);
    await resolver.resolve(a, { fresh: true });
    assert.equal(fake.calls('DescribeDBInstances').length, 3);
  });

  it('says which integration names a missing instance or cluster, and what to fix', async () => {
    await rejectsWith(
      resolver.resolve(rdsIntegration({ instanceId: 'gone-db' })),
      NotFoundError,
      /integration prod/,
      /instanceId gone-db/,
      /in us-east-1/,
    );
    await rejectsWith(
      resolver.resolve(rdsIntegration({ clusterId: 'gone-cluster' })),
      NotFoundError,
      /clusterId gone-cluster/,
      /no DB cluster/,
    );
    await rejectsWith(resolver.resolve(rdsIntegration({ region: EU, instanceId: 'prod-db-1' })), NotFoundError, /in eu-west-1/);
  });

  it('refuses an instance that does not run PostgreSQL', async () => {
    await rejectsWith(
      resolver.resolve(rdsIntegration({ instanceId: 'shop' })),
      InputError,
      /integration prod/,
      /runs mysql, not PostgreSQL/,
    );
  });

  it('says when RDS has no endpoint yet, unless the config gives one', async () => {
    await rejectsWith(resolver.endpoint(rdsIntegration({ instanceId: 'new-db' })), TargetUnavailableError, /no endpoint/, /creating/);
    assert.deepEqual(await resolver.endpoint(rdsIntegration({ instanceId: 'new-db', host: 'h', port: 1 })), { host: 'h', port: 1 });
  });

  it('rides out throttling with the SDK’s retries', async () => {
    fake.throttleNext('DescribeDBInstances', 1);
    const r = await resolver.resolve(rdsIntegration({ instanceId: 'prod-db-1' }));
    assert.equal(r.identifier, 'prod-db-1');
    assert.deepEqual(
      fake.calls('DescribeDBInstances').map((c) => c.errorCode),
      ['Throttling', undefined],
    );
  });

  it('turns access denied into a clear error, and does not remember failures', async () => {
    fake.fail('DescribeDBInstances', 'AccessDenied', 403, {
      times: 1,
      message: 'User is not authorized to perform: rds:DescribeDBInstances',
    });
    await rejectsWith(
      resolver.resolve(rdsIntegration({ instanceId: 'prod-db-1' })),
      TargetUnavailableError,
      /may not describe the DB instance prod-db-1 in us-east-1/,
      /Allow rds:DescribeDBInstances/,
    );
    assert.equal((await resolver.resolve(rdsIntegration({ instanceId: 'prod-db-1' }))).identifier, 'prod-db-1');
  });
});

describe('RdsResolver with credentials AWS does not accept', () => {
  it('says the credentials were refused', async () => {
    const strict = await FakeAws.start({ credentials: { [TEST_AWS_ACCESS_KEY_ID]: TEST_AWS_SECRET_ACCESS_KEY } });
    const wrong = clientsFor(strict, { secretAccessKey: 'not-the-secret-key' });
    const right = clientsFor(strict);
    try {
      strict.addInstance({ region: US, id: 'prod-db-1' });
      const integration = rdsIntegration({ instanceId: 'prod-db-1' });
      await rejectsWith(
        new RdsResolver({ clients: wrong }).resolve(integration),
        TargetUnavailableError,
        /AWS refused Sesame's credentials/,
        /SignatureDoesNotMatch/,
      );
      assert.equal((await new RdsResolver({ clients: right }).resolve(integration)).identifier, 'prod-db-1');
    } finally {
      wrong.destroy();
      right.destroy();
      await strict.stop();
    }
  });
});

describe('SecretsManagerSecretSource', () => {
  const clock = new ManualClock();
  let fake: FakeAws;
  let clients: AwsClients;
  let source: SecretsManagerSecretSource;

  before(async () => {
    fake = await FakeAws.start({ clock });
    clients = clientsFor(fake, { maxAttempts: 2 });
  });
  after(async () => {
    clients.destroy();
    await fake.stop();
  });
  beforeEach(() => {
    source = new SecretsManagerSecretSource({ clients, clock, ttlMs: 60_000 });
    fake.clearCalls();
    fake.clearFailures();
  });

  it('reads an RDS-managed secret: username and password, the rest ignored; the password is redacted from then on', async () => {
    const password = 'Rds-Managed-Password-0001';
    const { arn } = fake.putSecret(US, 'rds!db-1234', {
      username: 'sesame_connector',
      password,
      engine: 'postgres',
      host: 'somewhere-else.example',
      port: 1234,
      dbname: 'postgres',
    });
    assert.deepEqual(await source.read(arn), { username: 'sesame_connector', password });
    assert.equal(redact(`login with ${password} failed`), 'login with [REDACTED] failed');
  });

  it('reads a secret in the region its ARN names', async () => {
    const { arn } = fake.putSecret(EU, 'eu-connector', { password: 'Eu-Only-Password-42' });
    assert.deepEqual(await source.read(arn), { password: 'Eu-Only-Password-42' });
    assert.deepEqual(
      fake.calls('GetSecretValue').map((c) => c.region),
      [EU],
    );
  });

  it('caches, reads again after the TTL, and bypasses the cache when asked for fresh: a rotation is picked up', async () => {
    const { arn } = fake.putSecret(US, 'rotating', { username: 'c', password: 'first-password-1' });
    await Promise.all([source.read(arn), source.read(arn)]);
    fake.putSecret(US, arn, { username: 'c', password: 'second-password-2' });
    assert.equal((await source.read(arn)).password, 'first-password-1');
    assert.equal(fake.calls('GetSecretValue').length, 1);
    assert.equal((await source.read(arn, { fresh: true })).password, 'second-password-2');
    assert.equal((await source.read(arn)).password, 'second-password-2');
    assert.equal(fake.calls('GetSecretValue').length, 2);
    fake.putSecret(US, arn, { username: 'c', password: 'third-password-3' });
    clock.advance(61_000);
    assert.equal((await source.read(arn)).password, 'third-password-3');
  });

  it('says clearly when a secret is missing, scheduled for deletion, or not readable by Sesame', async () => {
    const missing = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf';
    await rejectsWith(
      source.read(missing),
      NotFoundError,
      /no secret arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-AbCdEf in us-east-1/,
    );
    const { arn } = fake.putSecret(US, 'doomed', { password: 'doomed-password' });
    fake.deleteSecret(US, arn);
    await rejectsWith(source.read(arn), NotFoundError, /scheduled for deletion/);
    const guarded = fake.putSecret(US, 'guarded', { password: 'guarded-password' });
    fake.fail('GetSecretValue', 'AccessDeniedException', 400, { times: 1 });
    await rejectsWith(source.read(guarded.arn), TargetUnavailableError, /may not read the secret/, /secretsmanager:GetSecretValue/);
    assert.equal((await source.read(guarded.arn)).password, 'guarded-password');
  });

  it('refuses a secret that is not JSON with a password, without ever showing its value', async () => {
    const plain = fake.putSecret(US, 'plain', 'just-the-password-hunter2');
    const noPassword = fake.putSecret(US, 'no-password', { username: 'c', pass: 'misspelt-key-hunter3' });
    const emptyPassword = fake.putSecret(US, 'empty', { username: 'c', password: '' });
    for (const { arn } of [plain, noPassword, emptyPassword]) {
      await assert.rejects(source.read(arn), (err: Error) => {
        assert.ok(err instanceof InputError);
        assert.match(err.message, /is not JSON with a password/);
        assert.match(err.message, /"username": "…", "password": "…"/);
        assert.ok(!err.message.includes('hunter'), err.message);
        return true;
      });
    }
  });
});
