import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotFoundError } from '../../../src/domain/errors.ts';
import type { AccessRequest } from '../../../src/domain/request.ts';
import type { AuditEvent, ManagedUser, StateStore } from '../../../src/ports/StateStore.ts';
import { MINUTE, T0, at, managedUser, newRequest } from '../../support/stateFixtures.ts';

/**
 * Managed users, the audit trail (with and without a state change) and the notifications.
 * `store` is the fresh store of the running test.
 */
export function recordsContract(store: StateStore): void {
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
      await assert.rejects(store.updateManagedUser('db-ABCDEFGHIJKL', 'sesame_nobody', { droppedAt: T0 }), NotFoundError);
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
      const auditOf =
        (action: AuditEvent['action']) =>
        (r: AccessRequest): AuditEvent => ({
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

    it('writes every event of a change that makes several, in order', async () => {
      const created = await store.createRequest(newRequest(), 'pending', (r) => [
        { at: T0, action: 'request.created', actor: 'U0ALICE', requestId: r.id },
        { at: T0, action: 'request.approved', actor: 'system', requestId: r.id, details: { auto: true } },
      ]);
      assert.deepEqual(
        (await store.listAudit(T0)).map((e) => [e.action, e.requestId, e.details]),
        [
          ['request.created', created.id, undefined],
          ['request.approved', created.id, { auto: true }],
        ],
      );
    });

    it('makes no change when its audit events cannot be made, and stays usable', async () => {
      const failing = (): never => {
        throw new Error('audit unavailable');
      };
      const input = newRequest();
      await assert.rejects(store.createRequest(input, 'pending', failing), /audit unavailable/);
      assert.equal(await store.getRequest(input.id), undefined);
      const created = await store.createRequest(newRequest(), 'pending');
      await assert.rejects(store.transition(created.id, ['pending'], 'approved', { decidedBy: 'U0BOB' }, failing), /audit unavailable/);
      await assert.rejects(store.update(created.id, ['pending'], { lastError: 'x' }, failing), /audit unavailable/);
      assert.deepEqual(await store.getRequest(created.id), created);
      assert.deepEqual(await store.listRequests({}), [created]);
      assert.deepEqual(await store.listAudit(new Date(0)), []);
      assert.equal((await store.transition(created.id, ['pending'], 'approved'))?.version, 2);
    });

    it('makes no event for a change refused by the lifecycle or by the status', async () => {
      let calls = 0;
      const counted = (r: AccessRequest): AuditEvent => {
        calls++;
        return { at: T0, action: 'request.denied', actor: 'U0BOB', requestId: r.id };
      };
      const created = await store.createRequest(newRequest(), 'pending');
      await assert.rejects(store.transition(created.id, ['pending'], 'granted', {}, counted), /no move from pending to granted/);
      assert.equal(await store.transition(created.id, ['granted'], 'revoking', {}, counted), undefined);
      assert.equal(await store.update(created.id, ['granted'], { lastError: 'x' }, counted), undefined);
      assert.equal(await store.update('RZZZZZZ', ['pending'], { lastError: 'x' }, counted), undefined);
      assert.equal(calls, 0);
      assert.deepEqual(await store.listAudit(new Date(0)), []);
    });

    it('records the event of the one winner among racing transitions only', async () => {
      const created = await store.createRequest(newRequest(), 'pending');
      const decide = (to: 'approved' | 'denied', by: string) =>
        store.transition(created.id, ['pending'], to, { decidedBy: by }, (r) => ({
          at: T0,
          action: to === 'approved' ? 'request.approved' : 'request.denied',
          actor: by,
          requestId: r.id,
        }));
      const results = await Promise.all([decide('approved', 'U0BOB'), decide('denied', 'U0CAROL'), decide('approved', 'U0DAVE')]);
      const [winner, ...others] = results.filter((r) => r !== undefined);
      assert.ok(winner);
      assert.equal(others.length, 0);
      const events = await store.listAudit(new Date(0));
      assert.deepEqual(
        events.map((e) => e.actor),
        [winner.decidedBy],
      );
    });
  });

  describe('notifications', () => {
    it('remembers every message sent about a request, oldest first, once per (channel, ts)', async () => {
      const a = await store.createRequest(newRequest(), 'pending');
      const b = await store.createRequest(newRequest(), 'pending');
      await store.addNotification({ requestId: a.id, audience: 'channel', channel: 'C0APPROVALS', ts: '1.0002', at: at(MINUTE) });
      await store.addNotification({ requestId: a.id, audience: 'approver', recipient: 'U0BOB', channel: 'D0BOB', ts: '1.0001', at: T0 });
      await store.addNotification({
        requestId: b.id,
        audience: 'requester',
        recipient: 'U0ALICE',
        channel: 'D0ALICE',
        ts: '1.0003',
        at: T0,
      });
      await store.addNotification({
        requestId: a.id,
        audience: 'approver',
        recipient: 'U0BOB',
        channel: 'D0BOB',
        ts: '1.0001',
        at: at(2 * MINUTE),
      });
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
      assert.deepEqual(
        [...ids].sort((a, b) => a - b),
        ids,
      );
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(
        (await store.listAudit(T0, 2)).map((e) => e.actor),
        ['U01', 'U02'],
      );
    });

    it('lists the events after an id in id order, at most `limit`, whatever their times', async () => {
      await store.appendAudit({ at: at(MINUTE), action: 'request.created', actor: 'U01' });
      await store.appendAudit({ at: at(-MINUTE), action: 'request.approved', actor: 'U02' });
      await store.createRequest(newRequest(), 'pending', (r) => ({ at: T0, action: 'request.created', actor: 'U03', requestId: r.id }));
      await store.appendAudit({ at: T0, action: 'grant.started', actor: 'U04' });
      const all = await store.listAuditAfter(0, 10);
      assert.deepEqual(
        all.map((e) => e.actor),
        ['U01', 'U02', 'U03', 'U04'],
      );
      const ids = all.map((e) => e.id ?? 0);
      assert.deepEqual(
        [...ids].sort((a, b) => a - b),
        ids,
      );
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(
        (await store.listAuditAfter(ids[0] ?? 0, 2)).map((e) => e.actor),
        ['U02', 'U03'],
      );
      assert.deepEqual(await store.listAuditAfter(ids[3] ?? 0, 10), []);
      const [last] = await store.listAuditAfter(ids[2] ?? 0, 10);
      assert.deepEqual(last, { id: ids[3], at: T0, action: 'grant.started', actor: 'U04' });
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
      assert.ok(first?.details, 'the appended event is listed');
      (first.details.roles as string[]).push('r3');
      const [again] = await store.listAudit(T0);
      assert.deepEqual(again?.details, { roles: ['r1'] });
    });
  });
}
