/**
 * The page's SQL box: one statement on the sample server as the database user the person names,
 * with the password they copied from *Show credentials*. PostgreSQL decides what that user may
 * do; its own error message is the answer when it refuses.
 */
import pg from 'pg';
import type { SqlAnswer, SqlBody } from './pageApi.ts';

/** Rows returned at most; the rest are left out. */
export const SQL_ROW_CAP = 200;
/** A statement running longer is cancelled by the server. */
export const SQL_TIMEOUT_MS = 5000;

export type SqlResult = SqlAnswer | { ok: false; error: string };

const IDENTIFIER = /^[\w@.+-]{1,63}$/;

/** Checks a `POST /api/sql` body; a string is what is wrong with it. */
export function parseSqlBody(body: unknown): SqlBody | string {
  if (typeof body !== 'object' || body === null) return 'the body must be a JSON object with username, password, database and sql';
  const b = body as Record<string, unknown>;
  for (const key of ['username', 'password', 'database', 'sql'] as const) {
    if (typeof b[key] !== 'string' || (b[key] as string).length === 0) return `${key} must be a non-empty string`;
  }
  const parsed = b as unknown as SqlBody;
  if (!IDENTIFIER.test(parsed.database)) return 'database must be a database name';
  if (parsed.sql.length > 20_000) return 'sql is longer than 20,000 characters';
  return parsed;
}

/** Runs `body.sql` on the server at host:port; never throws. */
export async function runSql(server: { host: string; port: number }, body: SqlBody): Promise<SqlResult> {
  const client = new pg.Client({
    host: server.host,
    port: server.port,
    user: body.username,
    password: body.password,
    database: body.database,
    ssl: false,
    connectionTimeoutMillis: SQL_TIMEOUT_MS,
    statement_timeout: SQL_TIMEOUT_MS,
    query_timeout: SQL_TIMEOUT_MS + 1000,
    application_name: 'sesame-playground',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    // The extended protocol takes exactly one statement.
    const query = { text: body.sql, rowMode: 'array' as const, queryMode: 'extended' };
    const result = await client.query(query);
    const rows = (result.rows as unknown[][]).slice(0, SQL_ROW_CAP);
    return { ok: true, command: result.command ?? '', columns: (result.fields ?? []).map((f) => f.name), rows };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await client.end().catch(() => undefined);
  }
}
