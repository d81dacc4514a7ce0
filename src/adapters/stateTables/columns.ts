import { patchChanges } from '../../ports/stateStoreRules.ts';

/**
 * The state's tables as every state store lays them out: which column holds which field, and of
 * what kind. Each store says how it writes and reads a kind (its {@link Codec}): SQLite keeps
 * moments as integer milliseconds, PostgreSQL as timestamptz, and so on.
 */

export type ColumnKind = 'text' | 'integer' | 'date' | 'json' | 'boolean';

/** The column behind a field of type `T`, and the kind of value it holds. */
export interface Column<T> {
  column: string;
  kind: ColumnKind;
  /** Only ties the column to its field's type. */
  readonly type?: T;
}

/** One column per field of `T`, required or not. */
export type Columns<T> = { [K in keyof Required<T>]: Column<NonNullable<T[K]>> };

export const textColumn = <T extends string>(column: string): Column<T> => ({ column, kind: 'text' });
export const integerColumn = (column: string): Column<number> => ({ column, kind: 'integer' });
export const dateColumn = (column: string): Column<Date> => ({ column, kind: 'date' });
export const jsonColumn = <T>(column: string): Column<T> => ({ column, kind: 'json' });
export const booleanColumn = (column: string): Column<boolean> => ({ column, kind: 'boolean' });

/** How one store writes a present value of each kind, and reads a stored one back. */
export type Codec<V> = { [K in ColumnKind]: { encode: (value: never) => V; decode: (stored: NonNullable<V>) => unknown } };

/** A row as a driver returns it. */
export type Row = Record<string, unknown>;

/** Each field's value under its column's name, as the store keeps it: null where the field is absent. */
export function encodeColumns<T extends object, V>(fields: T, columns: Columns<T>, codec: Codec<V>): Record<string, V | null> {
  const encoded: Record<string, V | null> = {};
  for (const field of Object.keys(columns) as (keyof T & string)[]) {
    const value = fields[field];
    encoded[columns[field].column] = value === undefined || value === null ? null : encodeValue(codec, columns[field], value);
  }
  return encoded;
}

function encodeValue<V>(codec: Codec<V>, column: Column<unknown>, value: unknown): V {
  return codec[column.kind].encode(value as never);
}

/** The fields whose columns are not null, read back; a null column leaves its field absent. */
export function decodePresent<T extends object, V>(row: Row, columns: Columns<T>, codec: Codec<V>): Partial<T> {
  const fields: Partial<T> = {};
  for (const field of Object.keys(columns) as (keyof T & string)[]) {
    const { column, kind } = columns[field];
    const stored = row[column];
    if (stored !== null && stored !== undefined) fields[field] = codec[kind].decode(stored as NonNullable<V>) as T[keyof T & string];
  }
  return fields;
}

/**
 * The columns a patch changes, with the values to write: an absent key changes nothing, `null`
 * writes null unless the field is in `required`.
 */
export function patchColumns<P extends object, V>(
  patch: P,
  columns: Columns<P>,
  codec: Codec<V>,
  required?: ReadonlySet<string>,
): { column: string; value: V | null }[] {
  const fields = Object.keys(columns) as (keyof P & string)[];
  return patchChanges(patch, fields, required).map(({ field, value }) => ({
    column: columns[field].column,
    value: value === null ? null : encodeValue(codec, columns[field], value),
  }));
}
