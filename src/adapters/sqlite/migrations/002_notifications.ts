import type { Migration } from './index.ts';

/** Messages sent about a request, so every copy can be updated after a decision. */
export const notificationsSchema: Migration = {
  version: 2,
  name: 'notifications',
  sql: `
CREATE TABLE notifications (
  request_id TEXT    NOT NULL REFERENCES requests (id),
  audience   TEXT    NOT NULL CHECK (audience IN ('approver', 'channel', 'requester')),
  recipient  TEXT,
  channel    TEXT    NOT NULL,
  ts         TEXT    NOT NULL,
  at         INTEGER NOT NULL,
  PRIMARY KEY (channel, ts)
);
CREATE INDEX notifications_by_request ON notifications (request_id, at);
`,
};
