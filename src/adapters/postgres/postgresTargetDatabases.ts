import type { IntegrationConfig } from '../../config/schema.ts';
import { TargetUnavailableError } from '../../domain/errors.ts';
import type { Logger } from '../../logger.ts';
import type { ServerLocator } from '../../ports/ConnectorCredentials.ts';
import type { CredentialProvider } from './connection.ts';
import type { ConnectorAuditEvent } from './grantSteps.ts';
import { PostgresTargetDatabase } from './PostgresTargetDatabase.ts';
import type { StatementObserver } from './session.ts';

/** Builds the engine of one integration from its config and what the rest of Sesame gives. */

/**
 * How the factory finds what each integration needs beyond its config: a ServerLocator (AWS),
 * whose `credentials` default to the `password` in the integration's config.
 */
export interface PostgresTargetDatabasesDeps extends ServerLocator<IntegrationConfig> {
  audit?: (event: ConnectorAuditEvent) => Promise<void>;
  logger?: Logger;
  onStatement?: StatementObserver;
}

/** The connector's password as the config gives it. */
export function configPasswordCredentials(integration: IntegrationConfig): CredentialProvider {
  return async () => {
    if (!integration.password) {
      throw new TargetUnavailableError(
        `The integration ${integration.name} has no password in the config, and no other credential source was given for it.`,
      );
    }
    return integration.password;
  };
}

/** The PostgresTargetDatabase of one integration, with what `deps` gives beyond its config. */
export function postgresTargetDatabase(config: IntegrationConfig, deps: PostgresTargetDatabasesDeps = {}): PostgresTargetDatabase {
  return new PostgresTargetDatabase({
    config,
    credentials: deps.credentials?.(config) ?? configPasswordCredentials(config),
    serverKey: deps.serverKey?.(config),
    endpoint: deps.endpoint?.(config),
    iamResource: deps.iamResource?.(config),
    audit: deps.audit,
    logger: deps.logger,
    onStatement: deps.onStatement,
  });
}
