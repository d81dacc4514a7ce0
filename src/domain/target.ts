import { InputError } from './errors.ts';
import { INTEGRATION_NAME_RE, validateIdentifier } from './identifiers.ts';

/**
 * What a grant applies to: `integration[/database[/schema[/table]]]`. Omitted parts mean
 * "everything in it": `prod` is every database of the server, `prod/app/public` every table of
 * the schema `public` in the database `app`.
 */
export interface Target {
  integration: string;
  database?: string;
  schema?: string;
  table?: string;
}

export type TargetScope = 'instance' | 'database' | 'schema' | 'table';

export const TARGET_USAGE = 'integration[/database[/schema[/table]]], e.g. prod/app/public/orders';

/** Parses and validates a target as a person writes it. */
export function parseTarget(text: string): Target {
  const trimmed = text.trim();
  if (!trimmed) throw new InputError(`No target given. Write it as ${TARGET_USAGE}.`);
  const parts = trimmed.split('/');
  if (parts.length > 4) {
    throw new InputError(`"${shorten(trimmed)}" has ${parts.length} parts; a target has at most four: ${TARGET_USAGE}.`);
  }
  if (parts.some((p) => p.length === 0)) {
    throw new InputError(`"${shorten(trimmed)}" has an empty part. Write it as ${TARGET_USAGE}.`);
  }
  const [integration, database, schema, table] = parts as [string, ...string[]];
  return validateTarget({ integration, database, schema, table });
}

/** Validates each part of a target; returns a copy without undefined keys. */
export function validateTarget(target: Target): Target {
  if (!INTEGRATION_NAME_RE.test(target.integration)) {
    throw new InputError(
      `"${shorten(target.integration)}" is not an integration name (lowercase letters, digits and dashes). Write the target as ${TARGET_USAGE}.`,
      { field: 'integration' },
    );
  }
  const out: Target = { integration: target.integration };
  if (target.database !== undefined) out.database = validateIdentifier(target.database, 'database');
  if (target.schema !== undefined) {
    if (out.database === undefined) throw new InputError('A schema needs a database before it.', { field: 'schema' });
    out.schema = validateIdentifier(target.schema, 'schema');
  }
  if (target.table !== undefined) {
    if (out.schema === undefined) throw new InputError('A table needs a schema before it.', { field: 'table' });
    out.table = validateIdentifier(target.table, 'table');
  }
  return out;
}

export function targetScope(t: Target): TargetScope {
  if (t.table !== undefined) return 'table';
  if (t.schema !== undefined) return 'schema';
  if (t.database !== undefined) return 'database';
  return 'instance';
}

export function formatTarget(t: Target): string {
  return [t.integration, t.database, t.schema, t.table].filter((p) => p !== undefined).join('/');
}

function shorten(s: string): string {
  return s.length > 60 ? `${s.slice(0, 60)}…` : s;
}
