import { InputError } from '../../domain/errors.ts';

/**
 * Every SQL statement Sesame sends to a target database, each built by one named function.
 * Names reach SQL only through {@link quoteIdent}; values travel as parameters, except where
 * PostgreSQL accepts no parameter (utility statements: `PASSWORD`, `VALID UNTIL`, `COMMENT`),
 * where they are written with {@link quoteLiteral}.
 */
export interface Statement {
  /** What the statement does, for logs and error messages. Never holds a value. */
  name: string;
  text: string;
  values?: unknown[];
  /** What observers see instead of `text` when the text holds something secret. */
  shownText?: string;
  /**
   * Sent as a named prepared statement, planned once per connection: for long catalog queries
   * whose text never changes under this name and whose planning costs more than running them.
   */
  preparedAs?: string;
}

/** Quotes an identifier for SQL, doubling embedded quotes. The only way names reach SQL. */
export function quoteIdent(name: string): string {
  if (name.includes('\u0000')) throw new InputError('A name may not contain a NUL character.');
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a string as an SQL literal, the way libpq's PQescapeLiteral does. */
export function quoteLiteral(value: string): string {
  if (value.includes('\u0000')) throw new InputError('A value may not contain a NUL character.');
  const doubledQuotes = value.replaceAll("'", "''");
  if (!value.includes('\\')) return `'${doubledQuotes}'`;
  // With a backslash, the E'' form reads the same whatever standard_conforming_strings says.
  return ` E'${doubledQuotes.replaceAll('\\', '\\\\')}'`;
}

/** A `timestamptz` literal for a moment, in UTC. */
export function timestampLiteral(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new InputError('The expiry is not a valid date.');
  return quoteLiteral(at.toISOString());
}

/**
 * Login is disabled with `VALID UNTIL` in the past as well as NOLOGIN, so that a role someone
 * later turns LOGIN again by hand still cannot sign in with a password. The epoch reads back as
 * an ordinary date (`-infinity` would not).
 */
export const LOGIN_DISABLED_VALID_UNTIL = new Date(0);

/** The prefix of every comment Sesame puts on a role it creates: its mark. */
export const SESAME_MARK = 'sesame:';
export const MANAGED_USER_MARK = `${SESAME_MARK} managed user for `;
export const GROUP_ROLE_MARK = `${SESAME_MARK} group `;

/** A managed user's mark: whose user it is, by label and (in brackets) Slack ID. */
export function managedUserMark(ownerLabel: string, ownerId: string | undefined): string {
  return `${MANAGED_USER_MARK}${ownerLabel}${ownerId ? ` [${ownerId}]` : ''}`;
}

/** The Slack ID a managed user's mark names, if it names one. */
export function ownerIdOfMark(comment: string | null): string | undefined {
  if (!comment?.startsWith(MANAGED_USER_MARK)) return undefined;
  return /\[([A-Za-z0-9]+)\]$/.exec(comment)?.[1];
}

/** The role that lets a user sign in with an RDS IAM token. */
export const RDS_IAM_ROLE = 'rds_iam';
/** RDS's own administrative database: never touched. */
export const RDS_ADMIN_DATABASE = 'rdsadmin';

/** Escapes LIKE's wildcards in a literal pattern piece. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}
