import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deadlines } from '../../src/jobs/deadlines.ts';
import { DEADLINE_MAX_WAIT_MS } from '../../src/jobs/DeadlineTimer.ts';
import type { Job } from '../../src/jobs/Scheduler.ts';
import { createLogger } from '../../src/logger.ts';
import type { Leadership } from '../../src/ports/Coordination.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { IntegrationRegistry } from '../../src/services/IntegrationRegistry.ts';
import { FakeDirectory, FakeTargetDatabase, FakeTargetDatabases, ManualClock, RecordingNotifier } from '../support/fakes.ts';
import { InMemoryStateStore } from '../support/InMemoryStateStore.ts';
import { ManualTimers } from '../support/manualTimers.ts';
import { PEOPLE, testConfig } from '../support/services.ts';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** Leads or not, as the test says; `lead` is what a replica asks at each wake. */
class SwitchLeadership implements Leadership {
  leads = true;
  readonly #led = new Set<string>();
  async lead(jobId: string): Promise<boolean> {
    if (this.leads) this.#led.add(jobId);
    else this.#led.delete(jobId);
    return this.leads;
  }
  leading(): readonly string[] {
    return [...this.#led];
  }
  configMismatches() {
    return [];
  }
}

interface World {
  services: Services;
  store: InMemoryStateStore;
  clock: ManualClock;
  timers: ManualTimers;
  local: FakeTargetDatabase;
  notifier: RecordingNotifier;
  deadlines: Deadlines;
  leadership: SwitchLeadership;
  expireRuns: number;
}

/** Services on fakes, wired to a deadline timer as the composition root wires them; no schedule runs. */
function world(store = new InMemoryStateStore(), clock = new ManualClock(), leadership = new SwitchLeadership()): World {
  const config = testConfig();
  const logger = createLogger({ level: 'silent' });
  const notifier = new RecordingNotifier();
  const local = new FakeTargetDatabase('local', 'local.example:5432');
  const databases = new FakeTargetDatabases([local, new FakeTargetDatabase('other', 'local.example:5432', local.users)]);
  const w = { store, clock, local, notifier, leadership, expireRuns: 0 } as World;
  w.timers = new ManualTimers(clock, () => w.deadlines.idle());
  w.deadlines = new Deadlines({ clock, logger, leadership, timers: w.timers });
  w.services = createServices({
    config,
    integrations: new IntegrationRegistry(config.integrations, clock),
    store: w.deadlines.watchStore(store),
    databases: w.deadlines.watchDatabases(databases),
    notifier,
    directory: new FakeDirectory({ ...PEOPLE }),
    clock,
    logger,
  });
  const jobs: Job[] = [{ id: 'expire', cron: '0 0 1 1 *', timeoutMs: 1000, run: async () => w.expireRuns++ }];
  w.deadlines.attach(jobs, w.services, store, databases);
  return w;
}

async function started(w = world()): Promise<World> {
  w.deadlines.start();
  await w.deadlines.idle();
  return w;
}

function autoGrant(w: World, durationMinutes = 60, who = 'U0ALICE') {
  return w.services.requests.requestAccess({
    requesterSlackId: who,
    target: { integration: 'local', database: 'appdb', schema: 'public' },
    permission: 'readonly',
    durationMinutes,
    reason: 'debugging',
  });
}

async function statusOf(w: World, id: string) {
  return (await w.store.getRequest(id))?.status;
}

describe('the deadline timer', { timeout: 60_000 }, () => {
  it('ends a grant when the clock reaches its expiry, without the expire job', async () => {
    const w = await started();
    const req = await autoGrant(w);
    await w.timers.elapse(HOUR - 1);
    assert.equal(await statusOf(w, req.id), 'granted');
    assert.ok(w.local.users.get('alice@example.com')?.canLogin);
    await w.timers.elapse(1);
    assert.equal(await statusOf(w, req.id), 'expired');
    assert.equal(w.local.users.get('alice@example.com')?.canLogin, false);
    assert.equal(w.expireRuns, 0);
    await w.deadlines.stop();
  });

  it('ends a grant that was there before it started, at its expiry', async () => {
    const w = world();
    const req = await autoGrant(w, 30);
    await started(w);
    await w.timers.elapse(30 * MINUTE);
    assert.equal(await statusOf(w, req.id), 'expired');
    await w.deadlines.stop();
  });

  it('re-arms for a new grant that expires before the one armed for', async () => {
    const w = await started();
    const long = await autoGrant(w, 4 * 60, 'U0ALICE');
    const short = await autoGrant(w, 2, 'U0BOB');
    await w.timers.elapse(2 * MINUTE);
    assert.equal(await statusOf(w, short.id), 'expired');
    assert.equal(await statusOf(w, long.id), 'granted');
    await w.deadlines.stop();
  });

  it('follows an extension that moves the expiry later', async () => {
    const w = await started();
    const req = await autoGrant(w, 60);
    await w.timers.elapse(50 * MINUTE);
    await w.services.requests.extend(req.id, 'U0ALICE', 60);
    const extended = await w.store.getRequest(req.id);
    assert.equal(extended?.expiresAt?.getTime(), req.expiresAt!.getTime() + HOUR);
    await w.timers.elapse(11 * MINUTE);
    assert.equal(await statusOf(w, req.id), 'granted', 'the old expiry passed without ending it');
    await w.timers.elapse(HOUR);
    assert.equal(await statusOf(w, req.id), 'expired');
    await w.deadlines.stop();
  });

  it('carries on to the next grant after one armed for is revoked early', async () => {
    const w = await started();
    const first = await autoGrant(w, 10, 'U0ALICE');
    const second = await autoGrant(w, 20, 'U0BOB');
    await w.services.revocations.revoke(first.id, 'U0ALICE');
    assert.equal(await statusOf(w, first.id), 'revoked');
    await w.timers.elapse(10 * MINUTE);
    assert.equal(await statusOf(w, second.id), 'granted');
    await w.timers.elapse(10 * MINUTE);
    assert.equal(await statusOf(w, second.id), 'expired');
    await w.deadlines.stop();
  });

  it('sends the expiry reminder at its moment, once', async () => {
    const w = await started();
    const req = await autoGrant(w, 60);
    await w.timers.elapse(50 * MINUTE - 1);
    assert.equal(w.notifier.events.filter((e) => e.kind === 'expiringSoon').length, 0);
    await w.timers.elapse(1);
    assert.deepEqual(
      w.notifier.events.filter((e) => e.kind === 'expiringSoon').map((e) => e.id),
      [req.id],
    );
    await w.timers.elapse(10 * MINUTE);
    assert.equal(w.notifier.events.filter((e) => e.kind === 'expiringSoon').length, 1);
    assert.equal(await statusOf(w, req.id), 'expired');
    await w.deadlines.stop();
  });

  it('never waits longer than its cap, so a wall clock jumping forward is caught up at the next wake', async () => {
    const w = await started();
    const req = await autoGrant(w, 60);
    w.clock.advance(2 * HOUR);
    await w.timers.elapse(DEADLINE_MAX_WAIT_MS);
    assert.equal(await statusOf(w, req.id), 'expired');
    await w.deadlines.stop();
  });

  it('arms again when it wakes early because the wall clock went back', async () => {
    const w = await started();
    const req = await autoGrant(w, 60);
    w.clock.advance(-10 * MINUTE);
    await w.timers.elapse(HOUR);
    assert.equal(await statusOf(w, req.id), 'granted', 'by the clock, 50 minutes have passed');
    await w.timers.elapse(10 * MINUTE);
    assert.equal(await statusOf(w, req.id), 'expired');
    await w.deadlines.stop();
  });

  it('fires only on the replica that leads expire, and arms on the one that takes the lead', async () => {
    const store = new InMemoryStateStore();
    const clock = new ManualClock();
    const a = world(store, clock);
    const b = world(store, clock);
    b.leadership.leads = false;
    await started(a);
    await started(b);
    const first = await autoGrant(a, 5, 'U0ALICE');
    // b hears of its own grant but does not lead: it leaves the expiry to a.
    const second = await autoGrant(b, 30, 'U0BOB');
    await a.timers.elapse(5 * MINUTE);
    assert.equal(await statusOf(a, first.id), 'expired');
    assert.equal(a.local.calls.filter((c) => c.startsWith('revoke')).length, 1);
    await b.timers.elapse(25 * MINUTE);
    assert.equal(b.local.calls.filter((c) => c.startsWith('revoke')).length, 0, 'the replica that does not lead never revoked');
    // The lead moves: a stops arming at its next wake, b arms at its own.
    a.leadership.leads = false;
    b.leadership.leads = true;
    await a.timers.elapse(DEADLINE_MAX_WAIT_MS);
    await b.timers.elapse(DEADLINE_MAX_WAIT_MS);
    const left = 30 * MINUTE - 25 * MINUTE - 2 * DEADLINE_MAX_WAIT_MS;
    await a.timers.elapse(0);
    await b.timers.elapse(left);
    assert.equal(await statusOf(b, second.id), 'expired');
    assert.equal(b.local.calls.filter((c) => c.startsWith('revoke')).length, 1);
    assert.equal(a.local.calls.filter((c) => c.startsWith('revoke')).length, 1);
    await a.deadlines.stop();
    await b.deadlines.stop();
  });
});

describe('revocations on a target that answers again', { timeout: 60_000 }, () => {
  it('run as soon as a probe gets through, not after the backoff', async () => {
    const w = await started();
    const req = await autoGrant(w, 10);
    w.local.down = true;
    await w.timers.elapse(10 * MINUTE);
    const failing = await w.store.getRequest(req.id);
    assert.equal(failing?.status, 'revoking');
    assert.ok(failing.nextAttemptAt!.getTime() >= w.clock.now().getTime() + 30 * SECOND);
    assert.deepEqual(w.deadlines.watching(), ['local']);
    await w.timers.elapse(3 * SECOND);
    assert.equal(await statusOf(w, req.id), 'revoking', 'still down: probed every second');
    assert.equal(w.local.calls.filter((c) => c.startsWith('revoke')).length, 1, 'a failed probe retries no revocation');
    w.local.down = false;
    await w.timers.elapse(1 * SECOND);
    assert.equal(await statusOf(w, req.id), 'expired', 'within a second of the target answering again');
    assert.deepEqual(w.deadlines.watching(), []);
    await w.deadlines.stop();
  });

  it('run at once when any call on the target succeeds', async () => {
    const w = await started();
    const req = await autoGrant(w, 10, 'U0ALICE');
    w.local.down = true;
    await w.timers.elapse(10 * MINUTE);
    assert.equal(await statusOf(w, req.id), 'revoking');
    w.local.down = false;
    // A grant on the same target gets through before the first probe.
    const other = await autoGrant(w, 60, 'U0BOB');
    assert.equal(other.status, 'granted');
    await w.timers.elapse(0);
    assert.equal(await statusOf(w, req.id), 'expired');
    await w.deadlines.stop();
  });
});
