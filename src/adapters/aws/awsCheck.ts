import { DescribeDBLogFilesCommand } from '@aws-sdk/client-rds';
import { effectiveSslMode, type IntegrationConfig, type RdsIntegrationConfig } from '../../config/schema.ts';
import { isSesameError } from '../../domain/errors.ts';
import { describeError } from '../../logger.ts';
import type { SecretSource } from '../../ports/SecretSource.ts';
import type { CheckFinding } from '../../ports/TargetDatabase.ts';
import type { AwsClients } from './AwsClients.ts';
import { awsFailure } from './awsErrors.ts';
import { assertIamTls, secretUserMismatch } from './connectorCredentials.ts';
import type { RdsResolver, ResolvedRdsIntegration } from './RdsResolver.ts';

export interface AwsCheckDeps {
  resolver: RdsResolver;
  secrets: SecretSource;
  clients: AwsClients;
}

function errorText(err: unknown): string {
  return isSesameError(err) ? err.message : describeError(err);
}

/**
 * What `sesame check` says about an integration's AWS side, each finding with what to do:
 * the credentials and region work (RDS answers), the instance or cluster exists and runs
 * PostgreSQL, the connector secret is readable and names the right user (its value is never
 * shown), IAM authentication is enabled where the connector or people use it, TLS is verified
 * against the RDS CA bundle, and, where used, the owner tag and the log files.
 * The PostgreSQL side (the connector's privileges) is PostgresTargetDatabase's check.
 */
export async function awsCheckFindings(integration: IntegrationConfig, deps: AwsCheckDeps): Promise<CheckFinding[]> {
  const findings: CheckFinding[] = [];
  if (integration.type === 'aws-rds-postgresql') {
    findings.push(...sslFindings(integration));
    let resource: ResolvedRdsIntegration | undefined;
    try {
      resource = await deps.resolver.resolve(integration, { fresh: true });
    } catch (err) {
      findings.push({ level: 'error', message: errorText(err) });
    }
    if (resource) findings.push(...(await resourceFindings(integration, resource, deps)));
  }
  if (integration.secretArn !== undefined) findings.push(await secretFinding(integration, integration.secretArn, deps.secrets));
  return findings;
}

function sslFindings(integration: RdsIntegrationConfig): CheckFinding[] {
  const sslMode = effectiveSslMode(integration);
  try {
    assertIamTls(integration);
  } catch (err) {
    return [{ level: 'error', message: errorText(err) }];
  }
  if (sslMode === 'verify-full' || sslMode === 'verify-ca') {
    const against = integration.sslRootCert ? `the CA file ${integration.sslRootCert}` : 'the RDS CA bundle built into Sesame';
    return [{ level: 'ok', message: `TLS to ${integration.name} is verified (${sslMode}) against ${against}.` }];
  }
  return [
    {
      level: 'warn',
      message: `${integration.name} uses sslMode ${sslMode}, so Sesame does not verify that it talks to the real server${sslMode === 'require' ? '' : ' and may even connect without TLS'}. Set sslMode: verify-full; the RDS CA bundle is built in.`,
    },
  ];
}

async function resourceFindings(integration: RdsIntegrationConfig, r: ResolvedRdsIntegration, deps: AwsCheckDeps): Promise<CheckFinding[]> {
  const what = r.kind === 'instance' ? 'DB instance' : 'DB cluster';
  const endpoint = r.endpoint ? `${r.endpoint.host}:${r.endpoint.port}` : 'no endpoint yet';
  const findings: CheckFinding[] = [
    {
      level: 'ok',
      message: `AWS answers with Sesame's credentials: the ${what} ${r.identifier} in ${r.region} runs ${r.engine} ${r.engineVersion} (${endpoint}).`,
    },
  ];
  if (r.status !== 'available') {
    findings.push({
      level: 'warn',
      message: `The ${what} ${r.identifier} is ${r.status || 'in an unknown state'}, not available: Sesame can connect once it is.`,
    });
  }
  const iamUsers = [
    ...(integration.authType === 'iam' ? ['the connector (authType: iam)'] : []),
    ...(integration.userAuth === 'iam' ? ['people (userAuth: iam)'] : []),
  ];
  if (iamUsers.length > 0) {
    const modify =
      r.kind === 'instance'
        ? `aws rds modify-db-instance --db-instance-identifier ${r.identifier}`
        : `aws rds modify-db-cluster --db-cluster-identifier ${r.identifier}`;
    findings.push(
      r.iamAuthEnabled
        ? { level: 'ok', message: `IAM database authentication is enabled on ${r.identifier}, as ${iamUsers.join(' and ')} need.` }
        : {
            level: 'error',
            message: `IAM database authentication is disabled on ${r.identifier}, but ${iamUsers.join(' and ')} sign in with IAM tokens. Enable it: ${modify} --enable-iam-database-authentication --apply-immediately --region ${r.region}`,
          },
    );
  }
  const tagKey = integration.owners.resourceTagKey;
  if (tagKey !== undefined) {
    const owner = r.tags[tagKey]?.trim();
    findings.push(
      owner
        ? { level: 'ok', message: `The tag ${tagKey} of ${r.identifier} names its owner: ${owner}.` }
        : {
            level: 'warn',
            message: `${r.identifier} has no ${tagKey} tag, so requests for ${integration.name} go to the integration's owners. Tag it with the owner's Slack ID, email or @usergroup.`,
          },
    );
  }
  if (integration.audit) findings.push(await logAccessFinding(r, deps));
  return findings;
}

async function logAccessFinding(r: ResolvedRdsIntegration, deps: AwsCheckDeps): Promise<CheckFinding> {
  const instance = r.kind === 'cluster' ? r.members[0] : r.identifier;
  if (instance === undefined) {
    return { level: 'warn', message: `The DB cluster ${r.identifier} has no instances, so there are no session logs to read yet.` };
  }
  try {
    await deps.clients.rds(r.region).send(new DescribeDBLogFilesCommand({ DBInstanceIdentifier: instance }));
    return { level: 'ok', message: `Sesame may read the log files of ${instance} for session audit.` };
  } catch (err) {
    const failure = awsFailure(err, {
      doing: `list the log files of ${instance}`,
      action: 'rds:DescribeDBLogFiles and rds:DownloadDBLogFilePortion',
      region: r.region,
    });
    return { level: 'error', message: `audit: true needs the session logs: ${failure.message}` };
  }
}

async function secretFinding(integration: IntegrationConfig, secretArn: string, secrets: SecretSource): Promise<CheckFinding> {
  try {
    const secret = await secrets.read(secretArn, { fresh: true });
    const mismatch = secretUserMismatch(integration, secretArn, secret);
    if (mismatch) return { level: 'error', message: mismatch.message };
    return {
      level: 'ok',
      message: `The secret ${secretArn} is readable and holds a password${secret.username ? ` for ${secret.username}` : ''}.`,
    };
  } catch (err) {
    return { level: 'error', message: errorText(err) };
  }
}
