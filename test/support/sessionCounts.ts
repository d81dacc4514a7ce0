import type { SessionEvent } from '../../src/adapters/aws/sessionLog.ts';
import { attributeSessionEvents, type GrantWindow } from '../../src/domain/sessionAttribution.ts';
import type { SessionCounts } from '../../src/ports/SessionAudit.ts';

/** Sessions (logins) and statements per grant id, for the grants that had any: what the tests of parsing and attribution compare. */
export function sessionCountsByGrant(events: readonly SessionEvent[], grants: readonly GrantWindow[]): Map<string, SessionCounts> {
  const counts = new Map<string, SessionCounts>();
  for (const [grantId, attributed] of attributeSessionEvents(events, grants).byGrant) {
    counts.set(grantId, {
      sessions: attributed.filter((e) => e.kind === 'connect').length,
      statements: attributed.filter((e) => e.kind === 'statement').length,
    });
  }
  return counts;
}
