import type { AuditEvent, AuditLog } from '../../ports/StateStore.ts';
import type { PostgresConnection, Queryable } from './PostgresConnection.ts';
import { insertOf, pgLimit, pgRows } from './rows.ts';

const { auditRow, toAuditEvent } = pgRows;

/** The audit trail in the `audit_events` table, numbered by PostgreSQL in the order events are written. */
export class PostgresAuditLog implements AuditLog {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    // One INSERT is atomic on its own: no transaction around it.
    await PostgresAuditLog.insert(this.#db, event);
  }

  /** Writes an event on `db`, inside whatever transaction it has open. */
  static async insert(db: Queryable, event: AuditEvent): Promise<void> {
    const { text, params } = insertOf('audit_events', auditRow(event));
    await db.query(text, params);
  }

  async listAudit(since: Date, limit?: number): Promise<AuditEvent[]> {
    const rows = await this.#db.all('SELECT * FROM audit_events WHERE at >= $1 ORDER BY at, id LIMIT $2', since, pgLimit(limit));
    return rows.map(toAuditEvent);
  }

  async listAuditAfter(id: number, limit: number): Promise<AuditEvent[]> {
    const rows = await this.#db.all('SELECT * FROM audit_events WHERE id > $1 ORDER BY id LIMIT $2', id, pgLimit(limit));
    return rows.map(toAuditEvent);
  }
}
