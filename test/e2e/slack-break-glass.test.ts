/**
 * Break-glass access, end to end through the Bolt app, the Slack stand-in and a real PostgreSQL:
 * a requestor of a break-glass flow gets access at once with a reason and no approval (proven by
 * logging in and writing), the approval channel, the admins and the flow's approvers get a loud
 * alert with Reviewed and Flagged, the review is theirs alone and happens once, an unreviewed
 * grant is reminded after a day and listed for admins.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { APP, pgVersions } from '../support/postgres.ts';
import { APPROVAL_CHANNEL, e2eSuiteHooks, PEOPLE, waitForDm, type E2eWorld } from '../support/slack/botHarness.ts';
import { commandReply, ephemeralAt, showCredentials } from '../support/slack/e2eSteps.ts';
import type { StandInMessage } from '../../src/playground/slack/SlackStandIn.ts';

const { alice, bob, carol, dave, admin } = PEOPLE;
const version = pgVersions()[0]!;
const DAY = 24 * 60 * 60_000;

/** Alice and Bob may break the glass on appdb; Carol reviews (with the admins). */
const FLOWS = `  - name: incident
    requestors: [${alice.id}, ${bob.id}]
    targets: [{ integration: local, databases: [${APP.database}] }]
    permissions: [readwrite]
    maxDuration: 2h
    approvers: [${carol.id}]
    breakGlass: true`;

const blocksOf = (m: StandInMessage) => JSON.stringify(m.blocks);
const hasReviewButtons = (m: StandInMessage, id: string) =>
  blocksOf(m).includes(`sesame.breakglass.reviewed:${id}`) && blocksOf(m).includes(`sesame.breakglass.flagged:${id}`);

describe(`break-glass access in Slack (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let world: E2eWorld;
  e2eSuiteHooks(version, (suite) => (world = suite.world), { accessFlows: FLOWS });

  const store = () => world.bot.sesame.store;
  /** Every copy of the alert: the channel post and the DMs to Carol and the admin. */
  const alertCopies = (id: string) =>
    world.fake
      .messages(APPROVAL_CHANNEL)
      .concat(world.fake.dmMessages(carol.id), world.fake.dmMessages(admin.id))
      .filter((m) => m.text.startsWith(`BREAK-GLASS access ${id}`));

  const command = (text: string, userId: string) => commandReply(world, userId, text);

  /** Clicks a review button on a copy as it stands now, or as `copy` shows it (`stale`: a copy not yet updated). */
  async function click(copy: StandInMessage, action: string, id: string, userId: string, stale = false): Promise<string> {
    const seen = world.fake.ephemerals(userId).length;
    const surface = stale ? copy : world.fake.message(copy.channel, copy.ts)!;
    await world.driver.clickButton(surface, `sesame.breakglass.${action}:${id}`, userId);
    return ephemeralAt(world, userId, seen);
  }

  it('refuses someone who is not a requestor of the flow, and a request without a reason, recording nothing', async () => {
    const dbName = `local/${APP.database}`;
    assert.match(
      await command(`break-glass ${dbName} readwrite for 1h because INC-9`, dave.id),
      /No break-glass access flow lets you request readwrite on local\/appdb/,
    );
    assert.match(
      await command(`break-glass ${dbName} readwrite for 1h`, alice.id),
      /Give a reason: add "because &lt;why you need it&gt;" \(flow incident requires one\)/,
    );
    assert.match(await command('help', alice.id), /Break-glass\* on `local`/, 'help tells a requestor of the flow');
    assert.doesNotMatch(await command('help', dave.id), /Break-glass/, 'and nobody else');
    assert.deepEqual(await store().listRequests({}), []);
    assert.deepEqual(await store().listAudit(new Date(0)), []);
  });

  it('grants at once, alerts loudly, reminds after a day, and is reviewed once by an approver', async () => {
    const reply = await command(`break-glass local/${APP.database} readwrite for 1h because INC-9`, alice.id);
    const request = (await store().listRequests({})).find((r) => r.reason === 'INC-9')!;
    const id = request.id;
    assert.deepEqual([request.status, request.breakGlass], ['granted', true]);
    assert.match(reply, new RegExp(id));
    assert.deepEqual(await store().listApprovals(id), [], 'nobody approved');

    // Alice logs in at once and writes.
    const grantDm = await waitForDm(world.fake, alice.id, new RegExp(`Access granted.*${id}`), 'the granted DM');
    const { uri } = await showCredentials(world, grantDm, id, alice.id);
    const session = new pg.Client({ connectionString: uri });
    await session.connect();
    try {
      await session.query('INSERT INTO public.customers (name) VALUES ($1)', ['during the incident']);
      assert.equal((await session.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n > 0, true);
    } finally {
      await session.end();
    }

    // The loud alert: in the approval channel, and DMed to the admin and Carol, with Reviewed and Flagged.
    await world.bot.notifier.drain();
    const copies = alertCopies(id);
    assert.deepEqual(copies.map((c) => c.channel).sort(), [APPROVAL_CHANNEL, ...[carol.id, admin.id].map((p) => dmOf(p))].sort());
    for (const copy of copies) {
      assert.ok(hasReviewButtons(copy, id), `Reviewed and Flagged on ${copy.channel}`);
      assert.match(blocksOf(copy), /:rotating_light: \*BREAK-GLASS/);
      assert.match(blocksOf(copy), /INC-9/);
      assert.match(blocksOf(copy), new RegExp(`<@${alice.id}>`));
    }
    assert.equal(alertCopies(id).filter((c) => c.channel === dmOf(alice.id)).length, 0, 'the requester gets no alert');

    // An admin's /access list shows it on top while it waits for review.
    assert.match(await command('list', admin.id), new RegExp(`Break-glass grants waiting for review:\\*? 1[^]*${id}`));

    // A day later, the reviewers are reminded.
    world.clock.advance(DAY + 60_000);
    await world.bot.sesame.scheduler.runNow('remind');
    await world.bot.notifier.drain();
    for (const person of [carol.id, admin.id]) {
      const reminders = world.fake.dmMessages(person).filter((m) => m.text.startsWith(`BREAK-GLASS access ${id}`));
      assert.equal(reminders.length, 2, `a fresh copy for ${person}`);
      assert.match(blocksOf(reminders.at(-1)!), /Reminder/);
    }
    const post = copies.find((c) => c.channel === APPROVAL_CHANNEL)!;
    const postAsFirstShown = structuredClone(post);
    assert.ok(world.fake.message(post.channel, post.ts)!.replies.some((r) => /still waits for review/.test(r.text)));

    // Alice cannot review her own; Bob (a requestor, not an approver) may not review it either.
    const before = JSON.stringify(await store().getRequest(id));
    assert.match(await click(post, 'reviewed', id, alice.id), /cannot review your own/);
    assert.match(await click(post, 'flagged', id, bob.id), /Only an approver of .* or a Sesame admin can review it/);
    assert.equal(JSON.stringify(await store().getRequest(id)), before, 'nothing changed');

    // Carol flags it: every copy says so, without buttons; the audit trail has it; the admin is told.
    const carolCopy = world.fake.dmMessages(carol.id).find((m) => m.text.startsWith(`BREAK-GLASS access ${id}`))!;
    assert.match(await click(carolCopy, 'flagged', id, carol.id), /You flagged/);
    await world.bot.notifier.drain();
    const after = alertCopies(id);
    assert.equal(after.length, 5, 'the three alerts and the two reminders');
    for (const copy of after) {
      assert.ok(!hasReviewButtons(copy, id), `no review buttons left on ${copy.channel}`);
      assert.match(blocksOf(copy), new RegExp(`Flagged by <@${carol.id}>`));
    }
    const event = (await store().listAudit(new Date(0))).find((e) => e.action === 'breakglass.flagged');
    assert.deepEqual([event?.actor, event?.requestId], [carol.id, id]);
    await waitForDm(world.fake, admin.id, new RegExp(`Break-glass access ${id} was flagged`), "the admin's flag alert");

    // A second review (from a copy Slack had not updated yet) changes nothing and names who
    // reviewed; the list no longer shows it.
    assert.match(await click(postAsFirstShown, 'reviewed', id, admin.id, true), new RegExp(`already flagged by <@${carol.id}>`));
    assert.equal((await store().getRequest(id))?.reviewOutcome, 'flagged');
    assert.doesNotMatch(await command('list', admin.id), /Break-glass grants waiting for review/);
    for (const line of world.logLines)
      assert.ok(!line.includes(decodeURIComponent(/:\/\/[^:]+:([^@]+)@/.exec(uri)![1]!)), 'no password in logs');
  });

  /** The DM channel the stand-in opened with a person. */
  function dmOf(userId: string): string {
    const dm = world.fake.dmMessages(userId)[0];
    assert.ok(dm, `a DM to ${userId}`);
    return dm.channel;
  }
});
