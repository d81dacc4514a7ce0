import type { BuiltinPermission } from './permission.ts';
import type { TargetScope } from './target.ts';

export type DatabasePrivilege = 'CONNECT' | 'TEMPORARY' | 'CREATE';
export type SchemaPrivilege = 'USAGE' | 'CREATE';
export type TablePrivilege =
  | 'SELECT'
  | 'INSERT'
  | 'UPDATE'
  | 'DELETE'
  | 'TRUNCATE'
  | 'REFERENCES'
  | 'TRIGGER';
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
