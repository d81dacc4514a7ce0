import { InputError } from '../../domain/errors.ts';
import type { PrivilegePlan } from '../../domain/privileges.ts';
import {
  likeEscape,
  quoteLiteral,
  GROUP_ROLE_MARK,
  MANAGED_USER_MARK,
  RDS_ADMIN_DATABASE,
  RDS_IAM_ROLE,
  type Statement,
} from './sqlText.ts';

/*
 * The statements that read the server: the connector, roles, databases and their owners, the
 * objects in a scope, the managed users, and the catalog pages of the request modal's pickers.
 */

// ── Reading the server ───────────────────────────────────────────────────────────────────────

/** The connector itself and the server it talks to. */
export function connectorInfo(): Statement {
  return {
    name: 'read the connector and the server version',
    text: `SELECT current_user AS connector,
       current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       r.rolsuper AS is_superuser,
       r.rolcreaterole AS can_create_roles,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS can_signal_backends,
       EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser') AS on_rds
  FROM pg_roles r
 WHERE r.rolname = current_user`,
  };
}

/** Roles by name, with Sesame's mark (the role comment) when there is one. */
export function rolesByName(names: readonly string[]): Statement {
  return {
    name: 'read roles',
    text: `SELECT r.rolname AS name, r.rolsuper AS is_superuser, r.rolcanlogin AS can_login,
       r.rolvaliduntil AS valid_until, shobj_description(r.oid, 'pg_authid') AS comment,
       pg_has_role(current_user, r.oid, 'USAGE') AS connector_has_privileges,
       pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION') AS connector_is_admin
  FROM pg_roles r
 WHERE r.rolname = ANY ($1::text[])`,
    values: [[...names]],
  };
}

/**
 * The databases of the server that a grant or a check can reach (`datallowconn`, not a
 * template, not RDS's own), or just `database`; with their owner, whether the connector may
 * connect, and which of `privileges` the connector could not grant on them. A privilege PUBLIC
 * already holds counts as grantable: granting it is a no-op PostgreSQL only warns about.
 */
export function databasesInScope(database: string | undefined, privileges: readonly string[]): Statement {
  return {
    name: 'read databases and their owners',
    text: `SELECT d.datname AS name, o.rolname AS owner, o.rolsuper AS owner_is_superuser,
       pg_has_role(current_user, d.datdba, 'USAGE') AS connector_has_owner,
       pg_has_role(current_user, d.datdba, 'MEMBER WITH ADMIN OPTION') AS connector_is_admin_of_owner,
       has_database_privilege(current_user, d.oid, 'CONNECT') AS connector_can_connect,
       ${missingPrivileges('has_database_privilege', 'd.oid', privileges)} AS missing
  FROM pg_database d
  JOIN pg_roles o ON o.oid = d.datdba
 WHERE d.datallowconn AND NOT d.datistemplate AND d.datname <> ${quoteLiteral(RDS_ADMIN_DATABASE)}
   AND ($1::text IS NULL OR d.datname = $1)
 ORDER BY d.datname`,
    values: [database ?? null],
  };
}

/** What part of a database a grant or a check looks at. */
export interface ObjectScope {
  /** One schema, or every schema that is not PostgreSQL's own. */
  schema?: string;
  /** One relation of that schema. */
  table?: string;
  /** Include sequences: all of the schema's, or at table scope those the table's columns own. */
  sequences: boolean;
  routines: boolean;
}

/**
 * The objects in scope in the current database whose owner the connector has no privileges of,
 * with the privileges of `plan` it could not grant on each. Objects whose owner it has the
 * privileges of are left out early: their owner may grant anything on them. `pg_database_owner`
 * stands for the database's owner, so it is reported as that role.
 */
export function ungrantableObjects(scope: ObjectScope, plan: PrivilegePlan): Statement {
  return {
    name: 'read the owners of the objects in scope',
    text: `WITH scope_schemas AS (
  SELECT n.oid, n.nspname, n.nspowner AS owner
    FROM pg_namespace n
   WHERE CASE WHEN $1::text IS NULL
              THEN n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
              ELSE n.nspname = $1 END
), scope_relations AS (
  SELECT c.oid, c.relowner AS owner, s.nspname, c.relname
    FROM pg_class c JOIN scope_schemas s ON s.oid = c.relnamespace
   WHERE c.relkind IN ('r', 'v', 'm', 'f', 'p') AND ($2::text IS NULL OR c.relname = $2)
), objects AS (
  SELECT 'schema' AS kind, s.oid, s.owner, s.nspname AS schema_name, NULL::text AS object_name
    FROM scope_schemas s
  UNION ALL
  SELECT 'table', r.oid, r.owner, r.nspname, r.relname FROM scope_relations r
  UNION ALL
  SELECT 'sequence', c.oid, c.relowner, s.nspname, c.relname
    FROM pg_class c JOIN scope_schemas s ON s.oid = c.relnamespace
   WHERE $3 AND c.relkind = 'S'
     AND ($2::text IS NULL OR c.oid IN (${ownedSequenceOids('(SELECT oid FROM scope_relations)')}))
  UNION ALL
  SELECT 'routine', p.oid, p.proowner, s.nspname,
         format('%I(%s)', p.proname, pg_get_function_identity_arguments(p.oid))
    FROM pg_proc p JOIN scope_schemas s ON s.oid = p.pronamespace
   WHERE $4 AND $2::text IS NULL
), owned AS (
  SELECT o.*, CASE WHEN r.rolname = 'pg_database_owner'
                   THEN (SELECT datdba FROM pg_database WHERE datname = current_database())
                   ELSE o.owner END AS effective_owner
    FROM objects o JOIN pg_roles r ON r.oid = o.owner
), lacking AS (
  SELECT owner FROM (SELECT DISTINCT effective_owner AS owner FROM owned) owners
   WHERE NOT pg_has_role(current_user, owner, 'USAGE')
)
SELECT o.kind, o.schema_name, o.object_name, r.rolname AS owner, r.rolsuper AS owner_is_superuser,
       pg_has_role(current_user, r.oid, 'MEMBER WITH ADMIN OPTION') AS connector_is_admin_of_owner,
       CASE o.kind
         WHEN 'schema' THEN ${missingPrivileges('has_schema_privilege', 'o.oid', plan.schema)}
         WHEN 'table' THEN ${missingPrivileges('has_table_privilege', 'o.oid', plan.tables)}
         WHEN 'sequence' THEN ${missingPrivileges('has_sequence_privilege', 'o.oid', plan.sequences)}
         ELSE ${missingPrivileges('has_function_privilege', 'o.oid', plan.routines)}
       END AS missing
  FROM owned o
  JOIN lacking l ON l.owner = o.effective_owner
  JOIN pg_roles r ON r.oid = o.effective_owner
 ORDER BY r.rolname, o.kind, o.schema_name, o.object_name`,
    values: [scope.schema ?? null, scope.table ?? null, scope.sequences, scope.routines],
  };
}

/** Whether the schema and relation of a target exist in the current database. */
export function targetObjectsExist(schema: string, table: string | undefined): Statement {
  return {
    name: 'check that the target exists',
    text: `SELECT n.oid IS NOT NULL AS schema_exists,
       ($2::text IS NULL OR EXISTS (
          SELECT 1 FROM pg_class c
           WHERE c.relnamespace = n.oid AND c.relname = $2 AND c.relkind IN ('r', 'v', 'm', 'f', 'p')
       )) AS table_exists
  FROM (SELECT $1::text AS name) wanted
  LEFT JOIN pg_namespace n ON n.nspname = wanted.name`,
    values: [schema, table ?? null],
  };
}

/** The sequences owned by one relation's columns (serial and identity), schema-qualified. */
export function ownedSequences(schema: string, table: string): Statement {
  return {
    name: "read the table's sequences",
    text: `SELECT n.nspname AS schema_name, s.relname AS sequence_name
  FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
 WHERE s.relkind = 'S' AND s.oid IN (${ownedSequenceOids(
   `(SELECT c.oid FROM pg_class c JOIN pg_namespace tn ON tn.oid = c.relnamespace
      WHERE tn.nspname = $1 AND c.relname = $2)`,
 )})`,
    values: [schema, table],
  };
}

/** Leaves out PostgreSQL's own schemas: the catalogs and the toast and temporary ones. */
const NOT_A_SYSTEM_SCHEMA = `nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_(toast|temp_)'`;

/** The non-system schemas of the current database, all of them: a grant on a database covers each. */
export function schemasOfDatabase(): Statement {
  return {
    name: 'read the schemas',
    text: `SELECT nspname AS name FROM pg_namespace
 WHERE ${NOT_A_SYSTEM_SCHEMA}
 ORDER BY nspname`,
  };
}

// ── The catalog, for the request modal's pickers ────────────────────────────────────────────
// Every statement reads one bounded page, in name order, after a given name (keyset
// pagination), so a keystroke never reads a whole schema. The search is narrowed in SQL and
// decided in Sesame (catalogSearch.ts): names are compared under the C collation, whose ILIKE
// folds only ASCII, while people search for names like "Überstunden" too.

/** One page of a catalog picker's names. */
export interface CatalogPage {
  /**
   * Pieces every wanted name contains, in this order, ignoring ASCII case. Names holding a
   * character whose lower case is ASCII (U+0130 İ, U+212A Kelvin) are kept as well: their ASCII
   * form may contain the pieces where ILIKE cannot see it. None: every name.
   */
  fragments: readonly string[];
  /** Only names after this one in the catalog's order. */
  after?: string;
  /** At most this many names. */
  limit: number;
}

/** The largest page a picker may read in one statement. */
export const CATALOG_PAGE_MAX = 1000;

/** Characters outside ASCII whose lower case holds ASCII letters: U+0130 (İ) and U+212A (K). */
const LOWERS_TO_ASCII = '[\\u0130\\u212a]';

/**
 * One page of `query`'s names in `column`: the query's own filter, then the page's search,
 * keyset and limit. `values` are the query's parameters; the page's follow them.
 */
function catalogStatement(name: string, query: string, column: string, page: CatalogPage, values: unknown[] = []): Statement {
  if (!Number.isInteger(page.limit) || page.limit < 1 || page.limit > CATALOG_PAGE_MAX) {
    throw new InputError(`A catalog page holds 1 to ${CATALOG_PAGE_MAX} names, not ${page.limit}.`);
  }
  const where: string[] = [];
  if (page.fragments.length > 0) {
    values.push(`%${page.fragments.map(likeEscape).join('%')}%`, LOWERS_TO_ASCII);
    // COLLATE "C" states what the reasoning above relies on: ILIKE folds ASCII, nothing else.
    where.push(`(${column} COLLATE "C" ILIKE $${values.length - 1} OR ${column} ~ $${values.length})`);
  }
  if (page.after !== undefined) {
    values.push(page.after);
    where.push(`${column} > $${values.length}`);
  }
  values.push(page.limit);
  const clauses = where.map((w) => `\n   AND ${w}`).join('');
  return { name, text: `${query}${clauses}\n ORDER BY ${column}\n LIMIT $${values.length}`, values };
}

/** Databases people can be granted (connectable, not templates, not RDS's own), by name. */
export function catalogDatabases(page: CatalogPage): Statement {
  return catalogStatement(
    'list databases',
    `SELECT datname AS name FROM pg_database
 WHERE datallowconn AND NOT datistemplate AND datname <> ${quoteLiteral(RDS_ADMIN_DATABASE)}`,
    'datname',
    page,
  );
}

/** The non-system schemas of the current database, by name. */
export function catalogSchemas(page: CatalogPage): Statement {
  return catalogStatement(
    'list schemas',
    `SELECT nspname AS name FROM pg_namespace
 WHERE ${NOT_A_SYSTEM_SCHEMA}`,
    'nspname',
    page,
  );
}

/** Tables, views, materialized views, foreign and partitioned tables of a schema, by name. */
export function catalogTables(schema: string, page: CatalogPage): Statement {
  return catalogStatement(
    'list tables',
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'f', 'p') AND NOT c.relispartition`,
    'c.relname',
    page,
    [schema],
  );
}

/** The managed users: roles carrying the managed-user mark, with their memberships. */
export function managedUsers(): Statement {
  return {
    name: 'list managed users',
    text: `SELECT u.rolname AS name, u.rolcanlogin AS can_login, u.rolvaliduntil AS valid_until,
       coalesce(array_agg(DISTINCT g.rolname::text) FILTER (WHERE g.rolname IS NOT NULL
                                                             AND g.rolname <> ${quoteLiteral(RDS_IAM_ROLE)}),
                '{}'::text[]) AS roles,
       (EXISTS (SELECT 1 FROM pg_shdepend s WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = u.oid)
        OR EXISTS (SELECT 1 FROM pg_auth_members am WHERE am.roleid = u.oid
                    AND am.member <> (SELECT oid FROM pg_roles WHERE rolname = current_user))) AS may_have_leftovers
  FROM pg_roles u
  LEFT JOIN pg_auth_members m ON m.member = u.oid
  LEFT JOIN pg_roles g ON g.oid = m.roleid
 WHERE shobj_description(u.oid, 'pg_authid') LIKE ${quoteLiteral(`${likeEscape(MANAGED_USER_MARK)}%`)}
 GROUP BY u.oid, u.rolname, u.rolcanlogin, u.rolvaliduntil
 ORDER BY u.rolname`,
  };
}

/** Sesame's group roles: roles carrying the group mark. */
export function sesameGroupRoles(): Statement {
  return {
    name: 'list the group roles',
    text: `SELECT r.rolname AS name FROM pg_roles r
 WHERE shobj_description(r.oid, 'pg_authid') LIKE ${quoteLiteral(`${likeEscape(GROUP_ROLE_MARK)}%`)}
 ORDER BY r.rolname`,
  };
}

/** The roles a user is a direct member of, and whether it may log in. */
export function userMemberships(username: string): Statement {
  return {
    name: "read the user's memberships",
    text: `SELECT u.rolcanlogin AS can_login,
       coalesce(array_agg(DISTINCT g.rolname::text) FILTER (WHERE g.rolname IS NOT NULL), '{}'::text[]) AS roles
  FROM pg_roles u
  LEFT JOIN pg_auth_members m ON m.member = u.oid
  LEFT JOIN pg_roles g ON g.oid = m.roleid
 WHERE u.rolname = $1
 GROUP BY u.rolcanlogin`,
    values: [username],
  };
}

/**
 * The databases holding something that depends on a role (objects it owns, privileges granted
 * to it): where `REASSIGN OWNED` and `DROP OWNED` have work to do before the role can go.
 */
export function databasesDependingOn(role: string): Statement {
  return {
    name: 'read the databases that depend on the user',
    text: `SELECT DISTINCT d.datname AS name,
       has_database_privilege(current_user, d.oid, 'CONNECT') AS connector_can_connect
  FROM pg_shdepend s
  JOIN pg_database d ON d.oid = s.dbid
 WHERE s.refclassid = 'pg_authid'::regclass
   AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1)
 ORDER BY 1`,
    values: [role],
  };
}

/**
 * An SQL `text[]` expression: those of `privileges` the connector can neither grant on the
 * object (no grant option, directly or through the owner) nor count on PUBLIC already having.
 */
function missingPrivileges(checker: string, oidExpr: string, privileges: readonly string[]): string {
  if (privileges.length === 0) return `'{}'::text[]`;
  const checks = privileges.map((p) => {
    const withGrant = quoteLiteral(`${p} WITH GRANT OPTION`);
    return `CASE WHEN ${checker}(current_user, ${oidExpr}, ${withGrant}) OR ${checker}('public', ${oidExpr}, ${quoteLiteral(p)}) THEN NULL ELSE ${quoteLiteral(p)} END`;
  });
  return `array_remove(ARRAY[${checks.join(', ')}]::text[], NULL)`;
}

/** The OIDs of the sequences owned by the columns of the relations in `relationOids`. */
function ownedSequenceOids(relationOids: string): string {
  return `SELECT dep.objid FROM pg_depend dep
           WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
             AND dep.deptype IN ('a', 'i') AND dep.refobjid IN ${relationOids}`;
}
