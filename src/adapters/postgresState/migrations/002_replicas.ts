import type { Migration } from './index.ts';

/**
 * What replicas sharing the state coordinate through (PRODUCT.md §7 "Several replicas"): the
 * notifications waiting to be sent, the Slack payloads already taken, and the replicas alive
 * with their config's hash and the jobs they lead.
 */
export const replicaTables: Migration = {
  version: 2,
  name: 'replicas',
  sql: `
CREATE TABLE sesame_outbox (
  id            bigserial   PRIMARY KEY,
  key           text COLLATE "C" NOT NULL,
  kind          text        NOT NULL,
  payload       jsonb       NOT NULL,
  done          jsonb       NOT NULL DEFAULT '[]',
  attempts      integer     NOT NULL DEFAULT 0,
  created_at    timestamptz NOT NULL,
  due_at        timestamptz NOT NULL,
  claimed_by    text,
  claimed_until timestamptz,
  last_error    text
);
-- The claim reads the head of each key: the oldest entry, unless an earlier one of its key waits.
CREATE INDEX sesame_outbox_key_id ON sesame_outbox (key, id);
CREATE INDEX sesame_outbox_due ON sesame_outbox (due_at, id);

CREATE TABLE sesame_slack_deliveries (
  key          text COLLATE "C" PRIMARY KEY,
  at           timestamptz NOT NULL,
  acknowledged boolean     NOT NULL DEFAULT false
);
CREATE INDEX sesame_slack_deliveries_at ON sesame_slack_deliveries (at);

CREATE TABLE sesame_replicas (
  replica_id  text COLLATE "C" PRIMARY KEY,
  config_hash text        NOT NULL,
  started_at  timestamptz NOT NULL,
  seen_at     timestamptz NOT NULL,
  leads       jsonb       NOT NULL DEFAULT '[]'
);
`,
};
