import { initialSchema } from './001_initial.ts';
import { notificationsSchema } from './002_notifications.ts';
import { requestPartsSchema } from './003_request_parts.ts';
import { sessionRecordsSchema } from './004_session_records.ts';
import type { Migration } from '../../stateTables/migration.ts';

export type { Migration } from '../../stateTables/migration.ts';

/** Every migration, in the order they are applied. Append new ones; never edit an applied one. */
export const MIGRATIONS: readonly Migration[] = [initialSchema, notificationsSchema, requestPartsSchema, sessionRecordsSchema];

/** The schema version this build of Sesame writes. */
export const LATEST_SCHEMA_VERSION = MIGRATIONS.at(-1)?.version ?? 0;
