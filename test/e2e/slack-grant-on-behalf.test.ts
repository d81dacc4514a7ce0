/**
 * Grants on behalf, end to end through the Bolt app, the Slack stand-in and a real PostgreSQL:
 * `/access grant <person> …` by one who could approve (their filing is their approval) or by an
 * admin (the flow's approvers still decide); the person gets the DM and logs in with their own
 * credentials; both people are in every audit event; nobody else may, and no flow is bypassed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { pollUntil } from '../support/poll.ts';
import { commandReply, showCredentials } from '../support/slack/e2eSteps.ts';
import { PEOPLE, startE2eWorld, waitForDm, type E2eWorld } from '../support/slack/botHarness.ts';

const { alice, bob, carol, dave, admin } = PEOPLE;
const version = pgVersions()[0]!;

describe(`grants on behalf (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let world: E2eWorld;
  const store = () => world.bot.sesame.store;

  const command = (userId: string, text: string) => commandReply(world, userId, text);

  async function byReason(reason: string) {
    return pollUntil(async () => (await store().listRequests({})).find((r) => r.reason === reason), `a request "${reason}"`);
  }

  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster);
  });
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });

  it('an approver files it for the person: their filing approves it, the person gets the DM and logs in', async () => {
    const reply = await command(bob.id, `grant <@${alice.id}|alice> local/${APP.database} readwrite for 1h because INC-77 hotfix`);
    const request = await byReason('INC-77 hotfix');
    assert.equal(request.requester.slackId, alice.id, 'the request is the person’s');
    assert.equal(request.requestedBy, bob.id);
    assert.equal(request.flowName, 'write-approved', 'under the person’s flow');
    await pollUntil(async () => (await store().getRequest(request.id))?.status === 'granted' || undefined, 'the grant');
    assert.match(reply, new RegExp(`${request.id}.*granted to <@${alice.id}>`));

    const dm = await waitForDm(world.fake, alice.id, new RegExp(`Access granted.*${request.id}`), 'the person’s granted DM');
    assert.match(JSON.stringify(dm.blocks), new RegExp(`asked for you by <@${bob.id}>`));
    assert.equal(world.fake.dmMessages(bob.id).filter((m) => /Access granted/.test(m.text)).length, 0, 'the filer gets no credentials');
    const { uri } = await showCredentials(world, dm, request.id, alice.id);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    try {
      assert.equal((await session.query('SELECT current_user AS u')).rows[0].u, request.dbUser);
      await session.query("INSERT INTO public.customers (name) VALUES ('filed by bob')");
    } finally {
      await session.end();
    }

    const events = (await store().listAudit(new Date(0))).filter((e) => e.requestId === request.id);
    assert.ok(events.length >= 3, 'created, approved, granted');
    for (const e of events) {
      assert.equal(e.details?.requester, alice.id, `${e.action} names the person`);
      assert.equal(e.details?.requestedBy, bob.id, `${e.action} names the filer`);
    }
    assert.equal(events.find((e) => e.action === 'request.created')?.actor, bob.id, 'the filer made it');
    await command(alice.id, `revoke ${request.id}`);
  });

  it('an admin who is no approver files it by email: the flow’s approvers still decide', async () => {
    await command(admin.id, `grant ${alice.email} local/${APP.database} readwrite for 30m because INC-78 check`);
    const request = await byReason('INC-78 check');
    assert.equal(request.status, 'pending', 'an admin’s filing is no approval');
    await world.bot.notifier.drain();
    const copy = world.fake.dmMessages(carol.id).find((m) => m.text.includes(`Access request ${request.id}`))!;
    assert.match(JSON.stringify(copy.blocks), new RegExp(`Filed for <@${alice.id}> by <@${admin.id}>`));
    await world.driver.clickButton(copy, `sesame.approve:${request.id}`, carol.id);
    await pollUntil(async () => (await store().getRequest(request.id))?.status === 'granted' || undefined, 'granted after Carol');
    await command(alice.id, `revoke ${request.id}`);
  });

  it('refuses who may not, people who are not there, and what no flow of the person allows; nothing is recorded', async () => {
    const before = (await store().listRequests({})).length;
    const cases: [string, string, RegExp][] = [
      [
        dave.id,
        `grant ${alice.id} local/${APP.database} readwrite for 1h because x`,
        /Only a Sesame admin or someone who could approve it/,
      ],
      [alice.id, `grant ${dave.id} local/${APP.database} admin for 30m because x`, /Only a Sesame admin or someone who could approve it/],
      [bob.id, `grant ${alice.id} local/${APP.database} admin for 30m because x`, /No access flow lets you request admin/],
      [bob.id, `grant U0NOBODY1 local/${APP.database} readwrite because x`, /U0NOBODY1 is not a member of this Slack workspace/],
      [
        bob.id,
        `grant nobody@example.com local/${APP.database} readwrite because x`,
        /Nobody in this Slack workspace has the email nobody@example.com/,
      ],
      [bob.id, `grant @alice local/${APP.database} readwrite because x`, /Slack sent "@alice" as plain text/],
      [bob.id, `grant ${bob.id} local/${APP.database} readwrite because x`, /That is you/],
      [bob.id, `grant ${alice.id}`, /needs a person, a target and a permission/],
      [bob.id, `grant ${alice.id} local/${APP.database} readwrite for 9h because x`, /longer than allowed/],
    ];
    // Someone Slack has deactivated is refused too.
    world.fake.addUser({ id: 'U0GONE01', name: 'gone', email: 'gone@example.com', deleted: true });
    cases.push([bob.id, `grant U0GONE01 local/${APP.database} readwrite because x`, /deactivated in Slack; Sesame grants them nothing/]);
    // Slack finds no deactivated person by email: refused as nobody.
    cases.push([
      bob.id,
      `grant gone@example.com local/${APP.database} readwrite because x`,
      /Nobody in this Slack workspace has the email gone@example.com/,
    ]);
    for (const [who, text, expected] of cases) {
      assert.match(await command(who, text), expected, text);
    }
    assert.equal((await store().listRequests({})).length, before, 'nothing was recorded');
  });

  it('filing for someone never bypasses a flow: read-now grants at once only what it allows', async () => {
    // Nobody approves under read-now, so only an admin may file it for someone else.
    assert.match(
      await command(carol.id, `grant ${dave.email} local/${APP.database}/public readonly for 15m because INC-79 look`),
      /Only a Sesame admin or someone who could approve it .* that is nobody/,
    );
    await command(admin.id, `grant ${dave.email} local/${APP.database}/public readonly for 15m because INC-79 look`);
    const request = await byReason('INC-79 look');
    assert.equal(request.flowName, 'read-now');
    await pollUntil(async () => (await store().getRequest(request.id))?.status === 'granted' || undefined, 'granted by read-now');
    const dm = await waitForDm(world.fake, dave.id, new RegExp(`Access granted.*${request.id}`), 'Dave’s DM');
    const { uri } = await showCredentials(world, dm, request.id, dave.id);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    try {
      await assert.rejects(session.query("INSERT INTO public.customers (name) VALUES ('no')"), /permission denied/);
    } finally {
      await session.end();
    }
  });
});
