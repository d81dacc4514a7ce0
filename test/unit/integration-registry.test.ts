import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { integrationSchema, type IntegrationConfig } from '../../src/config/schema.ts';
import { IntegrationRegistry } from '../../src/services/IntegrationRegistry.ts';
import { rdsIntegration } from '../support/aws/rdsIntegration.ts';
import { ManualClock } from '../support/fakes.ts';

function rds(name: string, region = 'us-east-1', extra: Record<string, unknown> = {}): IntegrationConfig {
  return rdsIntegration({
    name,
    region,
    instanceId: name,
    database: 'postgres',
    secretArn: `arn:aws:secretsmanager:${region}:123456789012:secret:${name}-AbCdEf`,
    ...extra,
  });
}

describe('the integration registry', () => {
  const local = integrationSchema.parse({
    name: 'local',
    type: 'postgresql',
    host: 'db',
    database: 'app',
    username: 'c',
    password: 'secret-pw',
  });

  it('adds what discovery finds, marks what disappears unavailable, and brings it back', () => {
    const clock = new ManualClock();
    const reg = new IntegrationRegistry([local], clock);
    const seen: string[] = [];
    reg.onChange((c) => seen.push(JSON.stringify(c)));
    assert.deepEqual(reg.applyDiscovery([rds('prod-db-1'), rds('prod-db-2')]).added, ['prod-db-1', 'prod-db-2']);
    assert.deepEqual(
      reg.list().map((i) => i.name),
      ['local', 'prod-db-1', 'prod-db-2'],
    );

    clock.advance(60_000);
    const gone = reg.applyDiscovery([rds('prod-db-1')]);
    assert.deepEqual(gone.missing, ['prod-db-2']);
    assert.equal(reg.isAvailable('prod-db-2'), false);
    assert.ok(reg.get('prod-db-2'), 'never forgotten');
    assert.deepEqual(
      reg.available().map((i) => i.name),
      ['local', 'prod-db-1'],
    );
    assert.deepEqual(reg.entry('prod-db-2')?.missingSince, clock.now());

    const back = reg.applyDiscovery([rds('prod-db-1'), rds('prod-db-2', 'us-east-1', { database: 'app' })]);
    assert.deepEqual(back.returned, ['prod-db-2']);
    assert.equal(reg.get('prod-db-2')?.database, 'app');
    assert.equal(seen.length, 3);
  });

  it('keeps what lives in a region it could not read this time', () => {
    const reg = new IntegrationRegistry([], new ManualClock());
    reg.applyDiscovery([rds('a', 'us-east-1'), rds('b', 'eu-west-1')]);
    const changes = reg.applyDiscovery([rds('a', 'us-east-1')], (c) => c.type === 'aws-rds-postgresql' && c.region === 'eu-west-1');
    assert.deepEqual(changes.missing, []);
    assert.equal(reg.isAvailable('b'), true);
  });

  it('never lets a discovered name replace one from the config file, and notes changes', () => {
    const reg = new IntegrationRegistry([local], new ManualClock());
    const changes = reg.applyDiscovery([rds('local'), rds('x')]);
    assert.deepEqual(changes.added, ['x']);
    assert.equal(reg.get('local')?.type, 'postgresql');
    assert.deepEqual(reg.applyDiscovery([rds('x', 'us-east-1', { database: 'other' })]).changed, ['x']);
    assert.deepEqual(reg.applyDiscovery([]).missing, ['x'], 'config integrations are never marked missing');
    assert.equal(reg.isAvailable('local'), true);
  });
});
