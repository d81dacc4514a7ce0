/**
 * An RDS integration end to end: the fake AWS describes an instance whose endpoint is a real
 * embedded PostgreSQL, the connector's credentials come from a Secrets Manager secret (rotated
 * during the test) or from IAM tokens, and the PostgreSQL engine grants through them; each
 * grant is proven by logging in as the person's user.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { AwsClients } from '../../src/adapters/aws/AwsClients.ts';
import {
  awsTargetDatabaseDeps,
  createAwsConnectorCredentials,
  rdsSigner,
  type RdsTokenSigner,
} from '../../src/adapters/aws/connectorCredentials.ts';
import { RdsResolver } from '../../src/adapters/aws/RdsResolver.ts';
import { SecretsManagerSecretSource } from '../../src/adapters/aws/SecretsManagerSecretSource.ts';
import { PostgresTargetDatabase } from '../../src/adapters/postgres/PostgresTargetDatabase.ts';
import type { RdsIntegrationConfig } from '../../src/config/schema.ts';
import { InputError, TargetUnavailableError } from '../../src/domain/errors.ts';
import { redact } from '../../src/logger.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { awsClientConfig, TEST_AWS_SECRET_ACCESS_KEY } from '../support/aws/awsEnv.ts';
import { startRdsIamGate } from '../support/aws/rdsIamGate.ts';
import { rdsIntegration as rdsIntegrationConfig } from '../support/aws/rdsIntegration.ts';
import { parseRdsAuthToken, verifyRdsAuthToken } from '../support/aws/sigv4.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { inMinutes, newPassword } from '../support/postgresTarget.ts';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const US = 'us-east-1';
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** Against the test cluster's database and connector; each test names its integration and resource. */
const rdsIntegration = (overrides: Record<string, unknown>) =>
  rdsIntegrationConfig({ database: APP.database, username: APP.connector, ...overrides });

// One PostgreSQL version is enough here: the engine's behaviour per version is proven elsewhere.
const version = pgVersions().at(-1)!;

describe(`RDS integration through the fake AWS, on PostgreSQL ${version}`, () => {
  let cluster: TestCluster;
  let fake: FakeAws;
  let clients: AwsClients;
  let resolver: RdsResolver;
  let secrets: SecretsManagerSecretSource;

  before(async () => {
    // The RDS IAM gate of the IAM test signs in to the cluster with the connector's password,
    // over TLS and in clear text; Sesame's own logins, without TLS here, keep SCRAM.
    const hbaRules = [`hostssl all ${APP.connector} 127.0.0.1/32 password`];
    [cluster, fake] = await Promise.all([startCluster(version, { ssl: true, hbaRules }), FakeAws.start()]);
    await cluster.completeConnectorSetup();
    const { endpoint, credentials } = awsClientConfig(fake);
    clients = new AwsClients({ endpoint, credentials, maxAttempts: 2 });
    resolver = new RdsResolver({ clients });
    secrets = new SecretsManagerSecretSource({ clients });
  });
  after(async () => {
    clients?.destroy();
    await Promise.all([cluster?.stop(), fake?.stop()]);
  });

  async function grantAndLogIn(db: PostgresTargetDatabase, username: string): Promise<number> {
    await db.grant({
      username,
      ownerLabel: username,
      target: { integration: db.integration, database: APP.database, schema: 'public' },
      permission: 'readonly',
      validUntil: inMinutes(30),
    });
    const password = newPassword();
    await db.setPassword(username, password);
    const client = await cluster.loginAs(username, password);
    try {
      // The rows the harness seeds: reading them proves the login and the grant.
      const seeded = "SELECT count(*) AS n FROM public.customers WHERE name IN ('Ada', 'Grace', 'Edsger')";
      return Number((await client.query<{ n: string }>(seeded)).rows[0]!.n);
    } finally {
      await client.end();
    }
  }

  it('grants with the password of a Secrets Manager secret, keyed by the RDS resource id, and picks up a rotated secret after one refused login', async () => {
    const instance = fake.addInstance({ region: US, id: 'app-db', endpoint: '127.0.0.1', port: cluster.port });
    // As RDS-managed secrets are: host, port and dbname are there, and RDS stays the truth.
    const secret = fake.putSecret(US, 'sesame/app-db', {
      engine: 'postgres',
      host: 'stale-host.example',
      port: 1,
      dbname: 'stale',
      username: APP.connector,
      password: cluster.connector.password,
    });
    const integration = rdsIntegration({ name: 'app', instanceId: 'app-db', sslMode: 'disable', secretArn: secret.arn });
    const deps = awsTargetDatabaseDeps({ resolver, secrets, clients });
    const open = () =>
      new PostgresTargetDatabase({
        config: integration,
        credentials: deps.credentials(integration)!,
        serverKey: deps.serverKey(integration),
        endpoint: deps.endpoint(integration),
      });

    const db = open();
    try {
      assert.equal(await db.serverKey(), `rds:us-east-1:${instance.resourceId}`);
      assert.deepEqual(await db.connectionInfo(), { host: '127.0.0.1', port: cluster.port, database: APP.database, sslMode: 'disable' });
      assert.equal(await grantAndLogIn(db, 'alice@example.com'), 3);
    } finally {
      await db.close();
    }
    assert.equal(fake.calls('GetSecretValue').length, 1);

    // Rotation: the password changes in PostgreSQL and in the secret; Sesame still holds the old one.
    const rotated = newPassword();
    await cluster.query(`ALTER ROLE ${APP.connector} PASSWORD ${literal(rotated)}`);
    fake.putSecret(US, secret.arn, { username: APP.connector, password: rotated });
    const afterRotation = open();
    try {
      assert.equal(await grantAndLogIn(afterRotation, 'bob@example.com'), 3);
    } finally {
      await afterRotation.close();
    }
    assert.equal(fake.calls('GetSecretValue').length, 2, 'one fresh read after the refused login');

    // A secret that is wrong even when read afresh: a clear failure that never shows it.
    const wrong = newPassword();
    fake.putSecret(US, secret.arn, { username: APP.connector, password: wrong });
    await cluster.query(`ALTER ROLE ${APP.connector} PASSWORD ${literal(cluster.connector.password)}`);
    const stale = open();
    try {
      await assert.rejects(stale.listDatabases(), (err: Error) => {
        assert.ok(err instanceof TargetUnavailableError, err.message);
        assert.match(err.message, /Sesame cannot connect to app/);
        assert.ok(!err.message.includes(wrong) && !err.message.includes(rotated));
        return true;
      });
    } finally {
      await stale.close();
    }
    fake.putSecret(US, secret.arn, { username: APP.connector, password: cluster.connector.password });
  });

  it('refuses a secret that holds another user’s password, saying which setting to fix', async () => {
    fake.addInstance({ region: US, id: 'other-user-db', endpoint: '127.0.0.1', port: cluster.port });
    const secret = fake.putSecret(US, 'master-secret', { username: 'postgres', password: 'master-password-1' });
    const integration = rdsIntegration({ name: 'mismatch', instanceId: 'other-user-db', sslMode: 'disable', secretArn: secret.arn });
    const credentials = createAwsConnectorCredentials(integration, { resolver, secrets })!;
    await assert.rejects(credentials(), (err: Error) => {
      assert.ok(err instanceof InputError);
      assert.match(err.message, /holds the password of the database user postgres/);
      assert.match(err.message, /signs in as sesame_connector/);
      assert.ok(!err.message.includes('master-password-1'));
      return true;
    });
  });

  it('signs in with an IAM token per new connection, over verified TLS, signed for the endpoint RDS reports', async () => {
    const rdsHost = 'iam-db.c0ffee123456.us-east-1.rds.amazonaws.com';
    const instance = fake.addInstance({ region: US, id: 'iam-db', endpoint: rdsHost, port: 5432, iamAuth: true });
    // RDS's check of the token, in front of the test server: any token that holds gets in.
    const gate = await startRdsIamGate({
      upstream: { host: cluster.host, port: cluster.port },
      endpoint: { host: rdsHost, port: 5432 },
      region: US,
      secretAccessKey: TEST_AWS_SECRET_ACCESS_KEY,
      passwords: { [APP.connector]: cluster.connector.password },
    });
    // Sesame reaches the server through another name (a tunnel, here the gate).
    const integration = rdsIntegration({
      name: 'iam',
      instanceId: 'iam-db',
      authType: 'iam',
      host: 'localhost',
      port: gate.port,
      sslMode: 'verify-full',
      sslRootCert: gate.caFile,
    });
    const tokens: string[] = [];
    const signer: RdsTokenSigner = async (request) => {
      const token = await rdsSigner(clients)(request);
      tokens.push(token);
      return token;
    };
    const deps = awsTargetDatabaseDeps({ resolver, secrets, clients, signer });
    const db = new PostgresTargetDatabase({
      config: integration,
      credentials: deps.credentials(integration)!,
      serverKey: deps.serverKey(integration),
      endpoint: deps.endpoint(integration),
    });
    try {
      assert.equal(await db.serverKey(), `rds:us-east-1:${instance.resourceId}`);
      assert.equal(await grantAndLogIn(db, 'carol@example.com'), 3);
      // Another database means another pool, so another connection and another token.
      const before = tokens.length;
      assert.ok((await db.listSchemas(APP.otherDatabase)).includes('public'));
      assert.equal(tokens.length, before + 1);
      // Every connection signed in over TLS with a token of its own, at the first attempt.
      const logins = gate.logins();
      assert.ok(logins.length >= 2);
      assert.deepEqual(
        logins,
        tokens.map(() => ({ user: APP.connector, tls: true, accepted: true })),
      );
      // As on RDS, a token holds for its lifetime, not only until the next is minted; a forged one never.
      const signInWith = async (password: string): Promise<string | undefined> => {
        const ssl = { ca: readFileSync(gate.caFile, 'utf8') };
        const client = new pg.Client({ host: 'localhost', port: gate.port, user: APP.connector, password, database: APP.database, ssl });
        client.on('error', () => undefined);
        try {
          await client.connect();
          return 'signed in';
        } catch (err) {
          return (err as { code?: string }).code;
        } finally {
          await client.end().catch(() => undefined);
        }
      };
      assert.equal(await signInWith(tokens[0]!), 'signed in');
      assert.equal(await signInWith(tokens[0]!.replace(/X-Amz-Signature=\w+/, `X-Amz-Signature=${'0'.repeat(64)}`)), '28P01');
    } finally {
      await db.close();
      await gate.close();
    }
    for (const token of tokens) {
      const parsed = parseRdsAuthToken(token);
      assert.deepEqual(
        [parsed.hostname, parsed.port, parsed.user, parsed.action, parsed.expiresSeconds, parsed.scope.region, parsed.scope.service],
        [rdsHost, 5432, APP.connector, 'connect', 900, US, 'rds-db'],
      );
      assert.equal(verifyRdsAuthToken(token, TEST_AWS_SECRET_ACCESS_KEY), true);
      assert.ok(!redact(`connect failed with ${token}`).includes(parsed.signature), 'a logged token loses its signature');
    }
  });

  it('refuses authType iam with an sslMode that could send the token in plain text', () => {
    for (const sslMode of ['disable', 'allow', 'prefer']) {
      // The config schema refuses this at load; the adapter refuses it too, for configs made in code.
      const integration = {
        ...rdsIntegration({ name: 'iam-plain', instanceId: 'iam-db', authType: 'iam', sslMode: 'verify-full' }),
        sslMode,
      } as RdsIntegrationConfig;
      assert.throws(
        () => createAwsConnectorCredentials(integration, { resolver, secrets }),
        (err: Error) => err instanceof InputError && /over TLS only/.test(err.message) && err.message.includes(`sslMode is ${sslMode}`),
      );
    }
    const verified = rdsIntegration({ name: 'iam-tls', instanceId: 'iam-db', authType: 'iam' });
    assert.equal(typeof createAwsConnectorCredentials(verified, { resolver, secrets }), 'function');
  });
});
