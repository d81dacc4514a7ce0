import type { Migration } from './index.ts';

/**
 * Requests for several targets (their parts share a group ID), requests filed on someone's
 * behalf, and break-glass grants with their review.
 */
export const requestPartsSchema: Migration = {
  version: 3,
  name: 'request parts, on behalf, break-glass',
  sql: `
ALTER TABLE requests ADD COLUMN group_id TEXT;
ALTER TABLE requests ADD COLUMN requested_by TEXT;
ALTER TABLE requests ADD COLUMN break_glass INTEGER CHECK (break_glass IN (0, 1));
ALTER TABLE requests ADD COLUMN review_outcome TEXT CHECK (review_outcome IN ('reviewed', 'flagged'));
ALTER TABLE requests ADD COLUMN reviewed_by TEXT;
ALTER TABLE requests ADD COLUMN reviewed_at INTEGER;
ALTER TABLE requests ADD COLUMN review_reminder_sent_at INTEGER;
CREATE INDEX requests_group ON requests (group_id);
-- Unreviewed break-glass grants, listed for admins and reminded daily.
CREATE INDEX requests_unreviewed_break_glass ON requests (created_at) WHERE break_glass = 1 AND review_outcome IS NULL;
`,
};
