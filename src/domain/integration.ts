/**
 * A PostgreSQL server Sesame grants access to, as the core sees it. The config schema
 * (config/schema.ts) parses `sesame.yml` into exactly this shape and is checked against it at
 * compile time; discovery builds the same shape from what AWS reports.
 */

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
/** TLS to the database, as in libpq. */
export type SslMode = (typeof SSL_MODES)[number];

/**
 * The modes that verify the server's certificate. Below them, someone on the network path can
 * pose as the server, so the connector's password goes there only through SCRAM, which never
 * reveals it (connection.ts), an IAM token (a clear-text password) not at all, and
 * `sesame check` warns.
 */
export const VERIFYING_SSL_MODES: readonly SslMode[] = ['verify-ca', 'verify-full'];

/** How a database user signs in: with a password, or with an RDS IAM token. */
export type AuthType = 'password' | 'iam';

/** Who approves requests for an integration. */
export interface IntegrationOwners {
  /** Fallback approvers: Slack IDs, emails or @usergroup handles. */
  integration: string[];
  /** AWS only: the RDS tag whose value names the resource owner. */
  resourceTagKey?: string | undefined;
  /** A Slack channel ID for this integration's approval requests, instead of slack.approvalChannel. */
  channel?: string | undefined;
  /** AWS only: the RDS tag whose value is the channel ID for the resource (over `channel`). */
  channelTagKey?: string | undefined;
  /** Post in slack.approvalChannel too, beside the integration's own channel. */
  alsoApprovalChannel: boolean;
}

/** What every integration has, whatever its type. */
interface IntegrationCommon {
  name: string;
  /** The database the connector connects to first. */
  database: string;
  sslMode: SslMode;
  /** CA file for verify-ca / verify-full. */
  sslRootCert?: string | undefined;
  /** How the connector signs in. */
  authType: AuthType;
  /** The connector's own database user. */
  username: string;
  password?: string | undefined;
  /** A Secrets Manager secret (JSON with username and password) instead of `password`. */
  secretArn?: string | undefined;
  /** How people log in. */
  userAuth: AuthType;
  /** Database user names: {email}, {emailLocal}, {slackId}. */
  userNameTemplate?: string | undefined;
  /** Shown to people with their access. */
  customAccessDetails?: string | undefined;
  credentialRotationDays?: number | undefined;
  userCleanupDays?: number | undefined;
  /** Ingest session logs for the users Sesame manages. */
  audit: boolean;
  owners: IntegrationOwners;
  /** Existing database roles people may request as role:<name>. */
  grantableRoles: string[];
}

/** Any reachable PostgreSQL server. */
export interface PostgresIntegration extends IntegrationCommon {
  type: 'postgresql';
  host: string;
  port: number;
}

/** An AWS RDS PostgreSQL instance or Aurora PostgreSQL cluster. */
export interface RdsIntegration extends IntegrationCommon {
  type: 'aws-rds-postgresql';
  region: string;
  instanceId?: string | undefined;
  clusterId?: string | undefined;
  /** Overrides the endpoint RDS reports. */
  host?: string | undefined;
  /** Overrides the port RDS reports. */
  port?: number | undefined;
}

export type Integration = PostgresIntegration | RdsIntegration;

/**
 * The sslMode an integration uses: verify-full when it gives none (an integration made in code
 * may skip the schema's default), not libpq's prefer, which would hand the connector's password
 * to whoever answers on the network path.
 */
export function effectiveSslMode(i: Pick<Integration, 'sslMode'>): SslMode {
  return i.sslMode ?? 'verify-full';
}
