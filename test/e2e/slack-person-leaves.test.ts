/**
 * A person who leaves, end to end through the Bolt app, the Slack stand-in and a real
 * PostgreSQL: Slack's user_change event with `deleted: true` revokes every grant of theirs at
 * once (their open session ended, a new login refused), cancels what waits for approval, and
 * tells the admins; Slack's retry of the event changes nothing more.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { showCredentials, waitForRequest } from '../support/slack/e2eSteps.ts';
import { pollUntil } from '../support/poll.ts';
import { APP, pgVersions } from '../support/postgres.ts';
import { e2eSuiteHooks, PEOPLE, waitForDm, type E2eWorld } from '../support/slack/botHarness.ts';

const { alice, bob, admin } = PEOPLE;
const version = pgVersions()[0]!;

describe(`a person who leaves (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let world: E2eWorld;
  e2eSuiteHooks(version, (suite) => {
    world = suite.world;
  });

  it('loses every grant and session at once, what waits is cancelled, the admins are told, and a retry changes nothing', async () => {
    await world.driver.slashCommand({ userId: alice.id, text: `local/${APP.database}/public readonly for 1h because read orders` });
    const granted = await waitForRequest(world, 'read orders');
    const dm = await waitForDm(world.fake, alice.id, new RegExp(`Access granted.*${granted}`), 'the granted DM');
    const { uri, password } = await showCredentials(world, dm, granted, alice.id);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    await session.query('SELECT count(*) FROM public.orders');
    await world.driver.slashCommand({ userId: alice.id, text: `local/${APP.database} readwrite for 1h because write orders` });
    const pending = await waitForRequest(world, 'write orders');
    // Bob leaves too, with nothing in Sesame: nothing is said about him.
    await world.driver.userChange(bob.id, true);

    const eventId = 'EvALICELEFT';
    const ack = await world.driver.userChange(alice.id, true, eventId);
    assert.equal(ack.status, 200);
    const store = world.bot.sesame.store;
    await pollUntil(async () => (await store.getRequest(granted))?.status === 'revoked', 'the grant revoked');
    assert.equal((await store.getRequest(pending))?.status, 'cancelled');

    await assert.rejects(session.query('SELECT 1'), 'the open session was ended');
    const login = new pg.Client({ connectionString: uri });
    await assert.rejects(login.connect(), /password authentication failed|not permitted to log in|expired/);
    assert.ok(!world.logLines.some((l) => l.includes(password)));

    await world.bot.notifier.drain();
    const told = world.fake.dmMessages(admin.id).filter((m) => /was deactivated in Slack/.test(JSON.stringify(m.blocks)));
    assert.equal(told.length, 1, 'the admins are told once');
    assert.match(JSON.stringify(told[0]!.blocks), new RegExp(`${granted}.*${pending}`));
    const audit = (await store.listAudit(new Date(0))).filter((e) => e.requestId === granted || e.requestId === pending);
    assert.ok(audit.some((e) => e.action === 'grant.revoking' && JSON.stringify(e.details).includes('deactivated in Slack')));
    assert.ok(audit.some((e) => e.action === 'request.cancelled' && JSON.stringify(e.details).includes('deactivated in Slack')));

    // Slack's retry of the same event is acknowledged and handled no more.
    const auditBefore = (await store.listAudit(new Date(0))).length;
    assert.equal((await world.driver.userChange(alice.id, true, eventId)).status, 200);
    await world.bot.notifier.drain();
    assert.equal((await store.listAudit(new Date(0))).length, auditBefore);
    assert.equal(world.fake.dmMessages(admin.id).filter((m) => /was deactivated in Slack/.test(JSON.stringify(m.blocks))).length, 1);
  });

  it('found deactivated when an expiry reminder is due: access ends then, and no reminder is sent', async () => {
    const { carol } = PEOPLE;
    await world.driver.slashCommand({ userId: carol.id, text: `local/${APP.database}/public readonly for 1h because carol reads` });
    const id = await waitForRequest(world, 'carol reads');
    const dm = await waitForDm(world.fake, carol.id, new RegExp(`Access granted.*${id}`), 'the granted DM');
    const { uri } = await showCredentials(world, dm, id, carol.id);
    // She leaves while no event reaches Sesame; Slack still says so when asked.
    world.fake.addUser({ ...carol, deleted: true });
    world.clock.advance(55 * 60_000);
    await world.bot.sesame.scheduler.runNow('remind');
    const store = world.bot.sesame.store;
    assert.equal((await store.getRequest(id))?.status, 'revoked');
    await world.bot.notifier.drain();
    assert.equal(world.fake.dmMessages(carol.id).filter((m) => /expires|ends soon/i.test(m.text)).length, 0, 'no reminder');
    const login = new pg.Client({ connectionString: uri });
    await assert.rejects(login.connect(), /password authentication failed|not permitted to log in|expired/);
  });

  it('a profile change that is not a deactivation changes nothing', async () => {
    const before = (await world.bot.sesame.store.listAudit(new Date(0))).length;
    assert.equal((await world.driver.userChange(PEOPLE.dave.id, false)).status, 200);
    await world.bot.notifier.drain();
    assert.equal((await world.bot.sesame.store.listAudit(new Date(0))).length, before);
  });
});
