import type { AuditEvent, AuditLog } from '../../ports/StateStore.ts';
import { insertSql, sqlLimit } from './columns.ts';
import { auditRow, toAuditEvent } from './rows.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** The audit trail in the `audit_events` table, numbered by SQLite in the order events are written. */
export class SqliteAuditLog implements AuditLog {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async appendAudit(event: AuditEvent): Promise<void> {
    this.insert(event);
  }

  /** Writes an event now, inside whatever transaction is open. */
  insert(event: AuditEvent): void {
    const row = auditRow(event);
    this.#db.statement(insertSql('audit_events', row)).run(row);
  }

  async listAudit(since: Date, limit?: number): Promise<AuditEvent[]> {
    const rows = this.#db.all('SELECT * FROM audit_events WHERE at >= ? ORDER BY at, id LIMIT ?', since.getTime(), sqlLimit(limit));
    return rows.map(toAuditEvent);
  }

  async listAuditAfter(id: number, limit: number): Promise<AuditEvent[]> {
    const rows = this.#db.all('SELECT * FROM audit_events WHERE id > ? ORDER BY id LIMIT ?', id, sqlLimit(limit));
    return rows.map(toAuditEvent);
  }
}
