import type { Migration } from './index.ts';

/**
 * Requests for several targets (their parts share a group ID), requests filed on someone's
 * behalf, and break-glass grants with their review.
 */
export const requestParts: Migration = {
  version: 3,
  name: 'request parts, on behalf, break-glass',
  sql: `
ALTER TABLE requests
  ADD COLUMN group_id text COLLATE "C",
  ADD COLUMN requested_by text,
  ADD COLUMN break_glass boolean,
  ADD COLUMN review_outcome text CHECK (review_outcome IN ('reviewed', 'flagged')),
  ADD COLUMN reviewed_by text,
  ADD COLUMN reviewed_at timestamptz,
  ADD COLUMN review_reminder_sent_at timestamptz;
CREATE INDEX requests_group ON requests (group_id);
-- Unreviewed break-glass grants, listed for admins and reminded daily.
CREATE INDEX requests_unreviewed_break_glass ON requests (created_at) WHERE break_glass AND review_outcome IS NULL;
`,
};
