/**
 * The requester's side of Sesame in Slack, end to end: the real Bolt app over signed HTTP, a
 * fake Slack Web API that enforces Slack's limits, the SQLite store in a file and a real
 * PostgreSQL. Access is proven by logging in with the URI the credentials modal shows.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { APP, pgVersions, type TestCluster } from '../support/postgres.ts';
import { assertDenied } from '../support/postgresTarget.ts';
import { PEOPLE, waitForDm, SIGNING_SECRET, e2eSuiteHooks, type E2eWorld } from '../support/slack/botHarness.ts';
import { showCredentials as showCredentialsOf } from '../support/slack/e2eSteps.ts';
import type { StandInMessage } from '../../src/playground/slack/SlackStandIn.ts';

const HOUR = 3_600_000;
const alice = PEOPLE.alice.id;
const version = pgVersions()[0]!;

describe(`Sesame in Slack, the requester's side (PostgreSQL ${version})`, () => {
  let cluster: TestCluster;
  let world: E2eWorld;
  const passwords: string[] = [];

  e2eSuiteHooks(version, (started) => ({ cluster, world } = started));

  const requests = () => world.bot.sesame.store.listRequests({});
  const roleExists = async (name: string) => (await cluster.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).length > 0;
  const lastEphemeral = (userId: string) => world.fake.ephemerals(userId).at(-1);

  /** Sends the command and waits for its ephemeral answer. */
  async function command(text: string, userId: string = alice): Promise<string> {
    const before = world.fake.ephemerals(userId).length;
    const ack = await world.driver.slashCommand({ userId, text });
    assert.equal(ack.status, 200);
    assert.ok(ack.ms < 3000, `acknowledged in ${ack.ms} ms`);
    const reply = await world.fake.waitFor(() => world.fake.ephemerals(userId)[before], `an answer to "${text.slice(0, 40)}"`, 10_000);
    return `${reply.text}\n${JSON.stringify(reply.blocks)}`;
  }

  /** Clicks Show credentials on a grant DM and returns the URI and password the modal shows. */
  async function showCredentials(dm: StandInMessage, requestId: string): Promise<{ uri: string; password: string }> {
    const { uri, password, text } = await showCredentialsOf(world, dm, requestId, alice);
    passwords.push(password);
    assert.ok(text.includes(password) && text.includes('127.0.0.1') && text.includes(String(cluster.port)) && text.includes(APP.database));
    return { uri, password };
  }

  it('answers help with the usage and the flows this person can use', async () => {
    const text = await command('help');
    assert.match(text, /\/access \[request\] <target> <permission>/);
    assert.match(text, /`local`: `readonly`, `readwrite`/);
  });

  it('answers each bad input with what was wrong and the usage, and changes nothing', async () => {
    const cases: [string, RegExp][] = [
      ['nope/appdb readonly because x', /no integration named "nope"/],
      ['local/appdb/public readonly for 0m because x', /longer than zero/],
      ['local/appdb/public readonly for 9h because x', /longer than allowed/],
      ['local/appdb superuser because x', /is not a permission/],
      ['local/appdb;DROP ROLE sesame_connector readonly because x', /semicolon/],
      ['local/"appdb"";DROP ROLE x;" readonly because x', /No access flow lets you request/],
      [`local/appdb/public readonly because ${'y'.repeat(5000)}`, /at most 1000 characters/],
      ['request', /needs a target and a permission/],
    ];
    for (const [text, problem] of cases) {
      const reply = await command(text);
      assert.match(reply, problem, text.slice(0, 60));
      assert.match(reply, /Usage/, text.slice(0, 60));
    }
    assert.deepEqual(await requests(), []);
    assert.equal(await roleExists(PEOPLE.alice.email), false);
    assert.equal(world.fake.dmMessages(alice).length, 0);
  });

  it('refuses a forged signature and a stale timestamp with 401, changing nothing', async () => {
    const forged = await world.driver.forged.slashCommand({ userId: alice, text: 'local/appdb/public readonly because x' });
    const stale = await world.driver.stale.slashCommand({ userId: alice, text: 'local/appdb/public readonly because x' });
    assert.equal(forged.status, 401);
    assert.equal(stale.status, 401);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(await requests(), []);
    assert.equal(await roleExists(PEOPLE.alice.email), false);
  });

  it('opens the request modal, fills the pickers from the catalog, refuses a bad duration on its block, and grants', async () => {
    await world.driver.slashCommand({ userId: alice, text: '' });
    const modal = await world.fake.waitFor(
      () => world.fake.views(alice).find((v) => v.view.callback_id === 'sesame.request'),
      'the request modal',
    );
    const options = await world.driver.blockSuggestion({ userId: alice, actionId: 'sesame.request.database', value: '', view: modal });
    assert.deepEqual(options.problems, []);
    assert.deepEqual(
      (options.options as { options: { value: string }[] }).options.map((o) => o.value),
      [APP.database],
    );
    // The schema and table pickers follow what the form holds so far: Alice's flows cover public
    // (read-now) and the whole of appdb (write-approved), and nothing of otherdb.
    const picked = { 'sesame.request.integration': 'local', 'sesame.request.database': APP.database };
    const schemas = await world.driver.blockSuggestion({
      userId: alice,
      actionId: 'sesame.request.schema',
      value: '',
      view: modal,
      values: picked,
    });
    assert.deepEqual(
      (schemas.options as { options: { value: string }[] }).options.map((o) => o.value),
      ['public', 'sales'],
    );
    const elsewhere = await world.driver.blockSuggestion({
      userId: alice,
      actionId: 'sesame.request.schema',
      value: '',
      view: modal,
      values: { ...picked, 'sesame.request.database': APP.otherDatabase },
    });
    assert.deepEqual((elsewhere.options as { options: unknown[] }).options, []);
    const tables = await world.driver.blockSuggestion({
      userId: alice,
      actionId: 'sesame.request.table',
      value: 'ord',
      view: modal,
      values: { ...picked, 'sesame.request.schema': 'public' },
    });
    assert.deepEqual(tables.problems, []);
    assert.deepEqual(
      (tables.options as { options: { value: string }[] }).options.map((o) => o.value),
      ['order_totals', 'orders'],
    );
    const values = {
      'sesame.request.integration': 'local',
      'sesame.request.database': APP.database,
      'sesame.request.schema': 'public',
      'sesame.request.table': null,
      permission: 'readonly',
      duration: '9h',
      reason: 'look at the orders',
    };
    const refused = await world.driver.submitView(modal, values);
    assert.equal((refused.json as { response_action: string }).response_action, 'errors');
    assert.match(JSON.stringify(refused.json), /duration@local.*longer than allowed/);
    assert.deepEqual(await requests(), []);
    const accepted = await world.driver.submitView(modal, { ...values, duration: '30m' });
    assert.equal(accepted.status, 200);
    assert.deepEqual(accepted.problems, []);
    const [granted] = await requests();
    assert.equal(granted?.status, 'granted');
    assert.equal(granted?.durationMinutes, 30);
    assert.equal(granted?.reason, 'look at the orders');
    await waitForDm(world.fake, alice, new RegExp(`Access granted.*${granted!.id}`), 'the granted DM');
  });

  it('auto-approves by command, DMs the grant, and the credentials modal logs in: SELECT works, INSERT is denied', async () => {
    const reply = await command('local/appdb/public readonly for 1h because check yesterday');
    const id = /`(R[2-9A-HJ-NP-Z]{6})` granted/.exec(reply)?.[1];
    assert.ok(id, reply);
    const dm = await waitForDm(world.fake, alice, new RegExp(`Access granted.*${id}`), 'the granted DM');
    const text = JSON.stringify(dm.blocks);
    assert.match(text, /`local\/appdb\/public`/);
    assert.match(text, /`readonly`/);
    assert.match(text, /<!date\^\d+\^\{date_short_pretty\} at \{time\}\|/);
    assert.match(text, /Connect through the office VPN\./);
    for (const button of ['sesame.credentials', 'sesame.extend', 'sesame.revoke']) assert.ok(text.includes(`${button}:${id}`), button);

    const { uri } = await showCredentials(dm, id);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    try {
      assert.equal((await session.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n, 3);
      await assertDenied(session, 'INSERT INTO public.customers (name) VALUES ($1)', ['x']);
    } finally {
      await session.end();
    }
  });

  it('extends from the Extend button through its modal', async () => {
    const grant = (await requests()).find((r) => r.status === 'granted' && r.reason === 'check yesterday')!;
    const dm = await waitForDm(world.fake, alice, new RegExp(`Access granted.*${grant.id}`), 'the granted DM');
    await world.driver.clickButton(dm, `sesame.extend:${grant.id}`, alice);
    const modal = await world.fake.waitFor(
      () => world.fake.views(alice).find((v) => v.view.callback_id === 'sesame.extend' && !v.closed),
      'the extend modal',
    );
    const submitted = await world.driver.submitView(modal, { duration: '30m', reason: 'not done yet' });
    assert.equal(submitted.status, 200);
    assert.equal(submitted.json, undefined, 'the modal closes');
    const extended = (await world.bot.sesame.store.getRequest(grant.id))!;
    assert.equal(extended.expiresAt!.getTime(), grant.expiresAt!.getTime() + 30 * 60_000);
    await waitForDm(world.fake, alice, new RegExp(`${grant.id} was extended`), 'the extended DM');
  });

  it('revokes by command and from the Revoke button: the login stops working and the DM loses its buttons', async () => {
    const grant = (await requests()).find((r) => r.status === 'granted' && r.reason === 'check yesterday')!;
    // Alice's other grant (from the modal) would keep her login alive: ended by command first.
    const other = (await requests()).find((r) => r.status === 'granted' && r.id !== grant.id)!;
    assert.match(await command(`revoke ${other.id}`), new RegExp(`\`${other.id}\` is revoked`));
    const dm = await waitForDm(world.fake, alice, new RegExp(`Access granted.*${grant.id}`), 'the granted DM');
    const { uri } = await showCredentials(dm, grant.id);
    await world.driver.clickButton(dm, `sesame.revoke:${grant.id}`, alice);
    await world.fake.waitFor(() => lastEphemeral(alice)?.text.includes(`\`${grant.id}\` is revoked`), 'the revoke answer', 10_000);
    assert.equal((await world.bot.sesame.store.getRequest(grant.id))?.status, 'revoked');
    const login = new pg.Client({ connectionString: uri });
    login.on('error', () => undefined);
    await assert.rejects(login.connect(), /not permitted to log in|password authentication failed/);
    await world.bot.notifier.drain();
    assert.ok(!JSON.stringify(world.fake.message(dm.channel, dm.ts)!.blocks).includes('sesame.revoke:'));
  });

  it('expires on schedule and terminates an open session, then tells the requester', async () => {
    await command('local/appdb/public readonly for 1h because expiry');
    const grant = (await requests()).find((r) => r.reason === 'expiry')!;
    const dm = await waitForDm(world.fake, alice, new RegExp(`Access granted.*${grant.id}`), 'the granted DM');
    const { uri } = await showCredentials(dm, grant.id);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    assert.equal((await session.query('SELECT 1 AS one')).rows[0].one, 1);
    world.clock.advance(2 * HOUR);
    await world.bot.sesame.scheduler.runNow('expire');
    assert.equal((await world.bot.sesame.store.getRequest(grant.id))?.status, 'expired');
    await assert.rejects(session.query('SELECT 1'));
    await session.end().catch(() => undefined);
    await waitForDm(world.fake, alice, new RegExp(`${grant.id} expired`), 'the expiry DM');
  });

  it('reminds the requester ten minutes before expiry, with Extend', async () => {
    await command('local/appdb/public readonly for 1h because remind me');
    const grant = (await requests()).find((r) => r.reason === 'remind me')!;
    await world.bot.sesame.scheduler.runNow('remind');
    assert.equal(world.fake.dmMessages(alice).filter((m) => m.text.includes(`${grant.id} ends soon`)).length, 0, 'not yet');
    world.clock.advance(51 * 60_000);
    await world.bot.sesame.scheduler.runNow('remind');
    const reminder = await waitForDm(world.fake, alice, new RegExp(`${grant.id} ends soon`), 'the expiry reminder');
    assert.ok(JSON.stringify(reminder.blocks).includes(`sesame.extend:${grant.id}`));
    await world.bot.sesame.scheduler.runNow('remind');
    await world.bot.notifier.drain();
    assert.equal(world.fake.dmMessages(alice).filter((m) => m.text.includes(`${grant.id} ends soon`)).length, 1, 'once');
    await command(`revoke ${grant.id}`);
  });

  it('shows active grants and pending requests on the App Home tab', async () => {
    await command('local/appdb/public readonly for 1h because home');
    const grant = (await requests()).find((r) => r.reason === 'home')!;
    const ack = await world.driver.appHomeOpened(alice);
    assert.equal(ack.status, 200);
    const home = await world.fake.waitFor(() => world.fake.homeView(alice), 'the Home tab');
    const text = JSON.stringify(home.view);
    assert.ok(text.includes(`sesame.credentials:${grant.id}`));
    assert.match(text, /Your pending requests/);
    assert.match(text, /Waiting for your approval/);
  });

  it('retries chat.postMessage after a 429 with Retry-After, and the grant happens regardless', async () => {
    world.fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 1 });
    await command('local/appdb/public readonly for 1h because rate limited');
    const grant = (await requests()).find((r) => r.reason === 'rate limited')!;
    assert.equal(grant.status, 'granted');
    await waitForDm(world.fake, alice, new RegExp(`Access granted.*${grant.id}`), 'the granted DM after the retry');
    const statuses = world.fake.calls('chat.postMessage').map((c) => c.status);
    assert.ok(statuses.includes(429), 'Slack answered 429 once');
  });

  it('refuses a request past slack.maxPendingPerPerson, by command and by the form, and changes nothing', async () => {
    const max = world.bot.sesame.config.slack.maxPendingPerPerson;
    for (let i = 0; i < max; i++) await command(`local/${APP.database} readwrite for 1h because waiting ${i}`);
    const pending = (await requests()).filter((r) => r.status === 'pending' && r.requester.slackId === alice);
    assert.equal(pending.length, max);
    await world.bot.notifier.drain();
    const before = {
      requests: (await requests()).length,
      toApprovers: world.fake.dmMessages(PEOPLE.bob.id).length + world.fake.dmMessages(PEOPLE.carol.id).length,
    };
    const reply = await command(`local/${APP.database} readwrite for 1h because one too many`);
    assert.match(reply, new RegExp(`You already have ${max} requests waiting for approval`));
    assert.match(reply, /`\/access cancel &lt;request-id&gt;`/, 'shown as /access cancel <request-id>');
    assert.ok(reply.includes(pending[0]!.id));

    await world.driver.slashCommand({ userId: alice, text: '' });
    const modal = await world.fake.waitFor(
      () =>
        world.fake
          .views(alice)
          .filter((v) => v.view.callback_id === 'sesame.request' && !v.closed)
          .at(-1),
      'the request modal',
    );
    const refused = await world.driver.submitView(modal, {
      'sesame.request.integration': 'local',
      'sesame.request.database': APP.database,
      'sesame.request.schema': null,
      'sesame.request.table': null,
      permission: 'readwrite',
      duration: '1h',
      reason: 'one too many by the form',
    });
    assert.equal((refused.json as { response_action: string }).response_action, 'errors');
    assert.match(JSON.stringify(refused.json), new RegExp(`You already have ${max} requests waiting for approval`));

    await world.bot.notifier.drain();
    assert.equal((await requests()).length, before.requests, 'no request stored');
    assert.equal(
      world.fake.dmMessages(PEOPLE.bob.id).length + world.fake.dmMessages(PEOPLE.carol.id).length,
      before.toApprovers,
      'no approver told',
    );
    for (const r of pending) await command(`cancel ${r.id}`);
  });

  it('tells the requester that a grant failed and that admins know, and only the admins what went wrong', async () => {
    const connector = cluster.connector.username;
    const granted = (await requests()).find((r) => r.status === 'granted' && r.reason === 'rate limited')!;
    const seen = {
      dms: world.fake.dmMessages(alice).length,
      ephemerals: world.fake.ephemerals(alice).length,
      admin: world.fake.dmMessages(PEOPLE.admin.id).length,
    };
    // The connector can no longer sign in: every grant fails with what PostgreSQL says about it.
    await cluster.query(`ALTER ROLE ${connector} NOLOGIN`);
    await cluster.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [connector]);
    try {
      const reply = await command('local/appdb/public readonly for 1h because while the connector is locked out');
      const failed = (await requests()).find((r) => r.reason === 'while the connector is locked out')!;
      assert.equal(failed.status, 'failed');
      assert.match(failed.lastError ?? '', /not permitted to log in/);
      assert.match(reply, new RegExp(`${failed.id}.*failed`));
      assert.match(reply, /admins were told/);
      const dm = await waitForDm(world.fake, alice, new RegExp(`${failed.id} failed`), 'the failure DM');
      assert.match(JSON.stringify(dm.blocks), /admins were told/);
      const extendReply = await command(`extend ${granted.id} 30m`);
      assert.match(extendReply, /admins were told/);
      await world.bot.notifier.drain();

      const toAlice = [
        ...world.fake
          .dmMessages(alice)
          .slice(seen.dms)
          .map((m) => `${m.text}${JSON.stringify(m.blocks)}`),
        ...world.fake
          .ephemerals(alice)
          .slice(seen.ephemerals)
          .map((e) => `${e.text}${JSON.stringify(e.blocks)}`),
      ];
      assert.ok(toAlice.length >= 3);
      for (const text of toAlice) {
        for (const internal of ['127.0.0.1', String(cluster.port), connector, 'not permitted to log in', '28000']) {
          assert.ok(!text.includes(internal), `Alice was shown "${internal}": ${text.slice(0, 300)}`);
        }
        assert.doesNotMatch(text, /ssl/i);
      }
      const toAdmin = world.fake
        .dmMessages(PEOPLE.admin.id)
        .slice(seen.admin)
        .map((m) => `${m.text}${JSON.stringify(m.blocks)}`);
      const aboutGrant = toAdmin.find((t) => t.includes(failed.id));
      assert.ok(aboutGrant, 'the admin is told about the failed grant');
      for (const detail of ['127.0.0.1', connector, 'not permitted to log in']) assert.ok(aboutGrant.includes(detail), detail);
      assert.ok(
        toAdmin.some((t) => t.includes('extend') && t.includes('not permitted to log in')),
        'the admin is told what went wrong with the extension',
      );
    } finally {
      await cluster.query(`ALTER ROLE ${connector} LOGIN`);
    }
  });

  it('puts no password, token or connector secret in any message but the credentials modal, nor in the logs', async () => {
    await world.bot.notifier.drain();
    const secrets = [...passwords, cluster.connector.password, world.fake.botToken, SIGNING_SECRET];
    assert.ok(passwords.length >= 3);
    for (const call of world.fake.calls()) {
      const isCredentialsModal = call.method === 'views.update' && JSON.stringify(call.args).includes('Your credentials');
      if (isCredentialsModal) continue;
      const text = JSON.stringify(call.args);
      for (const secret of secrets) assert.ok(!text.includes(secret), `${call.method} carried a secret`);
    }
    const logs = world.logLines.join('');
    assert.ok(logs.length > 0);
    for (const secret of secrets) assert.ok(!logs.includes(secret), 'a secret reached the logs');
  });
});
