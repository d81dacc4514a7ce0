/**
 * The Slack notifier against the fake Slack Web API and the in-memory store: who gets which
 * message, every copy updated after a decision, statuses in threads, failures that never reach
 * the caller, reminders for approvers.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { webApi } from '@slack/bolt';
import { MemoryOutbox } from '../../src/adapters/local/MemoryOutbox.ts';
import { isExtended, SlackNotifier } from '../../src/adapters/slack/SlackNotifier.ts';
import { configSchema } from '../../src/config/schema.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/logger.ts';
import { systemClock } from '../../src/ports/Clock.ts';
import { OutboxNotifier } from '../../src/services/notifications/OutboxNotifier.ts';
import { APPROVER_REMINDER_MS } from '../../src/services/MaintenanceService.ts';
import { ManualClock, RecordingNotifier } from '../support/fakes.ts';
import { InMemoryStateStore } from '../support/InMemoryStateStore.ts';
import { serviceWorld } from '../support/services.ts';
import { capturingLogger } from '../support/logs.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { at, MINUTE, moveThrough, newRequest, T0 } from '../support/stateFixtures.ts';

const CHANNEL = 'C0APPROVALS';
const people = ['U0ALICE', 'U0BOB', 'U0CAROL', 'U0ADMIN'];

describe('the Slack notifier', () => {
  let fake: SlackStandIn;
  const logLines: string[] = [];

  before(async () => {
    fake = await SlackStandIn.start({
      users: people.map((id) => ({ id, name: id.toLowerCase() })),
      channels: [{ id: CHANNEL, name: 'approvals' }],
    });
  });
  after(() => fake.stop());
  const notifiers: OutboxNotifier[] = [];
  // A notification left to retry must not reach the next test's counts.
  afterEach(() => Promise.all(notifiers.splice(0).map((n) => n.stop())));

  function setUp() {
    const store = new InMemoryStateStore();
    const client = new webApi.WebClient(fake.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    const { logger } = capturingLogger('debug', logLines);
    const config = configSchema.parse({ slack: { approvalChannel: CHANNEL, admins: ['U0ADMIN'] } });
    const clock = new ManualClock(T0);
    const delivery = new SlackNotifier({ client, store, config, clock, logger, adminIds: async () => ['U0ADMIN'] });
    const outbox = new MemoryOutbox();
    const notifier = new OutboxNotifier({ outbox, delivery, clock, outboxClock: systemClock, logger, owner: 'test' });
    notifiers.push(notifier);
    return { store, notifier, clock };
  }

  async function created(store: InMemoryStateStore, overrides: Parameters<typeof newRequest>[0] = {}): Promise<AccessRequest> {
    return store.createRequest(
      newRequest({
        approverGroups: [
          { source: 'U0BOB', reason: 'named approver', slackIds: ['U0BOB', 'U0ALICE'] },
          { source: '@dba', reason: 'member of @dba', slackIds: ['U0CAROL'] },
        ],
        ...overrides,
      }),
      'pending',
    );
  }

  const buttonsIn = (blocks: unknown[]) => JSON.stringify(blocks).match(/"action_id":"sesame\.[a-z]+:/g) ?? [];

  it('DMs each approver but the requester, posts in the approval channel, DMs the requester, and remembers every copy', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    await notifier.approvalRequested(req);
    await notifier.drain();
    assert.equal(fake.dmMessages('U0BOB').filter((m) => m.text.includes(req.id)).length, 1);
    assert.equal(fake.dmMessages('U0CAROL').filter((m) => m.text.includes(req.id)).length, 1);
    assert.equal(fake.messages(CHANNEL).filter((m) => m.text.includes(req.id)).length, 1);
    const aliceDm = fake.dmMessages('U0ALICE').filter((m) => m.text.includes(req.id));
    assert.equal(aliceDm.length, 1, 'the requester gets the waiting message, not an approval');
    assert.deepEqual(buttonsIn(aliceDm[0]!.blocks), ['"action_id":"sesame.cancel:']);
    const refs = await store.listNotifications(req.id);
    assert.deepEqual(refs.map((r) => `${r.audience}:${r.recipient ?? r.channel}`).sort(), [
      `approver:U0BOB`,
      'approver:U0CAROL',
      `channel:${CHANNEL}`,
      'requester:U0ALICE',
    ]);
  });

  it('after a decision updates every copy without Approve and Deny (Revoke only), posts the status in the threads, and DMs the grant', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    await notifier.approvalRequested(req);
    const granted = (await moveThrough(store, req.id, 'pending', 'granted', {
      decidedBy: 'U0CAROL',
      decidedAt: at(MINUTE),
      grantedAt: at(MINUTE),
      expiresAt: at(61 * MINUTE),
      dbUser: 'alice',
    }))!;
    await notifier.requestUpdated(granted);
    await notifier.drain();
    for (const ref of await store.listNotifications(req.id)) {
      const copy = fake.message(ref.channel, ref.ts)!;
      if (ref.audience === 'requester') {
        continue;
      }
      assert.deepEqual(buttonsIn(copy.blocks), ['"action_id":"sesame.revoke:'], `${ref.audience} copy keeps only Revoke`);
      assert.match(JSON.stringify(copy.blocks), /Approved by <@U0CAROL>/);
      assert.ok(
        copy.replies.some((r) => /granted until/.test(JSON.stringify(r.blocks))),
        'status in the thread',
      );
    }
    const grantDm = fake.dmMessages('U0ALICE').filter((m) => m.text.startsWith('Access granted') && m.text.includes(req.id));
    assert.equal(grantDm.length, 1);
    assert.equal(buttonsIn(grantDm[0]!.blocks).length, 3);
  });

  it('tells an extension apart from the first grant', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    const granted = (await moveThrough(store, req.id, 'pending', 'granted', { grantedAt: at(MINUTE), expiresAt: at(60 * MINUTE) }))!;
    assert.equal(isExtended(granted), false);
    const extended = (await store.update(req.id, ['granted'], { expiresAt: at(90 * MINUTE) }))!;
    assert.equal(isExtended(extended), true);
    await notifier.requestUpdated(extended);
    await notifier.drain();
    assert.equal(fake.dmMessages('U0ALICE').filter((m) => m.text === `Your access ${req.id} was extended`).length, 1);
  });

  it('reminds before expiry with Extend, and that button goes when the access ends', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    const granted = (await moveThrough(store, req.id, 'pending', 'granted', { grantedAt: T0, expiresAt: at(60 * MINUTE) }))!;
    await notifier.expiringSoon(granted);
    await notifier.drain();
    const reminder = fake.dmMessages('U0ALICE').find((m) => m.text === `Your access ${req.id} ends soon`)!;
    assert.deepEqual(buttonsIn(reminder.blocks), ['"action_id":"sesame.extend:']);
    const expired = (await moveThrough(store, req.id, 'granted', 'expired', { endedAt: at(60 * MINUTE) }))!;
    await notifier.requestUpdated(expired);
    await notifier.drain();
    assert.deepEqual(buttonsIn(fake.message(reminder.channel, reminder.ts)!.blocks), []);
  });

  it('tells admins and the channel when revocation keeps failing', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    await notifier.revocationFailing(req, 3, 'connection refused');
    await notifier.drain();
    assert.ok(fake.dmMessages('U0ADMIN').some((m) => /failed 3 times.*connection refused/.test(JSON.stringify(m.blocks))));
    const posted = fake.messages(CHANNEL).filter((m) => m.text === `Revoking ${req.id} keeps failing`);
    assert.equal(posted.length, 1);
    assert.ok(
      !JSON.stringify(posted[0]!.blocks).includes('connection refused'),
      'the channel, which the requester may read, gets no internal details',
    );
  });

  it('tells the admins, and not the requester, what Sesame removed from what a person left behind', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    const removals = Array.from({ length: 20 }, (_, i) => ({
      database: 'appdb',
      role: 'alice@example.com',
      what: 'planted trigger' as const,
      object: `trigger grab${i} on sales.deals`,
      definition: 'CREATE TRIGGER grab BEFORE INSERT ON sales.deals …',
      sql: ['DROP TRIGGER grab ON sales.deals'],
    }));
    await notifier.leftoversRemoved({ integration: 'local', dbUser: 'alice@example.com', requestId: req.id, removals });
    await notifier.drain();
    const alert = fake.dmMessages('U0ADMIN').find((m) => m.text.includes('left behind'));
    assert.ok(alert, 'the admin is told');
    const text = JSON.stringify(alert.blocks);
    assert.match(text, /planted trigger: trigger grab0 on sales.deals/);
    assert.match(text, /and 8 more/, "long lists stay within Slack's section limit");
    assert.ok(!fake.dmMessages('U0ALICE').some((m) => m.text.includes('left behind')), 'the requester is not told the details');
  });

  it('tells the requester and the approvers that a grant failed, and only the admins why', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    await notifier.approvalRequested(req);
    const lastError =
      'Sesame cannot connect to prod (db.internal:5432, user "sesame_connector", sslMode require): role "sesame_connector" is not permitted to log in (28000).';
    const failed = (await moveThrough(store, req.id, 'pending', 'failed', { decidedBy: 'U0BOB', decidedAt: at(MINUTE), lastError }))!;
    await notifier.requestUpdated(failed);
    await notifier.drain();
    const shown = (m: { text: string; blocks: unknown[]; replies: { text: string; blocks?: unknown[] }[] }) =>
      [m.text, JSON.stringify(m.blocks), ...m.replies.map((r) => `${r.text}${JSON.stringify(r.blocks ?? [])}`)].join('\n');
    const toOthers = [...fake.dmMessages('U0ALICE'), ...fake.dmMessages('U0BOB'), ...fake.dmMessages('U0CAROL'), ...fake.messages(CHANNEL)]
      .filter((m) => m.text.includes(req.id))
      .map(shown);
    assert.ok(
      toOthers.some((t) => /could not be granted\. Sesame's admins were told what went wrong/.test(t)),
      'the requester is told',
    );
    for (const text of toOthers) {
      for (const internal of ['db.internal', 'sesame_connector', 'sslMode', 'not permitted', '28000'])
        assert.ok(!text.includes(internal), `${internal} in ${text.slice(0, 200)}`);
    }
    const alert = fake
      .dmMessages('U0ADMIN')
      .map(shown)
      .find((t) => t.includes(req.id) && t.includes('failed'));
    assert.ok(alert, 'the admin is told');
    for (const detail of ['db.internal:5432', 'sesame_connector', 'not permitted to log in', '<@U0ALICE>'])
      assert.ok(alert.includes(detail), detail);
  });

  it('tells the admins what a person was spared, once per quiet period for the same error', async () => {
    const { notifier, clock } = setUp();
    const before = fake.dmMessages('U0ADMIN').length;
    const alert = { where: 'button showCredentials', details: 'PostgreSQL refused to set a password on prod: permission denied (42501).' };
    await notifier.internalError(alert);
    await notifier.internalError(alert);
    clock.advance(14 * MINUTE);
    await notifier.internalError(alert);
    await notifier.drain();
    const sent = () =>
      fake
        .dmMessages('U0ADMIN')
        .slice(before)
        .filter((m) => JSON.stringify(m.blocks).includes('permission denied (42501)'));
    assert.equal(sent().length, 1);
    assert.match(JSON.stringify(sent()[0]!.blocks), /button showCredentials/);
    clock.advance(MINUTE);
    await notifier.internalError(alert);
    await notifier.drain();
    assert.equal(sent().length, 2, 'told again after the quiet period');
  });

  it('never throws to the caller when Slack fails; the failure is logged', async () => {
    const { store, notifier } = setUp();
    const req = await created(store);
    fake.failHttp('chat.postMessage', { status: 503 });
    try {
      await notifier.approvalRequested(req);
      await notifier.requestUpdated({ ...req, status: 'cancelled' });
      await notifier.drain();
    } finally {
      fake.clearFaults();
    }
    assert.ok(logLines.some((l) => l.includes('Slack notification failed') && l.includes(req.id)));
  });

  it('reminds only the approvers who have not decided, with a fresh copy that has the buttons', async () => {
    const { store, notifier } = setUp();
    const req = await created(store, { approvalMode: 'all' });
    await notifier.approvalRequested(req);
    await notifier.drain();
    await store.addApproval({ requestId: req.id, approverId: 'U0BOB', decision: 'approve', at: T0 });
    const before = { bob: fake.dmMessages('U0BOB').length, carol: fake.dmMessages('U0CAROL').length };
    await notifier.approvalReminder(req);
    await notifier.drain();
    assert.equal(fake.dmMessages('U0BOB').length, before.bob);
    const fresh = fake.dmMessages('U0CAROL').slice(before.carol);
    assert.equal(fresh.length, 1);
    assert.equal(buttonsIn(fresh[0]!.blocks).length, 2);
    const post = fake.messages(CHANNEL).find((m) => m.text.includes(req.id))!;
    assert.ok(post.replies.some((r) => r.text.includes('still waits for approval')));
    // A decision then updates both of Carol's copies, but tells its status in one thread only.
    await notifier.requestUpdated({ ...req, status: 'denied', decidedBy: 'U0CAROL', denyReason: 'not now' });
    await notifier.drain();
    const carolCopies = fake.dmMessages('U0CAROL').filter((m) => m.text.includes(req.id));
    assert.equal(carolCopies.length, 2);
    assert.ok(
      carolCopies.every((m) => buttonsIn(m.blocks).length === 0),
      'every copy loses its buttons',
    );
    assert.equal(carolCopies.flatMap((m) => m.replies).filter((r) => r.text.includes('denied')).length, 1);
  });
});

describe('approver reminders', () => {
  class RemindingNotifier extends RecordingNotifier {
    async approvalReminder(r: AccessRequest) {
      this.events.push({ kind: 'approvalReminder', id: r.id, status: r.status });
    }
  }

  it('are sent once per interval while a request waits, and not for decided ones', async () => {
    const world = serviceWorld();
    const notifier = new RemindingNotifier();
    const services = (await import('../../src/services/index.ts')).createServices({
      config: world.config,
      integrations: world.integrations,
      store: world.store,
      databases: world.databases,
      notifier,
      directory: new (await import('../support/fakes.ts')).FakeDirectory({ U0ALICE: 'alice@example.com', U0BOB: 'bob@example.com' }),
      clock: world.clock,
      logger: createLogger({ level: 'silent' }),
    });
    const waiting = await services.requests.requestAccess({
      requesterSlackId: 'U0ALICE',
      target: { integration: 'local' },
      permission: 'readwrite',
      reason: 'r',
    });
    const decided = await services.requests.requestAccess({
      requesterSlackId: 'U0ALICE',
      target: { integration: 'local' },
      permission: 'admin',
      reason: 'r',
    });
    await services.requests.cancel(decided.id, 'U0ALICE');
    const reminders = () => notifier.events.filter((e) => e.kind === 'approvalReminder').map((e) => e.id);
    assert.equal(await services.maintenance.remindApprovers(), 0, 'too early');
    world.clock.advance(APPROVER_REMINDER_MS);
    assert.equal(await services.maintenance.remindApprovers(), 1);
    assert.deepEqual(reminders(), [waiting.id]);
    assert.equal(await services.maintenance.remindApprovers(), 0, 'once per interval');
    world.clock.advance(APPROVER_REMINDER_MS);
    assert.equal(await services.maintenance.remindApprovers(), 1);
    assert.deepEqual(reminders(), [waiting.id, waiting.id]);
    assert.ok((await world.store.getRequest(waiting.id))?.approverReminderSentAt);
  });
});
