import type { Violation } from '../../ports/stateStoreRules.ts';
import { sqlState } from '../postgres/connection.ts';
import { type Codec, type Columns, patchColumns } from '../stateTables/columns.ts';
import { recordRows } from '../stateTables/records.ts';

export { MANAGED_USER_PATCH_COLUMNS, REQUEST_PATCH_COLUMNS } from '../stateTables/records.ts';

/**
 * How PostgreSQL keeps each kind of value: moments as timestamptz (pg reads them back as Dates),
 * lists and details as jsonb, sent as JSON text (pg would send an array as a PostgreSQL array).
 */
export const POSTGRES_CODEC: Codec<unknown> = {
  text: { encode: (value: string) => value, decode: (stored) => stored },
  integer: { encode: (value: number) => value, decode: (stored) => Number(stored) },
  date: { encode: (value: Date) => value, decode: (stored) => new Date(stored as Date) },
  json: { encode: (value: unknown) => JSON.stringify(value), decode: (stored) => stored },
  boolean: { encode: (value: boolean) => value, decode: (stored) => stored === true },
};

/** Every record to its row and back. */
export const pgRows = recordRows(POSTGRES_CODEC);

/** An INSERT of every column of `row` by position, and its parameters. */
export function insertOf(table: string, row: Record<string, unknown>, options = ''): { text: string; params: unknown[] } {
  const names = Object.keys(row);
  const text = `INSERT INTO ${table} (${names.join(', ')}) ${options}VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')})`;
  return { text, params: Object.values(row) };
}

/**
 * The `column = $n` assignments of a patch, numbered from `$first`, and their parameters: an
 * absent key changes nothing, `null` writes NULL unless the field is in `required`.
 */
export function assignments<P extends object>(
  patch: P,
  columns: Columns<P>,
  first: number,
  required?: ReadonlySet<string>,
): { set: string[]; params: unknown[] } {
  const changes = patchColumns(patch, columns, POSTGRES_CODEC, required);
  return { set: changes.map(({ column }, i) => `${column} = $${first + i}`), params: changes.map(({ value }) => value) };
}

/** How PostgreSQL refused a write, if it refused it for a key (23505) or a reference (23503). */
export function violationOf(err: unknown): Violation | undefined {
  const code = sqlState(err);
  return code === '23505' ? 'unique' : code === '23503' ? 'reference' : undefined;
}

/** PostgreSQL reads LIMIT NULL as "no limit". */
export function pgLimit(limit: number | undefined): number | null {
  return limit === undefined ? null : Math.max(0, Math.floor(limit));
}
