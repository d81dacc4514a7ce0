/**
 * Notifications through the outbox: the notifier calls kept as JSON and revived as they were,
 * and the delivery worker: steps made once across retries, give-up after the last attempt, one
 * delivery per key at a time in order, keys side by side, two replicas delivering each once.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { MemoryOutbox } from '../../src/adapters/local/MemoryOutbox.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import { systemClock } from '../../src/ports/Clock.ts';
import type { DeliverySteps, Notification, NotificationDelivery } from '../../src/ports/NotificationDelivery.ts';
import { draftOf, notificationOf, requestFromJson, requestToJson } from '../../src/services/notifications/codec.ts';
import { OutboxNotifier } from '../../src/services/notifications/OutboxNotifier.ts';
import { ManualClock } from '../support/fakes.ts';
import { capturingLogger } from '../support/logs.ts';
import { fullRequest, newRequest } from '../support/stateFixtures.ts';

const everyField: Required<AccessRequest> = { ...fullRequest('R0PARENT'), status: 'granted', version: 4, revokeAttempts: 2 };
const fewest: AccessRequest = { ...newRequest(), status: 'pending', version: 1, revokeAttempts: 0 };

/** A delivery that records its posts and fails as told. */
class FakeDelivery implements NotificationDelivery {
  readonly medium = 'Fake';
  readonly posts: string[] = [];
  active = 0;
  mostActive = 0;
  failures = new Map<string, number>();
  holdMs = 0;

  async deliver(notification: Notification, steps: DeliverySteps): Promise<void> {
    const id = 'request' in notification ? notification.request.id : notification.kind;
    this.active++;
    this.mostActive = Math.max(this.mostActive, this.active);
    try {
      await steps.once('first', async () => void this.posts.push(`${id} first`));
      if (this.holdMs) await new Promise((resolve) => setTimeout(resolve, this.holdMs));
      const left = this.failures.get(id) ?? 0;
      if (left > 0) {
        this.failures.set(id, left - 1);
        throw new Error(`${id} failed`);
      }
      await steps.once('second', async () => void this.posts.push(`${id} second`));
    } finally {
      this.active--;
    }
  }
}

describe('notifications through the outbox', { timeout: 30_000 }, () => {
  const made: OutboxNotifier[] = [];
  afterEach(() => Promise.all(made.splice(0).map((n) => n.stop())));
  function notifier(delivery: NotificationDelivery, outbox = new MemoryOutbox(), owner = 'here') {
    const { logger, lines } = capturingLogger('debug');
    const n = new OutboxNotifier({
      outbox,
      delivery,
      clock: new ManualClock(),
      outboxClock: systemClock,
      logger,
      owner,
      pacing: { firstRetryMs: 5, attempts: 3, pollMs: 20 },
    });
    made.push(n);
    return { notifier: n, lines, outbox };
  }
  const request = (id: string): AccessRequest => ({ ...fewest, id });

  it('keeps a request as JSON and revives it as it was, every moment a Date again', () => {
    for (const r of [everyField, fewest]) {
      const revived = requestFromJson(JSON.parse(JSON.stringify(requestToJson(r))));
      assert.deepStrictEqual(revived, r);
    }
    assert.throws(() => requestFromJson({ ...requestToJson(fewest), createdAt: 'soon' }), /createdAt is not a moment/);
  });

  it('keeps every notifier call as an outbox entry under its request and revives it', () => {
    const calls: Notification[] = [
      { kind: 'approvalRequested', request: everyField },
      { kind: 'requestUpdated', request: fewest },
      { kind: 'expiringSoon', request: everyField },
      { kind: 'approvalReminder', request: everyField },
      { kind: 'revocationFailing', request: everyField, attempts: 3, error: 'refused' },
      { kind: 'sessionsCounted', request: everyField, counts: { sessions: 2, statements: 9, first: [] } },
      { kind: 'leftoversRemoved', report: { integration: 'prod', requestId: 'R1', removals: [] } },
      { kind: 'internalError', alert: { where: 'button x', details: 'down' } },
    ];
    for (const call of calls) {
      const draft = draftOf(call);
      assert.equal(draft.kind, call.kind);
      assert.deepStrictEqual(notificationOf({ kind: draft.kind, payload: JSON.parse(JSON.stringify(draft.payload)) }), call);
    }
    // A part of a request for several targets is queued under the group, so one DM's updates keep order.
    assert.equal(draftOf(calls[0]!).key, everyField.groupId);
    const { groupId: _, ...single } = everyField;
    assert.equal(draftOf({ kind: 'requestUpdated', request: single }).key, everyField.id);
    assert.equal(draftOf(calls[6]!).key, 'R1');
    assert.equal(draftOf(calls[7]!).key, 'admin alerts');
    assert.throws(() => notificationOf({ kind: 'unknown', payload: {} }), /does not know: unknown/);
  });

  it('makes again only the posts a failed attempt had not made, then completes', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set('R1', 1);
    const { notifier: n, lines, outbox } = notifier(delivery);
    await n.requestUpdated(request('R1'));
    await n.drain();
    assert.deepEqual(delivery.posts, ['R1 first']);
    assert.ok(lines.some((l) => l.includes('Fake notification failed; trying again') && l.includes('R1')));
    await waitFor(() => delivery.posts.length === 2);
    await n.drain();
    assert.deepEqual(delivery.posts, ['R1 first', 'R1 second'], 'the first post is not made twice');
    assert.equal(await outbox.backlog(), 0);
  });

  it('gives a notification up after its last attempt, with a warning, and goes on with the next of its request', async () => {
    const delivery = new FakeDelivery();
    delivery.failures.set('R1', 99);
    const { notifier: n, lines, outbox } = notifier(delivery);
    await n.approvalRequested(request('R1'));
    await n.requestUpdated(request('R1'));
    await waitFor(() => lines.some((l) => l.includes('given up after 3 attempts')));
    delivery.failures.set('R1', 0);
    await waitFor(() => delivery.posts.includes('R1 second'));
    await n.drain();
    assert.equal(await outbox.backlog(), 0);
  });

  it('delivers one notification per request at a time, in order, and requests side by side up to four', async () => {
    const delivery = new FakeDelivery();
    delivery.holdMs = 20;
    const { notifier: n } = notifier(delivery);
    for (const id of ['R1', 'R2', 'R3', 'R4', 'R5', 'R6']) await n.requestUpdated(request(id));
    await n.expiringSoon(request('R1'));
    await n.drain();
    assert.equal(delivery.mostActive, 4);
    // R1's second notification starts after its first has ended.
    assert.deepEqual(
      delivery.posts.filter((p) => p.startsWith('R1 ')),
      ['R1 first', 'R1 second', 'R1 first', 'R1 second'],
    );
    assert.equal(delivery.posts.length, 14);
  });

  it('with two replicas on one outbox, delivers each notification once', async () => {
    const delivery = new FakeDelivery();
    const shared = new MemoryOutbox();
    const one = notifier(delivery, shared, 'one').notifier;
    const two = notifier(delivery, shared, 'two').notifier;
    for (let i = 0; i < 20; i++) await (i % 2 ? one : two).requestUpdated(request(`R${i % 7}`));
    await Promise.all([one.drain(), two.drain()]);
    await Promise.all([one.drain(), two.drain()]);
    assert.equal(delivery.posts.length, 40);
    assert.equal(await shared.backlog(), 0);
  });

  it('tells the same internal error once per quiet period', async () => {
    const delivery = new FakeDelivery();
    const { notifier: n } = notifier(delivery);
    const alert = { where: 'button x', details: 'down' };
    await n.internalError(alert);
    await n.internalError(alert);
    await n.drain();
    assert.deepEqual(delivery.posts, ['internalError first', 'internalError second']);
  });
});

async function waitFor(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(done(), 'in time');
}
