import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLogger } from '../../src/logger.ts';
import type { SessionLogs } from '../../src/ports/SessionAudit.ts';
import { SessionAuditService } from '../../src/services/SessionAuditService.ts';
import { InMemoryStateStore } from '../support/InMemoryStateStore.ts';
import { ManualClock } from '../support/fakes.ts';
import { at, moveThrough, newRequest } from '../support/stateFixtures.ts';

describe('reading an integration’s session logs', { timeout: 30_000 }, () => {
  it('never reads one integration twice at once; callers that arrive meanwhile share the next read', async () => {
    const store = new InMemoryStateStore();
    const created = await store.createRequest(newRequest({ target: { integration: 'prod' } }), 'approved');
    await moveThrough(store, created.id, 'approved', 'granted', {
      dbUser: 'alice',
      serverKey: 's1',
      grantedAt: at(0),
      expiresAt: at(3_600_000),
    });
    let running = 0;
    let most = 0;
    let reads = 0;
    const releases: (() => void)[] = [];
    const logs: SessionLogs = {
      audits: () => true,
      async read() {
        reads++;
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return { events: [], marks: {}, errors: [] };
      },
    };
    const audit = new SessionAuditService({
      requests: store,
      sessions: store,
      logs,
      integrations: { list: () => [{ name: 'prod' }] as never },
      clock: new ManualClock(at(60_000)),
      logger: createLogger({ level: 'silent' }),
    });
    const first = audit.ingest('prod');
    await new Promise((resolve) => setImmediate(resolve));
    const later = [audit.ingest('prod'), audit.ingest('prod'), audit.ingest('prod')];
    while (releases.length < 1) await new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await first;
    while (releases.length < 1) await new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await Promise.all(later);
    assert.equal(reads, 2, 'the first read, then one read shared by the three that waited');
    assert.equal(most, 1, 'never two at once');
  });
});
