/**
 * The AWS adapters as the composition root builds them: SDK clients from the default credential
 * chain and the standard endpoint variables (pointed at the fake AWS), a config with discovery
 * only, and a discovered instance whose endpoint is a real PostgreSQL: found by its tag, its
 * owner read from its tag, checked, granted on and revoked.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAwsAdapters, type AwsAdapters } from '../../src/adapters/aws/awsAdapters.ts';
import { RegistryTargetDatabases } from '../../src/adapters/postgres/RegistryTargetDatabases.ts';
import { IntegrationRegistry } from '../../src/services/IntegrationRegistry.ts';
import { ManualClock } from '../support/fakes.ts';
import { configSchema, type IntegrationConfig } from '../../src/config/schema.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { useAwsEnv } from '../support/aws/awsEnv.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { inMinutes, newPassword } from '../support/postgresTarget.ts';

const US = 'us-east-1';
const version = pgVersions().at(-1)!;

describe(`AWS adapters from the environment, with discovery only, on PostgreSQL ${version}`, () => {
  let cluster: TestCluster;
  let fake: FakeAws;
  let restoreEnv: () => void;
  let aws: AwsAdapters;
  const known = new Map<string, IntegrationConfig>();

  before(async () => {
    [cluster, fake] = await Promise.all([startCluster(version), FakeAws.start()]);
    await cluster.completeConnectorSetup();
    restoreEnv = useAwsEnv(fake, US);
    aws = createAwsAdapters({ integration: (name) => known.get(name) });
    const secret = fake.putSecret(US, 'sesame/ledger', { username: APP.connector, password: cluster.connector.password });
    fake.addInstance({
      region: US,
      id: 'Ledger-DB',
      endpoint: '127.0.0.1',
      port: cluster.port,
      tags: { 'sesame-secret': secret.arn, owner: 'ledger-team@example.com', 'slack-channel': 'C0LEDGER' },
    });
    fake.addInstance({ region: US, id: 'not-for-sesame', endpoint: '127.0.0.1', port: cluster.port });
  });
  after(async () => {
    aws?.close();
    restoreEnv?.();
    await Promise.all([cluster?.stop(), fake?.stop()]);
  });

  it('finds the tagged instance, routes to its owner tag, checks it, grants on it and revokes', async () => {
    const config = configSchema.parse({
      discovery: [
        {
          type: 'aws-rds',
          regions: [US],
          secretTagKey: 'sesame-secret',
          defaults: {
            database: APP.database,
            sslMode: 'disable',
            owners: { integration: ['@dba'], resourceTagKey: 'owner', channelTagKey: 'slack-channel' },
          },
        },
      ],
    });
    const { integrations, errors } = await aws.discovery.discover(config.discovery);
    assert.deepEqual(errors, []);
    assert.deepEqual(
      integrations.map((i) => [i.name, i.username]),
      [['ledger-db', APP.connector]],
    );
    for (const i of integrations) known.set(i.name, i);

    assert.equal(await aws.owners.ownerOf({ integration: 'ledger-db', database: APP.database }), 'ledger-team@example.com');
    // The resource names the channel for its approval requests in a tag of its own.
    assert.equal(await aws.owners.channelOf?.({ integration: 'ledger-db', database: APP.database }), 'C0LEDGER');
    const findings = await aws.check(known.get('ledger-db')!);
    assert.deepEqual(
      findings.map((f) => f.level),
      ['warn', 'ok', 'ok', 'ok'],
      JSON.stringify(findings),
    );

    const databases = new RegistryTargetDatabases(new IntegrationRegistry(integrations, new ManualClock()), aws.targetDatabaseDeps);
    try {
      const db = databases.get('ledger-db');
      assert.match(await db.serverKey(), /^rds:us-east-1:db-[A-Z0-9]{26}$/);
      const username = 'dana@example.com';
      const { roles } = await db.grant({
        username,
        ownerLabel: username,
        target: { integration: 'ledger-db', database: APP.database },
        permission: 'readonly',
        validUntil: inMinutes(15),
      });
      const password = newPassword();
      await db.setPassword(username, password);
      const session = await cluster.loginAs(username, password);
      assert.equal((await session.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n, 3);
      await session.end();
      await db.revoke({ username, roles, keepRoles: [], validUntil: null });
      await assert.rejects(cluster.loginAs(username, password), /not permitted to log in|password authentication failed/);
    } finally {
      await databases.closeAll();
    }
    // Everything went to the fake through the endpoint variables, signed with the environment's key.
    assert.ok(fake.calls().length > 0);
    assert.ok(fake.calls().every((c) => c.region === US && c.accessKeyId === process.env.AWS_ACCESS_KEY_ID));
  });
});
