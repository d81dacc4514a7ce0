import { systemClock, type Clock } from '../../ports/Clock.ts';
import { LATEST_SCHEMA_VERSION, MIGRATIONS } from './migrations/index.ts';
import type { Queryable } from './PostgresConnection.ts';
import { StateUnavailableError } from './settings.ts';

/**
 * The key of the transaction-level advisory lock that migrations hold: any constant would do, so
 * long as every Sesame uses the same one ("sesame" in ASCII).
 */
export const MIGRATION_LOCK_KEY = 0x736573616d65;

/**
 * Brings the schema up to date in one transaction that first takes the migration lock: of several
 * Sesames starting at once on one database, one applies what is missing while the others wait,
 * then find nothing left to do. A database of a newer schema than this Sesame knows is refused.
 */
export async function migrate(
  db: { transaction<T>(work: (db: Queryable) => Promise<T>): Promise<T> },
  where: string,
  clock: Clock = systemClock,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.query(`CREATE TABLE IF NOT EXISTS sesame_schema_migrations (
      version    integer     PRIMARY KEY,
      name       text        NOT NULL,
      applied_at timestamptz NOT NULL
    )`);
    const { rows } = await tx.query('SELECT coalesce(max(version), 0)::integer AS version FROM sesame_schema_migrations');
    const current = Number(rows[0]?.version ?? 0);
    if (current > LATEST_SCHEMA_VERSION) {
      throw new StateUnavailableError(
        `${where} has schema version ${current}, written by a newer Sesame; this one knows versions up to ${LATEST_SCHEMA_VERSION}. ` +
          `Run a Sesame that knows schema version ${current}, or point state.postgres at another database.`,
      );
    }
    for (const migration of MIGRATIONS) {
      if (migration.version <= current) continue;
      await tx.query(migration.sql);
      await tx.query('INSERT INTO sesame_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        migration.version,
        migration.name,
        clock.now(),
      ]);
    }
  });
}
