import type { PrivilegePlan } from '../../domain/privileges.ts';
import { quoteLiteral, type Statement } from './sqlText.ts';
import type { ObjectScope } from './readStatements.ts';

/*
 * The fingerprint of a group role's scope in one database, which lets a repeat grant skip
 * re-granting the group's privileges when nothing in scope has changed (repeatGrants.ts).
 *
 * It is a SHA-256 over every catalog row in scope, by content: the database (its owner and
 * ACL), the schemas, the relations, the sequences and the routines the plan covers, each as
 * `kind oid owner ACL`. Adding, dropping or re-creating an object changes the set of OIDs;
 * changing an owner or any privilege (granted to anyone, revoked from the group) changes a row.
 * The content is hashed rather than the rows' xmin because Sesame's own re-grant rewrites every
 * row it touches, and a freeze changes xmin without changing anything that matters.
 *
 * Equal content is taken to mean equal privileges only because the fingerprint kept by the
 * engine is one read together with a check, in the same snapshot, that the group holds every
 * privilege of the plan on every object it hashed (`complete`): a table created between the
 * grant and that read makes the check fail, and the fingerprint is not kept.
 *
 * Default privileges `FOR ROLE` each owner were the other way to cover new tables. They are not
 * used: the security model has group roles hold no default privileges (reconciliation removes
 * them), they would give access to a new table before any grant was asked for, and they do not
 * follow objects given to a new owner.
 */

const NOT_A_SYSTEM_SCHEMA = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'`;

/** The SQL expression computing the fingerprint, and with `checkFor` whether that group has the whole plan. */
export function fingerprintQuery(scope: ObjectScope, plan: PrivilegePlan, checkFor?: string): string {
  const schema = scope.schema === undefined ? undefined : quoteLiteral(scope.schema);
  const table = scope.table === undefined ? undefined : quoteLiteral(scope.table);
  const has = (checker: string, oid: string, privileges: readonly string[]) =>
    checkFor === undefined || privileges.length === 0
      ? 'true'
      : privileges.map((p) => `${checker}(${quoteLiteral(checkFor)}, ${oid}, ${quoteLiteral(p)})`).join(' AND ');
  const sequences = !scope.sequences
    ? 'false'
    : table === undefined
      ? `c.relkind = 'S'`
      : `c.relkind = 'S' AND c.oid IN (SELECT dep.objid FROM pg_depend dep JOIN pg_class t ON t.oid = dep.refobjid
          WHERE dep.classid = 'pg_class'::regclass AND dep.refclassid = 'pg_class'::regclass
            AND dep.deptype IN ('a', 'i') AND t.relnamespace = c.relnamespace AND t.relname = ${table})`;
  return `WITH scope_schemas AS (
  SELECT n.oid, n.nspowner, n.nspacl FROM pg_namespace n
   WHERE ${schema === undefined ? NOT_A_SYSTEM_SCHEMA : `n.nspname = ${schema}`}
), scope_relations AS (
  SELECT c.oid, c.relkind, c.relowner, c.relacl FROM pg_class c JOIN scope_schemas s ON s.oid = c.relnamespace
   WHERE (c.relkind IN ('r', 'v', 'm', 'f', 'p')${table === undefined ? '' : ` AND c.relname = ${table}`}) OR (${sequences})
), items AS (
  SELECT hash_record_extended((0, d.oid, d.datdba, d.datacl), 0) AS h,
         ${has('has_database_privilege', 'd.oid', plan.database)} AS ok
    FROM pg_database d WHERE d.datname = current_database()
  UNION ALL
  SELECT hash_record_extended((1, s.oid, s.nspowner, s.nspacl), 0), ${has('has_schema_privilege', 's.oid', plan.schema)}
    FROM scope_schemas s
  UNION ALL
  SELECT hash_record_extended((2, r.oid, r.relkind, r.relowner, r.relacl), 0),
         CASE WHEN r.relkind = 'S' THEN ${has('has_sequence_privilege', 'r.oid', plan.sequences)}
              ELSE ${has('has_table_privilege', 'r.oid', plan.tables)} END
    FROM scope_relations r
  UNION ALL
  SELECT hash_record_extended((3, p.oid, p.proowner, p.proacl), 0), ${has('has_function_privilege', 'p.oid', plan.routines)}
    FROM pg_proc p JOIN scope_schemas s ON s.oid = p.pronamespace
   WHERE ${scope.routines && table === undefined ? 'true' : 'false'}
)
SELECT count(*) || ':' || sum(h) AS fingerprint, coalesce(bool_and(ok), false) AS complete
  FROM items`;
}

/** Reads the fingerprint of the scope and whether `group` holds the whole plan there, in one snapshot. */
export function readFingerprint(scope: ObjectScope, plan: PrivilegePlan, group: string): Statement {
  return { name: 'read the fingerprint of the scope', text: fingerprintQuery(scope, plan, group) };
}

/** What a repeat grant checks on the server before it changes anything. */
export interface RepeatGrantCheck {
  serverVersionNum: number;
  group: string;
  groupComment: string;
  username: string;
  ownerId: string | undefined;
  managedUserMark: string;
  scope: ObjectScope;
  plan: PrivilegePlan;
  fingerprint: string;
}

/** The SQLSTATE of a repeat grant that found something changed: the full grant runs instead. */
export const STALE_REPEAT_GRANT = 'SE001';

/**
 * One statement, one round trip: checks that nothing a grant depends on has changed since the
 * last full grant on the group (the server version, the group's mark, the user's mark and owner,
 * the scope's fingerprint) and only then sends `statements`, as one transaction. Anything
 * changed raises {@link STALE_REPEAT_GRANT} before any of them runs. No value is a parameter
 * (a DO block takes none): names and values are quoted twice, into the block and as its text.
 */
export function repeatGrantBlock(check: RepeatGrantCheck, statements: readonly Statement[]): Statement {
  const stale = (why: string) => `RAISE EXCEPTION USING ERRCODE = ${quoteLiteral(STALE_REPEAT_GRANT)}, MESSAGE = ${quoteLiteral(why)};`;
  const user = quoteLiteral(check.username);
  const ownerId = check.ownerId === undefined ? 'NULL' : quoteLiteral(check.ownerId);
  const body = `DECLARE
  user_mark text;
  marked_owner text;
BEGIN
  IF current_setting('server_version_num')::int <> ${check.serverVersionNum} THEN ${stale('the server version changed')} END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = ${quoteLiteral(check.group)}
                   AND shobj_description(r.oid, 'pg_authid') = ${quoteLiteral(check.groupComment)}) THEN
    ${stale('the group role is not as it was')}
  END IF;
  SELECT shobj_description(r.oid, 'pg_authid') INTO user_mark FROM pg_roles r WHERE r.rolname = ${user};
  IF user_mark IS NULL OR left(user_mark, ${check.managedUserMark.length}) <> ${quoteLiteral(check.managedUserMark)} THEN
    ${stale('the user is not a managed one')}
  END IF;
  marked_owner := substring(user_mark from '[[]([A-Za-z0-9]+)[]]$');
  IF ${ownerId} IS NOT NULL AND marked_owner IS NOT NULL AND marked_owner <> ${ownerId} THEN ${stale('the user is marked for someone else')} END IF;
  IF (SELECT fingerprint FROM (${fingerprintQuery(check.scope, check.plan)}) f) IS DISTINCT FROM ${quoteLiteral(check.fingerprint)} THEN
    ${stale('the scope changed')}
  END IF;
${statements.map((s) => `  EXECUTE ${quoteLiteral(s.text)};`).join('\n')}
END`;
  return {
    name: `grant again on an unchanged scope (${statements.map((s) => s.name).join(', ')})`,
    text: `DO LANGUAGE plpgsql ${quoteLiteral(body)}`,
  };
}
