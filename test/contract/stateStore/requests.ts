import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, NotFoundError } from '../../../src/domain/errors.ts';
import type { AccessRequest, NewAccessRequest, RequestStatus } from '../../../src/domain/request.ts';
import type { StateStore } from '../../../src/ports/StateStore.ts';
import { MINUTE, T0, at, fullRequest, moveThrough, newRequest } from '../../support/stateFixtures.ts';

/** Creates a pending request and, unless `status` is pending, moves it there the way the lifecycle allows. */
export async function requestIn(
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
 * Requests: creating, reading, transitions and updates.
 * `store` is the fresh store of the running test.
 */
export function requestContract(store: StateStore): void {
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
      await assert.rejects(store.createRequest(newRequest({ kind: 'extension', parentId: 'RNOPE22' }), 'pending'), NotFoundError);
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
      await assert.rejects(store.transition(created.id, ['pending', 'granted'], 'approved'), /no move from granted to approved/);
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
      const ids = await Promise.all(Array.from({ length: 20 }, async () => (await store.createRequest(newRequest(), 'pending')).id));
      const results = await Promise.all(
        ids.flatMap((id) => [store.transition(id, ['pending'], 'approved'), store.transition(id, ['pending'], 'approved')]),
      );
      assert.equal(results.filter((r) => r !== undefined).length, ids.length);
      for (const id of ids) assert.equal((await store.getRequest(id))?.version, 2);
    });

    it('clears a field patched with null and keeps one absent or undefined', async () => {
      const granted = await requestIn(
        store,
        'granted',
        {},
        {
          expiresAt: at(60 * MINUTE),
          lastError: 'timeout',
          nextAttemptAt: at(MINUTE),
          expiryReminderSentAt: at(50 * MINUTE),
          grantedRoles: ['r1'],
        },
      );
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
      assert.equal(await store.update('RZZZZZZ', ['pending'], { lastError: 'x' }), undefined);
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
}
