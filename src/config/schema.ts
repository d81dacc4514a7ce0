import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { parseDurationMinutes } from '../domain/duration.ts';
import { INTEGRATION_NAME_RE } from '../domain/identifiers.ts';
import { parsePermission } from '../domain/permission.ts';
import { parsePrincipal, PRINCIPAL_USAGE } from '../domain/principal.ts';

/**
 * The schema of `sesame.yml` (PRODUCT.md §3). Parsing turns durations into minutes and fills in
 * defaults; `z.toJSONSchema(configSchema, { io: 'input' })` gives the published JSON Schema.
 */

const duration = z
  .string()
  .describe('A duration like 15m, 2h, 1d or 1h30m')
  .transform((text, ctx) => {
    try {
      return parseDurationMinutes(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });

const cron = (fallback: string) =>
  z
    .string()
    .refine((c) => validateCron(c), {
      message: 'is not a cron expression (five fields, or six with seconds first)',
    })
    .default(fallback);

const principal = z
  .string()
  .refine((p) => parsePrincipal(p) !== undefined, { message: `must be ${PRINCIPAL_USAGE}` });

const approver = z.string().refine(
  (p) => p === 'owner' || p === 'integration-owner' || (p !== '*' && parsePrincipal(p)),
  { message: `must be owner, integration-owner, a Slack user ID, an email or a @usergroup handle` },
);

const permission = z.string().refine(
  (p) => {
    try {
      parsePermission(p);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be readonly, readwrite, admin or role:<name>' },
);

const identifier = z
  .string()
  .min(1)
  .refine((s) => Buffer.byteLength(s) <= 63, { message: 'is longer than 63 bytes' });

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const owners = z
  .object({
    integration: z.array(principal).default([]).describe('Fallback approvers'),
    resourceTagKey: z.string().min(1).optional().describe('AWS only: the tag naming the owner'),
  })
  .strict()
  .default({ integration: [] });

/** Keys every integration has, whatever its type. */
const integrationCommon = {
  name: z
    .string()
    .regex(INTEGRATION_NAME_RE, 'must be lowercase letters, digits and dashes (at most 63)'),
  database: identifier.describe('The database the connector connects to first'),
  sslMode: z.enum(SSL_MODES).optional(),
  sslRootCert: z.string().min(1).optional().describe('CA file for verify-ca / verify-full'),
  authType: z.enum(['password', 'iam']).default('password'),
  username: identifier.describe("The connector's own database user"),
  password: z.string().min(1).optional(),
  secretArn: z.string().startsWith('arn:', 'must be a Secrets Manager ARN').optional(),
  userAuth: z.enum(['password', 'iam']).default('password'),
  userNameTemplate: z
    .string()
    .min(1)
    .optional()
    .describe('Database user names: {email}, {emailLocal}, {slackId}; default {email}'),
  customAccessDetails: z.string().max(400, 'must be at most 400 characters').optional(),
  credentialRotationDays: z.number().int().positive().optional(),
  userCleanupDays: z.number().int().positive().optional(),
  audit: z.boolean().default(false),
  owners,
  grantableRoles: z.array(identifier).default([]),
};

const postgresIntegration = z
  .object({
    ...integrationCommon,
    type: z.literal('postgresql'),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(5432),
  })
  .strict();

const rdsIntegration = z
  .object({
    ...integrationCommon,
    type: z.literal('aws-rds-postgresql'),
    region: z.string().min(1),
    instanceId: z.string().min(1).optional(),
    clusterId: z.string().min(1).optional(),
    host: z.string().min(1).optional().describe('Overrides the endpoint RDS reports'),
    port: z.number().int().min(1).max(65535).optional(),
  })
  .strict();

export const integrationSchema = z
  .discriminatedUnion('type', [postgresIntegration, rdsIntegration])
  .superRefine((i, ctx) => {
    if (i.authType === 'password' && !i.password && !i.secretArn) {
      ctx.addIssue({
        code: 'custom',
        path: ['password'],
        message: 'is required with authType: password (or give secretArn)',
      });
    }
    if (i.password && i.secretArn) {
      ctx.addIssue({ code: 'custom', path: ['secretArn'], message: 'give password or secretArn, not both' });
    }
    if (i.type === 'postgresql') {
      if (i.authType === 'iam') {
        ctx.addIssue({ code: 'custom', path: ['authType'], message: 'iam needs type: aws-rds-postgresql' });
      }
      if (i.userAuth === 'iam') {
        ctx.addIssue({ code: 'custom', path: ['userAuth'], message: 'iam needs type: aws-rds-postgresql' });
      }
      if (i.owners.resourceTagKey) {
        ctx.addIssue({
          code: 'custom',
          path: ['owners', 'resourceTagKey'],
          message: 'needs type: aws-rds-postgresql (tags are read from RDS)',
        });
      }
    } else if (Boolean(i.instanceId) === Boolean(i.clusterId)) {
      ctx.addIssue({ code: 'custom', path: ['instanceId'], message: 'give exactly one of instanceId or clusterId' });
    }
    if (i.sslRootCert && i.sslMode !== 'verify-ca' && i.sslMode !== 'verify-full') {
      ctx.addIssue({
        code: 'custom',
        path: ['sslRootCert'],
        message: 'is used only with sslMode verify-ca or verify-full',
      });
    }
  });

const flowTarget = z
  .object({
    integration: z.string().regex(INTEGRATION_NAME_RE, 'must be an integration name'),
    databases: z.array(identifier).min(1).optional(),
    schemas: z.array(identifier).min(1).optional(),
    tables: z.array(identifier).min(1).optional(),
  })
  .strict();

export const accessFlowSchema = z
  .object({
    name: z.string().min(1),
    requestors: z.array(principal).min(1, 'needs at least one entry ("*" for everyone)'),
    targets: z.array(flowTarget).optional().describe('Omitted: every integration'),
    permissions: z.array(permission).min(1),
    maxDuration: duration,
    defaultDuration: duration.optional(),
    approvers: z.array(approver).default(['owner']).describe('Empty: approved automatically'),
    approvalMode: z.enum(['any', 'all']).default('any'),
    allowSelfApproval: z.boolean().default(false),
    requireJustification: z.boolean().default(true),
    pendingTtl: duration.default(24 * 60),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.defaultDuration !== undefined && f.defaultDuration > f.maxDuration) {
      ctx.addIssue({ code: 'custom', path: ['defaultDuration'], message: 'is longer than maxDuration' });
    }
  });

const discoverySchema = z
  .object({
    type: z.literal('aws-rds'),
    regions: z.array(z.string().min(1)).min(1),
    secretTagKey: z.string().min(1),
    tagFilter: z.record(z.string(), z.string()).optional().describe('Only instances with these tags'),
    defaults: z
      .object({
        database: identifier.default('postgres'),
        sslMode: z.enum(SSL_MODES).default('verify-full'),
        userAuth: z.enum(['password', 'iam']).default('password'),
        customAccessDetails: z.string().max(400, 'must be at most 400 characters').optional(),
        credentialRotationDays: z.number().int().positive().optional(),
        userCleanupDays: z.number().int().positive().optional(),
        audit: z.boolean().default(false),
        owners,
        grantableRoles: z.array(identifier).default([]),
      })
      .strict()
      .default({
        database: 'postgres',
        sslMode: 'verify-full',
        userAuth: 'password',
        audit: false,
        owners: { integration: [] },
        grantableRoles: [],
      }),
  })
  .strict();

export const configSchema = z
  .object({
    $schema: z.string().optional(),
    slack: z
      .object({
        command: z.string().regex(/^\/[a-z0-9_-]{1,31}$/, 'must be a slash command like /access').default('/access'),
        approvalChannel: z.string().regex(/^[CG][A-Z0-9]+$/, 'must be a Slack channel ID like C0123ABCD').optional(),
        admins: z.array(principal).default([]),
      })
      .strict()
      .default({ command: '/access', admins: [] }),
    state: z
      .object({ sqlite: z.string().min(1).default('./data/sesame.db') })
      .strict()
      .default({ sqlite: './data/sesame.db' }),
    schedule: z
      .object({
        expire: cron('*/15 * * * * *'),
        remind: cron('0 * * * * *'),
        rotate: cron('0 0 3 * * *'),
        cleanup: cron('0 30 3 * * *'),
        discover: cron('0 0 * * * *'),
      })
      .strict()
      .default({
        expire: '*/15 * * * * *',
        remind: '0 * * * * *',
        rotate: '0 0 3 * * *',
        cleanup: '0 30 3 * * *',
        discover: '0 0 * * * *',
      }),
    integrations: z.array(integrationSchema).default([]),
    discovery: z.array(discoverySchema).default([]),
    accessFlows: z.array(accessFlowSchema).default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Map<string, number>();
    c.integrations.forEach((i, idx) => {
      if (seen.has(i.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['integrations', idx, 'name'],
          message: `"${i.name}" is already the name of integrations[${seen.get(i.name)}]`,
        });
      } else seen.set(i.name, idx);
    });
    const flowNames = new Set<string>();
    c.accessFlows.forEach((f, idx) => {
      if (flowNames.has(f.name)) {
        ctx.addIssue({ code: 'custom', path: ['accessFlows', idx, 'name'], message: `"${f.name}" is used twice` });
      }
      flowNames.add(f.name);
      f.targets?.forEach((t, tIdx) => {
        if (!seen.has(t.integration) && c.discovery.length === 0) {
          ctx.addIssue({
            code: 'custom',
            path: ['accessFlows', idx, 'targets', tIdx, 'integration'],
            message: `no integration is named "${t.integration}" (known: ${[...seen.keys()].join(', ') || 'none'})`,
          });
        }
      });
      for (const [pIdx, p] of f.permissions.entries()) {
        if (!p.startsWith('role:')) continue;
        const role = p.slice(5);
        const named = f.targets?.map((t) => c.integrations.find((i) => i.name === t.integration)) ??
          c.integrations;
        if (named.every((i) => i && !i.grantableRoles.includes(role))) {
          ctx.addIssue({
            code: 'custom',
            path: ['accessFlows', idx, 'permissions', pIdx],
            message: `no integration of this flow lists "${role}" under grantableRoles`,
          });
        }
      }
    });
  });

export type Config = z.output<typeof configSchema>;
export type IntegrationConfig = z.output<typeof integrationSchema>;
export type PostgresIntegrationConfig = Extract<IntegrationConfig, { type: 'postgresql' }>;
export type RdsIntegrationConfig = Extract<IntegrationConfig, { type: 'aws-rds-postgresql' }>;
export type AccessFlowConfig = z.output<typeof accessFlowSchema>;
export type DiscoveryConfig = z.output<typeof discoverySchema>;

/** The sslMode an integration uses when it gives none: libpq's default, or verify-full on RDS. */
export function effectiveSslMode(i: IntegrationConfig): SslMode {
  return i.sslMode ?? (i.type === 'aws-rds-postgresql' ? 'verify-full' : 'prefer');
}
