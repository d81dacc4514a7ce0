import { RDSClient, type RDSClientConfig } from '@aws-sdk/client-rds';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** Static credentials or a provider of them, as the SDK clients and the RDS signer take them. */
export type AwsCredentials = NonNullable<RDSClientConfig['credentials']>;

export interface AwsClientsOptions {
  /**
   * Attempts per call, the first included. The SDK's standard retry strategy retries throttling,
   * 5xx and network errors with jittered backoff; RDS throttles Describe* calls per account, so
   * a discovery over several regions wants more patience than the SDK's default of 3.
   */
  maxAttempts?: number;
  /** Replaces the SDK's default credential chain (environment, profile, instance role). */
  credentials?: AwsCredentials;
  /**
   * Replaces both services' endpoint. Normally unset: the SDK itself honours
   * `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_RDS` and `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
   */
  endpoint?: string;
}

export const DEFAULT_AWS_MAX_ATTEMPTS = 5;

/**
 * One RDS and one Secrets Manager client per region, made on first use and shared by every AWS
 * adapter, so connections are reused and `destroy` closes them all.
 */
export class AwsClients {
  readonly #options: AwsClientsOptions;
  readonly #rds = new Map<string, RDSClient>();
  readonly #secretsManager = new Map<string, SecretsManagerClient>();

  constructor(options: AwsClientsOptions = {}) {
    this.#options = options;
  }

  /** The credentials given in the options; undefined means the SDK's default chain. */
  get credentials(): AwsCredentials | undefined {
    return this.#options.credentials;
  }

  rds(region: string): RDSClient {
    return this.#client(this.#rds, region, (config) => new RDSClient(config));
  }

  secretsManager(region: string): SecretsManagerClient {
    return this.#client(this.#secretsManager, region, (config) => new SecretsManagerClient(config));
  }

  /** Closes every client's connections. */
  destroy(): void {
    for (const client of [...this.#rds.values(), ...this.#secretsManager.values()]) client.destroy();
    this.#rds.clear();
    this.#secretsManager.clear();
  }

  #client<C>(made: Map<string, C>, region: string, make: (config: RDSClientConfig) => C): C {
    let client = made.get(region);
    if (!client) {
      const { credentials, endpoint, maxAttempts } = this.#options;
      client = make({
        region,
        maxAttempts: maxAttempts ?? DEFAULT_AWS_MAX_ATTEMPTS,
        ...(credentials ? { credentials } : {}),
        ...(endpoint ? { endpoint } : {}),
      });
      made.set(region, client);
    }
    return client;
  }
}
