/**
 * The approvers' side of Sesame in Slack, end to end: approval DMs and the channel post, clicks
 * re-checked on the server, racing approvals, deny with a reason, every copy updated, and
 * restarts of the bot while a request waits and while a grant is active.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pollUntil } from '../support/poll.ts';
import { approvalCopies as approvalCopiesOf, ephemeralAt, waitForRequest as waitForRequestOf } from '../support/slack/e2eSteps.ts';
import { APP, pgVersions, type TestCluster } from '../support/postgres.ts';
import { APPROVAL_CHANNEL, DBA_GROUP, PEOPLE, e2eSuiteHooks, type E2eWorld } from '../support/slack/botHarness.ts';
import type { StandInMessage } from '../../src/playground/slack/SlackStandIn.ts';

const HOUR = 3_600_000;
const { alice, bob, carol, dave } = PEOPLE;
const version = pgVersions()[0]!;

describe(`Sesame in Slack, the approvers' side (PostgreSQL ${version})`, () => {
  let cluster: TestCluster;
  let world: E2eWorld;

  e2eSuiteHooks(version, (started) => ({ cluster, world } = started));

  const store = () => world.bot.sesame.store;

  /** Alice asks for readwrite by command; returns the request ID once the approval messages are out. */
  async function askForWrite(reason: string): Promise<string> {
    await world.driver.slashCommand({ userId: alice.id, text: `local/${APP.database} readwrite for 1h because ${reason}` });
    const request = await waitForRequest(reason);
    await world.bot.notifier.drain();
    return request;
  }

  const waitForRequest = (reason: string) => waitForRequestOf(world, reason);
  const approvalCopies = (requestId: string) => approvalCopiesOf(world, requestId, [bob.id, carol.id]);
  const hasButtons = (m: StandInMessage) => JSON.stringify(m.blocks).includes('sesame.approve:');
  const lastEphemeralFor = (userId: string, count: number) => ephemeralAt(world, userId, count);

  it('DMs each approver and posts in the approval channel, with why they approve and the buttons', async () => {
    const id = await askForWrite('migrate the invoices');
    const copies = approvalCopies(id);
    assert.equal(copies.length, 3, 'Bob, Carol and the channel');
    for (const copy of copies) {
      const text = JSON.stringify(copy.blocks);
      assert.ok(hasButtons(copy));
      assert.match(text, /<@U0ALICE>/);
      assert.match(text, /`local\/appdb`/);
      assert.match(text, /`readwrite`/);
      assert.match(text, /migrate the invoices/);
      assert.match(text, /named approver/);
      assert.ok(text.includes(id));
    }
    assert.ok(world.fake.calls('conversations.open').length >= 2);
    const refs = await store().listNotifications(id);
    assert.deepEqual(refs.map((r) => r.audience).sort(), ['approver', 'approver', 'channel', 'requester']);
  });

  it('a click by a non-approver, or by the requester, changes nothing and is explained privately', async () => {
    const id = (await store().listRequests({})).find((r) => r.reason === 'migrate the invoices')!.id;
    const post = approvalCopies(id).find((m) => m.channel === APPROVAL_CHANNEL)!;
    const daveSeen = world.fake.ephemerals(dave.id).length;
    await world.driver.clickButton(post, `sesame.approve:${id}`, dave.id);
    assert.match(await lastEphemeralFor(dave.id, daveSeen), /not an approver/);
    const viewsBefore = world.fake.views(dave.id).length;
    await world.driver.clickButton(post, `sesame.deny:${id}`, dave.id);
    assert.match(await lastEphemeralFor(dave.id, daveSeen + 1), /not an approver/);
    assert.equal(world.fake.views(dave.id).length, viewsBefore, 'no deny modal for a non-approver');
    const aliceSeen = world.fake.ephemerals(alice.id).length;
    await world.driver.clickButton(post, `sesame.approve:${id}`, alice.id);
    assert.match(await lastEphemeralFor(alice.id, aliceSeen), /cannot decide on your own request/);
    assert.equal((await store().getRequest(id))?.status, 'pending');
    assert.deepEqual(await store().listApprovals(id), []);
    assert.ok(approvalCopies(id).every(hasButtons));
  });

  it('two approvals at once make one grant, and every copy shows who decided, without buttons', async () => {
    const id = (await store().listRequests({})).find((r) => r.reason === 'migrate the invoices')!.id;
    const [bobCopy] = world.fake.dmMessages(bob.id).filter((m) => m.text.includes(id));
    const [carolCopy] = world.fake.dmMessages(carol.id).filter((m) => m.text.includes(id));
    const acks = await Promise.all([
      world.driver.clickButton(bobCopy!, `sesame.approve:${id}`, bob.id),
      world.driver.clickButton(carolCopy!, `sesame.approve:${id}`, carol.id),
    ]);
    assert.deepEqual(
      acks.map((a) => a.status),
      [200, 200],
    );
    await world.fake.waitFor(
      () => world.fake.ephemerals(bob.id).length > 0 && world.fake.ephemerals(carol.id).length > 0,
      'both answers',
      10_000,
    );
    const req = (await store().getRequest(id))!;
    assert.equal(req.status, 'granted');
    const grants = (await store().listAudit(new Date(0))).filter((e) => e.action === 'grant.granted' && e.requestId === id);
    assert.equal(grants.length, 1, 'one grant');
    const answers = [...world.fake.ephemerals(bob.id), ...world.fake.ephemerals(carol.id)].map((e) => e.text).join('\n');
    assert.match(answers, /You approved/);
    assert.match(answers, /already (approved|granted|granting)/);
    await world.bot.notifier.drain();
    const copies = approvalCopies(id);
    assert.equal(copies.length, 3);
    for (const copy of copies) {
      assert.ok(!hasButtons(copy), 'no buttons once decided');
      assert.ok(copy.edits.length > 0, 'updated with chat.update');
      assert.match(JSON.stringify(copy.blocks), new RegExp(`Approved by <@${req.decidedBy}> <!date\\^`));
      assert.ok(
        copy.replies.some((r) => r.text.includes('granted')),
        'status posted in the thread',
      );
    }
    const auditApprover = (await store().listAudit(new Date(0))).find((e) => e.action === 'request.approved' && e.requestId === id)!;
    assert.equal(auditApprover.actor, req.decidedBy);
    assert.ok(auditApprover.actorEmail?.endsWith('@example.com'), 'the approver is named by email too');
  });

  it('deny asks for a reason in a modal, and the requester is told it', async () => {
    const id = await askForWrite('drop a column');
    const [bobCopy] = world.fake.dmMessages(bob.id).filter((m) => m.text.includes(id));
    await world.driver.clickButton(bobCopy!, `sesame.deny:${id}`, bob.id);
    const modal = await world.fake.waitFor(
      () => world.fake.views(bob.id).find((v) => v.view.callback_id === 'sesame.deny' && !v.closed),
      'the deny modal',
    );
    assert.equal(modal.view.private_metadata, id);
    const empty = await world.driver.submitView(modal, { reason: '' });
    assert.match(JSON.stringify(empty.json), /"errors".*Say why/);
    assert.equal((await store().getRequest(id))?.status, 'pending');
    const done = await world.driver.submitView(modal, { reason: 'use the staging copy' });
    assert.equal(done.status, 200);
    assert.equal(done.json, undefined);
    const req = (await store().getRequest(id))!;
    assert.equal(req.status, 'denied');
    assert.equal(req.denyReason, 'use the staging copy');
    await world.fake.waitFor(
      () => world.fake.dmMessages(alice.id).find((m) => JSON.stringify(m.blocks).includes('was denied by <@U0BOB>: use the staging copy')),
      'the denial DM',
      10_000,
    );
    await world.bot.notifier.drain();
    for (const copy of approvalCopies(id)) {
      assert.ok(!hasButtons(copy));
      assert.match(JSON.stringify(copy.blocks), /Denied by <@U0BOB>/);
    }
  });

  it("shows approvals waiting on the approver's Home tab, with Approve and Deny", async () => {
    const id = await askForWrite('home approval');
    await world.driver.appHomeOpened(bob.id);
    const home = await world.fake.waitFor(() => world.fake.homeView(bob.id), "Bob's Home tab");
    const text = JSON.stringify(home.view);
    assert.ok(text.includes(`sesame.approve:${id}`) && text.includes(`sesame.deny:${id}`));
    await world.driver.clickButton(home, `sesame.approve:${id}`, bob.id);
    await world.fake.waitFor(
      () => JSON.stringify(world.fake.homeView(bob.id)?.view).includes('You approved'),
      'the Home tab redrawn with the outcome',
      10_000,
    );
    assert.equal((await store().getRequest(id))?.status, 'granted');
  });

  it('decides who may approve when the click arrives: someone who left the group since changes nothing', async () => {
    await world.driver.slashCommand({
      userId: dave.id,
      text: `local/${APP.database} admin for 30m because reindex after the group change`,
    });
    const id = await waitForRequest('reindex after the group change');
    await world.bot.notifier.drain();
    const [carolCopy] = world.fake.dmMessages(carol.id).filter((m) => m.text.includes(`Access request ${id}`));
    assert.ok(carolCopy && hasButtons(carolCopy), 'Carol was in @dba when Dave asked');
    world.fake.addUsergroup({ ...DBA_GROUP, members: [bob.id] });
    const carolSeen = world.fake.ephemerals(carol.id).length;
    await world.driver.clickButton(carolCopy, `sesame.approve:${id}`, carol.id);
    assert.match(await lastEphemeralFor(carol.id, carolSeen), /no longer an approver/);
    const viewsBefore = world.fake.views(carol.id).length;
    await world.driver.clickButton(carolCopy, `sesame.deny:${id}`, carol.id);
    assert.match(await lastEphemeralFor(carol.id, carolSeen + 1), /no longer an approver/);
    assert.equal(world.fake.views(carol.id).length, viewsBefore, 'no deny modal');
    assert.equal((await store().getRequest(id))?.status, 'pending');
    assert.deepEqual(await store().listApprovals(id), []);
    const [bobCopy] = world.fake.dmMessages(bob.id).filter((m) => m.text.includes(`Access request ${id}`));
    const bobSeen = world.fake.ephemerals(bob.id).length;
    await world.driver.clickButton(bobCopy!, `sesame.approve:${id}`, bob.id);
    assert.match(await lastEphemeralFor(bob.id, bobSeen), /You approved/);
    assert.equal((await store().getRequest(id))?.status, 'granted');
  });

  it('a request pending across a restart is approved after it, and its copies are updated', async () => {
    const id = await askForWrite('across a restart');
    await world.restart();
    const [bobCopy] = world.fake.dmMessages(bob.id).filter((m) => m.text.includes(id));
    await world.driver.clickButton(bobCopy!, `sesame.approve:${id}`, bob.id);
    await world.fake.waitFor(
      () => world.fake.ephemerals(bob.id).some((e) => e.text.includes(`approved \`${id}\``)),
      'the approval answer',
      10_000,
    );
    assert.equal((await store().getRequest(id))?.status, 'granted');
    await world.bot.notifier.drain();
    assert.ok(approvalCopies(id).every((m) => !hasButtons(m)));
  });

  it('a grant active across a restart still expires after it, and the login is disabled', async () => {
    await world.driver.slashCommand({ userId: alice.id, text: 'local/appdb/public readonly for 1h because before a restart' });
    const id = await waitForRequest('before a restart');
    await pollUntil(async () => (await store().getRequest(id))?.status === 'granted', 'the grant');
    await world.restart();
    world.clock.advance(3 * HOUR);
    await world.bot.sesame.scheduler.runNow('expire');
    const statuses = (await store().listRequests({ requesterSlackId: alice.id })).filter((r) => r.kind === 'access').map((r) => r.status);
    assert.ok(!statuses.includes('granted'), `nothing stays granted: ${statuses.join(', ')}`);
    assert.equal((await store().getRequest(id))?.status, 'expired');
    const [role] = await cluster.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [alice.email]);
    assert.equal(role?.rolcanlogin, false);
  });
});
