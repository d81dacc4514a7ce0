import type { Migration } from './index.ts';

/** What managed users did under each grant, from the servers' logs, and how far each log was read. */
export const sessionRecordsSchema: Migration = {
  version: 4,
  name: 'session records and watermarks',
  sql: `
CREATE TABLE session_records (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  id          TEXT    NOT NULL UNIQUE,
  request_id  TEXT    NOT NULL REFERENCES requests (id),
  integration TEXT    NOT NULL,
  db_user     TEXT    NOT NULL,
  requester   TEXT    NOT NULL,
  at          INTEGER NOT NULL,
  database_name TEXT,
  session_id  TEXT    NOT NULL,
  kind        TEXT    NOT NULL CHECK (kind IN ('connect', 'disconnect', 'statement')),
  command_tag TEXT,
  statement   TEXT
);
CREATE INDEX session_records_request ON session_records (request_id, seq);
CREATE INDEX session_records_requester ON session_records (requester, seq);
CREATE INDEX session_records_at ON session_records (at);

CREATE TABLE watermarks (
  key        TEXT    PRIMARY KEY,
  value      TEXT    NOT NULL,
  updated_at INTEGER NOT NULL
);
`,
};
