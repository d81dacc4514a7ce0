import type { BuiltinPermission } from './permission.ts';
import type { TargetScope } from './target.ts';

export type DatabasePrivilege = 'CONNECT' | 'TEMPORARY' | 'CREATE';
export type SchemaPrivilege = 'USAGE' | 'CREATE';
export type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE' | 'REFERENCES' | 'TRIGGER';
export type SequencePrivilege = 'SELECT' | 'USAGE' | 'UPDATE';
export type RoutinePrivilege = 'EXECUTE';

/**
 * The privileges one permission gives at one scope, by kind of object (PRODUCT.md §4).
 * `tables` covers every relation PostgreSQL's `ALL TABLES` covers: tables, views, materialized
 * views, foreign and partitioned tables. An empty list means nothing is granted on that kind.
 */
export interface PrivilegePlan {
  database: DatabasePrivilege[];
  schema: SchemaPrivilege[];
  tables: TablePrivilege[];
  sequences: SequencePrivilege[];
  routines: RoutinePrivilege[];
}

/**
 * Which privileges `permission` puts on the database, the schema(s), the relations, the
 * sequences and the routines in a target of `scope`.
 *
 * At table scope the grant covers that one relation and the sequences its columns own
 * (serial and identity), so admin there gives neither CREATE on the schema nor EXECUTE on the
 * schema's routines: both would reach far beyond the one table that was asked for. CREATE on the
 * database is given only where the whole database is in scope (database and instance scope).
 */
export function privilegePlan(permission: BuiltinPermission, scope: TargetScope): PrivilegePlan {
  const wholeDatabase = scope === 'database' || scope === 'instance';
  const wholeSchema = scope !== 'table';
  switch (permission) {
    case 'readonly':
      return {
        database: ['CONNECT'],
        schema: ['USAGE'],
        tables: ['SELECT'],
        sequences: ['SELECT'],
        routines: [],
      };
    case 'readwrite':
      return {
        database: ['CONNECT', 'TEMPORARY'],
        schema: ['USAGE'],
        tables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
        sequences: ['SELECT', 'USAGE', 'UPDATE'],
        routines: [],
      };
    case 'admin':
      return {
        database: wholeDatabase ? ['CONNECT', 'TEMPORARY', 'CREATE'] : ['CONNECT', 'TEMPORARY'],
        schema: wholeSchema ? ['USAGE', 'CREATE'] : ['USAGE'],
        tables: ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'],
        sequences: ['SELECT', 'USAGE', 'UPDATE'],
        routines: wholeSchema ? ['EXECUTE'] : [],
      };
  }
}

/**
 * Whether the grant at table scope also covers the sequences owned by the table's columns.
 * Readonly reads rows, it does not draw numbers, so only readwrite and admin need them.
 */
export function coversOwnedSequences(permission: BuiltinPermission): boolean {
  return permission !== 'readonly';
}

/**
 * The privileges that let their holder create objects (CREATE on a database or a schema). They
 * never go on a shared group role: whoever can act as a role that holds CREATE can make objects
 * that role owns, and such objects outlive every grant and run with the role's rights for
 * everyone who uses them. They go on the person's own user instead, so that whatever a person
 * creates is their own and is found, neutralised and handed back when their access ends.
 */
export interface OwnPrivileges {
  database: Extract<DatabasePrivilege, 'CREATE'>[];
  schema: Extract<SchemaPrivilege, 'CREATE'>[];
}

/** Splits a plan into what the shared group role holds and what the person's own user holds. */
export function splitPlan(plan: PrivilegePlan): { shared: PrivilegePlan; own: OwnPrivileges } {
  return {
    shared: {
      ...plan,
      database: plan.database.filter((p) => p !== 'CREATE'),
      schema: plan.schema.filter((p) => p !== 'CREATE'),
    },
    own: {
      database: plan.database.filter((p): p is 'CREATE' => p === 'CREATE'),
      schema: plan.schema.filter((p): p is 'CREATE' => p === 'CREATE'),
    },
  };
}

/** Where a grant's own privileges reach: one database and schema, a whole database, or the whole server. */
export interface GrantScopeKey {
  permission: string;
  database?: string;
  schema?: string;
  table?: string;
}

/**
 * Whether a live grant explains a privilege found directly on the person's user: only CREATE
 * can be there by Sesame's doing, and only where an admin grant's scope covers the object.
 */
export function explainsDirectPrivilege(
  grant: GrantScopeKey,
  found: { objectType: string; database: string | null; schema: string | null; objectName: string | null; privilege: string },
): boolean {
  if (grant.permission !== 'admin' || found.privilege !== 'CREATE' || grant.table !== undefined) return false;
  const scope = grant.schema !== undefined ? 'schema' : grant.database !== undefined ? 'database' : 'instance';
  const own = splitPlan(privilegePlan('admin', scope)).own;
  if (found.objectType === 'database') {
    return own.database.length > 0 && (grant.database === undefined || grant.database === found.objectName);
  }
  if (found.objectType === 'schema') {
    if (own.schema.length === 0) return false;
    if (grant.database !== undefined && grant.database !== found.database) return false;
    return grant.schema === undefined || grant.schema === found.objectName;
  }
  return false;
}
