import { configSchema, type Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logger.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { IntegrationRegistry } from '../../src/services/IntegrationRegistry.ts';
import type { ResourceOwners } from '../../src/ports/ResourceOwners.ts';
import { FakeDirectory, FakeTargetDatabase, FakeTargetDatabases, ManualClock, RecordingNotifier } from './fakes.ts';
import { InMemoryStateStore } from './InMemoryStateStore.ts';

/** People of the unit tests: Slack ID → email. */
export const PEOPLE = {
  U0ALICE: 'alice@example.com',
  U0BOB: 'bob@example.com',
  U0CAROL: 'carol@example.com',
  U0DAVE: 'dave@example.com',
  U0ADMIN: 'admin@example.com',
};

/** A config with an approved flow, an automatic one, a two-party one and a grantable role. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    slack: { admins: ['U0ADMIN'] },
    integrations: [
      {
        name: 'local',
        type: 'postgresql',
        host: 'local.example',
        database: 'appdb',
        username: 'sesame_connector',
        password: 'connector-secret',
        owners: { integration: ['U0BOB'] },
        grantableRoles: ['reporting'],
        credentialRotationDays: 30,
        userCleanupDays: 7,
      },
      {
        name: 'other',
        type: 'postgresql',
        host: 'local.example',
        database: 'otherdb',
        username: 'sesame_connector',
        password: 'connector-secret',
        owners: { integration: ['U0CAROL'] },
      },
    ],
    accessFlows: [
      {
        name: 'auto-read',
        requestors: ['*'],
        targets: [{ integration: 'local', databases: ['appdb'], schemas: ['public'] }],
        permissions: ['readonly'],
        maxDuration: '8h',
        defaultDuration: '1h',
        approvers: [],
      },
      {
        name: 'owner-approved',
        requestors: ['*'],
        targets: [{ integration: 'local' }, { integration: 'other', databases: ['otherdb'] }],
        permissions: ['readonly', 'readwrite', 'admin', 'role:reporting'],
        maxDuration: '4h',
        approvers: ['integration-owner'],
      },
      {
        name: 'two-party',
        requestors: ['@sre'],
        targets: [{ integration: 'other' }],
        permissions: ['admin'],
        maxDuration: '1h',
        approvers: ['U0BOB', 'U0CAROL'],
        approvalMode: 'all',
      },
    ],
    ...overrides,
  });
}

export interface ServiceWorld {
  services: Services;
  store: InMemoryStateStore;
  clock: ManualClock;
  notifier: RecordingNotifier;
  databases: FakeTargetDatabases;
  local: FakeTargetDatabase;
  other: FakeTargetDatabase;
  config: Config;
  integrations: IntegrationRegistry;
  /** People and user groups; a test may change a group's members between two steps. */
  directory: FakeDirectory;
}

/** Services on in-memory fakes of every port. `local` and `other` live on one server. */
export function serviceWorld(config = testConfig(), ports: { owners?: ResourceOwners } = {}): ServiceWorld {
  const store = new InMemoryStateStore();
  const clock = new ManualClock();
  const notifier = new RecordingNotifier();
  const local = new FakeTargetDatabase('local', 'local.example:5432');
  const other = new FakeTargetDatabase('other', 'local.example:5432', local.users);
  const databases = new FakeTargetDatabases([local, other]);
  const directory = new FakeDirectory({ ...PEOPLE }, { sre: ['U0DAVE', 'U0ALICE'] });
  const integrations = new IntegrationRegistry(config.integrations, clock);
  const services = createServices({
    config,
    integrations,
    store,
    databases,
    notifier,
    directory,
    clock,
    logger: createLogger({ level: 'silent' }),
    ...ports,
  });
  return { services, store, clock, notifier, databases, local, other, config, integrations, directory };
}
