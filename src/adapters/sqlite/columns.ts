import Database from 'better-sqlite3';
import type { Violation } from '../../ports/stateStoreRules.ts';
import { type Columns, patchColumns } from '../stateTables/columns.ts';
import { SQLITE_CODEC } from './rows.ts';

/** A value as SQLite stores it: text, an integer, or NULL. Moments are integer milliseconds. */
export type SqlValue = string | number | null;

/** An INSERT of every column of `row`, by named parameters; the same columns always make the same text. */
export function insertSql(table: string, row: Record<string, SqlValue>): string {
  const names = Object.keys(row);
  return `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((name) => `@${name}`).join(', ')})`;
}

/**
 * The `column = ?` assignments of a patch and their parameters: an absent key changes nothing,
 * `null` writes NULL unless the field is in `required`.
 */
export function setClause<P extends object>(
  patch: P,
  columns: Columns<P>,
  required?: ReadonlySet<string>,
): { assignments: string[]; params: SqlValue[] } {
  const changes = patchColumns(patch, columns, SQLITE_CODEC, required);
  return { assignments: changes.map(({ column }) => `${column} = ?`), params: changes.map(({ value }) => value) };
}

/** How SQLite refused a write, if it refused it for a key or a reference. */
export function violationOf(err: unknown): Violation | undefined {
  if (!(err instanceof Database.SqliteError)) return undefined;
  if (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE') return 'unique';
  return err.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' ? 'reference' : undefined;
}

/** SQLite reads a negative LIMIT as "no limit". */
export function sqlLimit(limit: number | undefined): number {
  return limit === undefined ? -1 : Math.max(0, Math.floor(limit));
}
