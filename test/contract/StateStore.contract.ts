import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConflictError, NotFoundError } from '../../src/domain/errors.ts';
import type { AccessRequest, NewAccessRequest, RequestStatus } from '../../src/domain/request.ts';
import type { AuditEvent, ManagedUser, StateStore } from '../../src/ports/StateStore.ts';
import { MINUTE, T0, at, fullRequest, managedUser, moveThrough, newRequest } from '../support/stateFixtures.ts';

/** Creates a pending request and, unless `status` is pending, moves it there the way the lifecycle allows. */
async function requestIn(
  store: StateStore,
  status: RequestStatus,
  overrides: Partial<NewAccessRequest> = {},
  patch: Parameters<StateStore['transition']>[3] = {},
): Promise<AccessRequest> {
  const created = await store.createRequest(newRequest(overrides), 'pending');
  if (status === 'pending') return created;
  const moved = await moveThrough(store, created.id, 'pending', status, patch);
  assert.ok(moved, `could not move ${created.id} to ${status}`);
  return moved;
}

/**
 * The behaviour every {@link StateStore} must have. `createStore` is called before each test and
 * must return an empty store; the suite closes it after the test.
 */
export function stateStoreContract(
  name: string,
  createStore: () => StateStore | Promise<StateStore>,
): void {
  describe(`StateStore contract: ${name}`, () => {
    let store: StateStore;

    beforeEach(async () => {
      store = await createStore();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('creating and reading requests', () => {
      it('stores a request with only the required fields, pending, at version 1', async () => {
        const input = newRequest();
        const created = await store.createRequest(input, 'pending');
        const expected: AccessRequest = { ...input, status: 'pending', revokeAttempts: 0, version: 1 };
        assert.deepEqual(created, expected);
        assert.deepEqual(await store.getRequest(input.id), expected);
        for (const optional of ['parentId', 'decidedAt', 'dbUser', 'grantedRoles', 'expiresAt', 'lastError']) {
          assert.equal(optional in created, false, `${optional} should be absent, not undefined`);
        }
      });

      it('round-trips every field, optional ones and millisecond dates included', async () => {
        const parent = await store.createRequest(newRequest(), 'approved');
        const input = fullRequest(parent.id);
        const created = await store.createRequest(input, 'approved');
        const expected: AccessRequest = { ...input, status: 'approved', revokeAttempts: 0, version: 1 };
        assert.deepEqual(created, expected);
        assert.deepEqual(await store.getRequest(input.id), expected);
      });

      it('creates a request directly as approved (auto-approval)', async () => {
        const created = await store.createRequest(newRequest(), 'approved');
        assert.equal(created.status, 'approved');
        assert.equal((await store.getRequest(created.id))?.status, 'approved');
      });

      it('returns undefined for an unknown ID', async () => {
        assert.equal(await store.getRequest('RZZZZZZ'), undefined);
      });

      it('refuses a duplicate ID with a ConflictError and keeps the first request', async () => {
        const first = await store.createRequest(newRequest(), 'pending');
        await assert.rejects(
          store.createRequest(newRequest({ id: first.id, reason: 'a second one' }), 'approved'),
          (err: unknown) => err instanceof ConflictError && err.message.includes(first.id),
        );
        assert.deepEqual(await store.getRequest(first.id), first);
      });

      it('refuses an extension of a request that does not exist', async () => {
        await assert.rejects(
          store.createRequest(newRequest({ kind: 'extension', parentId: 'RNOPE22' }), 'pending'),
          NotFoundError,
        );
      });

      it('hands out copies: mutating what goes in or comes out changes nothing stored', async () => {
        const input = newRequest({ grantedRoles: ['role_a'] });
        const created = await store.createRequest(input, 'pending');
        input.target.integration = 'changed-input';
        input.approverGroups[0]?.slackIds.push('U0MALLORY');
        created.target.integration = 'changed-output';
        created.requester.slackId = 'U0MALLORY';
        created.grantedRoles?.push('role_b');
        created.createdAt.setTime(0);
        const fetched = await store.getRequest(created.id);
        assert.ok(fetched);
        fetched.approverGroups.length = 0;
        const again = await store.getRequest(created.id);
        assert.equal(again?.target.integration, 'prod');
        assert.equal(again?.requester.slackId, 'U0ALICE');
        assert.deepEqual(again?.approverGroups[0]?.slackIds, ['U0BOB']);
        assert.deepEqual(again?.grantedRoles, ['role_a']);
        assert.deepEqual(again?.createdAt, T0);
      });
    });

    describe('transitions', () => {
      it('moves a request from an allowed status, applies the patch and bumps the version', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        const approved = await store.transition(created.id, ['pending'], 'approved', {
          decidedAt: at(MINUTE),
          decidedBy: 'U0BOB',
        });
        assert.deepEqual(approved, {
          ...created,
          status: 'approved',
          decidedAt: at(MINUTE),
          decidedBy: 'U0BOB',
          version: 2,
        });
        assert.deepEqual(await store.getRequest(created.id), approved);
      });

      it('returns undefined and changes nothing when the status is not among those allowed', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        const result = await store.transition(created.id, ['revoking'], 'revoked', {
          endedAt: at(MINUTE),
        });
        assert.equal(result, undefined);
        assert.deepEqual(await store.getRequest(created.id), created);
      });

      it('returns undefined for an unknown ID or an empty list of allowed statuses', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        assert.equal(await store.transition('RZZZZZZ', ['pending'], 'approved'), undefined);
        assert.equal(await store.transition(created.id, [], 'approved'), undefined);
        assert.deepEqual(await store.getRequest(created.id), created);
      });

      it('accepts any of several allowed statuses', async () => {
        const granted = await requestIn(store, 'granted', {}, { expiresAt: at(MINUTE) });
        const granting = await requestIn(store, 'granting', {}, { expiresAt: at(MINUTE) });
        for (const request of [granted, granting]) {
          const revoking = await store.transition(request.id, ['granting', 'granted'], 'revoking', {
            revokeAttempts: 1,
          });
          assert.equal(revoking?.status, 'revoking');
          assert.equal(revoking?.revokeAttempts, 1);
          assert.equal(revoking?.version, request.version + 1);
        }
      });

      it('refuses a move the transitions table does not list, and changes nothing', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        await assert.rejects(store.transition(created.id, ['pending'], 'granted'), /no move from pending to granted/);
        await assert.rejects(
          store.transition(created.id, ['pending', 'granted'], 'approved'),
          /no move from granted to approved/,
        );
        await assert.rejects(store.transition(created.id, ['revoked'], 'pending'), /no move from revoked to pending/);
        await assert.rejects(store.transition('RZZZZZZ', ['pending'], 'expired'), /no move from pending to expired/);
        assert.deepEqual(await store.getRequest(created.id), created);
        assert.deepEqual(await store.listAudit(new Date(0)), []);
      });

      it('lets exactly one of several racing transitions win', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        const results = await Promise.all([
          store.transition(created.id, ['pending'], 'approved', { decidedBy: 'U0BOB' }),
          store.transition(created.id, ['pending'], 'approved', { decidedBy: 'U0CAROL' }),
          store.transition(created.id, ['pending'], 'denied', { decidedBy: 'U0DAVE' }),
          store.transition(created.id, ['pending'], 'cancelled', { endedBy: 'U0ALICE' }),
          store.transition(created.id, ['pending'], 'timedout'),
        ]);
        const winners = results.filter((r) => r !== undefined);
        assert.equal(winners.length, 1);
        assert.equal(winners[0]?.version, 2);
        assert.deepEqual(await store.getRequest(created.id), winners[0]);
      });

      it('lets one of two racing approvals of many requests win each', async () => {
        const ids = await Promise.all(
          Array.from({ length: 20 }, async () => (await store.createRequest(newRequest(), 'pending')).id),
        );
        const results = await Promise.all(
          ids.flatMap((id) => [
            store.transition(id, ['pending'], 'approved'),
            store.transition(id, ['pending'], 'approved'),
          ]),
        );
        assert.equal(results.filter((r) => r !== undefined).length, ids.length);
        for (const id of ids) assert.equal((await store.getRequest(id))?.version, 2);
      });

      it('clears a field patched with null and keeps one absent or undefined', async () => {
        const granted = await requestIn(store, 'granted', {}, {
          expiresAt: at(60 * MINUTE),
          lastError: 'timeout',
          nextAttemptAt: at(MINUTE),
          expiryReminderSentAt: at(50 * MINUTE),
          grantedRoles: ['r1'],
        });
        const extended = await store.update(granted.id, ['granted'], {
          expiresAt: at(120 * MINUTE),
          expiryReminderSentAt: null,
          lastError: null,
          nextAttemptAt: undefined,
        });
        assert.ok(extended);
        assert.deepEqual(extended.expiresAt, at(120 * MINUTE));
        assert.equal('expiryReminderSentAt' in extended, false);
        assert.equal('lastError' in extended, false);
        assert.deepEqual(extended.nextAttemptAt, at(MINUTE));
        assert.deepEqual(extended.grantedRoles, ['r1']);
        assert.deepEqual(await store.getRequest(granted.id), extended);
      });

      it('keeps required fields when patched with null', async () => {
        const granted = await requestIn(store, 'revoking', {}, { revokeAttempts: 3 });
        const updated = await store.update(granted.id, ['revoking'], {
          revokeAttempts: null,
          approverGroups: null,
        });
        assert.equal(updated?.revokeAttempts, 3);
        assert.deepEqual(updated?.approverGroups, granted.approverGroups);
      });

      it('replaces the approver groups and granted roles as a whole', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        const groups = [{ source: 'U0ERIN', reason: 'named approver', slackIds: ['U0ERIN'] }];
        const updated = await store.update(created.id, ['pending'], { approverGroups: groups });
        assert.deepEqual(updated?.approverGroups, groups);
        const granted = await moveThrough(store, created.id, 'pending', 'granted', {
          grantedRoles: ['a', 'b'],
        });
        assert.deepEqual(granted?.grantedRoles, ['a', 'b']);
        const emptied = await store.update(created.id, ['granted'], { grantedRoles: [] });
        assert.deepEqual(emptied?.grantedRoles, []);
      });
    });

    describe('updates without a status change', () => {
      it('applies the patch only while the status is allowed, bumping the version', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        const reminded = await store.update(created.id, ['pending'], {
          approverReminderSentAt: at(5 * MINUTE),
        });
        assert.equal(reminded?.status, 'pending');
        assert.equal(reminded?.version, 2);
        assert.deepEqual(reminded?.approverReminderSentAt, at(5 * MINUTE));
        assert.equal(await store.update(created.id, ['granted'], { lastError: 'x' }), undefined);
        assert.deepEqual(await store.getRequest(created.id), reminded);
      });

      it('bumps the version on every successful change and never on a refused one', async () => {
        const created = await store.createRequest(newRequest(), 'pending');
        const versions: number[] = [created.version];
        for (let i = 0; i < 3; i++) {
          const next = await store.update(created.id, ['pending'], {});
          versions.push(next?.version ?? -1);
        }
        await store.update(created.id, ['approved'], { lastError: 'ignored' });
        await store.transition(created.id, ['revoking'], 'revoked');
        const denied = await store.transition(created.id, ['pending'], 'denied');
        versions.push(denied?.version ?? -1);
        assert.deepEqual(versions, [1, 2, 3, 4, 5]);
        assert.equal((await store.getRequest(created.id))?.version, 5);
      });
    });

    describe('requests due for revocation', () => {
      it('lists granted requests expired at or before now and revoking ones due for a retry', async () => {
        const now = at(60 * MINUTE);
        const expiredEarlier = await requestIn(store, 'granted', {}, { expiresAt: at(10 * MINUTE) });
        const expiringNow = await requestIn(store, 'granted', {}, { expiresAt: now });
        await requestIn(store, 'granted', {}, { expiresAt: at(60 * MINUTE + 1) });
        const retryNow = await requestIn(store, 'revoking', {}, {
          expiresAt: at(30 * MINUTE),
          nextAttemptAt: now,
        });
        const retryNoSchedule = await requestIn(store, 'revoking', {}, { expiresAt: at(20 * MINUTE) });
        await requestIn(store, 'revoking', {}, {
          expiresAt: at(5 * MINUTE),
          nextAttemptAt: at(60 * MINUTE + 1),
        });
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
        const alice2 = await requestIn(store, 'revoking', { createdAt: at(2), target: { integration: 'prod', database: 'app' } }, { serverKey: 'srv-1', dbUser: 'sesame_alice' });
        const aliceStaging = await requestIn(store, 'granted', { createdAt: at(3), target: { integration: 'staging' } }, { serverKey: 'srv-2', dbUser: 'sesame_alice' });
        const bob = await requestIn(store, 'granted', { createdAt: at(4), requester: { slackId: 'U0BOB' } }, { serverKey: 'srv-1', dbUser: 'sesame_bob' });
        const extension = await requestIn(store, 'pending', { createdAt: at(5), kind: 'extension', parentId: parent.id });
        const alicePending = await requestIn(store, 'pending', { createdAt: at(1) });

        const ids = async (filter: Parameters<StateStore['listRequests']>[0]) =>
          (await store.listRequests(filter)).map((r) => r.id);

        assert.deepEqual(await ids({}), [extension.id, bob.id, aliceStaging.id, alice2.id, alicePending.id, parent.id]);
        assert.deepEqual(await ids({ requesterSlackId: 'U0BOB' }), [bob.id]);
        assert.deepEqual(await ids({ statuses: ['granted', 'revoking'] }), [bob.id, aliceStaging.id, alice2.id, parent.id]);
        assert.deepEqual(await ids({ statuses: [] }), []);
        assert.deepEqual(await ids({ integration: 'staging' }), [aliceStaging.id]);
        assert.deepEqual(await ids({ serverKey: 'srv-1' }), [bob.id, alice2.id, parent.id]);
        assert.deepEqual(await ids({ dbUser: 'sesame_alice' }), [aliceStaging.id, alice2.id, parent.id]);
        assert.deepEqual(await ids({ parentId: parent.id }), [extension.id]);
        assert.deepEqual(
          await ids({ serverKey: 'srv-1', dbUser: 'sesame_alice', statuses: ['granted', 'granting', 'revoking'] }),
          [alice2.id, parent.id],
        );
        assert.deepEqual(
          await ids({ requesterSlackId: 'U0ALICE', integration: 'prod', statuses: ['pending'] }),
          [extension.id, alicePending.id],
        );
        assert.deepEqual(await ids({ requesterSlackId: 'U0ALICE', limit: 2 }), [extension.id, aliceStaging.id]);
        assert.deepEqual(await ids({ requesterSlackId: 'U0NOBODY' }), []);
        const [newest] = await store.listRequests({ limit: 1 });
        assert.deepEqual(newest, extension);
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
        assert.equal(
          await store.addApproval({ requestId: request.id, approverId: 'U0BOB', decision: 'approve', at: at(3 * MINUTE) }),
          false,
        );
        assert.equal(
          await store.addApproval({ requestId: other.id, approverId: 'U0BOB', decision: 'approve', at: at(MINUTE) }),
          true,
        );
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
        await assert.rejects(
          store.addApproval({ requestId: 'RZZZZZZ', approverId: 'U0BOB', decision: 'approve', at: T0 }),
          NotFoundError,
        );
      });
    });

    describe('managed users', () => {
      it('inserts a new user and leaves a known one as it is', async () => {
        const alice = managedUser({ email: 'alice@example.com', passwordSetAt: at(MINUTE) });
        assert.deepEqual(await store.upsertManagedUser(alice), alice);
        const again = await store.upsertManagedUser(
          managedUser({ integration: 'prod-replica', slackId: 'U0OTHER', createdAt: at(9 * MINUTE) }),
        );
        assert.deepEqual(again, alice);
        assert.deepEqual(await store.getManagedUser(alice.serverKey, alice.username), alice);
        assert.equal(await store.getManagedUser(alice.serverKey, 'sesame_nobody'), undefined);
        assert.equal(await store.getManagedUser('other-server', alice.username), undefined);
      });

      it('hands out copies of users', async () => {
        const input = managedUser();
        const stored = await store.upsertManagedUser(input);
        input.slackId = 'U0MALLORY';
        stored.integration = 'changed';
        const [listed] = await store.listManagedUsers();
        assert.ok(listed);
        listed.createdAt.setTime(0);
        assert.deepEqual(await store.getManagedUser(input.serverKey, input.username), managedUser());
      });

      it('keeps the same username on two servers apart', async () => {
        await store.upsertManagedUser(managedUser({ serverKey: 'srv-a', integration: 'a' }));
        await store.upsertManagedUser(managedUser({ serverKey: 'srv-b', integration: 'b' }));
        assert.equal((await store.getManagedUser('srv-a', 'sesame_alice'))?.integration, 'a');
        assert.equal((await store.getManagedUser('srv-b', 'sesame_alice'))?.integration, 'b');
      });

      it('updates the given dates, clears those given as null and keeps the others', async () => {
        await store.upsertManagedUser(managedUser({ passwordSetAt: at(MINUTE), lastRevokedAt: at(2 * MINUTE) }));
        await store.updateManagedUser('db-ABCDEFGHIJKL', 'sesame_alice', { droppedAt: at(3 * MINUTE) });
        assert.deepEqual(
          await store.getManagedUser('db-ABCDEFGHIJKL', 'sesame_alice'),
          managedUser({ passwordSetAt: at(MINUTE), lastRevokedAt: at(2 * MINUTE), droppedAt: at(3 * MINUTE) }),
        );
        await store.updateManagedUser('db-ABCDEFGHIJKL', 'sesame_alice', {
          droppedAt: null,
          passwordSetAt: at(4 * MINUTE),
          lastRevokedAt: undefined,
        });
        assert.deepEqual(
          await store.getManagedUser('db-ABCDEFGHIJKL', 'sesame_alice'),
          managedUser({ passwordSetAt: at(4 * MINUTE), lastRevokedAt: at(2 * MINUTE) }),
        );
      });

      it('refuses to update a user it does not know', async () => {
        await assert.rejects(
          store.updateManagedUser('db-ABCDEFGHIJKL', 'sesame_nobody', { droppedAt: T0 }),
          NotFoundError,
        );
        await assert.rejects(store.updateManagedUser('db-ABCDEFGHIJKL', 'sesame_nobody', {}), NotFoundError);
      });

      it('lists users by server and name, leaving out dropped ones unless asked', async () => {
        await store.upsertManagedUser(managedUser({ serverKey: 'srv-b', username: 'sesame_zoe' }));
        await store.upsertManagedUser(managedUser({ serverKey: 'srv-a', username: 'sesame_yann' }));
        await store.upsertManagedUser(managedUser({ serverKey: 'srv-a', username: 'sesame_xia', droppedAt: at(MINUTE) }));
        await store.upsertManagedUser(managedUser({ serverKey: 'srv-b', username: 'sesame_abe' }));
        const names = (users: ManagedUser[]) => users.map((u) => `${u.serverKey}/${u.username}`);
        assert.deepEqual(names(await store.listManagedUsers()), ['srv-a/sesame_yann', 'srv-b/sesame_abe', 'srv-b/sesame_zoe']);
        assert.deepEqual(names(await store.listManagedUsers({ includeDropped: true })), [
          'srv-a/sesame_xia',
          'srv-a/sesame_yann',
          'srv-b/sesame_abe',
          'srv-b/sesame_zoe',
        ]);
        assert.deepEqual(names(await store.listManagedUsers({ serverKey: 'srv-a' })), ['srv-a/sesame_yann']);
        assert.deepEqual(names(await store.listManagedUsers({ serverKey: 'srv-a', includeDropped: true })), [
          'srv-a/sesame_xia',
          'srv-a/sesame_yann',
        ]);
        assert.deepEqual(await store.listManagedUsers({ serverKey: 'srv-none' }), []);
      });
    });

    describe('state changes with their audit event', () => {
      it('records the event with the change, made from the changed request, and none without it', async () => {
        const auditOf = (action: AuditEvent['action']) => (r: AccessRequest): AuditEvent => ({
          at: T0,
          action,
          actor: 'U0BOB',
          requestId: r.id,
          details: { status: r.status, version: r.version },
        });
        const created = await store.createRequest(newRequest(), 'pending', auditOf('request.created'));
        const approved = await store.transition(created.id, ['pending'], 'approved', { decidedBy: 'U0BOB' }, auditOf('request.approved'));
        assert.equal(approved?.status, 'approved');
        assert.equal(await store.transition(created.id, ['pending'], 'denied', {}, auditOf('request.denied')), undefined);
        await store.update(created.id, ['approved'], { lastError: 'x' }, auditOf('grant.failed'));
        assert.equal(await store.update(created.id, ['granted'], { lastError: 'y' }, auditOf('grant.revoke_failed')), undefined);
        const events = (await store.listAudit(new Date(0))).filter((e) => e.requestId === created.id);
        assert.deepEqual(
          events.map((e) => [e.action, e.details]),
          [
            ['request.created', { status: 'pending', version: 1 }],
            ['request.approved', { status: 'approved', version: 2 }],
            ['grant.failed', { status: 'approved', version: 3 }],
          ],
        );
      });
    });

    describe('notifications', () => {
      it('remembers every message sent about a request, oldest first, once per (channel, ts)', async () => {
        const a = await store.createRequest(newRequest(), 'pending');
        const b = await store.createRequest(newRequest(), 'pending');
        await store.addNotification({ requestId: a.id, audience: 'channel', channel: 'C0APPROVALS', ts: '1.0002', at: at(MINUTE) });
        await store.addNotification({ requestId: a.id, audience: 'approver', recipient: 'U0BOB', channel: 'D0BOB', ts: '1.0001', at: T0 });
        await store.addNotification({ requestId: b.id, audience: 'requester', recipient: 'U0ALICE', channel: 'D0ALICE', ts: '1.0003', at: T0 });
        await store.addNotification({ requestId: a.id, audience: 'approver', recipient: 'U0BOB', channel: 'D0BOB', ts: '1.0001', at: at(2 * MINUTE) });
        assert.deepEqual(await store.listNotifications(a.id), [
          { requestId: a.id, audience: 'approver', recipient: 'U0BOB', channel: 'D0BOB', ts: '1.0001', at: T0 },
          { requestId: a.id, audience: 'channel', channel: 'C0APPROVALS', ts: '1.0002', at: at(MINUTE) },
        ]);
        assert.equal((await store.listNotifications(b.id)).length, 1);
        assert.deepEqual(await store.listNotifications('RNOPE22'), []);
      });

      it('refuses a message about a request that does not exist', async () => {
        await assert.rejects(
          store.addNotification({ requestId: 'RNOPE22', audience: 'channel', channel: 'C1', ts: '1.1', at: T0 }),
          NotFoundError,
        );
      });
    });

    describe('audit trail', () => {
      it('lists events at or after `since`, oldest first, with ids and every field', async () => {
        const full: AuditEvent = {
          at: at(2 * MINUTE),
          action: 'grant.granted',
          actor: 'U0BOB',
          actorEmail: 'bob@example.com',
          requestId: 'R7K3QXA',
          integration: 'prod',
          details: { target: 'prod/app', roles: ['r1', 'r2'], count: 3, nested: { ok: true, none: null } },
        };
        await store.appendAudit(full);
        await store.appendAudit({ at: at(-1), action: 'request.created', actor: 'U0ALICE' });
        await store.appendAudit({ at: T0, action: 'request.approved', actor: 'U0BOB' });
        await store.appendAudit({ at: at(MINUTE), action: 'grant.started', actor: 'system' });

        const events = await store.listAudit(T0);
        assert.deepEqual(
          events.map((e) => e.action),
          ['request.approved', 'grant.started', 'grant.granted'],
        );
        const { id, ...rest } = events[2] as AuditEvent;
        assert.deepEqual(rest, full);
        assert.equal(typeof id, 'number');
        assert.equal('details' in (events[0] as AuditEvent), false);
        assert.equal((await store.listAudit(at(-1))).length, 4);
        assert.deepEqual(await store.listAudit(at(2 * MINUTE + 1)), []);
      });

      it('keeps the order of appending among events at the same moment, and honours `limit`', async () => {
        for (const actor of ['U01', 'U02', 'U03', 'U04']) {
          await store.appendAudit({ at: T0, action: 'credentials.revealed', actor });
        }
        const events = await store.listAudit(T0);
        assert.deepEqual(
          events.map((e) => e.actor),
          ['U01', 'U02', 'U03', 'U04'],
        );
        const ids = events.map((e) => e.id ?? 0);
        assert.deepEqual([...ids].sort((a, b) => a - b), ids);
        assert.equal(new Set(ids).size, 4);
        assert.deepEqual(
          (await store.listAudit(T0, 2)).map((e) => e.actor),
          ['U01', 'U02'],
        );
      });

      it('stores details as JSON: a date in them comes back as its ISO text', async () => {
        await store.appendAudit({ at: T0, action: 'grant.extended', actor: 'U0ALICE', details: { until: at(MINUTE) } });
        const [event] = await store.listAudit(T0);
        assert.deepEqual(event?.details, { until: at(MINUTE).toISOString() });
      });

      it('hands out copies of events', async () => {
        const details = { roles: ['r1'] };
        await store.appendAudit({ at: T0, action: 'grant.granted', actor: 'U0BOB', details });
        details.roles.push('r2');
        const [first] = await store.listAudit(T0);
        (first?.details?.roles as string[]).push('r3');
        const [again] = await store.listAudit(T0);
        assert.deepEqual(again?.details, { roles: ['r1'] });
      });
    });

    describe('readiness', () => {
      it('answers ping while open and fails it once closed', async () => {
        await store.ping();
        await store.close();
        await assert.rejects(store.ping());
        await assert.rejects(store.getRequest('RZZZZZZ'));
      });
    });
  });
}
