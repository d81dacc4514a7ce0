import { TargetUnavailableError } from '../../domain/errors.ts';
import { describeError } from '../../logger.ts';

/** What went wrong with an AWS call, in the terms an admin acts on. */
export type AwsFailureKind = 'credentials' | 'access_denied' | 'throttled' | 'unreachable' | 'other';

/** Codes AWS answers when it does not know or believe the caller (each service has its own). */
const CREDENTIAL_CODES = new Set([
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'MissingAuthenticationTokenException',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidAccessKeyId',
  // The SDK's own: no credentials anywhere in its default chain.
  'CredentialsProviderError',
]);

const ACCESS_DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError']);

const THROTTLING_CODES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
  'TimeoutError',
]);

/** The AWS error code of an SDK exception (its `name`), or the system code of a network error. */
export function awsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { code, name, $metadata } = err as { code?: unknown; name?: unknown; $metadata?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if ($metadata !== undefined && typeof name === 'string') return name;
  if (typeof name === 'string' && (CREDENTIAL_CODES.has(name) || NETWORK_CODES.has(name))) return name;
  return typeof code === 'string' ? code : undefined;
}

export function awsFailureKind(err: unknown): AwsFailureKind {
  const code = awsErrorCode(err) ?? '';
  if (CREDENTIAL_CODES.has(code)) return 'credentials';
  if (ACCESS_DENIED_CODES.has(code)) return 'access_denied';
  if (THROTTLING_CODES.has(code)) return 'throttled';
  if (NETWORK_CODES.has(code)) return 'unreachable';
  return 'other';
}

/** What Sesame was doing when an AWS call failed, for the message. */
export interface AwsCallContext {
  /** E.g. `describe the DB instance prod-db-1`. */
  doing: string;
  /** The IAM action the call needs, e.g. `rds:DescribeDBInstances`. */
  action: string;
  region: string;
}

/**
 * An AWS SDK failure as a TargetUnavailableError that says what Sesame was doing, what AWS
 * answered and what the admin should do. The text passes through the secret redactor.
 */
export function awsFailure(err: unknown, context: AwsCallContext): TargetUnavailableError {
  const code = awsErrorCode(err);
  const answer = describeError(err);
  const said = code && !answer.startsWith(code) ? `${code}: ${answer}` : answer;
  const where = `in ${context.region}`;
  switch (awsFailureKind(err)) {
    case 'credentials':
      return new TargetUnavailableError(
        `AWS refused Sesame's credentials when it tried to ${context.doing} ${where} (${said}). Check the AWS credentials Sesame runs with (environment variables, profile or instance role).`,
        { cause: err },
      );
    case 'access_denied':
      return new TargetUnavailableError(
        `Sesame's AWS identity may not ${context.doing} ${where} (${said}). Allow ${context.action} in its IAM policy.`,
        { cause: err },
      );
    case 'throttled':
      return new TargetUnavailableError(
        `AWS kept throttling Sesame when it tried to ${context.doing} ${where} (${said}), after retrying. Sesame tries again later; if this persists, other tools may be using up the account's API rate.`,
        { cause: err },
      );
    case 'unreachable':
      return new TargetUnavailableError(
        `Sesame cannot reach AWS to ${context.doing} ${where} (${said}). Check the region name and the network, and any AWS_ENDPOINT_URL setting.`,
        { cause: err },
      );
    case 'other':
      return new TargetUnavailableError(`AWS failed when Sesame tried to ${context.doing} ${where}: ${said}.`, { cause: err });
  }
}

/** The parts of an ARN: `arn:<partition>:<service>:<region>:<account>:<resource>`. */
export interface Arn {
  partition: string;
  service: string;
  region: string;
  accountId: string;
  resource: string;
}

/** Reads an ARN; undefined when the text is not one. */
export function parseArn(text: string): Arn | undefined {
  const match = /^arn:([^:]+):([^:]+):([^:]*):(\d{12}|):(.+)$/.exec(text);
  if (!match) return undefined;
  const [, partition, service, region, accountId, resource] = match as unknown as [string, string, string, string, string, string];
  return { partition, service, region, accountId, resource };
}
