import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../../../src/domain/errors.ts';
import type { StateStore } from '../../../src/ports/StateStore.ts';
import { MINUTE, T0, at, newRequest } from '../../support/stateFixtures.ts';
import { requestIn } from './requests.ts';

/**
 * Requests found by what is due, by filter, and the decisions on them.
 * `store` is the fresh store of the running test.
 */
export function requestQueryContract(store: StateStore): void {
  describe('requests due for revocation', () => {
    it('lists granted requests expired at or before now and revoking ones due for a retry', async () => {
      const now = at(60 * MINUTE);
      const expiredEarlier = await requestIn(store, 'granted', {}, { expiresAt: at(10 * MINUTE) });
      const expiringNow = await requestIn(store, 'granted', {}, { expiresAt: now });
      await requestIn(store, 'granted', {}, { expiresAt: at(60 * MINUTE + 1) });
      const retryNow = await requestIn(
        store,
        'revoking',
        {},
        {
          expiresAt: at(30 * MINUTE),
          nextAttemptAt: now,
        },
      );
      const retryNoSchedule = await requestIn(store, 'revoking', {}, { expiresAt: at(20 * MINUTE) });
      await requestIn(
        store,
        'revoking',
        {},
        {
          expiresAt: at(5 * MINUTE),
          nextAttemptAt: at(60 * MINUTE + 1),
        },
      );
      for (const status of ['revoked', 'expired', 'granting', 'approved', 'failed'] as const) {
        await requestIn(store, status, {}, { expiresAt: at(MINUTE) });
      }
      const due = await store.listDueForRevocation(now);
      assert.deepEqual(
        due.map((r) => r.id),
        [expiredEarlier.id, retryNoSchedule.id, retryNow.id, expiringNow.id],
      );
      assert.deepEqual(due[0], expiredEarlier);
    });

    it('returns the oldest expiries first, at most `limit` of them', async () => {
      const ids: string[] = [];
      for (const minutes of [40, 10, 30, 20, 50]) {
        ids[minutes] = (await requestIn(store, 'granted', {}, { expiresAt: at(minutes * MINUTE) })).id;
      }
      const due = await store.listDueForRevocation(at(60 * MINUTE), 3);
      assert.deepEqual(
        due.map((r) => r.id),
        [ids[10], ids[20], ids[30]],
      );
      assert.deepEqual(await store.listDueForRevocation(at(60 * MINUTE), 0), []);
    });

    it('no longer lists a request once it has moved on', async () => {
      const granted = await requestIn(store, 'granted', {}, { expiresAt: at(MINUTE) });
      await store.transition(granted.id, ['granted'], 'revoking', { nextAttemptAt: at(5 * MINUTE) });
      assert.deepEqual(await store.listDueForRevocation(at(2 * MINUTE)), []);
      assert.equal((await store.listDueForRevocation(at(5 * MINUTE))).length, 1);
      await store.transition(granted.id, ['revoking'], 'expired', { endedAt: at(5 * MINUTE) });
      assert.deepEqual(await store.listDueForRevocation(at(10 * MINUTE)), []);
    });
  });

  describe('pending requests past their TTL', () => {
    it('lists pending requests whose TTL ended at or before now, oldest first', async () => {
      const now = at(60 * MINUTE);
      const later = await requestIn(store, 'pending', { pendingExpiresAt: now });
      const earlier = await requestIn(store, 'pending', { pendingExpiresAt: at(MINUTE) });
      await requestIn(store, 'pending', { pendingExpiresAt: at(60 * MINUTE + 1) });
      await requestIn(store, 'approved', { pendingExpiresAt: at(MINUTE) });
      await requestIn(store, 'denied', { pendingExpiresAt: at(MINUTE) });
      const past = await store.listPendingPastTtl(now);
      assert.deepEqual(
        past.map((r) => r.id),
        [earlier.id, later.id],
      );
      assert.deepEqual(past[1], later);
    });
  });

  describe('listing requests', () => {
    it('combines every filter with AND and lists the newest first', async () => {
      const parent = await requestIn(store, 'granted', { createdAt: at(0) }, { serverKey: 'srv-1', dbUser: 'sesame_alice' });
      const alice2 = await requestIn(
        store,
        'revoking',
        { createdAt: at(2), target: { integration: 'prod', database: 'app' } },
        { serverKey: 'srv-1', dbUser: 'sesame_alice' },
      );
      const aliceStaging = await requestIn(
        store,
        'granted',
        { createdAt: at(3), target: { integration: 'staging' } },
        { serverKey: 'srv-2', dbUser: 'sesame_alice' },
      );
      const bob = await requestIn(
        store,
        'granted',
        { createdAt: at(4), requester: { slackId: 'U0BOB' } },
        { serverKey: 'srv-1', dbUser: 'sesame_bob' },
      );
      const extension = await requestIn(store, 'pending', { createdAt: at(5), kind: 'extension', parentId: parent.id });
      const alicePending = await requestIn(store, 'pending', { createdAt: at(1) });

      const ids = async (filter: Parameters<StateStore['listRequests']>[0]) => (await store.listRequests(filter)).map((r) => r.id);

      assert.deepEqual(await ids({}), [extension.id, bob.id, aliceStaging.id, alice2.id, alicePending.id, parent.id]);
      assert.deepEqual(await ids({ requesterSlackId: 'U0BOB' }), [bob.id]);
      assert.deepEqual(await ids({ statuses: ['granted', 'revoking'] }), [bob.id, aliceStaging.id, alice2.id, parent.id]);
      assert.deepEqual(await ids({ statuses: [] }), []);
      assert.deepEqual(await ids({ integration: 'staging' }), [aliceStaging.id]);
      assert.deepEqual(await ids({ serverKey: 'srv-1' }), [bob.id, alice2.id, parent.id]);
      assert.deepEqual(await ids({ dbUser: 'sesame_alice' }), [aliceStaging.id, alice2.id, parent.id]);
      assert.deepEqual(await ids({ parentId: parent.id }), [extension.id]);
      assert.deepEqual(await ids({ serverKey: 'srv-1', dbUser: 'sesame_alice', statuses: ['granted', 'granting', 'revoking'] }), [
        alice2.id,
        parent.id,
      ]);
      assert.deepEqual(await ids({ requesterSlackId: 'U0ALICE', integration: 'prod', statuses: ['pending'] }), [
        extension.id,
        alicePending.id,
      ]);
      assert.deepEqual(await ids({ requesterSlackId: 'U0ALICE', limit: 2 }), [extension.id, aliceStaging.id]);
      assert.deepEqual(await ids({ requesterSlackId: 'U0NOBODY' }), []);
      const [newest] = await store.listRequests({ limit: 1 });
      assert.deepEqual(newest, extension);
    });

    it('lists the parts of one request for several targets, and the break-glass grants nobody reviewed', async () => {
      const one = await requestIn(store, 'pending', { createdAt: at(1), id: 'R7K3QXA.1', groupId: 'R7K3QXA' });
      const two = await requestIn(store, 'granted', { createdAt: at(2), id: 'R7K3QXA.2', groupId: 'R7K3QXA' });
      await requestIn(store, 'pending', { createdAt: at(3), id: 'R7K3QXB.1', groupId: 'R7K3QXB' });
      const glass = await store.createRequest(newRequest({ createdAt: at(4), breakGlass: true }), 'approved');
      const reviewed = await store.createRequest(newRequest({ createdAt: at(5), breakGlass: true }), 'approved');
      await store.update(reviewed.id, ['approved'], { reviewOutcome: 'reviewed', reviewedBy: 'U0BOB', reviewedAt: at(6) });

      const ids = async (filter: Parameters<StateStore['listRequests']>[0]) => (await store.listRequests(filter)).map((r) => r.id);
      assert.deepEqual(await ids({ groupId: 'R7K3QXA' }), [two.id, one.id]);
      assert.deepEqual(await ids({ groupId: 'R7K3QXZ' }), []);
      assert.deepEqual(await ids({ unreviewedBreakGlass: true }), [glass.id]);
      const soon = await requestIn(store, 'granted', { createdAt: at(6) }, { expiresAt: at(10 * MINUTE) });
      await requestIn(store, 'granted', { createdAt: at(7) }, { expiresAt: at(90 * MINUTE) });
      assert.deepEqual(await ids({ statuses: ['granted'], expiresBy: at(10 * MINUTE) }), [soon.id], 'only grants ending by then');
      assert.deepEqual((await store.getRequest(reviewed.id))?.reviewOutcome, 'reviewed');
    });
  });

  describe('approvals', () => {
    it('records one decision per person per request, oldest first', async () => {
      const request = await store.createRequest(newRequest(), 'pending');
      const other = await store.createRequest(newRequest(), 'pending');
      assert.equal(
        await store.addApproval({ requestId: request.id, approverId: 'U0CAROL', decision: 'approve', at: at(2 * MINUTE) }),
        true,
      );
      assert.equal(
        await store.addApproval({ requestId: request.id, approverId: 'U0BOB', decision: 'deny', comment: 'not now', at: at(MINUTE) }),
        true,
      );
      assert.equal(await store.addApproval({ requestId: request.id, approverId: 'U0BOB', decision: 'approve', at: at(3 * MINUTE) }), false);
      assert.equal(await store.addApproval({ requestId: other.id, approverId: 'U0BOB', decision: 'approve', at: at(MINUTE) }), true);
      assert.deepEqual(await store.listApprovals(request.id), [
        { requestId: request.id, approverId: 'U0BOB', decision: 'deny', comment: 'not now', at: at(MINUTE) },
        { requestId: request.id, approverId: 'U0CAROL', decision: 'approve', at: at(2 * MINUTE) },
      ]);
      assert.deepEqual(await store.listApprovals('RZZZZZZ'), []);
    });

    it('lists the requests a person has not decided on yet', async () => {
      const approved = await store.createRequest(newRequest({ createdAt: at(1) }), 'pending');
      const denied = await store.createRequest(newRequest({ createdAt: at(2) }), 'pending');
      const open = await store.createRequest(newRequest({ createdAt: at(3) }), 'pending');
      const others = await store.createRequest(newRequest({ createdAt: at(4) }), 'pending');
      await store.addApproval({ requestId: approved.id, approverId: 'U0BOB', decision: 'approve', at: at(MINUTE) });
      await store.addApproval({ requestId: denied.id, approverId: 'U0BOB', decision: 'deny', comment: 'no', at: at(MINUTE) });
      await store.addApproval({ requestId: others.id, approverId: 'U0CAROL', decision: 'approve', at: at(MINUTE) });
      const ids = async (undecidedBy: string) => (await store.listRequests({ statuses: ['pending'], undecidedBy })).map((r) => r.id);
      assert.deepEqual(await ids('U0BOB'), [others.id, open.id]);
      assert.deepEqual(await ids('U0CAROL'), [open.id, denied.id, approved.id]);
      assert.deepEqual(await ids('U0DAVE'), [others.id, open.id, denied.id, approved.id]);
    });

    it('lets one of two racing decisions by the same person count', async () => {
      const request = await store.createRequest(newRequest(), 'pending');
      const results = await Promise.all([
        store.addApproval({ requestId: request.id, approverId: 'U0BOB', decision: 'approve', at: at(MINUTE) }),
        store.addApproval({ requestId: request.id, approverId: 'U0BOB', decision: 'deny', at: at(MINUTE) }),
      ]);
      assert.deepEqual(results.filter(Boolean), [true]);
      assert.equal((await store.listApprovals(request.id)).length, 1);
    });

    it('hands out copies of decisions', async () => {
      const request = await store.createRequest(newRequest(), 'pending');
      const approval = { requestId: request.id, approverId: 'U0BOB', decision: 'approve' as const, at: at(MINUTE) };
      await store.addApproval(approval);
      approval.approverId = 'U0MALLORY';
      approval.at.setTime(0);
      const [listed] = await store.listApprovals(request.id);
      assert.ok(listed);
      listed.decision = 'deny';
      assert.deepEqual(await store.listApprovals(request.id), [
        { requestId: request.id, approverId: 'U0BOB', decision: 'approve', at: at(MINUTE) },
      ]);
    });

    it('refuses a decision on a request that does not exist', async () => {
      await assert.rejects(store.addApproval({ requestId: 'RZZZZZZ', approverId: 'U0BOB', decision: 'approve', at: T0 }), NotFoundError);
    });
  });
}
