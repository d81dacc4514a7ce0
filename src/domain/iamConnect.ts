/** Where AWS publishes the CA bundle of every commercial region, for `sslrootcert`. */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
const RDS_CA_BUNDLE_FILE = 'global-bundle.pem';

export interface IamConnectInput {
  region: string;
  accountId: string;
  /** `DbiResourceId` of an instance, `DbClusterResourceId` of an Aurora cluster (and its members). */
  resourceId: string;
  /** Where people connect. */
  host: string;
  port: number;
  /** The person's database user. */
  username: string;
  database: string;
  /** The integration's sslMode; people get verify-full unless it is verify-ca or require. */
  sslMode: string;
  /** Default `aws`; `aws-cn` or `aws-us-gov` in those partitions. */
  partition?: string;
  /**
   * The RDS endpoint tokens must be signed for, when people connect through another host
   * (a tunnel or proxy): RDS checks a token against its own endpoint. Default `host` and `port`.
   */
  tokenHost?: string;
  tokenPort?: number;
}

/** What an IAM policy statement for database login holds. */
export interface IamPolicyStatement {
  Effect: 'Allow';
  Action: 'rds-db:connect';
  Resource: string;
}

export interface IamConnectDetails {
  /** `arn:<partition>:rds-db:<region>:<account>:dbuser:<resource-id>/<username>`. */
  resourceArn: string;
  policyStatement: IamPolicyStatement;
  /** A whole IAM policy document holding the statement, as indented JSON. */
  policyJson: string;
  /** `aws rds generate-db-auth-token --hostname … --port … --region … --username …`: prints a token valid 15 minutes. */
  tokenCommand: string;
  /** `psql '…'`, to run with the token in PGPASSWORD. */
  psqlCommand: string;
  /** Both, ready to paste into a POSIX shell. */
  script: string;
  /** The sslmode in the psql command. */
  sslMode: string;
  /** Set for verify-ca and verify-full: where to download the file `sslrootcert` names. */
  caBundleUrl?: string;
}

/** A word for a POSIX shell: as is when it is plainly safe, else single-quoted. */
function shellWord(value: string): string {
  return /^[A-Za-z0-9@%_+=:,./-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`;
}

/** A libpq connection-string value: as is when it is plainly safe, else quoted the way libpq reads it. */
function conninfoValue(value: string): string {
  return /^[^\s'\\]+$/.test(value) ? value : `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

/** The sslmode people use with IAM: TLS always (RDS refuses tokens without it), verified where it can be. */
function peopleSslMode(integrationSslMode: string): string {
  return integrationSslMode === 'verify-ca' || integrationSslMode === 'require' ? integrationSslMode : 'verify-full';
}

/**
 * What a person needs to log in with IAM database authentication: the IAM policy statement
 * that lets them, the AWS CLI command that mints a token, and the psql command that uses it.
 * Pure: the same input gives the same text.
 */
export function iamConnectDetails(input: IamConnectInput): IamConnectDetails {
  const partition = input.partition ?? 'aws';
  const resourceArn = `arn:${partition}:rds-db:${input.region}:${input.accountId}:dbuser:${input.resourceId}/${input.username}`;
  const policyStatement: IamPolicyStatement = { Effect: 'Allow', Action: 'rds-db:connect', Resource: resourceArn };
  const tokenCommand = [
    'aws rds generate-db-auth-token',
    `--hostname ${shellWord(input.tokenHost ?? input.host)}`,
    `--port ${input.tokenPort ?? input.port}`,
    `--region ${shellWord(input.region)}`,
    `--username ${shellWord(input.username)}`,
  ].join(' ');
  const sslMode = peopleSslMode(input.sslMode);
  const verifies = sslMode === 'verify-ca' || sslMode === 'verify-full';
  const conninfo = [
    `host=${conninfoValue(input.host)}`,
    `port=${input.port}`,
    `dbname=${conninfoValue(input.database)}`,
    `user=${conninfoValue(input.username)}`,
    `sslmode=${sslMode}`,
    ...(verifies ? [`sslrootcert=${RDS_CA_BUNDLE_FILE}`] : []),
  ].join(' ');
  const psqlCommand = `psql ${shellWord(conninfo)}`;
  return {
    resourceArn,
    policyStatement,
    policyJson: JSON.stringify({ Version: '2012-10-17', Statement: [policyStatement] }, null, 2),
    tokenCommand,
    psqlCommand,
    script: `export PGPASSWORD="$(${tokenCommand})"\n${psqlCommand}`,
    sslMode,
    ...(verifies ? { caBundleUrl: RDS_CA_BUNDLE_URL } : {}),
  };
}
