import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StateStore } from '../../../src/ports/StateStore.ts';
import { MINUTE, at } from '../../support/stateFixtures.ts';
import { requestIn } from './requests.ts';

const LEAD = 10 * MINUTE;

/**
 * The deadline timer's query: the next moment a revocation or a reminder falls due after a given
 * one. `store` is the fresh store of the running test.
 */
export function deadlineContract(store: StateStore): void {
  describe('next deadlines', () => {
    it('answers nothing on an empty store', async () => {
      assert.deepEqual(await store.nextDeadlines(at(0), LEAD), {});
    });

    it("finds the earliest grant's expiry and failed revocation's retry after the moment given", async () => {
      await requestIn(store, 'granted', {}, { expiresAt: at(30 * MINUTE), expiryReminderSentAt: at(0) });
      await requestIn(store, 'granted', {}, { expiresAt: at(50 * MINUTE), expiryReminderSentAt: at(0) });
      await requestIn(store, 'revoking', {}, { expiresAt: at(MINUTE), nextAttemptAt: at(40 * MINUTE) });
      // Ended requests and revocations under way (no next attempt) are nobody's deadline.
      await requestIn(store, 'expired', {}, { expiresAt: at(2 * MINUTE) });
      await requestIn(store, 'revoking', {}, { expiresAt: at(3 * MINUTE) });
      assert.deepEqual((await store.nextDeadlines(at(0), LEAD)).revocation, at(30 * MINUTE));
      assert.deepEqual((await store.nextDeadlines(at(30 * MINUTE), LEAD)).revocation, at(40 * MINUTE));
      assert.deepEqual((await store.nextDeadlines(at(40 * MINUTE), LEAD)).revocation, at(50 * MINUTE));
      assert.deepEqual(await store.nextDeadlines(at(50 * MINUTE), LEAD), {});
    });

    it("finds the reminder moment of an access grant not yet reminded, and a pending request's TTL", async () => {
      const granted = await requestIn(store, 'granted', {}, { expiresAt: at(60 * MINUTE) });
      await requestIn(store, 'granted', {}, { expiresAt: at(40 * MINUTE), expiryReminderSentAt: at(MINUTE) });
      await requestIn(store, 'granted', { kind: 'extension', parentId: granted.id }, { expiresAt: at(45 * MINUTE) });
      await requestIn(store, 'pending', { pendingExpiresAt: at(90 * MINUTE) });
      const next = await store.nextDeadlines(at(0), LEAD);
      assert.deepEqual(next, { revocation: at(40 * MINUTE), reminder: at(50 * MINUTE) });
      assert.deepEqual((await store.nextDeadlines(at(50 * MINUTE), LEAD)).reminder, at(90 * MINUTE));
      await store.update(granted.id, ['granted'], { expiryReminderSentAt: at(50 * MINUTE) });
      assert.deepEqual((await store.nextDeadlines(at(0), LEAD)).reminder, at(90 * MINUTE));
    });
  });
}
