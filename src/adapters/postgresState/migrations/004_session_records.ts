import type { Migration } from './index.ts';

/** What managed users did under each grant, from the servers' logs, and how far each log was read. */
export const sessionRecords: Migration = {
  version: 4,
  name: 'session records and watermarks',
  sql: `
CREATE TABLE session_records (
  seq           bigserial   PRIMARY KEY,
  id            text COLLATE "C" NOT NULL UNIQUE,
  request_id    text COLLATE "C" NOT NULL REFERENCES requests (id),
  integration   text        NOT NULL,
  db_user       text        NOT NULL,
  requester     text        NOT NULL,
  at            timestamptz NOT NULL,
  database_name text,
  session_id    text        NOT NULL,
  kind          text        NOT NULL CHECK (kind IN ('connect', 'disconnect', 'statement')),
  command_tag   text,
  statement     text
);
CREATE INDEX session_records_request ON session_records (request_id, seq);
CREATE INDEX session_records_requester ON session_records (requester, seq);
CREATE INDEX session_records_at ON session_records (at);

CREATE TABLE watermarks (
  key        text COLLATE "C" PRIMARY KEY,
  value      text        NOT NULL,
  updated_at timestamptz NOT NULL
);
`,
};
