import { z } from 'zod';
import { BUNDLE_NAME_RE, type Bundle } from '../domain/bundle.ts';
import { parsePermission, type Permission } from '../domain/permission.ts';
import { parseTarget, TARGET_USAGE, type Target } from '../domain/target.ts';
import { permission } from './fields.ts';

const bundleTarget = z
  .string()
  .transform((text, ctx): Target => {
    try {
      return parseTarget(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `is not a target: ${(err as Error).message}` });
      return z.NEVER;
    }
  })
  .meta({ description: `A target: ${TARGET_USAGE}`, examples: ['prod/app/public'] });

/** One bundle of `bundles:`: its name, what it is for, its targets with their permissions. */
export const bundleSchema = z
  .object({
    name: z
      .string()
      .regex(BUNDLE_NAME_RE, 'must start with a lowercase letter and hold only lowercase letters, digits, - and _ (at most 63)')
      .describe('Typed in place of a target: /access request <name> for 1h'),
    description: z.string().min(1, 'must not be empty').max(150, 'is at most 150 characters').optional().describe('What it is for'),
    parts: z
      .array(
        z
          .object({
            target: bundleTarget,
            permission: permission.transform((p): Permission => parsePermission(p)),
          })
          .strict(),
      )
      .min(1, 'needs at least one target')
      .max(10, 'holds at most 10 targets, the most one request may have')
      .describe('The targets and the permission on each'),
  })
  .strict();

export const bundlesSchema = z.array(bundleSchema).default([]).describe('Named sets of targets and permissions, asked for in one request');

/** The configured integrations by name, the config's discovery entries, for cross-checks. */
interface Known {
  integrations: ReadonlyMap<string, number>;
  discovers: boolean;
}

type Issue = { code: 'custom'; path: (string | number)[]; message: string };

/**
 * Problems across bundles and the rest of the config: names used twice, and targets on an
 * integration the config does not name (left to discovery when there is some).
 */
export function bundleIssues(bundles: readonly unknown[], known: Known): Issue[] {
  const issues: Issue[] = [];
  const names = new Map<string, number>();
  bundles.forEach((b, idx) => {
    const bundle = b as Partial<Bundle> | undefined;
    if (typeof bundle?.name === 'string') {
      const first = names.get(bundle.name);
      if (first !== undefined) {
        issues.push({
          code: 'custom',
          path: ['bundles', idx, 'name'],
          message: `"${bundle.name}" is already the name of bundles[${first}]; bundle names must be unique`,
        });
      } else names.set(bundle.name, idx);
    }
    if (known.discovers || !Array.isArray(bundle?.parts)) return;
    bundle.parts.forEach((part, pIdx) => {
      const integration = (part?.target as Partial<Target> | undefined)?.integration;
      if (typeof integration !== 'string' || known.integrations.has(integration)) return;
      issues.push({
        code: 'custom',
        path: ['bundles', idx, 'parts', pIdx, 'target'],
        message: `names the integration "${integration}", which is not configured (known: ${[...known.integrations.keys()].join(', ') || 'none'})`,
      });
    });
  });
  return issues;
}
