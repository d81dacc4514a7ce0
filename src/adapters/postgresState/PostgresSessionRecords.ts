import type { SessionRecord, SessionRecordFilter, SessionRecordStore, StoredSessionRecord } from '../../ports/SessionRecords.ts';
import type { PostgresConnection, Queryable } from './PostgresConnection.ts';
import { pgLimit, pgRows } from './rows.ts';

const { sessionRecordRow, toSessionRecord } = pgRows;

/** Records written by one INSERT (11 parameters each; PostgreSQL takes at most 65,535). */
const INSERT_ROWS = 500;

const SET_WATERMARK_SQL = `INSERT INTO watermarks (key, value, updated_at) VALUES ($1, $2, now())
  ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`;

/** Session records in `session_records`, watermarks in `watermarks`; replicas share both. */
export class PostgresSessionRecords implements SessionRecordStore {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async recordSessions(records: readonly SessionRecord[], watermarks: Readonly<Record<string, string>>): Promise<number> {
    return this.#db.transaction(async (db: Queryable) => {
      let added = 0;
      // Many rows a statement, one round trip for each INSERT_ROWS records.
      for (let from = 0; from < records.length; from += INSERT_ROWS) {
        const rows = records.slice(from, from + INSERT_ROWS).map((r) => sessionRecordRow(r));
        const columns = Object.keys(rows[0]!);
        const params: unknown[] = [];
        const tuples = rows.map((row) => `(${columns.map((c) => `$${params.push(row[c])}`).join(', ')})`);
        const text = `INSERT INTO session_records (${columns.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (id) DO NOTHING`;
        added += (await db.query(text, params)).rowCount ?? 0;
      }
      for (const [key, value] of Object.entries(watermarks)) await db.query(SET_WATERMARK_SQL, [key, value]);
      return added;
    });
  }

  async listSessionRecords(filter: SessionRecordFilter): Promise<StoredSessionRecord[]> {
    const conditions: string[] = [];
    const params: unknown[] = [];
    const where = (column: string, op: string, value: unknown) => {
      params.push(value);
      conditions.push(`${column} ${op} $${params.length}`);
    };
    if (filter.requestId !== undefined) where('request_id', '=', filter.requestId);
    if (filter.requester !== undefined) where('requester', '=', filter.requester);
    if (filter.since !== undefined) where('at', '>=', filter.since);
    if (filter.afterSeq !== undefined) where('seq', '>', filter.afterSeq);
    params.push(pgLimit(filter.limit));
    const sql = `SELECT * FROM session_records${conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`;
    return (await this.#db.all(sql, ...params)).map(toSessionRecord);
  }

  async watermark(key: string): Promise<string | undefined> {
    const row = await this.#db.one('SELECT value FROM watermarks WHERE key = $1', key);
    return row ? String(row.value) : undefined;
  }

  async setWatermark(key: string, value: string): Promise<void> {
    await this.#db.query(SET_WATERMARK_SQL, [key, value]);
  }
}
