/**
 * Approvers end what they approved, end to end: the approval message keeps a Revoke button while
 * the grant lasts, the server decides who may click it, and a revocation by an approver takes the
 * access away (new logins and open sessions) and is audited under the approver's name.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pollUntil } from '../support/poll.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { APPROVAL_CHANNEL, PEOPLE, startE2eWorld, waitForDm, type E2eWorld } from '../support/slack/botHarness.ts';
import { approvalCopies, ephemeralAt, showCredentials, waitForRequest } from '../support/slack/e2eSteps.ts';
import type { StandInMessage } from '../../src/playground/slack/SlackStandIn.ts';

const { alice, bob, carol, dave } = PEOPLE;
const version = pgVersions()[0]!;
const hasRevoke = (m: StandInMessage, id: string) => JSON.stringify(m.blocks).includes(`sesame.revoke:${id}`);

describe(`Sesame in Slack, approvers revoke what they approved (PostgreSQL ${version})`, () => {
  let cluster: TestCluster;
  let world: E2eWorld;
  const opened: pg.Client[] = [];

  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster);
  });
  after(async () => {
    for (const client of opened) await client.end().catch(() => undefined);
    await world?.stop();
    await cluster?.stop();
  });

  const store = () => world.bot.sesame.store;
  const copiesOf = (id: string) => approvalCopies(world, id, [bob.id, carol.id]);

  async function login(uri: string): Promise<pg.Client> {
    const client = new pg.Client({ connectionString: uri });
    client.on('error', () => undefined);
    await client.connect();
    opened.push(client);
    return client;
  }

  const countOrders = async (client: pg.Client) => (await client.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n as number;

  it('a grant approved by Bob can be revoked by Bob from his approval DM, and by nobody who is not entitled', async () => {
    await world.driver.slashCommand({ userId: alice.id, text: `local/${APP.database} readwrite for 1h because fix the refunds` });
    const id = await waitForRequest(world, 'fix the refunds');
    await world.bot.notifier.drain();
    const bobCopy = world.fake.dmMessages(bob.id).find((m) => m.text.includes(`Access request ${id}`))!;
    await world.driver.clickButton(bobCopy, `sesame.approve:${id}`, bob.id);
    await pollUntil(async () => (await store().getRequest(id))?.status === 'granted', 'the grant');

    // Alice logs in as the granted user and works.
    const grantDm = await waitForDm(world.fake, alice.id, new RegExp(`Access granted.*${id}`), 'the granted DM');
    const { uri } = await showCredentials(world, grantDm, id, alice.id);
    const session = await login(uri);
    const orders = await countOrders(session);
    await session.query('INSERT INTO public.customers (name) VALUES ($1)', ['before the revocation']);

    // Every approval copy now offers Revoke, behind a confirmation.
    await world.bot.notifier.drain();
    const copies = copiesOf(id);
    assert.equal(copies.length, 3, "Bob's and Carol's DMs and the channel post");
    for (const copy of copies) {
      assert.ok(hasRevoke(copy, id), `Revoke on ${copy.channel}`);
      assert.match(JSON.stringify(copy.blocks), /End this access now\?/);
    }

    // Dave is neither requester, approver nor admin: refused, and the access stays.
    const post = copies.find((m) => m.channel === APPROVAL_CHANNEL)!;
    const daveSeen = world.fake.ephemerals(dave.id).length;
    await world.driver.clickButton(post, `sesame.revoke:${id}`, dave.id);
    assert.match(await ephemeralAt(world, dave.id, daveSeen), /Only the requester, an approver of .* or a Sesame admin can revoke it/);
    assert.equal((await store().getRequest(id))?.status, 'granted');
    assert.equal(await countOrders(session), orders, 'the open session still works');
    assert.equal(await countOrders(await login(uri)), orders, 'a new login still works');

    // Bob ends it from his DM.
    const bobSeen = world.fake.ephemerals(bob.id).length;
    await world.driver.clickButton(world.fake.message(bobCopy.channel, bobCopy.ts)!, `sesame.revoke:${id}`, bob.id);
    assert.match(await ephemeralAt(world, bob.id, bobSeen), new RegExp(`\`${id}\` is revoked`));
    const revoked = (await store().getRequest(id))!;
    assert.deepEqual([revoked.status, revoked.endedBy], ['revoked', bob.id]);
    await assert.rejects(login(uri), /not permitted to log in|password authentication failed/);
    await assert.rejects(session.query('SELECT 1'), 'the open session was ended');

    // The copies lose the button and say who ended it; the audit trail names Bob.
    await world.bot.notifier.drain();
    for (const copy of copiesOf(id)) {
      assert.ok(!hasRevoke(copy, id), `no Revoke left on ${copy.channel}`);
      assert.ok(
        copy.replies.some((r) => JSON.stringify(r.blocks).includes(`revoked by <@${bob.id}>`)),
        'who revoked, in the thread',
      );
    }
    const audit = (await store().listAudit(new Date(0))).filter((e) => e.requestId === id);
    for (const action of ['grant.revoking', 'grant.revoked']) {
      const event = audit.find((e) => e.action === action);
      assert.deepEqual([event?.actor, event?.actorEmail], [bob.id, bob.email], action);
    }
  });
});
