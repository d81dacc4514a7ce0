import type { SessionRecord, SessionRecordFilter, SessionRecordStore, StoredSessionRecord } from '../../ports/SessionRecords.ts';
import { insertSql, type SqlValue, sqlLimit } from './columns.ts';
import { sessionRecordRow, toSessionRecord } from './rows.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** Session records in `session_records`, watermarks in `watermarks`. */
export class SqliteSessionRecords implements SessionRecordStore {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async recordSessions(records: readonly SessionRecord[], watermarks: Readonly<Record<string, string>>): Promise<number> {
    return this.#db.immediate(() => {
      let added = 0;
      for (const record of records) {
        const row = sessionRecordRow(record);
        added += this.#db.statement(`${insertSql('session_records', row)} ON CONFLICT (id) DO NOTHING`).run(row).changes;
      }
      for (const [key, value] of Object.entries(watermarks)) this.#setWatermark(key, value);
      return added;
    });
  }

  async listSessionRecords(filter: SessionRecordFilter): Promise<StoredSessionRecord[]> {
    const conditions: string[] = [];
    const params: SqlValue[] = [];
    if (filter.requestId !== undefined) conditions.push('request_id = ?') && params.push(filter.requestId);
    if (filter.requester !== undefined) conditions.push('requester = ?') && params.push(filter.requester);
    if (filter.since !== undefined) conditions.push('at >= ?') && params.push(filter.since.getTime());
    if (filter.afterSeq !== undefined) conditions.push('seq > ?') && params.push(filter.afterSeq);
    const where = conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '';
    return this.#db
      .all(`SELECT * FROM session_records${where} ORDER BY seq LIMIT ?`, ...params, sqlLimit(filter.limit))
      .map(toSessionRecord);
  }

  async watermark(key: string): Promise<string | undefined> {
    const row = this.#db.one('SELECT value FROM watermarks WHERE key = ?', key);
    return row ? String(row.value) : undefined;
  }

  async setWatermark(key: string, value: string): Promise<void> {
    this.#setWatermark(key, value);
  }

  #setWatermark(key: string, value: string): void {
    this.#db
      .statement(
        'INSERT INTO watermarks (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      )
      .run(key, value, Date.now());
  }
}
