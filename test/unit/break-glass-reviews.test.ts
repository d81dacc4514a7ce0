/**
 * Break-glass grants and their review: granted at once to the flow's requestors with a reason,
 * announced to the reviewers, reviewed once by an approver or an admin (never the requester),
 * reminded daily while unreviewed, listed for admins; bad input changes nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, InputError, NotAllowedError } from '../../src/domain/errors.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import { REVIEW_REMINDER_MS } from '../../src/services/BreakGlassReviews.ts';
import { serviceWorld, testConfig, type ServiceWorld } from '../support/services.ts';

const HOUR = 60;

function breakGlassWorld(): ServiceWorld & { told: { kind: string; id: string }[] } {
  const config = testConfig({
    accessFlows: [
      {
        name: 'auto-read',
        requestors: ['*'],
        targets: [{ integration: 'local', databases: ['appdb'], schemas: ['public'] }],
        permissions: ['readonly'],
        maxDuration: '8h',
        approvers: [],
      },
      {
        name: 'incident',
        requestors: ['U0ALICE', 'U0BOB'],
        targets: [{ integration: 'local' }],
        permissions: ['readwrite'],
        maxDuration: '2h',
        approvers: ['U0CAROL', 'U0DAVE'],
        breakGlass: true,
      },
    ],
  });
  const world = serviceWorld(config);
  const told: { kind: string; id: string }[] = [];
  const notifier = world.notifier as unknown as Record<string, (r: AccessRequest) => Promise<void>>;
  for (const kind of ['breakGlassUsed', 'breakGlassReviewed', 'breakGlassReviewReminder']) {
    notifier[kind] = async (r) => void told.push({ kind, id: r.id });
  }
  return { ...world, told };
}

const ask = (world: ServiceWorld, requesterSlackId: string, reason?: string) =>
  world.services.requests.requestAccess({
    requesterSlackId,
    target: { integration: 'local', database: 'appdb' },
    permission: 'readwrite',
    durationMinutes: HOUR,
    ...(reason !== undefined ? { reason } : {}),
    breakGlass: true,
  });

/** What the store and the audit trail hold, to prove that a refusal changed nothing. */
async function snapshot(world: ServiceWorld) {
  return JSON.stringify([await world.store.listRequests({}), await world.store.listAudit(new Date(0))]);
}

describe('break-glass grants and their review', { timeout: 20_000 }, () => {
  it('grants a requestor of the flow at once, without approval, and tells the reviewers', async () => {
    const world = breakGlassWorld();
    const granted = await ask(world, 'U0ALICE', 'INC-9');
    assert.equal(granted.status, 'granted');
    assert.equal(granted.breakGlass, true);
    assert.deepEqual(world.told, [{ kind: 'breakGlassUsed', id: granted.id }]);
    assert.ok(!world.notifier.events.some((e) => e.kind === 'approvalRequested'), 'nobody is asked to approve');
    const created = (await world.store.listAudit(new Date(0))).find((e) => e.action === 'request.created');
    assert.equal(created?.details?.breakGlass, true);
  });

  it('refuses someone not among the requestors, and a request without reason, changing nothing', async () => {
    const world = breakGlassWorld();
    const before = await snapshot(world);
    await assert.rejects(ask(world, 'U0DAVE', 'INC-9'), (err: unknown) => err instanceof NotAllowedError || err instanceof InputError);
    await assert.rejects(ask(world, 'U0ALICE'), InputError);
    await assert.rejects(ask(world, 'U0ALICE', '   '), InputError);
    assert.equal(await snapshot(world), before);
    assert.deepEqual(world.told, []);
  });

  it('lets an approver flag it once; a second review is a conflict naming who reviewed', async () => {
    const world = breakGlassWorld();
    const granted = await ask(world, 'U0ALICE', 'INC-9');
    const flagged = await world.services.breakGlass.review(granted.id, 'U0CAROL', 'flagged');
    assert.deepEqual([flagged.reviewOutcome, flagged.reviewedBy, flagged.status], ['flagged', 'U0CAROL', 'granted']);
    const event = (await world.store.listAudit(new Date(0))).find((e) => e.action === 'breakglass.flagged');
    assert.deepEqual([event?.actor, event?.actorEmail, event?.requestId], ['U0CAROL', 'carol@example.com', granted.id]);
    assert.deepEqual(world.told.at(-1), { kind: 'breakGlassReviewed', id: granted.id });

    const before = await snapshot(world);
    await assert.rejects(world.services.breakGlass.review(granted.id, 'U0DAVE', 'reviewed'), (err: unknown) => {
      assert.ok(err instanceof ConflictError);
      assert.match(err.message, /already flagged by <@U0CAROL>/);
      return true;
    });
    await assert.rejects(world.services.breakGlass.review(granted.id, 'U0ADMIN', 'reviewed'), ConflictError);
    assert.equal(await snapshot(world), before);
  });

  it('refuses the requester, an admin who asked for it, and someone neither approver nor admin', async () => {
    const world = breakGlassWorld();
    const mine = await ask(world, 'U0ALICE', 'INC-9');
    const before = await snapshot(world);
    await assert.rejects(world.services.breakGlass.review(mine.id, 'U0ALICE', 'reviewed'), /cannot review your own/);
    await assert.rejects(world.services.breakGlass.review(mine.id, 'U0BOB', 'reviewed'), /Only an approver of .* or a Sesame admin/);
    await assert.rejects(world.services.breakGlass.review('R2222222', 'U0CAROL', 'reviewed'), /There is no request/);
    assert.equal(await snapshot(world), before);
    const byAdmin = await world.services.breakGlass.review(mine.id, 'U0ADMIN', 'reviewed');
    assert.equal(byAdmin.reviewOutcome, 'reviewed');
    assert.ok((await world.store.listAudit(new Date(0))).some((e) => e.action === 'breakglass.reviewed' && e.actor === 'U0ADMIN'));
  });

  it('refuses to review a request that was not break-glass', async () => {
    const world = breakGlassWorld();
    const ordinary = await world.services.requests.requestAccess({
      requesterSlackId: 'U0ALICE',
      target: { integration: 'local', database: 'appdb', schema: 'public' },
      permission: 'readonly',
      durationMinutes: HOUR,
      reason: 'a look',
    });
    await assert.rejects(world.services.breakGlass.review(ordinary.id, 'U0ADMIN', 'reviewed'), /not granted by break-glass/);
    assert.equal((await world.store.getRequest(ordinary.id))?.reviewOutcome, undefined);
  });

  it('reminds the reviewers once a day while unreviewed, and lists it for admins only', async () => {
    const world = breakGlassWorld();
    const granted = await ask(world, 'U0ALICE', 'INC-9');
    const reminders = () => world.told.filter((t) => t.kind === 'breakGlassReviewReminder').length;
    assert.deepEqual(
      (await world.services.breakGlass.unreviewed('U0ADMIN')).map((r) => r.id),
      [granted.id],
    );
    await assert.rejects(world.services.breakGlass.unreviewed('U0CAROL'), NotAllowedError);

    world.clock.advance(REVIEW_REMINDER_MS - 60_000);
    assert.equal(await world.services.breakGlass.remindDue(), 0);
    world.clock.advance(120_000);
    assert.equal(await world.services.breakGlass.remindDue(), 1);
    assert.equal(await world.services.breakGlass.remindDue(), 0, 'once a day');
    assert.ok((await world.store.getRequest(granted.id))?.reviewReminderSentAt);
    world.clock.advance(REVIEW_REMINDER_MS);
    assert.equal(await world.services.breakGlass.remindDue(), 1, 'the next day again');
    assert.equal(reminders(), 2);

    await world.services.breakGlass.review(granted.id, 'U0DAVE', 'reviewed');
    assert.deepEqual(await world.services.breakGlass.unreviewed('U0ADMIN'), []);
    world.clock.advance(2 * REVIEW_REMINDER_MS);
    assert.equal(await world.services.breakGlass.remindDue(), 0, 'reviewed: no more reminders');
  });
});
