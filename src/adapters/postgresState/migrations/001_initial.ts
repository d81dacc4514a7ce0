import type { Migration } from './index.ts';

/**
 * The first schema, with the SQLite store's tables and columns in PostgreSQL's own types:
 * moments are timestamptz, lists and details jsonb. Names and IDs sort byte-wise (COLLATE "C"),
 * as they do in SQLite. There is no column for a password anywhere: Sesame never stores one.
 */
export const initialSchema: Migration = {
  version: 1,
  name: 'initial',
  sql: `
CREATE TABLE requests (
  id                  text COLLATE "C" PRIMARY KEY,
  kind                text    NOT NULL CHECK (kind IN ('access', 'extension')),
  parent_id           text COLLATE "C" REFERENCES requests (id),
  requester_slack_id  text    NOT NULL,
  requester_email     text,
  integration         text    NOT NULL,
  database_name       text,
  schema_name         text,
  table_name          text,
  permission          text    NOT NULL,
  duration_minutes    integer NOT NULL,
  reason              text    NOT NULL,
  flow_name           text    NOT NULL,
  approval_mode       text    NOT NULL CHECK (approval_mode IN ('any', 'all')),
  allow_self_approval boolean NOT NULL,
  approver_groups     jsonb   NOT NULL,
  status              text    NOT NULL CHECK (status IN (
                        'pending', 'approved', 'granting', 'granted', 'revoking', 'revoked',
                        'expired', 'denied', 'cancelled', 'timedout', 'failed')),
  created_at          timestamptz NOT NULL,
  pending_expires_at  timestamptz NOT NULL,
  decided_at          timestamptz,
  decided_by          text,
  deny_reason         text,
  db_user             text,
  server_key          text,
  granted_roles       jsonb,
  granted_at          timestamptz,
  expires_at          timestamptz,
  ended_at            timestamptz,
  ended_by            text,
  end_reason          text    CHECK (end_reason IN ('expired', 'revoked')),
  revoke_attempts     integer NOT NULL DEFAULT 0,
  next_attempt_at     timestamptz,
  last_error          text,
  expiry_reminder_sent_at   timestamptz,
  approver_reminder_sent_at timestamptz,
  version             integer NOT NULL DEFAULT 1
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
  seq         bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  request_id  text COLLATE "C" NOT NULL REFERENCES requests (id),
  approver_id text    NOT NULL,
  decision    text    NOT NULL CHECK (decision IN ('approve', 'deny')),
  comment     text,
  at          timestamptz NOT NULL,
  UNIQUE (request_id, approver_id)
);

CREATE TABLE managed_users (
  server_key      text COLLATE "C" NOT NULL,
  username        text COLLATE "C" NOT NULL,
  integration     text    NOT NULL,
  slack_id        text    NOT NULL,
  email           text,
  created_at      timestamptz NOT NULL,
  password_set_at timestamptz,
  last_revoked_at timestamptz,
  dropped_at      timestamptz,
  PRIMARY KEY (server_key, username)
);

CREATE TABLE audit_events (
  id           bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL,
  action       text    NOT NULL,
  actor        text    NOT NULL,
  actor_email  text,
  request_id   text,
  integration  text,
  details      jsonb
);

CREATE INDEX audit_events_at ON audit_events (at, id);

-- The audit trail is append-only even for someone holding a SQL shell as Sesame's user.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit events are append-only and cannot be %', lower(TG_OP) || 'd';
END;
$$;
CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

CREATE TABLE notifications (
  seq        bigint  GENERATED ALWAYS AS IDENTITY,
  request_id text COLLATE "C" NOT NULL REFERENCES requests (id),
  audience   text    NOT NULL CHECK (audience IN ('approver', 'channel', 'requester')),
  recipient  text,
  channel    text    NOT NULL,
  ts         text    NOT NULL,
  at         timestamptz NOT NULL,
  PRIMARY KEY (channel, ts)
);
CREATE INDEX notifications_by_request ON notifications (request_id, at, seq);
`,
};
