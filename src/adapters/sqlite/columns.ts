import Database from 'better-sqlite3';
import { patchChanges } from '../../ports/stateStoreRules.ts';

/** A value as SQLite stores it: text, an integer, or NULL. Moments are integer milliseconds. */
export type SqlValue = string | number | null;

/** The column behind a field, and how a present value of the field is written and read back. */
export interface Column<T> {
  column: string;
  encode: (value: T) => SqlValue;
  decode: (stored: string | number) => T;
}

/** One column per field of `T`, required or not. */
export type Columns<T> = { [K in keyof Required<T>]: Column<NonNullable<T[K]>> };

export function textColumn<T extends string>(column: string): Column<T> {
  return { column, encode: (value) => value, decode: (stored) => stored as T };
}

export function integerColumn(column: string): Column<number> {
  return { column, encode: (value) => value, decode: (stored) => stored as number };
}

export function dateColumn(column: string): Column<Date> {
  return { column, encode: (value) => value.getTime(), decode: (stored) => new Date(stored as number) };
}

export function jsonColumn<T>(column: string): Column<T> {
  return { column, encode: (value) => JSON.stringify(value), decode: (stored) => JSON.parse(stored as string) as T };
}

export function booleanColumn(column: string): Column<boolean> {
  return { column, encode: (value) => (value ? 1 : 0), decode: (stored) => stored === 1 };
}

/** Each field's value under its column's name, as the column stores it: NULL where the field is absent. */
export function encodeColumns<T extends object>(fields: T, columns: Columns<T>): Record<string, SqlValue> {
  const encoded: Record<string, SqlValue> = {};
  for (const field of Object.keys(columns) as (keyof T & string)[]) {
    const value = fields[field];
    encoded[columns[field].column] = value === undefined || value === null ? null : columns[field].encode(value);
  }
  return encoded;
}

/** An INSERT of every column of `row`, by named parameters; the same columns always make the same text. */
export function insertSql(table: string, row: Record<string, SqlValue>): string {
  const names = Object.keys(row);
  return `INSERT INTO ${table} (${names.join(', ')}) VALUES (${names.map((name) => `@${name}`).join(', ')})`;
}

/** The fields whose columns are not NULL, read back; a NULL column leaves its field absent. */
export function decodePresent<T extends object>(row: Record<string, unknown>, columns: Columns<T>): Partial<T> {
  const fields: Partial<T> = {};
  for (const field of Object.keys(columns) as (keyof T & string)[]) {
    const stored = row[columns[field].column];
    if (stored !== null && stored !== undefined) {
      fields[field] = columns[field].decode(stored as string | number) as T[keyof T & string];
    }
  }
  return fields;
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
  const assignments: string[] = [];
  const params: SqlValue[] = [];
  const fields = Object.keys(columns) as (keyof P & string)[];
  for (const { field, value } of patchChanges(patch, fields, required)) {
    const { column, encode } = columns[field];
    assignments.push(`${column} = ?`);
    params.push(value === null ? null : encode(value as NonNullable<P[typeof field]>));
  }
  return { assignments, params };
}

export function constraintViolated(err: unknown, kind: 'PRIMARYKEY' | 'UNIQUE' | 'FOREIGNKEY'): boolean {
  return err instanceof Database.SqliteError && err.code === `SQLITE_CONSTRAINT_${kind}`;
}

/** SQLite reads a negative LIMIT as "no limit". */
export function sqlLimit(limit: number | undefined): number {
  return limit === undefined ? -1 : Math.max(0, Math.floor(limit));
}
