import { z } from 'zod';
import { parseStateUri, STATE_SSL_MODES } from '../adapters/postgresState/stateUri.ts';
import type { AccessFlow } from '../domain/flows.ts';
import { auditSettingsSchema } from './auditSink.ts';
import { bundleIssues, bundlesSchema } from './bundles.ts';
import { VERIFYING_SSL_MODES, type Integration } from '../domain/integration.ts';
import {
  DURATION_RULE,
  duration,
  cron,
  wholeNumber,
  positiveDays,
  cleanupDays,
  port,
  principal,
  approver,
  permission,
  identifier,
  integrationName,
  isSslMode,
  sslMode,
  userAuth,
  customAccessDetails,
  owners,
  grantableRoles,
} from './fields.ts';

/**
 * The schema of `sesame.yml` (PRODUCT.md §3). Parsing turns durations into minutes and fills in
 * defaults; `z.toJSONSchema(configSchema, { io: 'input' })` gives the published JSON Schema, so
 * the descriptions here are what editors show while completing the file.
 *
 * Cross-field checks run with `when: always` so that they report alongside the problems of
 * individual keys instead of waiting for those to be fixed first (PRODUCT.md §2: every problem at
 * once). They therefore see whatever part of the value did parse and must not trust its shape.
 */

const always = { when: () => true };

/** The SQLite state file when the config names no store. */
export const DEFAULT_STATE_FILE = './data/sesame.db';

/** Keys every integration has, whatever its type. */
const integrationCommon = {
  name: integrationName.describe('Unique name; lowercase letters, digits and dashes'),
  database: identifier.describe('The database the connector connects to first'),
  sslMode: sslMode.default('verify-full'),
  sslRootCert: z
    .string()
    .min(1, 'must not be empty')
    .optional()
    .describe('CA file for verify-ca / verify-full, relative to the config file; the RDS CA bundle is built in'),
  authType: z
    .enum(['password', 'iam'])
    .default('password')
    .describe('How the connector signs in: password (default) or iam (an RDS IAM token)'),
  username: identifier.describe("The connector's own database user"),
  password: z
    .string()
    .min(1, 'must not be empty')
    .optional()
    .describe("The connector's password; write ${NAME} to take it from the environment"),
  secretArn: z
    .string()
    .regex(/^arn:/, 'must be a Secrets Manager secret ARN (arn:aws:secretsmanager:…)')
    .optional()
    .describe('A Secrets Manager secret (JSON with username and password) instead of password'),
  userAuth,
  userNameTemplate: z
    .string()
    .min(1, 'must not be empty')
    .optional()
    .describe('Database user names: {email}, {emailLocal}, {slackId}; default {email}'),
  customAccessDetails,
  credentialRotationDays: positiveDays("Replace a person's password after this many days"),
  userCleanupDays: cleanupDays,
  audit: z.boolean().default(false).describe('Ingest session logs for the users Sesame manages'),
  owners,
  grantableRoles,
};

const postgresIntegration = z
  .object({
    ...integrationCommon,
    type: z.literal('postgresql').describe('Any reachable PostgreSQL'),
    host: z.string().min(1, 'must not be empty').describe('Host name or address of the server'),
    port: port.default(5432).describe('Default 5432'),
  })
  .strict()
  .describe('Any reachable PostgreSQL server');

const rdsIntegration = z
  .object({
    ...integrationCommon,
    type: z.literal('aws-rds-postgresql').describe('An RDS PostgreSQL instance or Aurora PostgreSQL cluster'),
    region: z.string().min(1, 'must not be empty').describe('AWS region, e.g. us-east-1'),
    instanceId: z.string().min(1, 'must not be empty').optional().describe('DB instance identifier (or give clusterId)'),
    clusterId: z.string().min(1, 'must not be empty').optional().describe('Aurora DB cluster identifier (or give instanceId)'),
    host: z.string().min(1, 'must not be empty').optional().describe('Overrides the endpoint RDS reports'),
    port: port.optional().describe('Overrides the port RDS reports'),
  })
  .strict()
  .describe('An AWS RDS PostgreSQL instance or Aurora PostgreSQL cluster');

/** A property of a value that may not have parsed into the shape its type promises. */
function field(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

function listOf(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export const integrationSchema = z.discriminatedUnion('type', [postgresIntegration, rdsIntegration]).superRefine((i, ctx) => {
  const type = field(i, 'type');
  if (type !== 'postgresql' && type !== 'aws-rds-postgresql') return;
  const authType = field(i, 'authType') ?? 'password';
  const password = field(i, 'password');
  const secretArn = field(i, 'secretArn');
  if (authType === 'password' && password === undefined && secretArn === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['password'],
      message: 'is required with authType: password (or give secretArn, or use authType: iam on RDS)',
    });
  }
  if (password !== undefined && secretArn !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['secretArn'], message: 'give password or secretArn, not both' });
  }
  if (authType === 'iam' && password !== undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['password'],
      message: 'is not used with authType: iam (the connector signs in with an IAM token); remove it',
    });
  }
  const sslMode = field(i, 'sslMode');
  if (authType === 'iam' && isSslMode(sslMode) && !VERIFYING_SSL_MODES.includes(sslMode)) {
    ctx.addIssue({
      code: 'custom',
      path: ['sslMode'],
      message: `must be verify-full or verify-ca with authType: iam, not ${sslMode}: the IAM token is sent as a clear-text password, so only a server whose certificate is verified may receive it (the RDS CA bundle is built in)`,
    });
  }
  if (type === 'postgresql') {
    if (authType === 'iam') {
      ctx.addIssue({ code: 'custom', path: ['authType'], message: 'iam needs type: aws-rds-postgresql; use password' });
    }
    if (field(i, 'userAuth') === 'iam') {
      ctx.addIssue({ code: 'custom', path: ['userAuth'], message: 'iam needs type: aws-rds-postgresql; use password' });
    }
  } else if ((field(i, 'instanceId') === undefined) === (field(i, 'clusterId') === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['instanceId'], message: 'give exactly one of instanceId or clusterId' });
  }
}, always);

const flowTarget = z
  .object({
    integration: integrationName.describe('An integration, or one that discovery will find'),
    databases: z
      .array(identifier)
      .min(1, 'needs at least one entry (omit it for every database)')
      .optional()
      .describe('Omitted: every database'),
    schemas: z.array(identifier).min(1, 'needs at least one entry (omit it for every schema)').optional().describe('Omitted: every schema'),
    tables: z.array(identifier).min(1, 'needs at least one entry (omit it for every table)').optional().describe('Omitted: every table'),
  })
  .strict();

/** A reason rule: a regular expression, checked here so a broken one stops Sesame at start. */
const justificationRule = z
  .object({
    pattern: z
      .string()
      .min(1, 'must not be empty')
      .superRefine((pattern, ctx) => {
        try {
          new RegExp(pattern, 'u');
        } catch (err) {
          ctx.addIssue({
            code: 'custom',
            message: `is not a valid regular expression (${(err as Error).message}); write it as JavaScript reads one, e.g. "^[A-Z]+-[0-9]+"`,
          });
        }
      })
      .describe('A regular expression (JavaScript, Unicode) every reason must match; anchor it with ^ for the start'),
    hint: z
      .string()
      .min(1, 'must not be empty')
      .max(200, 'is at most 200 characters')
      .optional()
      .describe('Said when a reason does not match'),
  })
  .strict();

export const accessFlowSchema = z
  .object({
    name: z.string().min(1, 'must not be empty').describe('Unique name of the flow'),
    requestors: z
      .array(principal)
      .min(1, 'needs at least one entry ("*" for everyone)')
      .describe('Who may request: Slack IDs, emails, @usergroup handles, or "*"'),
    targets: z.array(flowTarget).optional().describe('Omitted: every integration, discovered ones included'),
    permissions: z.array(permission).min(1, 'needs at least one permission').describe('Permissions this flow offers'),
    maxDuration: duration.describe(`The longest access this flow grants: ${DURATION_RULE}`),
    defaultDuration: duration.optional().describe('Used when a request names no duration'),
    approvers: z
      .array(approver)
      .default(['owner'])
      .describe('owner | integration-owner | Slack ID | email | @usergroup; empty = approved automatically'),
    approvalMode: z.enum(['any', 'all']).default('any').describe('any: one approval; all: one from each approver entry'),
    allowSelfApproval: z.boolean().default(false).describe('May requesters approve their own requests (default false)'),
    minApprovals: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(10, 'must be at most 10')
      .default(1)
      .describe('Approvals needed from different people (quorum, N of M; default 1)'),
    requireJustification: z.boolean().default(true).describe('Must a request give a reason (default true)'),
    justification: justificationRule.optional().describe('A rule every reason must follow, e.g. a ticket key'),
    pendingTtl: duration.prefault('24h').describe('Unanswered requests expire after this long (default 24h)'),
    breakGlass: z
      .boolean()
      .default(false)
      .describe(
        'Emergency access: granted at once to its requestors (with a reason) when they ask for break-glass, announced loudly and reviewed afterwards by its approvers',
      ),
  })
  .strict()
  .superRefine((f, ctx) => {
    const maxDuration = field(f, 'maxDuration');
    const defaultDuration = field(f, 'defaultDuration');
    if (typeof maxDuration === 'number' && typeof defaultDuration === 'number' && defaultDuration > maxDuration) {
      ctx.addIssue({ code: 'custom', path: ['defaultDuration'], message: 'is longer than maxDuration; shorten it or raise maxDuration' });
    }
  }, always);

/**
 * What a discovery entry may set for every integration it finds: the integration keys that are
 * not about reaching one server, taken from the integration's own so the two cannot drift apart.
 * Only `database` has a default of its own here: every RDS PostgreSQL server has `postgres`.
 */
const discoveredIntegrationSettings = z
  .object(integrationCommon)
  .strict()
  .pick({
    database: true,
    sslMode: true,
    userAuth: true,
    customAccessDetails: true,
    credentialRotationDays: true,
    userCleanupDays: true,
    audit: true,
    owners: true,
    grantableRoles: true,
  })
  .extend({ database: identifier.default('postgres').describe('The database the connector connects to first (default postgres)') });

const discoverySchema = z
  .object({
    type: z.literal('aws-rds').describe('Find RDS and Aurora PostgreSQL by tag'),
    regions: z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one region').describe('AWS regions to search'),
    secretTagKey: z.string().min(1, 'must not be empty').describe("The tag whose value is the connector's Secrets Manager secret ARN"),
    tagFilter: z.record(z.string(), z.string()).optional().describe('Only instances with these tags'),
    defaults: discoveredIntegrationSettings.prefault({}).describe('Settings of every integration discovery finds'),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional().describe('The JSON Schema of this file, for editors'),
    slack: z
      .object({
        command: z
          .string()
          .regex(/^\/[a-z0-9_-]{1,31}$/, 'must be a slash command like /access')
          .default('/access')
          .describe('The slash command this app answers (default /access)'),
        approvalChannel: z
          .string()
          .regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel ID like C0123ABCD')
          .optional()
          .describe('Every approval request is also posted in this channel (its ID, like C0123ABCD)'),
        admins: z.array(principal).default([]).describe('Slack IDs, emails or @usergroup handles of admins'),
        maxPendingPerPerson: wholeNumber()
          .min(1, 'must be a whole number, at least 1')
          .default(10)
          .describe('Pending requests one person may have at once; past it a request is refused (default 10)'),
      })
      .strict()
      .prefault({})
      .describe('The Slack side'),
    state: z
      .object({
        sqlite: z
          .string()
          .min(1, 'must not be empty')
          .optional()
          .describe(
            'SQLite file of the embedded state store, relative to the config file (default ./data/sesame.db unless state.postgres is set)',
          ),
        postgres: z
          .string()
          .refine((uri) => typeof parseStateUri(uri) !== 'string', {
            // The URI may hold a password: the message says what is wrong, never the URI.
            error: (issue) => {
              const problem = typeof issue.input === 'string' ? parseStateUri(issue.input) : undefined;
              return typeof problem === 'string' ? problem : 'must be a URI like postgres://user:password@host:5432/database';
            },
          })
          .optional()
          .describe(
            'A PostgreSQL database that several Sesame replicas share, instead of the SQLite file: postgres://user:password@host:5432/database; write ${NAME} to take the password (or the whole URI) from the environment',
          ),
        sslMode: z
          .enum(STATE_SSL_MODES)
          .optional()
          .describe('TLS to the state database: disable, require, verify-ca or verify-full (default)'),
        sslRootCert: z
          .string()
          .min(1, 'must not be empty')
          .optional()
          .describe("CA file to verify the state database's certificate against, relative to the config file"),
      })
      .strict()
      .prefault({})
      .superRefine((state, ctx) => {
        if (state.sqlite !== undefined && state.postgres !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['postgres'],
            message: 'and state.sqlite are both set: Sesame keeps its state in exactly one store, so remove one of them',
          });
        }
      })
      .transform((state) => (state.postgres === undefined ? { ...state, sqlite: state.sqlite ?? DEFAULT_STATE_FILE } : state))
      .describe('Where Sesame keeps requests, grants and the audit trail: a SQLite file, or a PostgreSQL database'),
    schedule: z
      .object({
        expire: cron('*/15 * * * * *', 'revoking what has expired'),
        remind: cron('0 * * * * *', 'expiry reminders and pending TTLs'),
        rotate: cron('0 0 3 * * *', 'credential rotation'),
        cleanup: cron('0 30 3 * * *', 'dropping users revoked long ago'),
        discover: cron('0 0 * * * *', 'AWS discovery and catalog sync'),
      })
      .strict()
      .prefault({})
      .describe('When the background jobs run'),
    integrations: z.array(integrationSchema).default([]).describe('The PostgreSQL servers Sesame grants access to'),
    discovery: z.array(discoverySchema).default([]).describe('Find RDS and Aurora PostgreSQL by tag'),
    accessFlows: z.array(accessFlowSchema).default([]).describe('Who may request what, and who approves'),
    bundles: bundlesSchema,
    audit: auditSettingsSchema,
  })
  .strict()
  .superRefine((c, ctx) => {
    const integrations = listOf(field(c, 'integrations'));
    const discovery = listOf(field(c, 'discovery'));
    const flows = listOf(field(c, 'accessFlows'));

    const indexByName = new Map<string, number>();
    integrations.forEach((i, idx) => {
      const name = field(i, 'name');
      if (typeof name !== 'string') return;
      const first = indexByName.get(name);
      if (first !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', idx, 'name'],
          message: `"${name}" is already the name of integrations[${first}]; integration names must be unique`,
        });
      } else indexByName.set(name, idx);
    });

    for (const issue of bundleIssues(listOf(field(c, 'bundles')), { integrations: indexByName, discovers: discovery.length > 0 })) {
      ctx.addIssue(issue);
    }

    const flowNames = new Set<string>();
    flows.forEach((f, idx) => {
      const name = field(f, 'name');
      if (typeof name === 'string') {
        if (flowNames.has(name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['accessFlows', idx, 'name'],
            message: `"${name}" is already the name of another flow; flow names must be unique`,
          });
        }
        flowNames.add(name);
      }
      const targets = field(f, 'targets');
      listOf(targets).forEach((t, tIdx) => {
        const integration = field(t, 'integration');
        if (typeof integration !== 'string' || indexByName.has(integration) || discovery.length > 0) return;
        ctx.addIssue({
          code: 'custom',
          path: ['accessFlows', idx, 'targets', tIdx, 'integration'],
          message: `no integration is named "${integration}" (known: ${[...indexByName.keys()].join(', ') || 'none'})`,
        });
      });
      listOf(field(f, 'permissions')).forEach((p, pIdx) => {
        if (typeof p !== 'string' || !p.startsWith('role:')) return;
        const role = p.slice('role:'.length);
        const offersRole = (holder: unknown) => listOf(field(holder, 'grantableRoles')).includes(role);
        const named = Array.isArray(targets)
          ? targets.map((t) => integrations[indexByName.get(String(field(t, 'integration'))) ?? -1])
          : integrations;
        // A target that names no configured integration is reported above or left to discovery.
        if (named.some((i) => i === undefined)) return;
        const discoveredOffer = !Array.isArray(targets) && discovery.some((d) => offersRole(field(d, 'defaults')));
        if (!discoveredOffer && !named.some(offersRole)) {
          ctx.addIssue({
            code: 'custom',
            path: ['accessFlows', idx, 'permissions', pIdx],
            message: `no integration of this flow lists "${role}" under grantableRoles; add it there or remove this permission`,
          });
        }
      });
    });
  }, always);

export type Config = z.output<typeof configSchema>;
export type IntegrationConfig = z.output<typeof integrationSchema>;
export type PostgresIntegrationConfig = Extract<IntegrationConfig, { type: 'postgresql' }>;
export type RdsIntegrationConfig = Extract<IntegrationConfig, { type: 'aws-rds-postgresql' }>;
export type AccessFlowConfig = z.output<typeof accessFlowSchema>;
export type DiscoveryConfig = z.output<typeof discoverySchema>;

// The core reads these under its own names (src/domain); they stay importable from here for
// the edges that describe the config file.
export { effectiveSslMode, SSL_MODES, VERIFYING_SSL_MODES, type SslMode } from '../domain/integration.ts';

/**
 * True when A and B are the same type, optional keys and nesting included (plain assignability
 * both ways would let either side gain an optional key the other lacks).
 */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
/** Compiles only when its argument is `true`. */
type Holds<T extends true> = T;

/** What the schema parses is exactly what the core works with: the two cannot drift apart. */
export type SchemaMatchesDomain = [Holds<Same<IntegrationConfig, Integration>>, Holds<Same<AccessFlowConfig, AccessFlow>>];
