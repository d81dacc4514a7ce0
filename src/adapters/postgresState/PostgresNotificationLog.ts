import type { NotificationLog, NotificationRef } from '../../ports/StateStore.ts';
import { refusals, refusedWrite } from '../../ports/stateStoreRules.ts';
import type { PostgresConnection } from './PostgresConnection.ts';
import { insertOf, pgRows, violationOf } from './rows.ts';

const { notificationRow, toNotification } = pgRows;

/** The messages sent about requests, in the `notifications` table, one row per (channel, ts). */
export class PostgresNotificationLog implements Omit<NotificationLog, 'listApprovals'> {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async addNotification(ref: NotificationRef): Promise<void> {
    const { text, params } = insertOf('notifications', notificationRow(ref));
    try {
      await this.#db.query(`${text} ON CONFLICT (channel, ts) DO NOTHING`, params);
    } catch (err) {
      refusedWrite(err, violationOf(err), (violation, cause) => refusals.notification(ref, violation, cause));
    }
  }

  async listNotifications(requestId: string): Promise<NotificationRef[]> {
    return (await this.#db.all('SELECT * FROM notifications WHERE request_id = $1 ORDER BY at, seq', requestId)).map(toNotification);
  }
}
