import { validate as validateCron } from 'node-cron';
import { z } from 'zod';
import { parseDurationMinutes } from '../domain/duration.ts';
import { INTEGRATION_NAME_RE } from '../domain/identifiers.ts';
import { SSL_MODES, type SslMode } from '../domain/integration.ts';
import { parsePermission, PERMISSION_USAGE } from '../domain/permission.ts';
import { parsePrincipal, PRINCIPAL_USAGE } from '../domain/principal.ts';

/** The field types `sesame.yml` is built from: durations, schedules, names, people, permissions. */

/**
 * Mirrors what `parseDurationMinutes` accepts, for editors: the JSON Schema cannot call it. The
 * parser stays the authority (it also refuses zero).
 */
export const DURATION_PATTERN = '^(?=\\d)(\\d+[wW])?(\\d+[dD])?(\\d+[hH])?(\\d+[mM])?$';
export const DURATION_RULE = 'a duration longer than zero, written like 15m, 2h, 1d or 1h30m';

export const duration = z
  .string()
  .meta({ pattern: DURATION_PATTERN, description: `A duration: ${DURATION_RULE}`, examples: ['15m', '8h', '1h30m'] })
  .transform((text, ctx) => {
    try {
      return parseDurationMinutes(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be ${DURATION_RULE} (not ${JSON.stringify(text.slice(0, 40))})` });
      return z.NEVER;
    }
  });

export const cron = (fallback: string, what: string) =>
  z
    .string()
    .refine((c) => validateCron(c), {
      message: 'must be a cron expression: five fields, or six with seconds first (e.g. "*/15 * * * * *")',
    })
    .default(fallback)
    .describe(`Cron expression for ${what} (five fields, or six with seconds first). Default "${fallback}".`);

/** Whole numbers without `.int()`, whose failure would stop the cross-field checks from running. */
export const wholeNumber = () => z.number().multipleOf(1, 'must be a whole number');

export const positiveDays = (what: string) => wholeNumber().min(1, 'must be a whole number of days, at least 1').optional().describe(what);

/** 0 drops the user at the first cleanup or expire pass after its last revocation. */
export const cleanupDays = wholeNumber()
  .min(0, 'must be a whole number of days, 0 or more')
  .optional()
  .describe("Drop a person's database user this many days after their last revocation (0: at the next cleanup or expire pass)");

export const port = wholeNumber().min(1, 'must be a port number from 1 to 65535').max(65535, 'must be a port number from 1 to 65535');

export const principal = z
  .string()
  .refine((p) => parsePrincipal(p) !== undefined, { message: `must be ${PRINCIPAL_USAGE}` })
  .describe('A Slack user ID (U0123ABCD), an email, a @usergroup handle, or "*" for everyone');

export const approver = z
  .string()
  .refine((p) => p === 'owner' || p === 'integration-owner' || (p !== '*' && parsePrincipal(p)), {
    message: 'must be owner, integration-owner, a Slack user ID, an email or a @usergroup handle',
  })
  .describe('owner, integration-owner, a Slack user ID, an email or a @usergroup handle');

export const permission = z
  .string()
  .refine(
    (p) => {
      try {
        parsePermission(p);
        return true;
      } catch {
        return false;
      }
    },
    { message: `must be ${PERMISSION_USAGE}` },
  )
  .meta({ description: PERMISSION_USAGE, examples: ['readonly', 'readwrite', 'admin', 'role:reporting'] });

export const identifier = z
  .string()
  .min(1, 'must not be empty')
  .refine((s) => Buffer.byteLength(s) <= 63, { message: 'is longer than 63 bytes (PostgreSQL names are at most 63)' });

export const integrationName = z
  .string()
  .regex(INTEGRATION_NAME_RE, 'must be lowercase letters, digits and dashes, starting with a letter or digit (at most 63)');

export function isSslMode(value: unknown): value is SslMode {
  return (SSL_MODES as readonly unknown[]).includes(value);
}

export const sslMode = z
  .enum(SSL_MODES)
  .describe(
    "TLS to the database, as in libpq: disable, allow, prefer, require, verify-ca or verify-full (default). Below verify-ca anyone on the network path can pose as the server: the connector's password then goes only through SCRAM, and sesame check warns",
  );

export const userAuth = z
  .enum(['password', 'iam'])
  .default('password')
  .describe('How people log in: password (default) or iam (rds_iam, AWS only)');

export const customAccessDetails = z
  .string()
  .max(400)
  .optional()
  .describe('Shown to people with their access, e.g. how to reach the network (at most 400 characters)');

export const owners = z
  .object({
    integration: z.array(principal).default([]).describe('Fallback approvers: Slack IDs, emails or @usergroups'),
    resourceTagKey: z
      .string()
      .min(1, 'must not be empty')
      .optional()
      .describe('AWS only (ignored for type postgresql): the RDS tag whose value names the resource owner'),
    channel: z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel ID like C0123DBA (channel details → copy channel ID)')
      .optional()
      .describe("A Slack channel for this integration's approval requests, instead of slack.approvalChannel"),
    channelTagKey: z
      .string()
      .min(1, 'must not be empty')
      .optional()
      .describe('AWS only: the RDS tag whose value is the channel ID for the resource (over channel)'),
    alsoApprovalChannel: z
      .boolean()
      .default(false)
      .describe("Post in slack.approvalChannel too, beside the integration's own channel (default false)"),
  })
  .strict()
  .prefault({})
  .describe('Who approves requests for this integration');

export const grantableRoles = z.array(identifier).default([]).describe('Existing database roles people may request as role:<name>');
