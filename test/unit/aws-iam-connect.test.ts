import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { discoveredIntegrationName } from '../../src/adapters/aws/RdsDiscovery.ts';
import { iamConnectDetails, RDS_CA_BUNDLE_URL } from '../../src/domain/iamConnect.ts';
import { parseArn } from '../../src/adapters/aws/awsErrors.ts';
import { INTEGRATION_NAME_RE } from '../../src/domain/identifiers.ts';

const HOST = 'prod-db-1.c0ffee123456.us-east-1.rds.amazonaws.com';
const BASE = {
  region: 'us-east-1',
  accountId: '123456789012',
  resourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXY2',
  host: HOST,
  port: 5432,
  username: 'alice@example.com',
  database: 'app',
  sslMode: 'verify-full',
};

/**
 * Runs `script` in sh with stand-ins for `aws` and `psql` that write down the arguments they
 * were given (one per line) and, for psql, the PGPASSWORD it saw.
 */
function runWithStandIns(script: string): { aws: string[]; psql: string[]; password: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-iam-'));
  try {
    const record = (name: string, extra = '') => `#!/bin/sh\nfor a in "$@"; do printf '%s\\n' "$a"; done > "${dir}/${name}.args"\n${extra}`;
    writeFileSync(join(dir, 'aws'), record('aws', 'printf "%s" "host:5432/?Action=connect&DBUser=x&X-Amz-Signature=abc"\n'));
    writeFileSync(join(dir, 'psql'), record('psql', `printf '%s' "$PGPASSWORD" > "${dir}/psql.password"\n`));
    chmodSync(join(dir, 'aws'), 0o755);
    chmodSync(join(dir, 'psql'), 0o755);
    execFileSync('sh', ['-c', script], { env: { PATH: `${dir}:/usr/bin:/bin` } });
    const lines = (name: string) =>
      readFileSync(join(dir, `${name}.args`), 'utf8')
        .split('\n')
        .slice(0, -1);
    return { aws: lines('aws'), psql: lines('psql'), password: readFileSync(join(dir, 'psql.password'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('iamConnectDetails', () => {
  it('gives the policy statement, the token command and the psql command AWS documents', () => {
    const details = iamConnectDetails(BASE);
    const arn = 'arn:aws:rds-db:us-east-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY2/alice@example.com';
    assert.equal(details.resourceArn, arn);
    assert.deepEqual(details.policyStatement, { Effect: 'Allow', Action: 'rds-db:connect', Resource: arn });
    assert.deepEqual(JSON.parse(details.policyJson), {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'rds-db:connect', Resource: arn }],
    });
    assert.equal(
      details.tokenCommand,
      `aws rds generate-db-auth-token --hostname ${HOST} --port 5432 --region us-east-1 --username alice@example.com`,
    );
    assert.equal(
      details.psqlCommand,
      `psql 'host=${HOST} port=5432 dbname=app user=alice@example.com sslmode=verify-full sslrootcert=global-bundle.pem'`,
    );
    assert.equal(details.script, `export PGPASSWORD="$(${details.tokenCommand})"\n${details.psqlCommand}`);
    assert.equal(details.caBundleUrl, RDS_CA_BUNDLE_URL);
  });

  it('names an Aurora cluster by its cluster resource id, in its partition', () => {
    const details = iamConnectDetails({
      ...BASE,
      resourceId: 'cluster-ABCDEFGHIJKL01234',
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
    });
    assert.equal(
      details.resourceArn,
      'arn:aws-us-gov:rds-db:us-gov-west-1:123456789012:dbuser:cluster-ABCDEFGHIJKL01234/alice@example.com',
    );
  });

  it('always asks for TLS: verify-full unless the integration verifies the chain only or not at all', () => {
    assert.equal(iamConnectDetails({ ...BASE, sslMode: 'prefer' }).sslMode, 'verify-full');
    assert.equal(iamConnectDetails({ ...BASE, sslMode: 'disable' }).sslMode, 'verify-full');
    assert.equal(iamConnectDetails({ ...BASE, sslMode: 'verify-ca' }).sslMode, 'verify-ca');
    const require = iamConnectDetails({ ...BASE, sslMode: 'require' });
    assert.equal(require.sslMode, 'require');
    assert.equal(require.caBundleUrl, undefined);
    assert.ok(!require.psqlCommand.includes('sslrootcert'));
  });

  it('signs the token for the RDS endpoint when people connect through another host', () => {
    const details = iamConnectDetails({ ...BASE, host: 'localhost', port: 15432, tokenHost: HOST, tokenPort: 5432 });
    assert.match(details.tokenCommand, new RegExp(`--hostname ${HOST.replaceAll('.', '\\.')} --port 5432 `));
    assert.match(details.psqlCommand, /host=localhost port=15432 /);
  });

  it('quotes names so that the shell and libpq read them back exactly', () => {
    const username = "o'brien $HOME `id` \\x";
    const database = 'my db';
    const details = iamConnectDetails({ ...BASE, username, database });
    const seen = runWithStandIns(details.script);
    assert.deepEqual(seen.aws, [
      'rds',
      'generate-db-auth-token',
      '--hostname',
      HOST,
      '--port',
      '5432',
      '--region',
      'us-east-1',
      '--username',
      username,
    ]);
    assert.equal(seen.password, 'host:5432/?Action=connect&DBUser=x&X-Amz-Signature=abc');
    assert.equal(seen.psql.length, 1);
    assert.equal(
      seen.psql[0],
      `host=${HOST} port=5432 dbname='my db' user='o\\'brien $HOME \`id\` \\\\x' sslmode=verify-full sslrootcert=global-bundle.pem`,
    );
    assert.ok(details.resourceArn.endsWith(`/${username}`));
  });
});

describe('discovered integration names', () => {
  it('lower-cases identifiers and adds the region when asked', () => {
    assert.equal(discoveredIntegrationName('Prod-DB-1'), 'prod-db-1');
    assert.equal(discoveredIntegrationName('prod-db-1', 'eu-west-1'), 'prod-db-1-eu-west-1');
    assert.equal(discoveredIntegrationName('odd_name.x'), 'odd-name-x');
  });

  it('stays a valid integration name when the region makes it too long, and keeps two such names apart', () => {
    const long = `a${'b'.repeat(60)}`;
    const east = discoveredIntegrationName(long, 'us-east-1');
    const west = discoveredIntegrationName(long, 'us-west-2');
    for (const name of [east, west]) {
      assert.match(name, INTEGRATION_NAME_RE);
      assert.ok(name.length <= 63);
    }
    assert.notEqual(east, west);
  });
});

describe('parseArn', () => {
  it('reads the partition, service, region and account, or says it is no ARN', () => {
    assert.deepEqual(parseArn('arn:aws-cn:rds:cn-north-1:123456789012:db:prod'), {
      partition: 'aws-cn',
      service: 'rds',
      region: 'cn-north-1',
      accountId: '123456789012',
      resource: 'db:prod',
    });
    assert.equal(parseArn('prod-db-1'), undefined);
  });
});
