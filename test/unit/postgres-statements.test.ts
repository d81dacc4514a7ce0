import assert from 'node:assert/strict';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, it } from 'node:test';
import { tlsAttempts } from '../../src/adapters/postgres/connection.ts';
import { RegistryTargetDatabases } from '../../src/adapters/postgres/RegistryTargetDatabases.ts';
import { awsTargetDatabaseDeps } from '../../src/adapters/aws/connectorCredentials.ts';
import type { RdsResolver } from '../../src/adapters/aws/RdsResolver.ts';
import type { SecretSource } from '../../src/ports/SecretSource.ts';
import type { PostgresTargetDatabasesDeps } from '../../src/adapters/postgres/postgresTargetDatabases.ts';
import type { IntegrationConfig } from '../../src/config/schema.ts';
import { IntegrationRegistry } from '../../src/services/IntegrationRegistry.ts';
import { ManualClock } from '../support/fakes.ts';

/** The engines of a fixed list of integrations, as the bot builds them. */
function enginesFor(integrations: IntegrationConfig[], deps: PostgresTargetDatabasesDeps = {}): RegistryTargetDatabases {
  return new RegistryTargetDatabases(new IntegrationRegistry(integrations, new ManualClock()), deps);
}
import { groupRoleComment, groupRoleName } from '../../src/adapters/postgres/groupRoles.ts';
import { scramSha256Verifier } from '../../src/adapters/postgres/scram.ts';
import * as sql from '../../src/adapters/postgres/statements.ts';
import { integrationSchema } from '../../src/config/schema.ts';
import { InputError, NotFoundError } from '../../src/domain/errors.ts';

describe('quoteLiteral', () => {
  it('doubles quotes and keeps everything else as it is', () => {
    assert.equal(sql.quoteLiteral("o'brien; DROP ROLE x; --"), "'o''brien; DROP ROLE x; --'");
    assert.equal(sql.quoteLiteral('ünïcødé'), "'ünïcødé'");
  });

  it('writes a backslash so that it reads the same whatever standard_conforming_strings says', () => {
    assert.equal(sql.quoteLiteral("a\\b'c"), " E'a\\\\b''c'");
  });

  it('refuses NUL', () => {
    assert.throws(() => sql.quoteLiteral('a\u0000b'), InputError);
  });
});

describe('statements', () => {
  it('quote every name', () => {
    assert.equal(sql.grantRole('r', 'a"b').text, 'GRANT "r" TO "a""b"');
    assert.equal(
      sql.grantOnAllInSchemas('TABLES', ['SELECT'], ['we"ird; drop', 'public'], 'g').text,
      'GRANT SELECT ON ALL TABLES IN SCHEMA "we""ird; drop", "public" TO "g"',
    );
    assert.equal(sql.grantOnTable(['SELECT'], 's', 't;', 'g').text, 'GRANT SELECT ON TABLE "s"."t;" TO "g"');
  });

  it('write expiries as UTC timestamps and refuse invalid dates', () => {
    assert.equal(
      sql.enableLogin('u', new Date('2030-01-02T03:04:05Z')).text,
      `ALTER ROLE "u" WITH LOGIN VALID UNTIL '2030-01-02T03:04:05.000Z'`,
    );
    assert.throws(() => sql.setValidUntil('u', new Date('nope')), InputError);
  });

  it('never show the password verifier to observers', () => {
    const statement = sql.setPasswordVerifier('u', 'SCRAM-SHA-256$4096:abc$def:ghi');
    assert.match(statement.text, /SCRAM-SHA-256/);
    assert.equal(statement.shownText, `ALTER ROLE "u" WITH PASSWORD '[REDACTED]'`);
  });

  it('pass values as parameters', () => {
    const statement = sql.rolesByName(["x'; DROP ROLE y; --"]);
    assert.ok(!statement.text.includes('DROP ROLE y'));
    assert.deepEqual(statement.values, [["x'; DROP ROLE y; --"]]);
  });
});

describe('group roles', () => {
  const publicSchema = { integration: 'a', database: 'app', schema: 'public' };

  it('are named by permission and a hash of the physical scope, not of the integration', () => {
    const name = groupRoleName('readonly', publicSchema);
    assert.match(name, /^sesame_ro_[0-9a-f]{12}$/);
    assert.equal(groupRoleName('readonly', { ...publicSchema, integration: 'b' }), name);
    // The permission is part of the hash too, not only of the prefix.
    assert.notEqual(groupRoleName('readwrite', publicSchema).slice(-12), name.slice(-12));
    assert.match(groupRoleName('admin', publicSchema), /^sesame_admin_/);
    assert.notEqual(groupRoleName('readonly', { ...publicSchema, schema: 'sales' }), name);
    assert.notEqual(groupRoleName('readonly', { integration: 'a', database: 'app' }), name);
  });

  it('do not confuse names that only a separator would tell apart', () => {
    assert.notEqual(
      groupRoleName('readonly', { integration: 'a', database: 'a/b', schema: 'c' }),
      groupRoleName('readonly', { integration: 'a', database: 'a', schema: 'b/c' }),
    );
  });

  it('carry a mark that names what they hold', () => {
    assert.equal(groupRoleComment('readonly', publicSchema), 'sesame: group {"permission":"readonly","database":"app","schema":"public"}');
  });
});

describe('tlsAttempts', () => {
  it('follow libpq: disable plain, allow plain then TLS, prefer TLS then plain', () => {
    assert.deepEqual(tlsAttempts({ sslMode: 'disable' }), [false]);
    assert.deepEqual(tlsAttempts({ sslMode: 'allow' }), [false, { rejectUnauthorized: false }]);
    assert.deepEqual(tlsAttempts({ sslMode: 'prefer' }), [{ rejectUnauthorized: false }, false]);
  });

  it('require does not verify, unless a CA file is given', () => {
    assert.deepEqual(tlsAttempts({ sslMode: 'require' }), [{ rejectUnauthorized: false }]);
  });

  it('verify-ca skips the host name check; verify-full does not', () => {
    const [ca] = tlsAttempts({ sslMode: 'verify-ca' });
    assert.ok(ca && ca.rejectUnauthorized === true && typeof ca.checkServerIdentity === 'function');
    const [full] = tlsAttempts({ sslMode: 'verify-full' });
    assert.ok(full && full.rejectUnauthorized === true && full.checkServerIdentity === undefined);
  });

  it('verify against the RDS CA bundle for RDS integrations without a CA file', () => {
    const [full] = tlsAttempts({ sslMode: 'verify-full', rdsCaBundle: true });
    assert.ok(full && Array.isArray(full.ca) && full.ca.length > 10);
  });
});

describe('scramSha256Verifier', () => {
  it('is the verifier PostgreSQL computes for the password', () => {
    const salt = Buffer.from('0123456789abcdef');
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    const storedKey = createHash('sha256').update(createHmac('sha256', salted).update('Client Key').digest()).digest('base64');
    const serverKey = createHmac('sha256', salted).update('Server Key').digest('base64');
    assert.equal(scramSha256Verifier('pencil', salt), `SCRAM-SHA-256$4096:${salt.toString('base64')}$${storedKey}:${serverKey}`);
  });

  it('uses a new salt each time', () => {
    assert.notEqual(scramSha256Verifier('same-password'), scramSha256Verifier('same-password'));
  });

  it('refuses what SASLprep could change', () => {
    assert.throws(() => scramSha256Verifier('pässword'), InputError);
    assert.throws(() => scramSha256Verifier('pass word'), InputError);
  });
});

describe('the engines of configured integrations', () => {
  const integration = (name: string, extra: Record<string, unknown> = {}) =>
    integrationSchema.parse({
      name,
      type: 'postgresql',
      host: 'db.internal',
      port: 6432,
      database: 'app',
      username: 'c',
      password: 'secret-pw',
      ...extra,
    });
  const rdsIntegration = (extra: Record<string, unknown> = {}) =>
    integrationSchema.parse({
      name: 'prod',
      type: 'aws-rds-postgresql',
      region: 'us-east-1',
      instanceId: 'prod-1',
      database: 'app',
      username: 'c',
      authType: 'iam',
      ...extra,
    });

  it('finds each integration by name and refuses unknown ones with the known names', async () => {
    const databases = enginesFor([integration('one'), integration('two', { sslMode: 'verify-full' })]);
    assert.deepEqual(databases.names(), ['one', 'two']);
    assert.equal(databases.get('two').integration, 'two');
    assert.deepEqual(await databases.get('two').connectionInfo(), {
      host: 'db.internal',
      port: 6432,
      database: 'app',
      sslMode: 'verify-full',
    });
    assert.equal(await databases.get('one').serverKey(), 'db.internal:6432');
    assert.throws(
      () => databases.get('three'),
      (err: Error) => err instanceof NotFoundError && /one, two/.test(err.message),
    );
    await databases.closeAll();
  });

  it('takes the connector password from the config where AWS holds no credential for the integration', async () => {
    const aws = awsTargetDatabaseDeps({ resolver: {} as RdsResolver, secrets: {} as SecretSource });
    const local = integration('local');
    assert.equal(aws.credentials(local), undefined, 'AWS answers only for secrets and IAM');
    assert.equal(
      typeof aws.credentials(
        integration('secret', { password: undefined, secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x' }),
      ),
      'function',
    );
    const databases = enginesFor([local], aws);
    assert.equal(await databases.get('local').serverKey(), 'db.internal:6432');
    await databases.closeAll();
  });

  it('uses the server key and endpoint it is given, for RDS integrations without a host', async () => {
    const rds = rdsIntegration();
    const databases = enginesFor([rds], {
      serverKey: () => 'db-ABCDEF',
      endpoint: () => async () => ({ host: 'prod-1.abc.us-east-1.rds.amazonaws.com', port: 5432 }),
    });
    assert.equal(await databases.get('prod').serverKey(), 'db-ABCDEF');
    assert.deepEqual(await databases.get('prod').connectionInfo(), {
      host: 'prod-1.abc.us-east-1.rds.amazonaws.com',
      port: 5432,
      database: 'app',
      sslMode: 'verify-full',
    });
    await databases.closeAll();
  });

  it('asks RDS for the port of an RDS integration whose config gives only a host', async () => {
    const rds = rdsIntegration({ host: 'tunnel.internal' });
    const databases = enginesFor([rds], {
      // RDS's answer with the config's host override applied, as the resolver gives it.
      endpoint: () => async () => ({ host: 'tunnel.internal', port: 6543 }),
    });
    assert.deepEqual(await databases.get('prod').connectionInfo(), {
      host: 'tunnel.internal',
      port: 6543,
      database: 'app',
      sslMode: 'verify-full',
    });
    await databases.closeAll();
  });
});
