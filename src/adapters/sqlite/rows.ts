import type { Codec } from '../stateTables/columns.ts';
import { recordRows } from '../stateTables/records.ts';
import type { SqlValue } from './columns.ts';

export { MANAGED_USER_PATCH_COLUMNS, REQUEST_PATCH_COLUMNS } from '../stateTables/records.ts';

/** A row as better-sqlite3 returns it. */
export type Row = Record<string, SqlValue>;

/** How SQLite keeps each kind of value: moments as integer milliseconds, JSON as text, booleans as 0 and 1. */
export const SQLITE_CODEC: Codec<SqlValue> = {
  text: { encode: (value: string) => value, decode: (stored) => stored },
  integer: { encode: (value: number) => value, decode: (stored) => stored },
  date: { encode: (value: Date) => value.getTime(), decode: (stored) => new Date(stored as number) },
  json: { encode: (value: unknown) => JSON.stringify(value), decode: (stored) => JSON.parse(stored as string) },
  boolean: { encode: (value: boolean) => (value ? 1 : 0), decode: (stored) => stored === 1 },
};

export const {
  newRequestRow,
  toRequest,
  approvalRow,
  toApproval,
  managedUserRow,
  toManagedUser,
  auditRow,
  toAuditEvent,
  notificationRow,
  toNotification,
  sessionRecordRow,
  toSessionRecord,
} = recordRows(SQLITE_CODEC);
