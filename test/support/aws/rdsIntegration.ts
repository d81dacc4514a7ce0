import { integrationSchema, type RdsIntegrationConfig } from '../../../src/config/schema.ts';

/**
 * An RDS integration as the config file would give it (parsed, defaults filled in): `prod` in
 * us-east-1, connecting to `app` as `sesame_connector`, with `overrides` on top. It names neither
 * the resource nor how the connector signs in; tests give those (an undefined override drops a
 * key of the base).
 */
export function rdsIntegration(overrides: Record<string, unknown>): RdsIntegrationConfig {
  return integrationSchema.parse({
    name: 'prod',
    type: 'aws-rds-postgresql',
    region: 'us-east-1',
    database: 'app',
    username: 'sesame_connector',
    ...overrides,
  }) as RdsIntegrationConfig;
}
