import { InputError, type RequestField } from './errors.ts';

/** PostgreSQL truncates identifiers to NAMEDATALEN - 1 bytes; Sesame refuses them instead. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * Checks a name that will reach SQL as a quoted identifier (database, schema, table, role, user).
 * Quotes, semicolons and unicode are legal inside a quoted identifier and are kept as they are;
 * what PostgreSQL cannot hold (empty, NUL, over 63 bytes) and control characters are refused.
 */
export function validateIdentifier(name: string, what: string): string {
  const field = (['database', 'schema', 'table'] as const).find((f) => f === what) satisfies RequestField | undefined;
  const error = (message: string) => new InputError(message, field ? { field } : undefined);
  if (name.length === 0) throw error(`The ${what} name is empty.`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    throw error(`The ${what} name ${JSON.stringify(name)} contains control characters.`);
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    throw error(
      `The ${what} name ${JSON.stringify(shorten(name))} is ${bytes} bytes long; PostgreSQL names are at most ${MAX_IDENTIFIER_BYTES} bytes.`,
    );
  }
  return name;
}

/** Integration names: lowercase letters, digits and dashes, starting with a letter or digit. */
export const INTEGRATION_NAME_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

function shorten(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
