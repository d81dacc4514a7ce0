/**
 * Sesame in Socket Mode, end to end: `SLACK_APP_TOKEN` set and no signing secret, the bot opens
 * a WebSocket to the fake Slack with apps.connections.open, and commands, clicks and events
 * arrive as envelopes it acknowledges on the socket. Health and metrics still answer on PORT; a
 * grant approved over the socket is proven by logging in; a `disconnect` from Slack is followed
 * by a new connection that keeps working.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { APP, freePort, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { PEOPLE, waitForDm, startSocketModeWorld, type E2eWorld } from '../support/slack/botHarness.ts';
import type { SocketAck } from '../../src/playground/slack/SocketModeServer.ts';
import type { SocketModeDriver } from '../../src/playground/slack/SocketModeDriver.ts';

const { alice, bob } = PEOPLE;
const version = pgVersions()[0]!;

/** A bare ack, acknowledged within Slack's 3 seconds. */
function assertAcked(ack: SocketAck, type: string): void {
  assert.equal(ack.envelope?.type, type);
  assert.deepEqual(ack.payload, {}, 'a bare ack');
  assert.ok(ack.ms < 3000, `acknowledged in ${ack.ms} ms`);
}

describe(`Sesame in Slack over Socket Mode (PostgreSQL ${version})`, () => {
  let cluster: TestCluster;
  let world: E2eWorld<SocketModeDriver>;
  let port: number;

  // Bounded, so that a bot that never connects fails the file instead of hanging it.
  before(
    async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      port = await freePort();
      world = await startSocketModeWorld(cluster, { port });
    },
    { timeout: 120_000 },
  );
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });

  const store = () => world.bot.sesame.store;

  /** Sends the command over the socket and returns its ephemeral answer. */
  async function command(text: string, userId: string = alice.id): Promise<string> {
    const seen = world.fake.ephemerals(userId).length;
    assertAcked(await world.driver.slashCommand({ userId, text }), 'slash_commands');
    const reply = await world.fake.waitFor(() => world.fake.ephemerals(userId)[seen], `an answer to "${text}"`, 10_000);
    assert.equal(reply.via, 'response_url');
    return `${reply.text}\n${JSON.stringify(reply.blocks)}`;
  }

  it('connects with the app-level token and serves /healthz, /readyz and /metrics on PORT', async () => {
    assert.equal(world.bot.slack.mode, 'socket');
    assert.equal(world.bot.port, port);
    const opened = world.fake.calls('apps.connections.open');
    assert.equal(opened.length, 1);
    assert.match((opened[0]!.response as { url: string }).url, /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
    assert.ok(world.fake.socketMode.openConnection(), 'greeted with hello');

    const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`);
    const healthz = await get('/healthz');
    assert.equal(healthz.status, 200);
    assert.equal(await healthz.text(), 'ok\n');
    assert.equal((await get('/readyz')).status, 200);
    const metrics = await get('/metrics');
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /^sesame_active_grants \d+$/m);
    // Nothing listens for Slack over HTTP: requests come on the socket only.
    assert.equal((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST', body: '{}' })).status, 404);
  });

  it('acknowledges /access help on the socket and answers through the response_url', async () => {
    const text = await command('help');
    assert.match(text, /\/access \[request\] <target> <permission>/);
    assert.match(text, /`local`: `readonly`, `readwrite`/);
    assert.equal(world.fake.socketMode.envelopes().at(-1)?.accepts_response_payload, true);
  });

  it('grants a request approved by a click on the socket, and the credentials modal logs in', async () => {
    await command(`local/${APP.database} readwrite for 1h because over the socket`);
    const request = (await store().listRequests({})).find((r) => r.reason === 'over the socket')!;
    assert.equal(request.status, 'pending');
    await world.bot.notifier.drain();
    const [bobCopy] = world.fake.dmMessages(bob.id).filter((m) => m.text.includes(request.id));
    assert.ok(bobCopy, 'the approval DM');

    assertAcked(await world.driver.clickButton(bobCopy, `sesame.approve:${request.id}`, bob.id), 'interactive');
    const dm = await waitForDm(world.fake, alice.id, new RegExp(`Access granted.*${request.id}`), 'the granted DM');
    assert.equal((await store().getRequest(request.id))?.status, 'granted');

    const views = world.fake.views(alice.id).length;
    assertAcked(await world.driver.clickButton(dm, `sesame.credentials:${request.id}`, alice.id), 'interactive');
    const modal = await world.fake.waitFor(
      () =>
        world.fake
          .views(alice.id)
          .slice(views)
          .find((v) => JSON.stringify(v.view).includes('postgresql://')),
      'the credentials modal',
      10_000,
    );
    const uri = /postgresql:\/\/[^`"\\]+/.exec(JSON.stringify(modal.view))![0];
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    try {
      assert.equal((await session.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n, 3);
      await session.query('BEGIN');
      await session.query('INSERT INTO public.customers (name) VALUES ($1)', ['socket mode']);
      await session.query('ROLLBACK');
    } finally {
      await session.end();
    }
  });

  it('reconnects after a disconnect (refresh_requested) with a new URL, and keeps working', async () => {
    const first = world.fake.socketMode.disconnect('refresh_requested');
    // The client waits its reconnect delay (5 s by default) before asking for a new URL.
    const second = await world.fake.socketMode.waitForConnection({ afterId: first.id, timeoutMs: 20_000 });
    assert.equal(first.open, false);
    assert.equal(first.closeCode, 1000, 'the client closed the old connection normally');
    assert.equal(world.fake.calls('apps.connections.open').length, 2, 'a fresh URL for the new connection');

    const grant = (await store().listRequests({})).find((r) => r.reason === 'over the socket')!;
    assertAcked(await world.driver.appHomeOpened(alice.id), 'events_api');
    const home = await world.fake.waitFor(() => world.fake.homeView(alice.id), 'the Home tab', 10_000);
    assert.ok(JSON.stringify(home.view).includes(`sesame.credentials:${grant.id}`));
    assert.match(await command(`revoke ${grant.id}`), new RegExp(`\`${grant.id}\` is revoked`));
    assert.ok(
      world.fake.socketMode
        .acks()
        .slice(-2)
        .every((a) => a.connectionId === second.id),
      'acked on the new connection',
    );
    assert.equal((await store().getRequest(grant.id))?.status, 'revoked');
  });

  it('keeps the app token and the bot token out of the logs', () => {
    const logs = world.logLines.join('');
    assert.ok(logs.length > 0);
    for (const secret of [world.fake.appToken, world.fake.botToken]) assert.ok(!logs.includes(secret), 'a token reached the logs');
  });

  it('stops cleanly: the socket is closed normally and PORT stops answering', async () => {
    const connection = world.fake.socketMode.openConnection()!;
    await world.bot.close();
    await world.fake.waitFor(() => !connection.open, 'the connection to close');
    assert.equal(connection.closeCode, 1000);
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`));
  });

  it('refuses to start with an app token Slack does not know, naming the variable', async () => {
    const appToken = 'xapp-1-A0FAKEAPP-0000-revoked';
    await assert.rejects(startSocketModeWorld(cluster, { port: await freePort(), appToken }), (err: Error) => {
      assert.match(err.message, /SLACK_APP_TOKEN: Slack refused the app-level token \(invalid_auth\)/);
      assert.ok(!err.message.includes(appToken));
      return true;
    });
  });
});
