import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RegistryTargetDatabases } from '../../src/adapters/postgres/RegistryTargetDatabases.ts';
import { integrationSchema } from '../../src/config/schema.ts';
import { NotFoundError } from '../../src/domain/errors.ts';
import { IntegrationRegistry } from '../../src/services/IntegrationRegistry.ts';
import { rdsIntegration } from '../support/aws/rdsIntegration.ts';
import { ManualClock } from '../support/fakes.ts';

const rds = (database: string) =>
  rdsIntegration({
    name: 'prod-db',
    instanceId: 'prod-db',
    database,
    secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:s-AbCdEf',
  });

describe('target databases over the integration registry', () => {
  it('builds each integration once, builds it anew when discovery changes it, and knows discovered names', async () => {
    const registry = new IntegrationRegistry(
      [integrationSchema.parse({ name: 'local', type: 'postgresql', host: 'db', database: 'app', username: 'c', password: 'secret-pw' })],
      new ManualClock(),
    );
    const databases = new RegistryTargetDatabases(registry);
    const local = databases.get('local');
    assert.equal(databases.get('local'), local);
    assert.throws(() => databases.get('prod-db'), NotFoundError);

    registry.applyDiscovery([rds('app')]);
    assert.deepEqual(databases.names(), ['local', 'prod-db']);
    const first = databases.get('prod-db');
    registry.applyDiscovery([rds('other')]);
    const second = databases.get('prod-db');
    assert.notEqual(second, first, 'a changed integration is built anew');
    assert.equal(databases.get('prod-db'), second);
    await databases.closeAll();
  });
});
