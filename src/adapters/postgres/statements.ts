import { hasMembershipOptions } from './connectorRules.ts';
import { LOGIN_DISABLED_VALID_UNTIL, quoteIdent, quoteLiteral, timestampLiteral, type Statement } from './sqlText.ts';

/*
 * Every SQL statement Sesame sends to a target database, each built by one named function:
 * reading the server (readStatements.ts), and here roles, privileges, and what an admin runs.
 * Names reach SQL only through quoteIdent; values travel as parameters, or as quoted literals
 * where PostgreSQL takes none (sqlText.ts).
 */
export * from './sqlText.ts';
export * from './readStatements.ts';

// ── Roles ────────────────────────────────────────────────────────────────────────────────────

/**
 * The first key of the advisory lock that serialises work on one group role on the server, for
 * every Sesame replica: two sessions granting on one object at once fail with "tuple concurrently
 * updated". Held by the session (the connector's own), freed by {@link unlockGroupRole} or when
 * the session ends.
 */
const GROUP_ROLE_LOCK = 0x5345_0101;

export function lockGroupRole(role: string): Statement {
  return {
    name: 'wait for other grants on the group role',
    text: 'SELECT pg_advisory_lock($1, hashtext($2))',
    values: [GROUP_ROLE_LOCK, role],
  };
}

export function unlockGroupRole(role: string): Statement {
  return {
    name: 'let other grants on the group role go on',
    text: 'SELECT pg_advisory_unlock($1, hashtext($2))',
    values: [GROUP_ROLE_LOCK, role],
  };
}

/** A person's user, able to log in until `validUntil`, with no password until one is set. */
export function createUser(username: string, validUntil: Date): Statement {
  return {
    name: 'create the user',
    text: `CREATE ROLE ${quoteIdent(username)} WITH LOGIN PASSWORD NULL VALID UNTIL ${timestampLiteral(validUntil)}`,
  };
}

/** A group role: holds privileges, never logs in. */
export function createGroupRole(role: string): Statement {
  return { name: 'create the group role', text: `CREATE ROLE ${quoteIdent(role)} WITH NOLOGIN` };
}

/** Marks a role as Sesame's with a comment. */
export function commentOnRole(role: string, comment: string): Statement {
  return { name: 'mark the role', text: `COMMENT ON ROLE ${quoteIdent(role)} IS ${quoteLiteral(comment)}` };
}

export function enableLogin(username: string, validUntil: Date): Statement {
  return {
    name: 'enable login until the expiry',
    text: `ALTER ROLE ${quoteIdent(username)} WITH LOGIN VALID UNTIL ${timestampLiteral(validUntil)}`,
  };
}

export function setValidUntil(username: string, validUntil: Date): Statement {
  return {
    name: 'set the expiry',
    text: `ALTER ROLE ${quoteIdent(username)} WITH VALID UNTIL ${timestampLiteral(validUntil)}`,
  };
}

export function disableLogin(username: string): Statement {
  return {
    name: 'disable login',
    text: `ALTER ROLE ${quoteIdent(username)} WITH NOLOGIN VALID UNTIL ${timestampLiteral(LOGIN_DISABLED_VALID_UNTIL)}`,
  };
}

/**
 * Sets a password from its SCRAM verifier, so the password itself never reaches the server's
 * statement log, `pg_stat_statements` or `pg_stat_activity`.
 */
export function setPasswordVerifier(username: string, scramVerifier: string): Statement {
  return {
    name: 'set the password',
    text: `ALTER ROLE ${quoteIdent(username)} WITH PASSWORD ${quoteLiteral(scramVerifier)}`,
    shownText: `ALTER ROLE ${quoteIdent(username)} WITH PASSWORD '[REDACTED]'`,
  };
}

export function grantRole(role: string, member: string): Statement {
  return { name: `grant membership of ${role}`, text: `GRANT ${quoteIdent(role)} TO ${quoteIdent(member)}` };
}

/**
 * A person's membership of a role that carries privileges. From PostgreSQL 16 it is
 * inherit-only: the person uses the role's privileges but can never act as the role (no SET
 * ROLE, no object owned by it, no ALTER … OWNER TO it). Up to 15 every membership allows SET
 * ROLE, so there the shared roles hold nothing that lets anyone create through them.
 */
export function grantMembership(role: string, member: string, serverVersionNum: number): Statement {
  if (!hasMembershipOptions(serverVersionNum)) return grantRole(role, member);
  return {
    name: `grant membership of ${role}`,
    text: `GRANT ${quoteIdent(role)} TO ${quoteIdent(member)} WITH INHERIT TRUE, SET FALSE`,
  };
}

export function revokeRole(role: string, member: string): Statement {
  return {
    name: `revoke membership of ${role}`,
    text: `REVOKE ${quoteIdent(role)} FROM ${quoteIdent(member)}`,
  };
}

/** Ends every session of a user but the caller's own; returns how many were ended. */
export function terminateSessions(username: string): Statement {
  return {
    name: "terminate the user's sessions",
    text: `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated
  FROM pg_stat_activity
 WHERE usename = $1 AND pid <> pg_backend_pid()`,
    values: [username],
  };
}

export function reassignOwned(username: string, newOwner: string): Statement {
  return {
    name: "reassign the user's objects",
    text: `REASSIGN OWNED BY ${quoteIdent(username)} TO ${quoteIdent(newOwner)}`,
  };
}

export function dropOwned(username: string): Statement {
  return { name: "drop the user's privileges", text: `DROP OWNED BY ${quoteIdent(username)}` };
}

export function dropRole(role: string): Statement {
  return { name: 'drop the user', text: `DROP ROLE IF EXISTS ${quoteIdent(role)}` };
}

// ── Privileges ───────────────────────────────────────────────────────────────────────────────

export function grantOnDatabase(privileges: readonly string[], database: string, role: string): Statement {
  return {
    name: 'grant on the database',
    text: `GRANT ${privileges.join(', ')} ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(role)}`,
  };
}

export function grantOnSchemas(privileges: readonly string[], schemas: readonly string[], role: string): Statement {
  return {
    name: 'grant on the schema',
    text: `GRANT ${privileges.join(', ')} ON SCHEMA ${schemas.map(quoteIdent).join(', ')} TO ${quoteIdent(role)}`,
  };
}

/**
 * Grants on every object of a kind in the schemas. `ALL TABLES` covers tables, views,
 * materialized views, foreign and partitioned tables; `ALL ROUTINES` functions, procedures and
 * aggregates.
 */
export function grantOnAllInSchemas(
  kind: 'TABLES' | 'SEQUENCES' | 'ROUTINES',
  privileges: readonly string[],
  schemas: readonly string[],
  role: string,
): Statement {
  return {
    name: `grant on the ${kind.toLowerCase()}`,
    text: `GRANT ${privileges.join(', ')} ON ALL ${kind} IN SCHEMA ${schemas.map(quoteIdent).join(', ')} TO ${quoteIdent(role)}`,
  };
}

export function grantOnTable(privileges: readonly string[], schema: string, table: string, role: string): Statement {
  return {
    name: 'grant on the table',
    text: `GRANT ${privileges.join(', ')} ON TABLE ${quoteIdent(schema)}.${quoteIdent(table)} TO ${quoteIdent(role)}`,
  };
}

export function grantOnSequences(
  privileges: readonly string[],
  sequences: readonly { schema: string; name: string }[],
  role: string,
): Statement {
  return {
    name: "grant on the table's sequences",
    text: `GRANT ${privileges.join(', ')} ON SEQUENCE ${sequences
      .map((s) => `${quoteIdent(s.schema)}.${quoteIdent(s.name)}`)
      .join(', ')} TO ${quoteIdent(role)}`,
  };
}

// ── What an admin runs (shown, never sent by Sesame) ────────────────────────────────────────

export function adminGrantMembership(role: string, connector: string, withAdminOption = false): string {
  return `GRANT ${quoteIdent(role)} TO ${quoteIdent(connector)}${withAdminOption ? ' WITH ADMIN OPTION' : ''};`;
}

export function adminGrantWithGrantOption(
  privileges: readonly string[],
  objectKind: 'DATABASE' | 'SCHEMA' | 'TABLE' | 'SEQUENCE' | 'ROUTINE',
  qualifiedObject: string,
  connector: string,
): string {
  return `GRANT ${privileges.join(', ')} ON ${objectKind} ${qualifiedObject} TO ${quoteIdent(connector)} WITH GRANT OPTION;`;
}

/** psql's way of saying where the statements after it run. */
export function adminConnect(database: string): string {
  return `\\connect ${quoteIdent(database)}`;
}

export function adminAlterRole(role: string, attribute: 'CREATEROLE'): string {
  return `ALTER ROLE ${quoteIdent(role)} WITH ${attribute};`;
}

// ── Statement logging (integrations with `audit: true`) ─────────────────────────────────────

/** The per-user settings Sesame may make for an audited integration; all superuser-only (PGC_SUSET). */
export type LoggingParameter = 'pgaudit.log' | 'pgaudit.log_parameter' | 'log_statement';

/**
 * A session default on one role. The role cannot change or reset it itself: the parameter is
 * superuser-only, so only a superuser, a role granted SET on it (15+) or, on RDS, rds_superuser
 * may.
 */
export function setRoleParameter(role: string, parameter: LoggingParameter, value: string): Statement {
  return {
    name: `set ${parameter} on the user`,
    text: `ALTER ROLE ${quoteIdent(role)} SET ${parameter} = ${quoteLiteral(value)}`,
  };
}

/**
 * Whether pgaudit is loaded: its `pgaudit.log` is then a real, superuser-only setting (a
 * placeholder someone SET without the library is a user setting). `shared_preload_libraries`
 * itself is hidden from roles without pg_read_all_settings.
 */
export function pgauditLoaded(): Statement {
  return {
    name: 'find whether pgaudit is loaded',
    text: `SELECT EXISTS (SELECT 1 FROM pg_settings WHERE name = 'pgaudit.log' AND context = 'superuser') AS loaded`,
  };
}

/** The server settings full statement capture depends on, those the connector may see. */
export function loggingSettings(): Statement {
  return {
    name: 'read the logging settings',
    text: `SELECT name, setting, context FROM pg_settings
 WHERE name IN ('log_connections', 'log_disconnections', 'log_destination', 'log_line_prefix',
                'logging_collector', 'shared_preload_libraries', 'pgaudit.log')`,
  };
}

export const BEGIN: Statement = { name: 'begin a trial', text: 'BEGIN' };
export const ROLLBACK: Statement = { name: 'undo the trial', text: 'ROLLBACK' };

/** PostgreSQL 15 and later: lets the connector set a superuser-only parameter, per role among others. */
export function adminGrantSetOnParameter(parameters: readonly LoggingParameter[], connector: string): string {
  return `GRANT SET ON PARAMETER ${parameters.join(', ')} TO ${quoteIdent(connector)};`;
}
