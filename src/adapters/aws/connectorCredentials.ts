import { Signer } from '@aws-sdk/rds-signer';
import { effectiveSslMode, VERIFYING_SSL_MODES, type IntegrationConfig } from '../../config/schema.ts';
import { InputError } from '../../domain/errors.ts';
import type { ConnectorSecret, SecretSource } from '../../ports/SecretSource.ts';
import type { CredentialProvider, ServerLocator } from '../../ports/ConnectorCredentials.ts';
import type { AwsClients } from './AwsClients.ts';
import type { RdsResolver } from './RdsResolver.ts';

/** What an IAM auth token is signed for. */
export interface RdsTokenRequest {
  hostname: string;
  port: number;
  username: string;
  region: string;
}

/** Mints an IAM database auth token; by default with `@aws-sdk/rds-signer`, offline. */
export type RdsTokenSigner = (request: RdsTokenRequest) => Promise<string>;

export interface AwsConnectorDeps {
  resolver: RdsResolver;
  secrets: SecretSource;
  /** Their credentials (when given) also sign IAM tokens; else the SDK's default chain does. */
  clients?: AwsClients;
  signer?: RdsTokenSigner;
}

/**
 * Refuses `authType: iam` with an sslMode that does not verify the server's certificate: the
 * token travels as a clear-text password and is a bearer credential for fifteen minutes, so
 * whoever poses as the server on the network path (TLS without verification does not stop
 * them) could sign in with it. The config schema refuses the same; this covers configs made in code.
 */
export function assertIamTls(integration: IntegrationConfig): void {
  if (integration.authType !== 'iam') return;
  const sslMode = effectiveSslMode(integration);
  if (!VERIFYING_SSL_MODES.includes(sslMode)) {
    throw new InputError(
      `The integration ${integration.name} signs in with an IAM token (authType: iam), a clear-text password that RDS accepts over TLS only, but its sslMode is ${sslMode}, which does not verify the server's certificate: whoever poses as the server could take the token. Set sslMode to verify-full (or verify-ca); the RDS CA bundle is built in.`,
    );
  }
}

/** How long an IAM database auth token works: the signer's default and RDS's limit. */
export const IAM_TOKEN_LIFETIME_MS = 15 * 60_000;

/** The signer of `@aws-sdk/rds-signer`, with the given credentials or the SDK's default chain. */
export function rdsSigner(clients?: AwsClients): RdsTokenSigner {
  return (request) => new Signer({ ...request, ...(clients?.credentials ? { credentials: clients.credentials } : {}) }).getAuthToken();
}

/**
 * The connector's password for PostgresTargetDatabase, from wherever the integration says:
 * - `authType: iam`: a fresh IAM token for every new connection, signed for the endpoint RDS
 *   reports (not a `host` override: RDS checks the token against its own endpoint), in the
 *   integration's region, for the connector's username, with its lifetime so that the log
 *   redactor forgets it when it stops working. TLS is required (see {@link assertIamTls}).
 * - `secretArn`: the secret's password, cached, read again when the engine asks `fresh` after a
 *   refused login. A secret that names a user must name the integration's `username`
 *   ({@link secretUserMismatch}); one that names none is taken for the integration's user.
 * - otherwise: nothing (undefined): the config's `password` is used.
 * Throws at once (InputError) when the combination cannot work.
 */
export function createAwsConnectorCredentials(integration: IntegrationConfig, deps: AwsConnectorDeps): CredentialProvider | undefined {
  if (integration.authType === 'iam') {
    if (integration.type !== 'aws-rds-postgresql') {
      throw new InputError(`The integration ${integration.name} uses authType: iam, which needs type: aws-rds-postgresql.`);
    }
    assertIamTls(integration);
    const sign = deps.signer ?? rdsSigner(deps.clients);
    return async () => {
      const resource = await deps.resolver.resolve(integration);
      const signed = resource.endpoint ?? (await deps.resolver.endpoint(integration));
      const token = await sign({ hostname: signed.host, port: signed.port, username: integration.username, region: integration.region });
      return { password: token, lifetimeMs: IAM_TOKEN_LIFETIME_MS };
    };
  }
  const secretArn = integration.secretArn;
  if (secretArn !== undefined) {
    return async (options) => {
      const secret = await deps.secrets.read(secretArn, options?.fresh ? { fresh: true } : {});
      const mismatch = secretUserMismatch(integration, secretArn, secret);
      if (mismatch) throw mismatch;
      return secret.password;
    };
  }
  return undefined;
}

/**
 * A password is good only for its own user: a secret that names another user than the
 * integration's `username` is an error that says which of the two to fix.
 */
export function secretUserMismatch(integration: IntegrationConfig, secretArn: string, secret: ConnectorSecret): InputError | undefined {
  if (secret.username === undefined || secret.username === integration.username) return undefined;
  return new InputError(
    `The secret ${secretArn} holds the password of the database user ${secret.username}, but the integration ${integration.name} signs in as ${integration.username}. Set username: ${secret.username}, or point secretArn at the secret of ${integration.username}.`,
  );
}

/**
 * What the engines (RegistryTargetDatabases) need beyond the config, for every integration: the
 * connector's credentials, and for RDS integrations the server key (`rds:<region>:<resourceId>`)
 * and the endpoint, both from RDS.
 */
export function awsTargetDatabaseDeps(deps: AwsConnectorDeps): Required<ServerLocator<IntegrationConfig>> {
  return {
    iamResource: (integration) =>
      integration.type === 'aws-rds-postgresql'
        ? async () => {
            const r = await deps.resolver.resolve(integration);
            return {
              region: r.region,
              accountId: r.accountId,
              resourceId: r.resourceId,
              partition: r.partition,
              ...(r.endpoint ? { tokenHost: r.endpoint.host, tokenPort: r.endpoint.port } : {}),
            };
          }
        : undefined,
    credentials: (integration) => createAwsConnectorCredentials(integration, deps),
    serverKey: (integration) =>
      integration.type === 'aws-rds-postgresql' ? async () => (await deps.resolver.resolve(integration)).serverKey : undefined,
    endpoint: (integration) => (integration.type === 'aws-rds-postgresql' ? () => deps.resolver.endpoint(integration) : undefined),
  };
}
