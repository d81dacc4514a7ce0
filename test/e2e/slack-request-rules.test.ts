/**
 * A flow's own rules for requests, end to end through the Bolt app, the Slack stand-in and a
 * real PostgreSQL: a reason that must carry a ticket key (checked in the command and the form,
 * with the flow's hint in the error), and a quorum of approvals from different people, its
 * progress shown on every approval message. Access is proven by logging in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { approvalCopies, commandReply, ephemeralAt, showCredentials, waitForRequest } from '../support/slack/e2eSteps.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { APPROVAL_CHANNEL, PEOPLE, startE2eWorld, waitForDm, type E2eWorld } from '../support/slack/botHarness.ts';

const { alice, bob, carol, admin } = PEOPLE;
const version = pgVersions()[0]!;

/**
 * Ticketed reads of sales need no approver; writes to sales need two of Bob, Carol and the admin,
 * and Carol's go through a flow whose two approvers include herself.
 */
const FLOWS = `  - name: ticketed-read
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}], schemas: [sales] }]
    permissions: [readonly]
    maxDuration: 2h
    approvers: []
    justification: { pattern: "^[A-Z]+-[0-9]+", hint: "a ticket key like OPS-123" }
  - name: two-of-three
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}], schemas: [sales] }]
    permissions: [readwrite]
    maxDuration: 2h
    approvers: [${bob.id}, ${carol.id}, ${admin.id}]
    minApprovals: 2
  - name: two-of-two
    requestors: [${carol.id}]
    targets: [{ integration: local, databases: [${APP.database}], schemas: [sales] }]
    permissions: [readwrite]
    maxDuration: 2h
    approvers: [${bob.id}, ${carol.id}]
    minApprovals: 2`;

describe(`a flow's rules for requests (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let world: E2eWorld;

  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster, { accessFlows: FLOWS });
  });
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });

  const requests = () => world.bot.sesame.store.listRequests({});

  const command = (text: string, userId: string = alice.id) => commandReply(world, userId, text);

  /** Logs in with the credentials Alice's grant DM reveals and reads sales.deals. */
  async function readDealsAs(requestId: string): Promise<void> {
    const dm = await waitForDm(world.fake, alice.id, new RegExp(`Access granted.*${requestId}`), 'the granted DM');
    const { uri } = await showCredentials(world, dm, requestId, alice.id);
    const login = new pg.Client({ connectionString: uri });
    await login.connect();
    try {
      await login.query('SELECT count(*) FROM sales.deals');
    } finally {
      await login.end();
    }
  }

  it('refuses a reason without a ticket key, saying what the flow wants, and records nothing', async () => {
    for (const reason of ['', 'because looking at deals', 'because ops-12 lower case']) {
      const reply = await command(`local/${APP.database}/sales readonly for 1h ${reason}`);
      assert.match(reply, /a ticket key like OPS-123/, reply);
    }
    const refused = await command(`local/${APP.database}/sales readonly for 1h because looking at deals`);
    assert.match(
      refused,
      /Flow ticketed-read needs a reason with a ticket key like OPS-123: add it after \\"because\\", e\.g\. \\"because OPS-123/,
    );
    assert.deepEqual(await requests(), []);
  });

  it('grants at once with a ticket key, and the person logs in and reads', async () => {
    const reply = await command(`local/${APP.database}/sales readonly for 1h because OPS-42 deal totals look wrong`);
    const id = /`(R[2-9A-HJ-NP-Z]{6})` granted/.exec(reply)?.[1];
    assert.ok(id, reply);
    await readDealsAs(id);
  });

  it('shows the hint in the form and in help', async () => {
    const help = await command('help');
    assert.match(help, /reason required \(with a ticket key like OPS-123\)/);
    const views = world.fake.views(alice.id).length;
    await world.driver.slashCommand({ userId: alice.id, text: '' });
    const modal = await world.fake.waitFor(() => world.fake.views(alice.id)[views], 'the request form', 10_000);
    assert.match(JSON.stringify(modal.view), /Include a ticket key like OPS-123\./);
  });

  it('waits for two different approvers, showing the progress on every copy, then grants', async () => {
    await command(`local/${APP.database}/sales readwrite for 1h because OPS-7 fix a deal`);
    const id = await waitForRequest(world, 'OPS-7 fix a deal');
    await world.bot.notifier.drain();
    const copies = () => approvalCopies(world, id, [bob.id, carol.id, admin.id]);
    assert.equal(copies().length, 4, 'Bob, Carol, the admin and the channel');
    for (const copy of copies()) {
      assert.match(JSON.stringify(copy.blocks), /2 approvals from different people/);
      assert.match(JSON.stringify(copy.blocks), /0 of 2 approvals so far/);
    }
    const bobCopy = copies().find((m) => m.channel !== APPROVAL_CHANNEL && world.fake.dmMessages(bob.id).includes(m))!;
    const bobSeen = world.fake.ephemerals(bob.id).length;
    await world.driver.clickButton(bobCopy, `sesame.approve:${id}`, bob.id);
    assert.match(await ephemeralAt(world, bob.id, bobSeen), /still waits for the other approvers/);
    assert.equal((await world.bot.sesame.store.getRequest(id))?.status, 'pending');
    await world.bot.notifier.drain();
    for (const copy of copies()) assert.match(JSON.stringify(copy.blocks), new RegExp(`1 of 2 approvals: <@${bob.id}>`));

    // Bob again does not count twice.
    await world.driver.clickButton(bobCopy, `sesame.approve:${id}`, bob.id);
    assert.match(await ephemeralAt(world, bob.id, bobSeen + 1), /already approved/);
    assert.equal((await world.bot.sesame.store.getRequest(id))?.status, 'pending');

    const carolCopy = world.fake.dmMessages(carol.id).find((m) => m.text.includes(id))!;
    await world.driver.clickButton(carolCopy, `sesame.approve:${id}`, carol.id);
    await readDealsAs(id);
    const approvals = (await world.bot.sesame.store.listApprovals(id)).map((a) => a.approverId).sort();
    assert.deepEqual(approvals, [bob.id, carol.id].sort());
  });

  it('refuses a quorum the approvers cannot meet without the requester, before anything is recorded', async () => {
    const before = (await requests()).length;
    const reply = await command(`local/${APP.database}/sales readwrite for 1h because OPS-9 by carol`, carol.id);
    assert.match(reply, /Flow two-of-two needs 2 approvals from different people, and its approvers name only 1 besides you/);
    assert.equal((await requests()).length, before);
  });
  it('a quorum still needs the others when an approver files the request for someone', async () => {
    const reply = await command(`grant ${alice.id} local/${APP.database}/sales readwrite for 1h because OPS-8 filed by Bob`, bob.id);
    const id = await waitForRequest(world, 'OPS-8 filed by Bob');
    assert.match(reply, new RegExp(`${id}.*for <@${alice.id}> sent for approval`));
    const filed = (await world.bot.sesame.store.getRequest(id))!;
    assert.equal(filed.status, 'pending', 'one approval of two');
    assert.equal(filed.requestedBy, bob.id);
    assert.deepEqual(
      (await world.bot.sesame.store.listApprovals(id)).map((a) => [a.approverId, a.decision]),
      [[bob.id, 'approve']],
      "the filer's filing is their approval",
    );
    await world.bot.notifier.drain();
    const adminCopy = world.fake.dmMessages(admin.id).find((m) => m.text.includes(id))!;
    assert.match(JSON.stringify(adminCopy.blocks), new RegExp(`1 of 2 approvals: <@${bob.id}>`));
    await world.driver.clickButton(adminCopy, `sesame.approve:${id}`, admin.id);
    await readDealsAs(id);
  });
});
