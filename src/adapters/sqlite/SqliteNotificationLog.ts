import type { NotificationLog, NotificationRef } from '../../ports/StateStore.ts';
import { refusals, refusedWrite } from '../../ports/stateStoreRules.ts';
import { insertSql, violationOf } from './columns.ts';
import { notificationRow, toNotification } from './rows.ts';
import type { SqliteConnection } from './SqliteConnection.ts';

/** The messages sent about requests, in the `notifications` table, one row per (channel, ts). */
export class SqliteNotificationLog implements Omit<NotificationLog, 'listApprovals'> {
  readonly #db: SqliteConnection;

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  async addNotification(ref: NotificationRef): Promise<void> {
    const row = notificationRow(ref);
    try {
      this.#db.statement(`${insertSql('notifications', row)} ON CONFLICT (channel, ts) DO NOTHING`).run(row);
    } catch (err) {
      refusedWrite(err, violationOf(err), (violation, cause) => refusals.notification(ref, violation, cause));
    }
  }

  async listNotifications(requestId: string): Promise<NotificationRef[]> {
    return this.#db.all('SELECT * FROM notifications WHERE request_id = ? ORDER BY at, rowid', requestId).map(toNotification);
  }
}
