import type { IntegrationConfig } from '../../config/schema.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import type { CheckFinding } from '../../ports/TargetDatabase.ts';
import { AwsClients, type AwsClientsOptions } from './AwsClients.ts';
import { awsCheckFindings } from './awsCheck.ts';
import { awsTargetDatabaseDeps } from './connectorCredentials.ts';
import { RdsDiscovery } from './RdsDiscovery.ts';
import { RdsResolver } from './RdsResolver.ts';
import { RdsResourceOwners } from './RdsResourceOwners.ts';
import { SecretsManagerSecretSource } from './SecretsManagerSecretSource.ts';

export interface AwsAdaptersOptions {
  /** The integration config by name, static or discovered: owner tags are looked up through it. */
  integration: (name: string) => IntegrationConfig | undefined;
  /** Default: the SDK's credential chain and endpoint variables, 5 attempts per call. */
  clients?: AwsClientsOptions;
  clock?: Clock;
  logger?: Logger;
}

/** Every AWS adapter, sharing one set of clients and one cache of RDS descriptions and secrets. */
export interface AwsAdapters {
  clients: AwsClients;
  resolver: RdsResolver;
  secrets: SecretsManagerSecretSource;
  discovery: RdsDiscovery;
  owners: RdsResourceOwners;
  /** For the engines (RegistryTargetDatabases): credentials, server key and endpoint per integration. */
  targetDatabaseDeps: ReturnType<typeof awsTargetDatabaseDeps>;
  /** The AWS findings of `sesame check` for one integration. */
  check(integration: IntegrationConfig): Promise<CheckFinding[]>;
  /** Closes the SDK clients' connections. */
  close(): void;
}

/** Builds the AWS adapters for the composition root. Nothing calls AWS until it is used. */
export function createAwsAdapters(options: AwsAdaptersOptions): AwsAdapters {
  const clients = new AwsClients(options.clients);
  const { clock, logger } = options;
  const resolver = new RdsResolver({ clients, clock });
  const secrets = new SecretsManagerSecretSource({ clients, clock });
  return {
    clients,
    resolver,
    secrets,
    discovery: new RdsDiscovery({ clients, secrets, logger }),
    owners: new RdsResourceOwners({ integration: options.integration, resolver, clients, logger }),
    targetDatabaseDeps: awsTargetDatabaseDeps({ resolver, secrets, clients }),
    check: (integration) => awsCheckFindings(integration, { resolver, secrets, clients }),
    close: () => clients.destroy(),
  };
}
