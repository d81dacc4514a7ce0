import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { configSchema } from '../../src/config/schema.ts';
import { runBoundedByKey } from '../../src/lib/boundedByKey.ts';
import { createLogger } from '../../src/logger.ts';
import type { RevokeInput, RevokeResult } from '../../src/ports/TargetDatabase.ts';
import { SWEEP_BOUNDS } from '../../src/services/expirySweep.ts';
import { createServices } from '../../src/services/index.ts';
import { IntegrationRegistry } from '../../src/services/IntegrationRegistry.ts';
import { FakeDirectory, FakeTargetDatabase, FakeTargetDatabases, ManualClock, RecordingNotifier } from '../support/fakes.ts';
import { InMemoryStateStore } from '../support/InMemoryStateStore.ts';

const HOUR = 3_600_000;

/** What the fakes saw of revocations running at once. */
interface Observed {
  inFlight: Map<string, number>;
  peak: Map<string, number>;
  /** Revocations of one person's user on one server that ran at the same time. */
  overlaps: string[];
  running: Set<string>;
  peakTotal: number;
  total: number;
}

/** A fake server that lets other work run in the middle of each revocation and records what ran together. */
class ObservedDatabase extends FakeTargetDatabase {
  constructor(
    integration: string,
    private readonly server: string,
    users: FakeTargetDatabase['users'],
    private readonly seen: Observed,
  ) {
    super(integration, server, users);
  }

  override async revoke(input: RevokeInput): Promise<RevokeResult> {
    const { seen, server } = this;
    const user = `${server}/${input.username}`;
    if (seen.running.has(user)) seen.overlaps.push(user);
    seen.running.add(user);
    seen.inFlight.set(server, (seen.inFlight.get(server) ?? 0) + 1);
    seen.total++;
    seen.peak.set(server, Math.max(seen.peak.get(server) ?? 0, seen.inFlight.get(server)!));
    seen.peakTotal = Math.max(seen.peakTotal, seen.total);
    try {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      return await super.revoke(input);
    } finally {
      seen.running.delete(user);
      seen.inFlight.set(server, seen.inFlight.get(server)! - 1);
      seen.total--;
    }
  }
}

const SERVERS = { a: ['a1', 'a2'], b: ['b1'], c: ['c1'] } as const;
const PEOPLE_COUNT = 12;

/** Four integrations on three servers; everyone may have readonly on each at once, for an hour. */
function sweepWorld() {
  const integrations = Object.entries(SERVERS).flatMap(([server, names]) =>
    names.map((name) => ({
      name,
      type: 'postgresql',
      host: `${server}.example`,
      database: 'appdb',
      username: 'sesame_connector',
      password: 'connector-secret',
    })),
  );
  const config = configSchema.parse({
    integrations,
    accessFlows: [{ name: 'auto', requestors: ['*'], permissions: ['readonly'], maxDuration: '8h', approvers: [] }],
  });
  const seen: Observed = { inFlight: new Map(), peak: new Map(), overlaps: [], running: new Set(), peakTotal: 0, total: 0 };
  const databases: Record<string, ObservedDatabase> = {};
  for (const [server, names] of Object.entries(SERVERS)) {
    const users: FakeTargetDatabase['users'] = new Map();
    for (const name of names) databases[name] = new ObservedDatabase(name, `${server}.example:5432`, users, seen);
  }
  const people: Record<string, string> = {};
  for (let i = 0; i < PEOPLE_COUNT; i++) people[`U${i}`] = `person${i}@example.com`;
  const store = new InMemoryStateStore();
  const clock = new ManualClock();
  const notifier = new RecordingNotifier();
  const services = createServices({
    config,
    integrations: new IntegrationRegistry(config.integrations, clock),
    store,
    databases: new FakeTargetDatabases(Object.values(databases)),
    notifier,
    directory: new FakeDirectory(people),
    clock,
    logger: createLogger({ level: 'silent' }),
  });
  return { services, store, clock, notifier, databases, seen, people };
}

/** Every person gets readonly on every integration: two grants each on server a. */
async function grantEveryone(w: ReturnType<typeof sweepWorld>) {
  const granted = [];
  for (const slackId of Object.keys(w.people)) {
    for (const integration of Object.values(SERVERS).flat()) {
      const req = await w.services.requests.requestAccess({
        requesterSlackId: slackId,
        target: { integration, database: 'appdb', schema: 'public' },
        permission: 'readonly',
        durationMinutes: 60,
        reason: 'sweep',
      });
      assert.equal(req.status, 'granted');
      granted.push(req);
    }
  }
  return granted;
}

describe('the expiry sweep runs servers side by side, a few at a time on each', { timeout: 60_000 }, () => {
  it('ends every due grant once, as expired, with its audit event and its notification', async () => {
    const w = sweepWorld();
    const granted = await grantEveryone(w);
    w.clock.advance(HOUR);
    assert.equal(await w.services.revocations.expireDue(), granted.length);
    for (const req of granted) {
      assert.equal((await w.store.getRequest(req.id))?.status, 'expired', req.id);
      assert.equal(w.notifier.statusesOf(req.id).filter((s) => s === 'requestUpdated:expired').length, 1, req.id);
    }
    const ends = (await w.store.listAudit(new Date(0))).filter((e) => e.action === 'grant.expired');
    assert.deepEqual(ends.map((e) => e.requestId).sort(), granted.map((r) => r.id).sort());
    const revokeCalls = Object.values(w.databases).flatMap((db) => db.calls.filter((c) => c.startsWith('revoke ')));
    assert.equal(revokeCalls.length, granted.length);
    for (const db of Object.values(w.databases)) {
      for (const [username, user] of db.users) {
        assert.equal(user.roles.size, 0, username);
        assert.equal(user.canLogin, false, username);
      }
    }
    assert.equal(await w.services.revocations.expireDue(), 0);
  });

  it("never revokes one person's two grants on one server at once, and keeps each server within its bound", async () => {
    const w = sweepWorld();
    await grantEveryone(w);
    w.clock.advance(HOUR);
    await w.services.revocations.expireDue();
    assert.deepEqual(w.seen.overlaps, []);
    for (const server of Object.keys(SERVERS)) {
      const peak = w.seen.peak.get(`${server}.example:5432`) ?? 0;
      assert.ok(peak <= SWEEP_BOUNDS.perKey, `${server}: ${peak} at once`);
      // Twelve people, so the sweep did run several at once on each server.
      assert.ok(peak > 1, `${server}: one at a time`);
    }
    assert.ok(w.seen.peakTotal <= SWEEP_BOUNDS.total, `${w.seen.peakTotal} in all`);
  });

  it('lets the other servers finish when one is down; its grants wait for their retry', async () => {
    const w = sweepWorld();
    const granted = await grantEveryone(w);
    w.databases.b1!.down = true;
    w.clock.advance(HOUR);
    await w.services.revocations.expireDue();
    for (const req of granted) {
      const now = await w.store.getRequest(req.id);
      if (req.target.integration === 'b1') {
        assert.equal(now?.status, 'revoking', req.id);
        assert.equal(now?.revokeAttempts, 1);
        assert.match(now?.lastError ?? '', /cannot be reached/);
      } else {
        assert.equal(now?.status, 'expired', req.id);
      }
    }
    w.databases.b1!.down = false;
    w.clock.advance(HOUR);
    assert.equal(await w.services.revocations.expireDue(), PEOPLE_COUNT);
    assert.equal((await w.store.listRequests({ statuses: ['granted', 'revoking'] })).length, 0);
  });
});

describe('running work bounded per key', { timeout: 30_000 }, () => {
  it('keeps within both bounds, lets keys take turns, and runs every item even when some fail', async () => {
    const items = [...Array.from({ length: 20 }, (_, i) => `x${i}`), 'y0', 'y1', 'z0'];
    const inFlight = new Map<string, number>();
    const peak = new Map<string, number>();
    let total = 0;
    let peakTotal = 0;
    const started: string[] = [];
    const failures = await runBoundedByKey(
      items,
      (item) => item[0]!,
      async (item) => {
        const key = item[0]!;
        started.push(item);
        inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
        peak.set(key, Math.max(peak.get(key) ?? 0, inFlight.get(key)!));
        peakTotal = Math.max(peakTotal, ++total);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight.set(key, inFlight.get(key)! - 1);
        total--;
        if (item === 'x3') throw new Error('x3 fails');
      },
      { perKey: 2, total: 3 },
    );
    assert.deepEqual(started.slice().sort(), items.slice().sort());
    assert.deepEqual(
      failures.map((e) => (e as Error).message),
      ['x3 fails'],
    );
    assert.equal(peakTotal, 3);
    // x, y and z start together: each key gets a turn before any key gets a second slot.
    assert.deepEqual(started.slice(0, 3), ['x0', 'y0', 'z0']);
    assert.deepEqual(Object.fromEntries(peak), { x: 2, y: 1, z: 1 });
    assert.deepEqual(
      await runBoundedByKey(
        [],
        () => '',
        async () => undefined,
        { perKey: 1, total: 1 },
      ),
      [],
    );
    await assert.rejects(
      runBoundedByKey(
        ['a'],
        () => 'a',
        async () => undefined,
        { perKey: 0, total: 1 },
      ),
      /whole numbers/,
    );
  });
});
