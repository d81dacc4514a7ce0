/**
 * What `sesame check` says, on a real PostgreSQL set up as RDS's documentation leaves it, and
 * with the fake AWS refusing: the cause it names is the real one, the SQL it points at is there,
 * the database it names is the one it used (and why, when not the configured one), a failure is
 * said once, and sesame.example.yml starts as written against a local server.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../../src/cli.ts';
import { createLogger } from '../../src/logger.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { useAwsEnv } from '../support/aws/awsEnv.ts';
import { APP, localIntegrationYaml, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';

const version = pgVersions()[0]!;
const PG_ENV = 'CHECK_TEST_PG_PASSWORD';
const NO_CREATEROLE = 'sesame_nocreaterole';
const NO_CREATEROLE_PASSWORD = 'no-createrole-password-1';

const FLOW = `accessFlows:
  - name: read
    requestors: ["*"]
    permissions: [readonly]
    maxDuration: 1h
`;

let cluster: TestCluster;
let dir: string;

/** Runs `sesame check` on `config` and returns its exit code and everything it printed. */
async function check(config: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; text: string }> {
  const path = join(dir, `check-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(path, `state: { sqlite: ${path}.db }\n${config}`);
  const lines: string[] = [];
  const code = await runCli(['check'], {
    out: (l) => lines.push(l),
    err: (l) => lines.push(l),
    env: { [PG_ENV]: cluster.connector.password, ...env, SESAME_CONFIG: path },
    logger: createLogger({ level: 'silent' }),
  });
  return { code, text: lines.join('\n') };
}

function integrations(...lines: string[]): string {
  return `integrations:\n${localIntegrationYaml(cluster, PG_ENV, [])
    .split('\n')
    .map((l) => lines.reduce((out, change) => (out.startsWith(`    ${change.split(':')[0]}:`) ? `    ${change}` : out), l))
    .join('\n')}\n`;
}

function occurrences(text: string, part: string): number {
  return text.split(part).length - 1;
}

describe(`sesame check on PostgreSQL ${version}`, { timeout: 240_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sesame-check-'));
    cluster = await startCluster(version);
    // A connector made like the RDS documentation's, but without CREATEROLE.
    await cluster.query(`CREATE ROLE ${NO_CREATEROLE} LOGIN PASSWORD '${NO_CREATEROLE_PASSWORD}'; GRANT rds_superuser TO ${NO_CREATEROLE}`);
  });
  after(async () => {
    await cluster?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('blames a missing CREATEROLE on CREATEROLE, with ALTER ROLE … CREATEROLE as the fix', async () => {
    const { code, text } = await check(`${integrations(`username: ${NO_CREATEROLE}`)}${FLOW}`, { [PG_ENV]: NO_CREATEROLE_PASSWORD });
    assert.equal(code, 1, text);
    assert.match(text, /error The connector may not create roles/);
    assert.match(text, new RegExp(`^\\s+ALTER ROLE "${NO_CREATEROLE}" WITH CREATEROLE;$`, 'm'));
    assert.doesNotMatch(text, /does not let a CREATEROLE role/, 'the old words blamed the version');
    if (version <= 15) {
      // Up to 15, CREATEROLE is all it lacks: with it, the connector takes the owners' memberships itself.
      assert.match(text, new RegExp(`app_owner.*because the connector ${NO_CREATEROLE} lacks CREATEROLE`));
      assert.doesNotMatch(text, new RegExp(`PostgreSQL ${version}\\b.*(does not let|only an admin)`));
    }
    assert.match(text, /Some integrations need the SQL above/);
  });

  it('says nothing of SQL when none is shown: a wrong password or a wrong port', async () => {
    for (const [what, config, env] of [
      ['wrong password', integrations(), { [PG_ENV]: 'not-the-password' }],
      ['wrong port', integrations('port: 1'), {}],
    ] as const) {
      const { code, text } = await check(`${config}${FLOW}`, env);
      assert.equal(code, 1, `${what}: ${text}`);
      assert.match(text, /error Sesame cannot connect|error .*password/i, what);
      assert.doesNotMatch(text, /SQL above/, `${what}: ${text}`);
      assert.match(text, /Sesame cannot grant access until the errors above are fixed\.$/, what);
    }
  });

  it('names the database it connected to, and on the same line why it is not the configured one', async () => {
    // appdb does not let PUBLIC connect, and the connector is not yet a member of its owner.
    const { text } = await check(`${integrations()}${FLOW}`);
    const line = text.split('\n').find((l) => l.includes('Connected to PostgreSQL'));
    assert.match(
      line ?? text,
      new RegExp(
        `as ${APP.connector} \\(database postgres, not the configured ${APP.database}: the connector may not connect to ${APP.database}\\)\\.$`,
      ),
    );
    const missing = await check(`${integrations('database: nosuchdb')}${FLOW}`);
    assert.match(missing.text, /\(database postgres, not the configured nosuchdb: database nosuchdb does not exist\)\./);
  });

  it('reports a failed discovery once, with its reason, and never "found: nothing"', async () => {
    const aws = await FakeAws.start();
    const restore = useAwsEnv(aws);
    try {
      aws.fail('DescribeDBInstances', 'AccessDenied', 403, { message: 'not authorized to perform rds:DescribeDBInstances' });
      const { code, text } = await check(`discovery:
  - type: aws-rds
    regions: [us-east-1]
    secretTagKey: sesame-secret
integrations:
  - name: prod
    type: aws-rds-postgresql
    region: us-east-1
    instanceId: prod-db-1
    username: ${APP.connector}
    password: \${${PG_ENV}}
    database: ${APP.database}
${FLOW}`);
      assert.equal(code, 1, text);
      assert.equal(occurrences(text, 'Discovery failed in us-east-1'), 1, text);
      assert.match(text, /Discovery failed in us-east-1: .*not authorized to perform rds:DescribeDBInstances/);
      assert.doesNotMatch(text, /Discovery found/);
      assert.doesNotMatch(text, /nothing/);
      // The configured instance cannot be described either: said once, not by each part of the check.
      const described = text.split('\n').filter((l) => /describe the DB instance prod-db-1/.test(l));
      assert.equal(described.length, 1, text);
    } finally {
      restore();
      await aws.stop();
    }
  });

  it('starts sesame.example.yml as written against a local PostgreSQL, with no AWS', async () => {
    await cluster.completeConnectorSetup();
    const example = readFileSync('sesame.example.yml', 'utf8').replace(/^(\s+port:) 5432\b/m, `$1 ${cluster.port}`);
    const path = join(dir, 'sesame.yml');
    writeFileSync(path, example.replace('./data/sesame.db', join(dir, 'example.db')));
    const lines: string[] = [];
    const code = await runCli(['check'], {
      out: (l) => lines.push(l),
      err: (l) => lines.push(l),
      env: { SESAME_CONFIG: path, LOCAL_PG_PASSWORD: cluster.connector.password },
      logger: createLogger({ level: 'silent' }),
    });
    const text = lines.join('\n');
    assert.equal(code, 0, text);
    assert.match(text, new RegExp(`Connected to PostgreSQL .* as ${APP.connector} \\(database ${APP.database}\\)\\.`));
    assert.doesNotMatch(text, /AWS|Discovery/);
    assert.match(text, /All integrations are ready\./);
  });
});
