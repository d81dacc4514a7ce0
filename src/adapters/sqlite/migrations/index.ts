import { initialSchema } from './001_initial.ts';
import { notificationsSchema } from './002_notifications.ts';

/**
 * One step of the SQLite schema. Migrations are TypeScript modules holding SQL text, so they run
 * the same under tsx and from a `tsc` build, with no SQL files to copy next to the output.
 */
export interface Migration {
  /** Consecutive from 1; recorded in `schema_migrations` once applied. */
  version: number;
  name: string;
  sql: string;
}

/** Every migration, in the order they are applied. Append new ones; never edit an applied one. */
export const MIGRATIONS: readonly Migration[] = [initialSchema, notificationsSchema];

/** The schema version this build of Sesame writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
