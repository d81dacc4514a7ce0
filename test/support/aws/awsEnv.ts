/**
 * How tests point real AWS SDK clients at a {@link FakeAws}: the environment variables Sesame
 * honours in production (for code that builds its own clients, or a child process), and ready
 * clients for tests that hand one to an adapter.
 */
import { RDSClient, type RDSClientConfig } from '@aws-sdk/client-rds';
import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import type { FakeAws } from './FakeAws.ts';

/** The access key id tests sign with: the documentation's example key, never a real one. */
export const TEST_AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
/** The matching secret key, from the SigV4 documentation's examples. */
export const TEST_AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
/** Where tests put their resources unless they say otherwise. */
export const TEST_AWS_REGION = 'us-east-1';

/** The variables that send every SDK client in a process to the fake, with test credentials. */
export interface AwsTestEnv {
  [name: string]: string;
  AWS_ENDPOINT_URL_RDS: string;
  AWS_ENDPOINT_URL_SECRETS_MANAGER: string;
  AWS_ACCESS_KEY_ID: string;
  AWS_SECRET_ACCESS_KEY: string;
  AWS_REGION: string;
  /** Keeps the credential chain away from the EC2 instance metadata service. */
  AWS_EC2_METADATA_DISABLED: string;
  /** The SDK warns on stderr about future Node versions; test output has no use for it. */
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: string;
}

function urlOf(fake: FakeAws | string): string {
  return typeof fake === 'string' ? fake : fake.url;
}

/** The environment for code that builds its own clients from the SDK's defaults. */
export function awsEnv(fake: FakeAws | string, region = TEST_AWS_REGION): AwsTestEnv {
  return {
    AWS_ENDPOINT_URL_RDS: urlOf(fake),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: urlOf(fake),
    AWS_ACCESS_KEY_ID: TEST_AWS_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: TEST_AWS_SECRET_ACCESS_KEY,
    AWS_REGION: region,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

/**
 * Sets {@link awsEnv} in this process's environment and returns a function that puts back what
 * was there before; for code under test that reads `process.env` itself.
 */
export function useAwsEnv(fake: FakeAws | string, region = TEST_AWS_REGION): () => void {
  const env = awsEnv(fake, region);
  const before = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  return () => {
    for (const [name, value] of before) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

/** The client settings shared by both services: region, the fake's endpoint, static test credentials. */
export function awsClientConfig(fake: FakeAws | string, region = TEST_AWS_REGION) {
  return {
    region,
    endpoint: urlOf(fake),
    credentials: { accessKeyId: TEST_AWS_ACCESS_KEY_ID, secretAccessKey: TEST_AWS_SECRET_ACCESS_KEY },
  };
}

/** A real RDS client talking to the fake, in `region`. */
export function rdsClient(fake: FakeAws | string, region = TEST_AWS_REGION, overrides: RDSClientConfig = {}): RDSClient {
  return new RDSClient({ ...awsClientConfig(fake, region), ...overrides });
}

/** A real Secrets Manager client talking to the fake, in `region`. */
export function secretsManagerClient(
  fake: FakeAws | string,
  region = TEST_AWS_REGION,
  overrides: SecretsManagerClientConfig = {},
): SecretsManagerClient {
  return new SecretsManagerClient({ ...awsClientConfig(fake, region), ...overrides });
}
