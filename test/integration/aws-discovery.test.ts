/**
 * Discovery of tagged RDS and Aurora PostgreSQL, and owners from tags, with the real RDS and
 * Secrets Manager clients against the fake AWS: several pages per region, two regions, a region
 * that fails, throttling, and resources that cannot become integrations.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { RDSClient } from '@aws-sdk/client-rds';
import { AwsClients } from '../../src/adapters/aws/AwsClients.ts';
import { RdsDiscovery, SECRET_READS } from '../../src/adapters/aws/RdsDiscovery.ts';
import { RdsResolver } from '../../src/adapters/aws/RdsResolver.ts';
import { RdsResourceOwners } from '../../src/adapters/aws/RdsResourceOwners.ts';
import { SecretsManagerSecretSource } from '../../src/adapters/aws/SecretsManagerSecretSource.ts';
import { configSchema, integrationSchema, type DiscoveryConfig, type IntegrationConfig } from '../../src/config/schema.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { awsClientConfig } from '../support/aws/awsEnv.ts';
import { rdsIntegration } from '../support/aws/rdsIntegration.ts';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const US = 'us-east-1';
const EU = 'eu-west-1';
const TAG = 'sesame-secret';

function discoveryEntries(entries: unknown[]): DiscoveryConfig[] {
  return configSchema.parse({ discovery: entries }).discovery;
}

const ENTRY = {
  type: 'aws-rds',
  regions: [US, EU],
  secretTagKey: TAG,
  tagFilter: { env: 'prod' },
  defaults: { database: 'app', audit: true, owners: { integration: ['@dba'], resourceTagKey: 'owner' } },
};

/** AWS clients whose RDS client for one region talks to a port where nothing listens. */
class OneRegionDown extends AwsClients {
  readonly #dead: AwsClients;
  constructor(
    live: ConstructorParameters<typeof AwsClients>[0],
    readonly down: string,
  ) {
    super(live);
    this.#dead = new AwsClients({ ...live, endpoint: 'http://127.0.0.1:9', maxAttempts: 1 });
  }
  override rds(region: string): RDSClient {
    return region === this.down ? this.#dead.rds(region) : super.rds(region);
  }
  override destroy(): void {
    this.#dead.destroy();
    super.destroy();
  }
}

describe('RdsDiscovery', () => {
  let fake: FakeAws;
  let clients: AwsClients;
  const secretArns = new Map<string, string>();

  /** A connector secret per resource, as an admin would make them. */
  function secretFor(region: string, id: string, username = 'sesame_connector'): string {
    const { arn } = fake.putSecret(region, `sesame/${id}`, { username, password: `password-of-${id}` });
    secretArns.set(`${region}/${id}`, arn);
    return arn;
  }

  before(async () => {
    // Seven records a page at most, so every region takes several pages.
    fake = await FakeAws.start({ pageSize: 7 });
    const { endpoint, credentials } = awsClientConfig(fake);
    clients = new AwsClients({ endpoint, credentials, maxAttempts: 3 });
    for (let n = 0; n < 12; n += 1) {
      const id = `app-${String(n).padStart(2, '0')}`;
      fake.addInstance({ region: US, id, tags: { [TAG]: secretFor(US, id), env: 'prod' } });
    }
    for (let n = 0; n < 3; n += 1) fake.addInstance({ region: US, id: `untagged-${n}`, tags: { env: 'prod' } });
    fake.addInstance({ region: US, id: 'shop', engine: 'mysql', tags: { [TAG]: secretFor(US, 'shop'), env: 'prod' } });
    fake.addInstance({ region: US, id: 'staging-db', tags: { [TAG]: secretFor(US, 'staging-db'), env: 'staging' } });
    fake.addCluster({ region: US, id: 'orders', tags: { [TAG]: secretFor(US, 'orders'), env: 'prod', owner: 'U0ORDERS' } });
    fake.addInstance({ region: US, id: 'orders-1', clusterId: 'orders', tags: { [TAG]: secretArns.get(`${US}/orders`)!, env: 'prod' } });
    fake.addInstance({ region: US, id: 'orders-2', clusterId: 'orders', tags: { [TAG]: secretArns.get(`${US}/orders`)!, env: 'prod' } });
    fake.addCluster({ region: US, id: 'analytics', engine: 'aurora-mysql', tags: { [TAG]: secretFor(US, 'analytics'), env: 'prod' } });
    fake.addInstance({ region: US, id: 'prod-db-1', tags: { [TAG]: secretFor(US, 'prod-db-1'), env: 'prod' } });
    fake.addInstance({ region: EU, id: 'prod-db-1', tags: { [TAG]: secretFor(EU, 'prod-db-1', 'eu_connector'), env: 'prod' } });
    fake.addInstance({ region: EU, id: 'Reports-DB', tags: { [TAG]: secretFor(EU, 'reports-db'), env: 'prod' } });
  });
  after(async () => {
    clients.destroy();
    await fake.stop();
  });
  beforeEach(() => {
    fake.clearCalls();
    fake.clearFailures();
  });

  const expectedNames = [
    ...Array.from({ length: 12 }, (_, n) => `app-${String(n).padStart(2, '0')}`),
    'orders',
    'prod-db-1-eu-west-1',
    'prod-db-1-us-east-1',
    'reports-db',
  ].sort();

  it('finds every tagged PostgreSQL instance and cluster in every region, across pages, as full integrations', async () => {
    const discovery = new RdsDiscovery({ clients, secrets: new SecretsManagerSecretSource({ clients }) });
    const { integrations, errors } = await discovery.discover(discoveryEntries([ENTRY]));
    assert.deepEqual(errors, []);
    assert.deepEqual(
      integrations.map((i) => i.name),
      expectedNames,
    );
    const orders = integrations.find((i) => i.name === 'orders')!;
    assert.deepEqual(
      orders,
      integrationSchema.parse({
        name: 'orders',
        type: 'aws-rds-postgresql',
        region: US,
        clusterId: 'orders',
        secretArn: secretArns.get(`${US}/orders`),
        username: 'sesame_connector',
        database: 'app',
        sslMode: 'verify-full',
        audit: true,
        owners: { integration: ['@dba'], resourceTagKey: 'owner' },
      }),
    );
    const eu = integrations.find((i) => i.name === 'prod-db-1-eu-west-1')!;
    assert.deepEqual(
      [eu.type, eu.region, eu.type === 'aws-rds-postgresql' && eu.instanceId, eu.username, eu.secretArn],
      ['aws-rds-postgresql', EU, 'prod-db-1', 'eu_connector', secretArns.get(`${EU}/prod-db-1`)],
    );
    const usInstanceCalls = fake.calls('DescribeDBInstances').filter((c) => c.region === US);
    assert.ok(usInstanceCalls.length >= 2, `instances were read in ${usInstanceCalls.length} page(s)`);
    assert.ok(usInstanceCalls.slice(1).every((c) => typeof c.params.Marker === 'string'));
  });

  it('reports a region that fails and keeps the other regions’ integrations, under the names they had', async () => {
    const secrets = new SecretsManagerSecretSource({ clients });
    const before = await new RdsDiscovery({ clients, secrets }).discover(discoveryEntries([ENTRY]));
    const { endpoint, credentials } = awsClientConfig(fake);
    const partly = new OneRegionDown({ endpoint, credentials, maxAttempts: 3 }, EU);
    try {
      const discovery = new RdsDiscovery({ clients: partly, secrets });
      const { integrations, errors } = await discovery.discover(discoveryEntries([ENTRY]), before.integrations);
      assert.deepEqual(
        integrations.map((i) => i.name),
        expectedNames.filter((name) => !['prod-db-1-eu-west-1', 'reports-db'].includes(name)),
      );
      assert.equal(errors.length, 1);
      assert.deepEqual([errors[0]!.discovery, errors[0]!.region, errors[0]!.resource], [0, EU, undefined]);
      assert.match(errors[0]!.message, /cannot reach AWS to list the DB instances in eu-west-1/);
      // Without an earlier result, the identifier is unique among what could be read.
      const fresh = await discovery.discover(discoveryEntries([ENTRY]));
      assert.ok(fresh.integrations.some((i) => i.name === 'prod-db-1'));
    } finally {
      partly.destroy();
    }
  });

  it('rides out throttling with the SDK’s retries', async () => {
    fake.throttleNext('DescribeDBClusters', 1);
    const discovery = new RdsDiscovery({ clients, secrets: new SecretsManagerSecretSource({ clients }) });
    const { integrations, errors } = await discovery.discover(discoveryEntries([{ ...ENTRY, regions: [US] }]));
    assert.deepEqual(errors, []);
    assert.equal(integrations.length, 14);
    assert.equal(fake.calls('DescribeDBClusters').filter((c) => c.errorCode === 'Throttling').length, 1);
  });

  it('reports resources that cannot become integrations, by name, and keeps the others', async () => {
    const local = await FakeAws.start();
    const { endpoint, credentials } = awsClientConfig(local);
    const localClients = new AwsClients({ endpoint, credentials, maxAttempts: 1 });
    try {
      const good = local.putSecret(US, 'good', { username: 'sesame_connector', password: 'good-password-1' });
      const noUser = local.putSecret(US, 'no-user', { password: 'no-user-password-1' });
      local.addInstance({ region: US, id: 'good', tags: { [TAG]: good.arn } });
      local.addInstance({ region: US, id: 'no-user', tags: { [TAG]: noUser.arn } });
      local.addInstance({
        region: US,
        id: 'gone-secret',
        tags: { [TAG]: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf' },
      });
      local.addInstance({ region: US, id: 'not-an-arn', tags: { [TAG]: 'sesame/connector' } });
      const discovery = new RdsDiscovery({ clients: localClients, secrets: new SecretsManagerSecretSource({ clients: localClients }) });
      const { integrations, errors } = await discovery.discover(discoveryEntries([{ type: 'aws-rds', regions: [US], secretTagKey: TAG }]));
      assert.deepEqual(
        integrations.map((i) => [i.name, i.database, i.sslMode]),
        [['good', 'postgres', 'verify-full']],
      );
      const byResource = Object.fromEntries(errors.map((e) => [e.resource, e]));
      assert.deepEqual(Object.keys(byResource).sort(), ['gone-secret', 'no-user', 'not-an-arn']);
      assert.equal(byResource['no-user']!.integration, 'no-user');
      assert.match(byResource['no-user']!.message, /has no username/);
      assert.match(byResource['gone-secret']!.message, /no secret/);
      assert.match(byResource['not-an-arn']!.message, /is not a Secrets Manager secret ARN/);
      assert.ok(!JSON.stringify(errors).includes('no-user-password-1'));
    } finally {
      localClients.destroy();
      await local.stop();
    }
  });

  it('reads secrets a few at a time, with the same integrations and errors, in the same order, as one at a time', {
    timeout: 60_000,
  }, async () => {
    const local = await FakeAws.start({ pageSize: 20 });
    const { endpoint, credentials } = awsClientConfig(local);
    const localClients = new AwsClients({ endpoint, credentials, maxAttempts: 1 });
    try {
      for (let n = 0; n < 60; n += 1) {
        const id = `db-${String(n).padStart(2, '0')}`;
        // Every seventh secret has no username and every eleventh is gone: errors among the reads.
        const secret =
          n % 11 === 5
            ? 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf'
            : local.putSecret(
                US,
                `sesame/${id}`,
                n % 7 === 3 ? { password: `pw-${id}-123` } : { username: `u_${n}`, password: `pw-${id}-123` },
              ).arn;
        local.addInstance({ region: US, id, tags: { [TAG]: secret } });
      }
      local.addCluster({
        region: US,
        id: 'aurora',
        tags: { [TAG]: local.putSecret(US, 'aurora', { username: 'c', password: 'aurora-pw-1' }).arn },
      });
      let inFlight = 0;
      let most = 0;
      const counted = () => {
        const source = new SecretsManagerSecretSource({ clients: localClients });
        return {
          async read(ref: string) {
            most = Math.max(most, ++inFlight);
            try {
              return await source.read(ref);
            } finally {
              inFlight -= 1;
            }
          },
        };
      };
      const entries = discoveryEntries([{ type: 'aws-rds', regions: [US], secretTagKey: TAG }]);
      const one = await new RdsDiscovery({ clients: localClients, secrets: counted(), secretReads: 1 }).discover(entries);
      assert.equal(most, 1);
      most = 0;
      const bounded = await new RdsDiscovery({ clients: localClients, secrets: counted() }).discover(entries);
      assert.equal(most, SECRET_READS);
      assert.deepEqual(bounded, one);
      assert.equal(bounded.integrations.length, 61 - bounded.errors.length);
      assert.deepEqual(
        bounded.errors.map((e) => e.resource),
        one.errors.map((e) => e.resource),
      );
      assert.ok(bounded.errors.some((e) => /has no username/.test(e.message)));
      assert.ok(bounded.errors.some((e) => /no secret/.test(e.message)));
    } finally {
      localClients.destroy();
      await local.stop();
    }
  });
});

describe('RdsResourceOwners', () => {
  let fake: FakeAws;
  let clients: AwsClients;
  let owners: RdsResourceOwners;
  let tagged: ReturnType<FakeAws['addInstance']>;
  const integrations = new Map<string, IntegrationConfig>();
  const rds = (name: string, overrides: Record<string, unknown>) =>
    integrations.set(name, rdsIntegration({ name, username: 'c', password: 'p', ...overrides }));

  before(async () => {
    fake = await FakeAws.start();
    const { endpoint, credentials } = awsClientConfig(fake);
    clients = new AwsClients({ endpoint, credentials, maxAttempts: 1 });
    tagged = fake.addInstance({ region: US, id: 'tagged', tags: { owner: '@payments' } });
    fake.addCluster({ region: US, id: 'aurora', tags: { owner: ' dba@example.com ' } });
    fake.addInstance({ region: US, id: 'untagged', tags: { owner: '   ' } });
    rds('tagged', { instanceId: 'tagged', owners: { resourceTagKey: 'owner' } });
    rds('aurora', { clusterId: 'aurora', owners: { resourceTagKey: 'owner' } });
    rds('untagged', { instanceId: 'untagged', owners: { resourceTagKey: 'owner' } });
    rds('no-key', { instanceId: 'tagged' });
    integrations.set(
      'local',
      integrationSchema.parse({
        name: 'local',
        type: 'postgresql',
        host: 'h',
        database: 'd',
        username: 'u',
        password: 'p',
        owners: { resourceTagKey: 'owner' },
      }),
    );
    owners = new RdsResourceOwners({ integration: (name) => integrations.get(name), resolver: new RdsResolver({ clients }), clients });
  });
  after(async () => {
    clients.destroy();
    await fake.stop();
  });

  it('reads the owner from the instance’s or cluster’s tag, as it is now', async () => {
    assert.equal(await owners.ownerOf({ integration: 'tagged', database: 'app' }), '@payments');
    assert.equal(await owners.ownerOf({ integration: 'aurora' }), 'dba@example.com');
    fake.setTags(tagged.arn, { owner: 'U0NEWOWNER' });
    assert.equal(await owners.ownerOf({ integration: 'tagged' }), 'U0NEWOWNER');
  });

  it('names nobody without a tag key, a tag, an RDS integration or an integration at all', async () => {
    for (const integration of ['untagged', 'no-key', 'local', 'unknown']) {
      assert.equal(await owners.ownerOf({ integration }), undefined, integration);
    }
  });

  it('falls back to the tags RDS described when ListTagsForResource is denied', async () => {
    const resolver = new RdsResolver({ clients });
    const denied = new RdsResourceOwners({ integration: (name) => integrations.get(name), resolver, clients });
    fake.setTags(tagged.arn, { owner: 'U0DESCRIBED' });
    assert.equal(await denied.ownerOf({ integration: 'tagged' }), 'U0DESCRIBED');
    // The description is cached; the tag changes, and reading it afresh is refused.
    fake.setTags(tagged.arn, { owner: 'U0LATEST' });
    fake.fail('ListTagsForResource', 'AccessDenied', 403);
    try {
      assert.equal(await denied.ownerOf({ integration: 'tagged' }), 'U0DESCRIBED');
      assert.equal(fake.calls('ListTagsForResource').at(-1)?.errorCode, 'AccessDenied');
    } finally {
      fake.clearFailures();
    }
    assert.equal(await denied.ownerOf({ integration: 'tagged' }), 'U0LATEST');
  });
});
