import type { Migration } from './index.ts';

/**
 * The first schema. Moments are integer milliseconds since the epoch (UTC) throughout, so they
 * compare and index as numbers. There is no column for a password anywhere: Sesame never stores one.
 */
export const initialSchema: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE requests (
  id                  TEXT    PRIMARY KEY,
  kind                TEXT    NOT NULL CHECK (kind IN ('access', 'extension')),
  parent_id           TEXT    REFERENCES requests (id),
  requester_slack_id  TEXT    NOT NULL,
  requester_email     TEXT,
  integration         TEXT    NOT NULL,
  database_name       TEXT,
  schema_name         TEXT,
  table_name          TEXT,
  permission          TEXT    NOT NULL,
  duration_minutes    INTEGER NOT NULL,
  reason              TEXT    NOT NULL,
  flow_name           TEXT    NOT NULL,
  approval_mode       TEXT    NOT NULL CHECK (approval_mode IN ('any', 'all')),
  allow_self_approval INTEGER NOT NULL CHECK (allow_self_approval IN (0, 1)),
  approver_groups     TEXT    NOT NULL,
  status              TEXT    NOT NULL CHECK (status IN (
                        'pending', 'approved', 'granting', 'granted', 'revoking', 'revoked',
                        'expired', 'denied', 'cancelled', 'timedout', 'failed')),
  created_at          INTEGER NOT NULL,
  pending_expires_at  INTEGER NOT NULL,
  decided_at          INTEGER,
  decided_by          TEXT,
  deny_reason         TEXT,
  db_user             TEXT,
  server_key          TEXT,
  granted_roles       TEXT,
  granted_at          INTEGER,
  expires_at          INTEGER,
  ended_at            INTEGER,
  ended_by            TEXT,
  end_reason          TEXT    CHECK (end_reason IN ('expired', 'revoked')),
  revoke_attempts     INTEGER NOT NULL DEFAULT 0,
  next_attempt_at     INTEGER,
  last_error          TEXT,
  expiry_reminder_sent_at   INTEGER,
  approver_reminder_sent_at INTEGER,
  version             INTEGER NOT NULL DEFAULT 1
);

-- The expiry sweep, the revocation retries and the pending TTL each read one status by time.
CREATE INDEX requests_status_expires_at ON requests (status, expires_at);
CREATE INDEX requests_status_next_attempt_at ON requests (status, next_attempt_at);
CREATE INDEX requests_status_pending_expires_at ON requests (status, pending_expires_at);
CREATE INDEX requests_requester ON requests (requester_slack_id, created_at);
-- Reference counting at revocation: the other live grants of one database user.
CREATE INDEX requests_server_user_status ON requests (server_key, db_user, status);
CREATE INDEX requests_parent ON requests (parent_id);
CREATE INDEX requests_created_at ON requests (created_at);

CREATE TABLE approvals (
  request_id  TEXT    NOT NULL REFERENCES requests (id),
  approver_id TEXT    NOT NULL,
  decision    TEXT    NOT NULL CHECK (decision IN ('approve', 'deny')),
  comment     TEXT,
  at          INTEGER NOT NULL,
  UNIQUE (request_id, approver_id)
);

CREATE TABLE managed_users (
  server_key      TEXT    NOT NULL,
  username        TEXT    NOT NULL,
  integration     TEXT    NOT NULL,
  slack_id        TEXT    NOT NULL,
  email           TEXT,
  created_at      INTEGER NOT NULL,
  password_set_at INTEGER,
  last_revoked_at INTEGER,
  dropped_at      INTEGER,
  PRIMARY KEY (server_key, username)
);

CREATE TABLE audit_events (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  at           INTEGER NOT NULL,
  action       TEXT    NOT NULL,
  actor        TEXT    NOT NULL,
  actor_email  TEXT,
  request_id   TEXT,
  integration  TEXT,
  details      TEXT
);

CREATE INDEX audit_events_at ON audit_events (at);

-- The audit trail is append-only even for someone holding the database file and a SQL shell.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only and cannot be updated');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
  SELECT RAISE(ABORT, 'audit events are append-only and cannot be deleted');
END;
`,
};
