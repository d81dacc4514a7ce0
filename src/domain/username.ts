import { createHash } from 'node:crypto';
import { InputError } from './errors.ts';
import { MAX_IDENTIFIER_BYTES } from './identifiers.ts';
import type { Person } from './request.ts';

/** The default template: the person's email, which is what an IAM policy `dbuser:*\/${SAML:sub}` expects. */
export const DEFAULT_USER_NAME_TEMPLATE = '{email}';

/**
 * The database user name of a person: the integration's template with `{email}`,
 * `{emailLocal}` (the part before `@`) and `{slackId}` filled in, lowercased. Names longer than
 * PostgreSQL's 63 bytes are cut on a character boundary and end in a hash of the full name, so
 * two long names never meet.
 */
export function databaseUserName(person: Person, template = DEFAULT_USER_NAME_TEMPLATE): string {
  const needsEmail = template.includes('{email}') || template.includes('{emailLocal}');
  if (needsEmail && !person.email) {
    throw new InputError(
      `Sesame needs your email address to name your database user, and Slack did not give one for ${person.slackId}. Ask an admin to check the app's users:read.email scope.`,
    );
  }
  const email = (person.email ?? '').toLowerCase();
  const full = template
    .replaceAll('{email}', email)
    .replaceAll('{emailLocal}', email.split('@')[0] ?? '')
    .replaceAll('{slackId}', person.slackId.toLowerCase())
    .replace(/[\u0000-\u001f\u007f]/g, '');
  if (!full) throw new InputError('The user name template gives an empty name.');
  if (Buffer.byteLength(full, 'utf8') <= MAX_IDENTIFIER_BYTES) return full;
  const suffix = `_${createHash('sha256').update(full).digest('hex').slice(0, 8)}`;
  return cutToBytes(full, MAX_IDENTIFIER_BYTES - suffix.length) + suffix;
}

function cutToBytes(s: string, maxBytes: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (bytes + n > maxBytes) break;
    out += ch;
    bytes += n;
  }
  return out;
}
