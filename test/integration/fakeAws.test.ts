/**
 * The fake AWS against the real SDK clients: what the RDS and Secrets Manager adapters will rely
 * on (request serialization, XML and JSON parsing, Marker pagination, error classes, retries of
 * throttled calls) works end to end over HTTP, and the rds-signer token has the documented shape.
 */
import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  DBClusterNotFoundFault,
  DBInstanceNotFoundFault,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  DescribeDBLogFilesCommand,
  DownloadDBLogFilePortionCommand,
  ListTagsForResourceCommand,
  paginateDescribeDBInstances,
  paginateDescribeDBLogFiles,
  paginateDownloadDBLogFilePortion,
  RDSClient,
  RDSServiceException,
  type DBInstance,
} from '@aws-sdk/client-rds';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { Signer } from '@aws-sdk/rds-signer';
import { FakeAws } from '../support/aws/FakeAws.ts';
import {
  awsEnv,
  rdsClient,
  secretsManagerClient,
  TEST_AWS_ACCESS_KEY_ID,
  TEST_AWS_SECRET_ACCESS_KEY,
  useAwsEnv,
} from '../support/aws/awsEnv.ts';
import { parseRdsAuthToken, verifyRdsAuthToken } from '../support/aws/sigv4.ts';
import { ManualClock } from '../support/fakes.ts';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const US = 'us-east-1';
const EU = 'eu-west-1';

/** Runs `attempt`, expecting the SDK to throw an exception of class `type` with this code and status. */
async function assertAwsError(
  attempt: Promise<unknown>,
  type: abstract new (...args: never[]) => Error,
  expected: { name: string; status: number; message?: RegExp },
): Promise<void> {
  await assert.rejects(attempt, (err: Error & { $metadata?: { httpStatusCode?: number } }) => {
    assert.ok(err instanceof type, `${err.name}: ${err.message}`);
    assert.equal(err.name, expected.name);
    assert.equal(err.$metadata?.httpStatusCode, expected.status);
    if (expected.message) assert.match(err.message, expected.message);
    return true;
  });
}

async function allInstanceIds(client: RDSClient, pageSize?: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let pages = 0;
  for await (const page of paginateDescribeDBInstances({ client, ...(pageSize ? { pageSize } : {}) }, {})) {
    pages += 1;
    ids.push(...(page.DBInstances ?? []).map((i) => i.DBInstanceIdentifier!));
  }
  return { ids, pages };
}

describe('fake AWS through the real SDK clients', () => {
  const clock = new ManualClock(new Date('2026-06-01T09:00:00Z'));
  let fake: FakeAws;
  let rds: RDSClient;
  let rdsEu: RDSClient;
  let secrets: SecretsManagerClient;

  before(async () => {
    fake = await FakeAws.start({ clock });
    rds = rdsClient(fake, US);
    rdsEu = rdsClient(fake, EU);
    secrets = secretsManagerClient(fake, US);
  });
  after(async () => {
    rds.destroy();
    rdsEu.destroy();
    secrets.destroy();
    await fake.stop();
  });
  beforeEach(() => {
    fake.clearCalls();
    fake.clearFailures();
  });

  describe('RDS DescribeDBInstances', () => {
    let prod: ReturnType<FakeAws['addInstance']>;
    before(() => {
      prod = fake.addInstance({
        region: US,
        id: 'Prod-DB-1',
        endpoint: '127.0.0.1',
        port: 55432,
        engineVersion: '15.8',
        iamAuth: true,
        tags: { 'sesame-secret': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sesame-AbCdEf', owner: '@dba & <ops>' },
      });
      fake.addInstance({ region: US, id: 'shop-mysql', engine: 'mysql', engineVersion: '8.0.39' });
      fake.addInstance({ region: EU, id: 'prod-db-1', endpoint: 'prod-db-1.eu.example', port: 5432 });
    });

    it('finds an instance by identifier or ARN with every field the adapters read', async () => {
      const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'prod-db-1' }));
      assert.equal(out.DBInstances?.length, 1);
      const instance = out.DBInstances![0]!;
      assert.deepEqual(
        {
          id: instance.DBInstanceIdentifier,
          arn: instance.DBInstanceArn,
          resourceId: instance.DbiResourceId,
          engine: instance.Engine,
          engineVersion: instance.EngineVersion,
          status: instance.DBInstanceStatus,
          endpoint: instance.Endpoint?.Address,
          port: instance.Endpoint?.Port,
          iamAuth: instance.IAMDatabaseAuthenticationEnabled,
          tags: instance.TagList,
          created: instance.InstanceCreateTime,
        },
        {
          id: 'prod-db-1',
          arn: 'arn:aws:rds:us-east-1:123456789012:db:prod-db-1',
          resourceId: prod.resourceId,
          engine: 'postgres',
          engineVersion: '15.8',
          status: 'available',
          endpoint: '127.0.0.1',
          port: 55432,
          iamAuth: true,
          tags: [
            { Key: 'sesame-secret', Value: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:sesame-AbCdEf' },
            { Key: 'owner', Value: '@dba & <ops>' },
          ],
          created: new Date('2026-06-01T09:00:00Z'),
        },
      );
      assert.match(prod.resourceId, /^db-[A-Z0-9]{26}$/);
      const byArn = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: prod.arn }));
      assert.equal(byArn.DBInstances?.[0]?.DBInstanceIdentifier, 'prod-db-1');
    });

    it('keeps each region apart: the same identifier in eu-west-1 is another instance', async () => {
      const eu = await rdsEu.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'prod-db-1' }));
      assert.equal(eu.DBInstances?.[0]?.Endpoint?.Address, 'prod-db-1.eu.example');
      assert.equal(eu.DBInstances?.[0]?.DBInstanceArn, 'arn:aws:rds:eu-west-1:123456789012:db:prod-db-1');
      await assertAwsError(rdsEu.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'shop-mysql' })), DBInstanceNotFoundFault, {
        name: 'DBInstanceNotFoundFault',
        status: 404,
      });
      assert.deepEqual(
        fake.calls('DescribeDBInstances').map((c) => [c.region, c.accessKeyId]),
        [
          [EU, TEST_AWS_ACCESS_KEY_ID],
          [EU, TEST_AWS_ACCESS_KEY_ID],
        ],
      );
    });

    it('answers a missing instance with DBInstanceNotFound, HTTP 404', async () => {
      await assertAwsError(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'nope' })), DBInstanceNotFoundFault, {
        name: 'DBInstanceNotFoundFault',
        status: 404,
        message: /DBInstance nope not found/,
      });
      const [call] = fake.calls('DescribeDBInstances');
      assert.equal(call?.errorCode, 'DBInstanceNotFound');
      assert.equal(call?.status, 404);
    });

    it('filters by engine, and records the filters as the SDK sent them', async () => {
      const out = await rds.send(
        new DescribeDBInstancesCommand({ Filters: [{ Name: 'engine', Values: ['postgres', 'aurora-postgresql'] }], MaxRecords: 20 }),
      );
      assert.deepEqual(
        out.DBInstances?.map((i) => i.DBInstanceIdentifier),
        ['prod-db-1'],
      );
      const [call] = fake.calls('DescribeDBInstances');
      assert.deepEqual(call?.params, {
        Action: 'DescribeDBInstances',
        Version: '2014-10-31',
        Filters: [{ Name: 'engine', Values: ['postgres', 'aurora-postgresql'] }],
        MaxRecords: '20',
      });
    });

    it('refuses MaxRecords outside 20–100 and filter names it does not know, as RDS does', async () => {
      await assertAwsError(rds.send(new DescribeDBInstancesCommand({ MaxRecords: 5 })), RDSServiceException, {
        name: 'InvalidParameterValue',
        status: 400,
        message: /MaxRecords/,
      });
      await assertAwsError(
        rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'colour', Values: ['blue'] }] })),
        RDSServiceException,
        { name: 'InvalidParameterValue', status: 400, message: /colour/ },
      );
    });

    it('forgets a removed instance', async () => {
      fake.addInstance({ region: US, id: 'short-lived' });
      fake.addLogFile(US, 'short-lived', 'error/postgresql.log', 'x\n');
      fake.removeInstance(US, 'short-lived');
      await assertAwsError(rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'short-lived' })), DBInstanceNotFoundFault, {
        name: 'DBInstanceNotFoundFault',
        status: 404,
      });
    });
  });

  describe('RDS pagination with the SDK paginator', () => {
    let paged: FakeAws;
    before(async () => {
      paged = await FakeAws.start();
      for (let n = 0; n < 150; n += 1) {
        paged.addInstance({ region: US, id: `us-db-${String(n).padStart(3, '0')}` });
        paged.addInstance({ region: EU, id: `eu-db-${String(n).padStart(3, '0')}`, engine: n % 3 === 0 ? 'mysql' : 'postgres' });
      }
    });
    after(() => paged.stop());

    it('walks 150 instances per region in pages of 100 and 50, and never mixes the regions', async () => {
      const us = rdsClient(paged, US);
      const eu = rdsClient(paged, EU);
      try {
        const [inUs, inEu] = await Promise.all([allInstanceIds(us), allInstanceIds(eu)]);
        assert.equal(inUs.pages, 2);
        assert.equal(inEu.pages, 2);
        assert.deepEqual(
          inUs.ids,
          Array.from({ length: 150 }, (_, n) => `us-db-${String(n).padStart(3, '0')}`),
        );
        assert.deepEqual(
          inEu.ids,
          Array.from({ length: 150 }, (_, n) => `eu-db-${String(n).padStart(3, '0')}`),
        );
        const calls = paged.calls('DescribeDBInstances');
        assert.equal(calls.length, 4);
        assert.equal(calls.filter((c) => c.region === EU && typeof c.params.Marker === 'string').length, 1);
      } finally {
        us.destroy();
        eu.destroy();
      }
    });

    it('honours MaxRecords as the page size and keeps filters across pages', async () => {
      const eu = rdsClient(paged, EU);
      try {
        assert.deepEqual((await allInstanceIds(eu, 20)).pages, 8);
        const postgres: string[] = [];
        for await (const page of paginateDescribeDBInstances(
          { client: eu, pageSize: 20 },
          { Filters: [{ Name: 'engine', Values: ['postgres'] }] },
        )) {
          postgres.push(...page.DBInstances!.map((i: DBInstance) => i.DBInstanceIdentifier!));
        }
        assert.equal(postgres.length, 100);
        assert.ok(postgres.every((id) => Number(id.slice(-3)) % 3 !== 0));
      } finally {
        eu.destroy();
      }
    });

    it('lets a test shrink the server-side page below what MaxRecords asks', async () => {
      const small = await FakeAws.start({ pageSize: 7 });
      const client = rdsClient(small, US);
      try {
        for (let n = 0; n < 30; n += 1) small.addInstance({ region: US, id: `db-${String(n).padStart(2, '0')}` });
        const { ids, pages } = await allInstanceIds(client);
        assert.equal(pages, 5);
        assert.equal(new Set(ids).size, 30);
      } finally {
        client.destroy();
        await small.stop();
      }
    });
  });

  describe('RDS Aurora clusters and tags', () => {
    let cluster: ReturnType<FakeAws['addCluster']>;
    let member: ReturnType<FakeAws['addInstance']>;
    before(() => {
      cluster = fake.addCluster({ region: US, id: 'orders', endpoint: '127.0.0.1', port: 55433, iamAuth: true, tags: { owner: 'U123' } });
      member = fake.addInstance({ region: US, id: 'orders-1', clusterId: 'orders' });
      fake.addInstance({ region: US, id: 'orders-2', clusterId: 'orders', clusterWriter: true });
    });

    it('describes a cluster with its endpoints, resource id and members', async () => {
      const out = await rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'orders' }));
      const found = out.DBClusters?.[0];
      assert.deepEqual(
        {
          id: found?.DBClusterIdentifier,
          arn: found?.DBClusterArn,
          resourceId: found?.DbClusterResourceId,
          engine: found?.Engine,
          status: found?.Status,
          endpoint: found?.Endpoint,
          reader: found?.ReaderEndpoint,
          port: found?.Port,
          iamAuth: found?.IAMDatabaseAuthenticationEnabled,
          tags: found?.TagList,
          members: found?.DBClusterMembers?.map((m) => [m.DBInstanceIdentifier, m.IsClusterWriter]),
        },
        {
          id: 'orders',
          arn: 'arn:aws:rds:us-east-1:123456789012:cluster:orders',
          resourceId: cluster.resourceId,
          engine: 'aurora-postgresql',
          status: 'available',
          endpoint: '127.0.0.1',
          reader: cluster.readerEndpoint,
          port: 55433,
          iamAuth: true,
          tags: [{ Key: 'owner', Value: 'U123' }],
          members: [
            ['orders-1', false],
            ['orders-2', true],
          ],
        },
      );
      assert.match(cluster.resourceId, /^cluster-[A-Z0-9]{26}$/);
      assert.equal(member.engine, 'aurora-postgresql');
    });

    it('lists a cluster member under its cluster with the db-cluster-id filter', async () => {
      const out = await rds.send(new DescribeDBInstancesCommand({ Filters: [{ Name: 'db-cluster-id', Values: [cluster.arn] }] }));
      assert.deepEqual(
        out.DBInstances?.map((i) => [i.DBInstanceIdentifier, i.DBClusterIdentifier]),
        [
          ['orders-1', 'orders'],
          ['orders-2', 'orders'],
        ],
      );
    });

    it('answers a missing cluster with DBClusterNotFoundFault, HTTP 404', async () => {
      await assertAwsError(rds.send(new DescribeDBClustersCommand({ DBClusterIdentifier: 'gone' })), DBClusterNotFoundFault, {
        name: 'DBClusterNotFoundFault',
        status: 404,
      });
    });

    it('lists the tags of an instance or a cluster by ARN, as they are now', async () => {
      const before = await rds.send(new ListTagsForResourceCommand({ ResourceName: cluster.arn }));
      assert.deepEqual(before.TagList, [{ Key: 'owner', Value: 'U123' }]);
      fake.setTags(member.arn, { owner: 'someone@example.com', team: 'orders' });
      const after = await rds.send(new ListTagsForResourceCommand({ ResourceName: member.arn }));
      assert.deepEqual(after.TagList, [
        { Key: 'owner', Value: 'someone@example.com' },
        { Key: 'team', Value: 'orders' },
      ]);
      await assertAwsError(
        rds.send(new ListTagsForResourceCommand({ ResourceName: 'arn:aws:rds:us-east-1:123456789012:db:absent' })),
        DBInstanceNotFoundFault,
        { name: 'DBInstanceNotFoundFault', status: 404 },
      );
    });
  });

  describe('Secrets Manager', () => {
    it('reads a secret by name, ARN or ARN without its suffix, with its version and stages', async () => {
      const stored = fake.putSecret(US, 'sesame/connector', { username: 'sesame_connector', password: 'first-password' });
      assert.match(stored.arn, /^arn:aws:secretsmanager:us-east-1:123456789012:secret:sesame\/connector-[A-Za-z0-9]{6}$/);
      for (const secretId of [stored.name, stored.arn, stored.arn.slice(0, -7)]) {
        const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
        assert.deepEqual(
          {
            arn: out.ARN,
            name: out.Name,
            value: JSON.parse(out.SecretString!),
            version: out.VersionId,
            stages: out.VersionStages,
            created: out.CreatedDate,
          },
          {
            arn: stored.arn,
            name: 'sesame/connector',
            value: { username: 'sesame_connector', password: 'first-password' },
            version: stored.versionId,
            stages: ['AWSCURRENT'],
            created: new Date('2026-06-01T09:00:00Z'),
          },
        );
      }
      const [call] = fake.calls('GetSecretValue');
      assert.deepEqual([call?.service, call?.region, call?.params], ['secretsmanager', US, { SecretId: stored.name }]);
    });

    it('serves the rotated value and a new VersionId once the secret is put again', async () => {
      const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotating-Xy12Ab';
      const first = fake.putSecret(US, arn, { username: 'c', password: 'old' });
      assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: arn }))).VersionId, first.versionId);
      clock.advance(60_000);
      const second = fake.putSecret(US, arn, { username: 'c', password: 'new' });
      assert.notEqual(second.versionId, first.versionId);
      const current = await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
      assert.equal(JSON.parse(current.SecretString!).password, 'new');
      assert.equal(current.VersionId, second.versionId);
      const previous = await secrets.send(new GetSecretValueCommand({ SecretId: arn, VersionStage: 'AWSPREVIOUS' }));
      assert.equal(JSON.parse(previous.SecretString!).password, 'old');
      const described = await secrets.send(new DescribeSecretCommand({ SecretId: arn }));
      assert.equal(described.Name, 'rotating');
      assert.deepEqual(described.VersionIdsToStages, { [first.versionId]: ['AWSPREVIOUS'], [second.versionId]: ['AWSCURRENT'] });
      assert.ok(described.LastChangedDate! > described.CreatedDate!);
    });

    it('answers a secret it does not have with ResourceNotFoundException, HTTP 400, in every other region too', async () => {
      await assertAwsError(secrets.send(new GetSecretValueCommand({ SecretId: 'missing' })), ResourceNotFoundException, {
        name: 'ResourceNotFoundException',
        status: 400,
        message: /can't find the specified secret/,
      });
      fake.putSecret(US, 'only-in-us', 'plain text');
      const eu = secretsManagerClient(fake, EU);
      try {
        await assertAwsError(eu.send(new DescribeSecretCommand({ SecretId: 'only-in-us' })), ResourceNotFoundException, {
          name: 'ResourceNotFoundException',
          status: 400,
        });
      } finally {
        eu.destroy();
      }
    });

    it('refuses to read a secret scheduled for deletion', async () => {
      fake.putSecret(US, 'doomed', 'x');
      fake.deleteSecret(US, 'doomed');
      await assertAwsError(secrets.send(new GetSecretValueCommand({ SecretId: 'doomed' })), SecretsManagerServiceException, {
        name: 'InvalidRequestException',
        status: 400,
        message: /marked for deletion/,
      });
    });
  });

  describe('throttling and injected failures', () => {
    it('throttles RDS calls with Throttling, which the SDK retries until it succeeds', async () => {
      fake.throttleNext('DescribeDBInstances', 2);
      const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'prod-db-1' }));
      assert.equal(out.DBInstances?.[0]?.DBInstanceIdentifier, 'prod-db-1');
      assert.equal(out.$metadata.attempts, 3);
      assert.deepEqual(
        fake.calls('DescribeDBInstances').map((c) => [c.status, c.errorCode]),
        [
          [400, 'Throttling'],
          [400, 'Throttling'],
          [200, undefined],
        ],
      );
    });

    it('throttles Secrets Manager with ThrottlingException, retried the same way', async () => {
      fake.putSecret(US, 'busy', 'value');
      fake.throttleNext('GetSecretValue', 1);
      const out = await secrets.send(new GetSecretValueCommand({ SecretId: 'busy' }));
      assert.equal(out.SecretString, 'value');
      assert.equal(out.$metadata.attempts, 2);
      assert.deepEqual(
        fake.calls('GetSecretValue').map((c) => c.errorCode),
        ['ThrottlingException', undefined],
      );
    });

    it('gives up like the SDK does when throttling outlasts its attempts', async () => {
      const impatient = rdsClient(fake, US, { maxAttempts: 1 });
      try {
        fake.throttleNext('DescribeDBClusters', 1);
        await assertAwsError(impatient.send(new DescribeDBClustersCommand({})), RDSServiceException, {
          name: 'Throttling',
          status: 400,
          message: /Rate exceeded/,
        });
        assert.ok((await impatient.send(new DescribeDBClustersCommand({}))).DBClusters);
      } finally {
        impatient.destroy();
      }
    });

    it('fails an action with the code and status asked for, until cleared or for a number of calls', async () => {
      fake.fail('ListTagsForResource', 'AccessDenied', 403, { message: 'not authorized to perform rds:ListTagsForResource' });
      const arn = 'arn:aws:rds:us-east-1:123456789012:db:prod-db-1';
      for (let n = 0; n < 2; n += 1) {
        await assertAwsError(rds.send(new ListTagsForResourceCommand({ ResourceName: arn })), RDSServiceException, {
          name: 'AccessDenied',
          status: 403,
          message: /rds:ListTagsForResource/,
        });
      }
      fake.clearFailures('ListTagsForResource');
      assert.ok((await rds.send(new ListTagsForResourceCommand({ ResourceName: arn }))).TagList);

      fake.fail('GetSecretValue', 'AccessDeniedException', 400, { times: 1 });
      fake.putSecret(US, 'guarded', 'v');
      await assertAwsError(secrets.send(new GetSecretValueCommand({ SecretId: 'guarded' })), SecretsManagerServiceException, {
        name: 'AccessDeniedException',
        status: 400,
      });
      assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'guarded' }))).SecretString, 'v');
    });
  });

  describe('RDS log files', () => {
    const lines = Array.from(
      { length: 25 },
      (_, n) => `2026-06-01 09:00:${String(n).padStart(2, '0')} UTC::@:[${100 + n}]:LOG:  line ${n}\n`,
    );
    const content = lines.join('');
    const name = 'error/postgresql.log.2026-06-01-09';
    before(() => {
      fake.addInstance({ region: US, id: 'audited' });
      fake.addLogFile(US, 'audited', name, content, { lastWritten: new Date('2026-06-01T09:59:00Z') });
      fake.addLogFile(US, 'audited', 'error/postgresql.log.2026-06-01-08', 'older\n', { lastWritten: new Date('2026-06-01T08:59:00Z') });
    });

    it('lists log files with their size and last write time, filtered and paginated', async () => {
      const out = await rds.send(new DescribeDBLogFilesCommand({ DBInstanceIdentifier: 'audited' }));
      assert.deepEqual(out.DescribeDBLogFiles, [
        { LogFileName: 'error/postgresql.log.2026-06-01-08', LastWritten: Date.parse('2026-06-01T08:59:00Z'), Size: 6 },
        { LogFileName: name, LastWritten: Date.parse('2026-06-01T09:59:00Z'), Size: Buffer.byteLength(content) },
      ]);
      const recent = await rds.send(
        new DescribeDBLogFilesCommand({ DBInstanceIdentifier: 'audited', FileLastWritten: Date.parse('2026-06-01T09:00:00Z') }),
      );
      assert.deepEqual(
        recent.DescribeDBLogFiles?.map((f) => f.LogFileName),
        [name],
      );
      const pages: string[][] = [];
      for await (const page of paginateDescribeDBLogFiles({ client: rds, pageSize: 1 }, { DBInstanceIdentifier: 'audited' })) {
        pages.push(page.DescribeDBLogFiles!.map((f) => f.LogFileName!));
      }
      assert.deepEqual(pages, [['error/postgresql.log.2026-06-01-08'], [name]]);
    });

    it('serves a log file in portions, looping on AdditionalDataPending until it is false', async () => {
      const portions: { data: string; pending: boolean }[] = [];
      let marker = '0';
      for (;;) {
        const out = await rds.send(
          new DownloadDBLogFilePortionCommand({ DBInstanceIdentifier: 'audited', LogFileName: name, Marker: marker, NumberOfLines: 10 }),
        );
        portions.push({ data: out.LogFileData ?? '', pending: out.AdditionalDataPending === true });
        marker = out.Marker!;
        if (!out.AdditionalDataPending) break;
      }
      assert.deepEqual(
        portions.map((p) => [p.data.split('\n').length - 1, p.pending]),
        [
          [10, true],
          [10, true],
          [5, false],
        ],
      );
      assert.equal(portions.map((p) => p.data).join(''), content);

      fake.appendLogFile(US, 'audited', name, 'after the first read\n');
      const more = await rds.send(
        new DownloadDBLogFilePortionCommand({ DBInstanceIdentifier: 'audited', LogFileName: name, Marker: marker }),
      );
      assert.equal(more.LogFileData, 'after the first read\n');
      assert.equal(more.AdditionalDataPending, false);
    });

    it('caps a portion at the configured line limit when NumberOfLines is not given', async () => {
      const strict = await FakeAws.start({ logPortionLines: 4 });
      const client = rdsClient(strict, US);
      try {
        strict.addInstance({ region: US, id: 'db' });
        strict.addLogFile(US, 'db', 'postgresql.log', 'a\nb\nc\nd\ne\nf\n');
        const first = await client.send(
          new DownloadDBLogFilePortionCommand({ DBInstanceIdentifier: 'db', LogFileName: 'postgresql.log', Marker: '0' }),
        );
        assert.deepEqual([first.LogFileData, first.AdditionalDataPending], ['a\nb\nc\nd\n', true]);
        const tail = await client.send(new DownloadDBLogFilePortionCommand({ DBInstanceIdentifier: 'db', LogFileName: 'postgresql.log' }));
        assert.deepEqual([tail.LogFileData, tail.AdditionalDataPending], ['c\nd\ne\nf\n', false]);
      } finally {
        client.destroy();
        await strict.stop();
      }
    });

    it('never returns more than 1 MB in one portion, whatever NumberOfLines asks', async () => {
      const line = `${'x'.repeat(199)}\n`;
      fake.addLogFile(US, 'audited', 'big.log', line.repeat(8000));
      const out = await rds.send(
        new DownloadDBLogFilePortionCommand({ DBInstanceIdentifier: 'audited', LogFileName: 'big.log', Marker: '0', NumberOfLines: 8000 }),
      );
      assert.equal(out.LogFileData?.length, Math.floor((1024 * 1024) / line.length) * line.length);
      assert.equal(out.AdditionalDataPending, true);
    });

    it('returns log text byte for byte: carriage returns, markup characters, non-ASCII', async () => {
      const odd = 'CRLF line\r\n<tag attr="x"> & \'quoted\'\n\ttabbed ünïcødé 😀\nno newline at the end';
      fake.addLogFile(US, 'audited', 'odd.log', odd);
      const out = await rds.send(
        new DownloadDBLogFilePortionCommand({ DBInstanceIdentifier: 'audited', LogFileName: 'odd.log', Marker: '0' }),
      );
      assert.equal(out.LogFileData, odd);
      assert.equal(out.AdditionalDataPending, false);
    });

    it("shows that the SDK's paginator does not stop on AdditionalDataPending: false", async () => {
      const pages: { pending?: boolean }[] = [];
      for await (const page of paginateDownloadDBLogFilePortion(
        { client: rds, pageSize: 10 },
        { DBInstanceIdentifier: 'audited', LogFileName: 'error/postgresql.log.2026-06-01-08', Marker: '0' },
      )) {
        pages.push({ pending: page.AdditionalDataPending });
        if (pages.length === 3) break;
      }
      assert.deepEqual(pages, [{ pending: false }, { pending: false }, { pending: false }]);

      let stoppedAfter = 0;
      for await (const page of paginateDownloadDBLogFilePortion(
        { client: rds, pageSize: 10, stopOnSameToken: true },
        { DBInstanceIdentifier: 'audited', LogFileName: 'error/postgresql.log.2026-06-01-08', Marker: '0' },
      )) {
        assert.equal(page.AdditionalDataPending, false);
        stoppedAfter += 1;
      }
      assert.equal(stoppedAfter, 2, 'stopOnSameToken stops only after one more call that returns the same marker');
    });

    it('answers a log file that does not exist with DBLogFileNotFoundFault, HTTP 404', async () => {
      await assertAwsError(
        rds.send(new DownloadDBLogFilePortionCommand({ DBInstanceIdentifier: 'audited', LogFileName: 'nope.log' })),
        RDSServiceException,
        { name: 'DBLogFileNotFoundFault', status: 404 },
      );
    });
  });

  describe('environment variables', () => {
    it('sends clients built from the SDK defaults to the fake through AWS_ENDPOINT_URL_RDS and _SECRETS_MANAGER', async () => {
      fake.addInstance({ region: EU, id: 'from-env' });
      fake.putSecret(EU, 'env-secret', 'from the environment');
      const restore = useAwsEnv(fake, EU);
      const defaultRds = new RDSClient({});
      const defaultSecrets = new SecretsManagerClient({});
      try {
        const out = await defaultRds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'from-env' }));
        assert.equal(out.DBInstances?.[0]?.DBInstanceIdentifier, 'from-env');
        const secret = await defaultSecrets.send(new GetSecretValueCommand({ SecretId: 'env-secret' }));
        assert.equal(secret.SecretString, 'from the environment');
        assert.deepEqual(
          fake.calls().map((c) => [c.action, c.region, c.accessKeyId]),
          [
            ['DescribeDBInstances', EU, TEST_AWS_ACCESS_KEY_ID],
            ['GetSecretValue', EU, TEST_AWS_ACCESS_KEY_ID],
          ],
        );
      } finally {
        defaultRds.destroy();
        defaultSecrets.destroy();
        restore();
      }
      assert.equal(process.env.AWS_ENDPOINT_URL_RDS, undefined);
      assert.deepEqual(Object.keys(awsEnv(fake)).sort(), [
        'AWS_ACCESS_KEY_ID',
        'AWS_EC2_METADATA_DISABLED',
        'AWS_ENDPOINT_URL_RDS',
        'AWS_ENDPOINT_URL_SECRETS_MANAGER',
        'AWS_REGION',
        'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
        'AWS_SECRET_ACCESS_KEY',
      ]);
    });
  });
});

describe('fake AWS with known credentials checks SigV4 signatures', () => {
  let fake: FakeAws;
  before(async () => {
    fake = await FakeAws.start({ credentials: { [TEST_AWS_ACCESS_KEY_ID]: TEST_AWS_SECRET_ACCESS_KEY } });
    fake.addInstance({ region: US, id: 'signed' });
    fake.putSecret(US, 'signed', 'v');
  });
  after(() => fake.stop());

  it('accepts requests the SDK signed with the right key', async () => {
    const rds = rdsClient(fake, US);
    const secrets = secretsManagerClient(fake, US);
    try {
      assert.equal((await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'signed' }))).DBInstances?.length, 1);
      assert.equal((await secrets.send(new GetSecretValueCommand({ SecretId: 'signed' }))).SecretString, 'v');
    } finally {
      rds.destroy();
      secrets.destroy();
    }
  });

  it('refuses a wrong secret key and an unknown access key with each service’s own codes', async () => {
    const wrongSecret = { credentials: { accessKeyId: TEST_AWS_ACCESS_KEY_ID, secretAccessKey: 'not-the-secret' } };
    const unknownKey = { credentials: { accessKeyId: 'AKIAUNKNOWN', secretAccessKey: TEST_AWS_SECRET_ACCESS_KEY } };
    const cases = [
      {
        rds: rdsClient(fake, US, wrongSecret),
        sm: secretsManagerClient(fake, US, wrongSecret),
        codes: ['SignatureDoesNotMatch', 'InvalidSignatureException'],
      },
      {
        rds: rdsClient(fake, US, unknownKey),
        sm: secretsManagerClient(fake, US, unknownKey),
        codes: ['InvalidClientTokenId', 'UnrecognizedClientException'],
      },
    ];
    for (const { rds, sm, codes } of cases) {
      try {
        await assertAwsError(rds.send(new DescribeDBInstancesCommand({})), RDSServiceException, { name: codes[0]!, status: 403 });
        await assertAwsError(sm.send(new GetSecretValueCommand({ SecretId: 'signed' })), SecretsManagerServiceException, {
          name: codes[1]!,
          status: 400,
        });
      } finally {
        rds.destroy();
        sm.destroy();
      }
    }
  });
});

describe('@aws-sdk/rds-signer tokens', () => {
  const hostname = 'prod-db-1.c0ffee123456.eu-west-1.rds.amazonaws.com';
  const credentials = { accessKeyId: TEST_AWS_ACCESS_KEY_ID, secretAccessKey: TEST_AWS_SECRET_ACCESS_KEY };

  it('are presigned connect URLs without a scheme: host:port/?Action=connect&DBUser=…, 900 s, region in the scope', async () => {
    // The query parameters come sorted by name, as SigV4 canonicalises them.
    const token = await new Signer({ hostname, port: 5432, username: 'sesame_connector', region: EU, credentials }).getAuthToken();
    assert.match(
      token,
      new RegExp(
        `^${hostname.replace(/\./g, '\\.')}:5432/\\?Action=connect&DBUser=sesame_connector` +
          '&X-Amz-Algorithm=AWS4-HMAC-SHA256' +
          `&X-Amz-Credential=${TEST_AWS_ACCESS_KEY_ID}%2F\\d{8}%2Feu-west-1%2Frds-db%2Faws4_request` +
          '&X-Amz-Date=\\d{8}T\\d{6}Z&X-Amz-Expires=900&X-Amz-Signature=[0-9a-f]{64}&X-Amz-SignedHeaders=host$',
      ),
    );
    const parsed = parseRdsAuthToken(token);
    assert.deepEqual(
      [parsed.hostname, parsed.port, parsed.user, parsed.action, parsed.expiresSeconds, parsed.scope.region, parsed.scope.service],
      [hostname, 5432, 'sesame_connector', 'connect', 900, EU, 'rds-db'],
    );
  });

  it('carry a signature that only the right secret key reproduces', async () => {
    const token = await new Signer({ hostname, port: 5432, username: 'alice', region: EU, credentials }).getAuthToken();
    assert.equal(verifyRdsAuthToken(token, TEST_AWS_SECRET_ACCESS_KEY), true);
    assert.equal(verifyRdsAuthToken(token, 'another-secret'), false);
    assert.equal(verifyRdsAuthToken(token.replace('DBUser=alice', 'DBUser=mallory'), TEST_AWS_SECRET_ACCESS_KEY), false);
  });

  it('are made offline, from the region and credentials in the environment', async () => {
    const restore = useAwsEnv('http://127.0.0.1:9', EU);
    const connect = Socket.prototype.connect;
    const attempts: unknown[] = [];
    Socket.prototype.connect = function (this: Socket, ...args: unknown[]) {
      attempts.push(args[0]);
      throw new Error('a token must be made without opening a connection');
    } as typeof connect;
    try {
      const token = await new Signer({ hostname, port: 5432, username: 'bob' }).getAuthToken();
      assert.equal(parseRdsAuthToken(token).scope.region, EU);
      assert.equal(parseRdsAuthToken(token).scope.accessKeyId, TEST_AWS_ACCESS_KEY_ID);
      assert.equal(verifyRdsAuthToken(token, TEST_AWS_SECRET_ACCESS_KEY), true);
    } finally {
      Socket.prototype.connect = connect;
      restore();
    }
    assert.deepEqual(attempts, []);
  });
});
