import { InputError } from '../../domain/errors.ts';
import { hasMembershipOptions } from './connectorRules.ts';
import { quoteIdent, type Statement } from './statements.ts';

/*
 * The statements that find and remove what a person's database user left behind: privileges
 * held directly, privileges it handed out on what it owns, triggers it planted on other roles'
 * tables, default privileges, roles that joined it, and objects a shared group role came to own.
 *
 * The search starts from pg_shdepend, PostgreSQL's own record of every object a role owns and
 * every ACL that names it, in every database. So it looks only where something is, instead of
 * walking every catalog: a person who created nothing and was given nothing directly costs one
 * query on the shared catalog.
 */

/** Object kinds as GRANT and REVOKE name them. */
const GRANT_OBJECT_KEYWORDS: Record<string, string> = {
  table: 'TABLE',
  column: 'TABLE',
  sequence: 'SEQUENCE',
  schema: 'SCHEMA',
  routine: 'ROUTINE',
  type: 'TYPE',
  'large object': 'LARGE OBJECT',
  language: 'LANGUAGE',
  'foreign server': 'FOREIGN SERVER',
  'foreign data wrapper': 'FOREIGN DATA WRAPPER',
  database: 'DATABASE',
  tablespace: 'TABLESPACE',
};

/** Default-privilege object kinds (pg_default_acl.defaclobjtype) as ALTER DEFAULT PRIVILEGES names them. */
const DEFAULT_ACL_KINDS: Record<string, string> = {
  r: 'TABLES',
  S: 'SEQUENCES',
  f: 'FUNCTIONS',
  T: 'TYPES',
  n: 'SCHEMAS',
  L: 'LARGE OBJECTS',
};

/** Privilege names PostgreSQL's aclexplode reports; anything else never reaches SQL. */
const PRIVILEGES = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'TRUNCATE',
  'REFERENCES',
  'TRIGGER',
  'MAINTAIN',
  'EXECUTE',
  'USAGE',
  'CREATE',
  'CONNECT',
  'TEMPORARY',
]);

/** An object as the scan reports it: enough to name it in SQL. */
export interface ObjectRef {
  object_type: string;
  schema_name: string | null;
  object_name: string;
  /** A column's name, or a routine's identity arguments as PostgreSQL prints them. */
  detail: string | null;
}

/** The object as GRANT/REVOKE/ALTER name it, e.g. `TABLE "public"."orders"`. */
export function objectSql(o: ObjectRef): string {
  const keyword = GRANT_OBJECT_KEYWORDS[o.object_type];
  if (!keyword) throw new InputError(`Sesame cannot name an object of type ${o.object_type} in SQL.`);
  const qualified = o.schema_name !== null ? `${quoteIdent(o.schema_name)}.${quoteIdent(o.object_name)}` : quoteIdent(o.object_name);
  switch (o.object_type) {
    case 'large object':
      if (!/^[0-9]+$/.test(o.object_name)) throw new InputError('A large object is named by its number.');
      return `${keyword} ${o.object_name}`;
    case 'routine':
      // The identity arguments are PostgreSQL's own rendering (pg_get_function_identity_arguments):
      // type names and argument names already quoted where they need it.
      return `${keyword} ${qualified}(${o.detail ?? ''})`;
    default:
      return `${keyword} ${qualified}`;
  }
}

/** A readable name for audit and alerts: `table public.orders`, `routine public.f(integer)`. */
export function describeObjectRef(o: ObjectRef): string {
  const name = o.schema_name !== null ? `${o.schema_name}.${o.object_name}` : o.object_name;
  if (o.object_type === 'routine') return `routine ${name}(${o.detail ?? ''})`;
  if (o.object_type === 'column') return `column ${name}.${o.detail ?? ''}`;
  return `${o.object_type} ${name}`;
}

function grantee(name: string): string {
  return name === 'PUBLIC' ? 'PUBLIC' : quoteIdent(name);
}

function privilegeList(privileges: readonly string[] | undefined): string {
  if (!privileges || privileges.length === 0) return 'ALL';
  for (const p of privileges) if (!PRIVILEGES.has(p)) throw new InputError(`${p} is not a privilege Sesame knows.`);
  return privileges.join(', ');
}

/**
 * Takes privileges on an object from a role. CASCADE also takes whatever the role passed on
 * with a grant option, so nothing it handed out survives it.
 */
export function revokeFrom(o: ObjectRef, from: string, privileges?: readonly string[]): Statement {
  const what = privilegeList(privileges);
  if (o.object_type === 'column') {
    const columns = what === 'ALL' ? 'ALL' : what;
    return {
      name: 'revoke a column privilege',
      text: `REVOKE ${columns} (${quoteIdent(o.detail ?? '')}) ON ${objectSql(o)} FROM ${grantee(from)} CASCADE`,
    };
  }
  return { name: `revoke privileges on a ${o.object_type}`, text: `REVOKE ${what} ON ${objectSql(o)} FROM ${grantee(from)} CASCADE` };
}

export function dropTrigger(schema: string, table: string, trigger: string): Statement {
  return {
    name: 'drop a planted trigger',
    text: `DROP TRIGGER ${quoteIdent(trigger)} ON ${quoteIdent(schema)}.${quoteIdent(table)}`,
  };
}

/** A SECURITY DEFINER routine runs with its owner's rights; after this, with the caller's. */
export function makeSecurityInvoker(o: ObjectRef): Statement {
  return { name: 'make a routine SECURITY INVOKER', text: `ALTER ${objectSql(o)} SECURITY INVOKER` };
}

export function revokeDefaultPrivileges(owner: string, schema: string | null, objtype: string, from: string): Statement {
  const kind = DEFAULT_ACL_KINDS[objtype];
  if (!kind) throw new InputError(`${objtype} is not a kind of default privilege Sesame knows.`);
  return {
    name: 'revoke default privileges',
    text: `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(owner)}${schema !== null ? ` IN SCHEMA ${quoteIdent(schema)}` : ''} REVOKE ALL ON ${kind} FROM ${grantee(from)}`,
  };
}

/**
 * Hands everything `role` owns in the current database to `heir`. PostgreSQL lets a role own
 * an object in a schema only while it may create there, so the heir gets CREATE on those
 * schemas (and on the database, for schemas it takes over) for the length of this one
 * transaction; nobody can act as the heir meanwhile, and it ends holding no privilege.
 */
export function reassignOwnedTo(
  role: string,
  heir: string,
  database: string,
  schemas: readonly string[],
  ownsSchemas: boolean,
): Statement[] {
  const grants: Statement[] = [];
  const revokes: Statement[] = [];
  if (schemas.length > 0) {
    const list = schemas.map(quoteIdent).join(', ');
    grants.push({ name: 'let the heir own objects in the schemas', text: `GRANT CREATE ON SCHEMA ${list} TO ${quoteIdent(heir)}` });
    revokes.push({ name: 'take CREATE back from the heir', text: `REVOKE CREATE ON SCHEMA ${list} FROM ${quoteIdent(heir)}` });
  }
  if (ownsSchemas) {
    grants.push({ name: 'let the heir own schemas', text: `GRANT CREATE ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(heir)}` });
    revokes.push({
      name: 'take CREATE on the database back from the heir',
      text: `REVOKE CREATE ON DATABASE ${quoteIdent(database)} FROM ${quoteIdent(heir)}`,
    });
  }
  return [
    ...grants,
    { name: "hand the role's objects to the heir", text: `REASSIGN OWNED BY ${quoteIdent(role)} TO ${quoteIdent(heir)}` },
    ...revokes,
  ];
}

export function revokeMembership(role: string, member: string): Statement {
  return { name: `revoke membership of ${role}`, text: `REVOKE ${quoteIdent(role)} FROM ${quoteIdent(member)}` };
}

/** From PostgreSQL 16: keeps the membership's privileges and takes away acting as the role. */
export function membershipWithoutSet(role: string, member: string): Statement {
  return {
    name: `make membership of ${role} inherit-only`,
    text: `GRANT ${quoteIdent(role)} TO ${quoteIdent(member)} WITH INHERIT TRUE, SET FALSE`,
  };
}

/**
 * The pg_shdepend rows of the subjects: everything they own, or that names them in an ACL.
 * Two lookups by role, each on pg_shdepend's (refclassid, refobjid) index: a single condition
 * with OR across users and groups makes PostgreSQL read every role's rows on the server.
 */
function depsCte(dbFilter: string): string {
  return `users AS (SELECT oid FROM pg_roles WHERE rolname = ANY ($1::text[])),
groups AS (SELECT oid FROM pg_roles WHERE rolname = ANY ($2::text[])),
deps AS (
  SELECT s.dbid, s.classid, s.objid, s.objsubid, s.deptype, s.refobjid AS role_oid, true AS of_user
    FROM users u JOIN pg_shdepend s ON s.refclassid = 'pg_authid'::regclass AND s.refobjid = u.oid
   WHERE ${dbFilter}
  UNION ALL
  SELECT s.dbid, s.classid, s.objid, s.objsubid, s.deptype, s.refobjid, false
    FROM groups g JOIN pg_shdepend s ON s.refclassid = 'pg_authid'::regclass AND s.refobjid = g.oid
   WHERE ${dbFilter}
     AND (s.deptype = 'o' OR ($3 AND s.classid IN ('pg_namespace'::regclass, 'pg_database'::regclass)))
)`;
}

/**
 * On the shared catalogs: the databases where the subjects own something or hold privileges,
 * privileges on databases and tablespaces held by the users, roles that are members of the
 * users, and (with `$3`) CREATE on databases held by the groups and, from PostgreSQL 16,
 * memberships of the groups that allow SET ROLE.
 */
export function sharedLeftovers(
  users: readonly string[],
  groups: readonly string[],
  includeGroupPrivileges: boolean,
  serverVersionNum: number,
): Statement {
  const setOption = hasMembershipOptions(serverVersionNum)
    ? `(SELECT coalesce(json_agg(json_build_object('role', pg_get_userbyid(m.roleid), 'member', pg_get_userbyid(m.member))), '[]')
      FROM pg_auth_members m WHERE m.roleid IN (SELECT oid FROM groups) AND m.set_option AND $3
       AND m.member <> (SELECT oid FROM pg_roles WHERE rolname = current_user))`
    : `'[]'::json`;
  return {
    name: 'find what the users left on the shared catalogs',
    preparedAs: `sesame_shared_leftovers_${hasMembershipOptions(serverVersionNum) ? 16 : 0}`,
    text: `WITH ${depsCte('true')}
SELECT
  (SELECT coalesce(json_agg(DISTINCT jsonb_build_object('name', d.datname,
          'reachable', d.datallowconn AND has_database_privilege(current_user, d.oid, 'CONNECT'))), '[]')
     FROM deps JOIN pg_database d ON d.oid = deps.dbid) AS databases,
  (SELECT coalesce(json_agg(x), '[]') FROM (
     SELECT CASE WHEN deps.classid = 'pg_database'::regclass THEN 'database' ELSE 'tablespace' END AS object_type,
            NULL AS schema_name, coalesce(db.datname, ts.spcname)::text AS object_name, NULL AS detail,
            pg_get_userbyid(deps.role_oid) AS role, array_agg(DISTINCT a.privilege_type) AS privileges,
            (deps.role_oid IN (SELECT oid FROM groups)) AS of_group
       FROM deps
       LEFT JOIN pg_database db ON deps.classid = 'pg_database'::regclass AND db.oid = deps.objid
       LEFT JOIN pg_tablespace ts ON deps.classid = 'pg_tablespace'::regclass AND ts.oid = deps.objid
       CROSS JOIN LATERAL aclexplode(coalesce(db.datacl, ts.spcacl)) a
      WHERE deps.dbid = 0 AND deps.deptype = 'a' AND a.grantee = deps.role_oid
        AND coalesce(db.datdba, ts.spcowner) <> deps.role_oid
        AND (deps.of_user OR a.privilege_type = 'CREATE')
      GROUP BY 1, 3, 5, 7) x) AS privileges,
  (SELECT coalesce(json_agg(json_build_object('role', pg_get_userbyid(m.roleid), 'member', pg_get_userbyid(m.member))), '[]')
     FROM pg_auth_members m
    WHERE m.roleid IN (SELECT oid FROM users)
      AND m.member <> (SELECT oid FROM pg_roles WHERE rolname = current_user)) AS members,
  ${setOption} AS set_memberships`,
    values: [[...users], [...groups], includeGroupPrivileges],
  };
}

/**
 * The objects of the current database that `deps` names, one row each with its kind, name,
 * owner and ACL (PostgreSQL's default ACL where none is stored): relations, columns, schemas,
 * routines, types, large objects, languages, foreign servers and data wrappers.
 */
const OWNED_OR_NAMED_OBJECTS = `  SELECT d.deptype, d.role_oid, d.of_user, CASE WHEN c.relkind = 'S' THEN 'sequence' ELSE 'table' END AS object_type,
         n.nspname::text AS schema_name, c.relname::text AS object_name, NULL::text AS detail, c.relowner AS owner,
         coalesce(c.relacl, acldefault(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char", c.relowner)) AS acl,
         NULL::oid AS routine
    FROM deps d JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0 AND c.relkind IN ('r', 'v', 'm', 'f', 'p', 'S')
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'column', n.nspname, c.relname, a.attname, c.relowner, a.attacl, NULL
    FROM deps d JOIN pg_class c ON c.oid = d.objid JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
   WHERE d.classid = 'pg_class'::regclass AND d.objsubid > 0
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'schema', NULL, n.nspname, NULL, n.nspowner, coalesce(n.nspacl, acldefault('n', n.nspowner)), NULL
    FROM deps d JOIN pg_namespace n ON n.oid = d.objid WHERE d.classid = 'pg_namespace'::regclass
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'routine', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid), p.proowner,
         coalesce(p.proacl, acldefault('f', p.proowner)), p.oid
    FROM deps d JOIN pg_proc p ON p.oid = d.objid JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE d.classid = 'pg_proc'::regclass
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'type', n.nspname, t.typname, NULL, t.typowner, t.typacl, NULL
    FROM deps d JOIN pg_type t ON t.oid = d.objid JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE d.classid = 'pg_type'::regclass
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'large object', NULL, l.oid::text, NULL, l.lomowner, l.lomacl, NULL
    FROM deps d JOIN pg_largeobject_metadata l ON l.oid = d.objid WHERE d.classid = 'pg_largeobject'::regclass
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'language', NULL, l.lanname, NULL, l.lanowner, coalesce(l.lanacl, acldefault('l', l.lanowner)), NULL
    FROM deps d JOIN pg_language l ON l.oid = d.objid WHERE d.classid = 'pg_language'::regclass
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'foreign server', NULL, s.srvname, NULL, s.srvowner, s.srvacl, NULL
    FROM deps d JOIN pg_foreign_server s ON s.oid = d.objid WHERE d.classid = 'pg_foreign_server'::regclass
  UNION ALL
  SELECT d.deptype, d.role_oid, d.of_user, 'foreign data wrapper', NULL, w.fdwname, NULL, w.fdwowner, w.fdwacl, NULL
    FROM deps d JOIN pg_foreign_data_wrapper w ON w.oid = d.objid WHERE d.classid = 'pg_foreign_data_wrapper'::regclass`;

/**
 * In the current database: privileges the users hold directly, privileges handed out on what
 * the users and groups own, what they own, triggers on other roles' tables that run their
 * functions, default privileges, and (with `$3`) CREATE on schemas held by the groups.
 */
export function databaseLeftovers(users: readonly string[], groups: readonly string[], includeGroupPrivileges: boolean): Statement {
  return {
    name: 'find what the users left in the database',
    preparedAs: 'sesame_database_leftovers',
    text: `WITH ${depsCte(`s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`)},
objects AS (
${OWNED_OR_NAMED_OBJECTS}
)
SELECT
  (SELECT coalesce(json_agg(x), '[]') FROM (
     SELECT o.object_type, o.schema_name, o.object_name, o.detail, pg_get_userbyid(o.role_oid) AS role, o.of_user,
            array_agg(DISTINCT a.privilege_type) AS privileges
       FROM objects o CROSS JOIN LATERAL aclexplode(o.acl) a
      WHERE o.deptype = 'a' AND a.grantee = o.role_oid AND o.owner <> o.role_oid
        AND (o.of_user OR a.privilege_type = 'CREATE')
      GROUP BY 1, 2, 3, 4, 5, 6) x) AS direct,
  (SELECT coalesce(json_agg(x), '[]') FROM (
     SELECT o.object_type, o.schema_name, o.object_name, o.detail, pg_get_userbyid(o.owner) AS role, o.of_user,
            CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
            array_agg(DISTINCT a.privilege_type) AS privileges,
            (SELECT CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END FROM pg_proc p WHERE p.oid = o.routine) AS definition
       FROM objects o CROSS JOIN LATERAL aclexplode(o.acl) a
      WHERE o.deptype = 'o' AND a.grantee <> o.owner
      GROUP BY 1, 2, 3, 4, 5, 6, 7, 9) x) AS handed_out,
  (SELECT coalesce(json_agg(x), '[]') FROM (
     SELECT pg_get_userbyid(d.role_oid) AS role, d.of_user, i.type, i.schema AS schema_name, i.identity,
            p.proname AS routine_name, pg_get_function_identity_arguments(p.oid) AS routine_args, coalesce(p.prosecdef, false) AS security_definer
       FROM deps d CROSS JOIN LATERAL pg_identify_object(d.classid, d.objid, d.objsubid) i
       LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
      WHERE d.deptype = 'o' AND d.classid <> 'pg_default_acl'::regclass) x) AS owned,
  (SELECT coalesce(json_agg(x), '[]') FROM (
     SELECT pg_get_userbyid(p.proowner) AS role, d.of_user, n.nspname AS schema_name, c.relname AS table_name,
            t.tgname AS trigger_name, pg_get_triggerdef(t.oid) AS definition
       FROM deps d JOIN pg_trigger t ON t.tgfoid = d.objid
       JOIN pg_proc p ON p.oid = t.tgfoid
       JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE d.classid = 'pg_proc'::regclass AND d.deptype = 'o' AND NOT t.tgisinternal AND c.relowner <> p.proowner) x) AS triggers,
  (SELECT coalesce(json_agg(x), '[]') FROM (
     SELECT pg_get_userbyid(da.defaclrole) AS owner, pg_get_userbyid(d.role_oid) AS role, d.of_user, n.nspname AS schema_name,
            da.defaclobjtype::text AS objtype, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS grantee,
            array_agg(DISTINCT a.privilege_type) AS privileges
       FROM deps d JOIN pg_default_acl da ON d.classid = 'pg_default_acl'::regclass AND da.oid = d.objid
       LEFT JOIN pg_namespace n ON n.oid = da.defaclnamespace
       CROSS JOIN LATERAL aclexplode(da.defaclacl) a
      WHERE a.grantee <> da.defaclrole AND (d.deptype = 'o' OR a.grantee = d.role_oid)
      GROUP BY 1, 2, 3, 4, 5, 6) x) AS defaults`,
    values: [[...users], [...groups], includeGroupPrivileges],
  };
}
