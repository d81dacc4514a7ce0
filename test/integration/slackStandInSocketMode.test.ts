/**
 * The fake's Socket Mode, against the real Bolt SocketModeReceiver (and the @slack/socket-mode
 * client under it): apps.connections.open takes the app-level token and only it, a ticket opens
 * one connection, every kind of envelope is acknowledged the way the client does it, and the
 * client comes back after a `disconnect` or a dropped connection.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { App, LogLevel, SocketModeReceiver, webApi } from '@slack/bolt';
import { boltLogger } from '../../src/adapters/slack/SlackApp.ts';
import { createLogger } from '../../src/logger.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { SocketModeDriver } from '../../src/playground/slack/SocketModeDriver.ts';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const plain = (text: string) => ({ type: 'plain_text' as const, text });
const section = (text: string) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text } });

/** A WebSocket opening handshake by hand: the status the server answers (101 when it accepts). */
function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url.replace(/^ws/, 'http'), {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the fake Slack in Socket Mode, with a Bolt app', () => {
  let fake: SlackStandIn;
  let app: App;
  let driver: SocketModeDriver;

  before(async () => {
    fake = await SlackStandIn.start({
      users: [
        { id: ALICE, name: 'alice' },
        { id: BOB, name: 'bob' },
      ],
    });
    const receiver = new SocketModeReceiver({
      appToken: fake.appToken,
      // The reconnect delay is this timeout times the failures in a row: short, for a quick test.
      clientPingTimeout: 600,
      // Silent: the connection errors these tests provoke on purpose would be logged otherwise.
      logger: boltLogger(createLogger({ level: 'silent' })),
      installerOptions: { clientOptions: { slackApiUrl: fake.apiUrl } },
    });
    app = new App({
      token: fake.botToken,
      receiver,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    app.command('/access', async ({ command, ack, respond, client }) => {
      if (command.text === 'modal') {
        await ack();
        await client.views.open({
          trigger_id: command.trigger_id,
          view: {
            type: 'modal',
            callback_id: 'ask',
            title: plain('Ask'),
            submit: plain('Send'),
            blocks: [{ type: 'input', block_id: 'why', label: plain('Why'), element: { type: 'plain_text_input', action_id: 'why' } }],
          },
        });
        return;
      }
      await ack({ response_type: 'ephemeral', text: `You asked for ${command.text}` });
      await respond({ text: 'Sent to the approvers' });
      await client.chat.postMessage({
        channel: BOB,
        text: 'Approve?',
        blocks: [{ type: 'actions', elements: [{ type: 'button', action_id: 'approve', text: plain('Approve'), value: 'req-1' }] }],
      });
    });
    app.action('approve', async ({ ack, body, client }) => {
      await ack();
      if (body.type !== 'block_actions' || !body.channel || !body.message) throw new Error('a click on a message carries it');
      await client.chat.update({
        channel: body.channel.id,
        ts: body.message.ts,
        text: 'Approved',
        blocks: [section(`Approved by <@${body.user.id}>`)],
      });
    });
    app.view('ask', async ({ ack, view }) => {
      await ack({
        response_action: 'update',
        view: { type: 'modal', title: plain('Asked'), blocks: [section(`Because ${view.state.values.why?.why?.value}`)] },
      });
    });
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [section(`Hello <@${event.user}>`)] } });
    });
    await app.start();
    driver = new SocketModeDriver(fake);
  });
  after(async () => {
    await app.stop();
    await fake.stop();
  });

  it('opens a connection only for the app-level token, sent in the Authorization header', async () => {
    const open = (token: string) =>
      new webApi.WebClient(token, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } }).apps.connections.open();
    const opened = await open(fake.appToken);
    assert.match(opened.url!, /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[0-9a-f]+&app_id=A0FAKEAPP$/);
    await assert.rejects(open(fake.botToken), (err: { data?: { error?: string } }) => err.data?.error === 'invalid_auth');
    const asArgument = await fetch(`${fake.apiUrl}apps.connections.open`, {
      method: 'POST',
      body: new URLSearchParams({ token: fake.appToken }),
    });
    assert.equal(((await asArgument.json()) as { error: string }).error, 'not_authed');
    const botMethod = await fetch(`${fake.apiUrl}auth.test`, { method: 'POST', headers: { Authorization: `Bearer ${fake.appToken}` } });
    assert.equal(((await botMethod.json()) as { error: string }).error, 'invalid_auth');

    assert.equal(await upgradeStatus(opened.url!), 101);
    await fake.waitFor(() => fake.socketMode.connections().filter((c) => c.open).length === 1, 'the hand-made connection to close');
    assert.equal(await upgradeStatus(opened.url!), 401, 'a ticket opens one connection');
    assert.equal(await upgradeStatus(opened.url!.replace(/ticket=\w+/, 'ticket=made-up')), 401);
  });

  it('greets the app with hello, which is what completes its start', () => {
    const [connection] = fake.socketMode.connections();
    assert.equal(connection?.open, true);
    assert.equal(fake.calls('apps.connections.open')[0]?.status, 200);
  });

  it("takes a slash command's response payload in the ack, and the response_url and Web API calls land in the fake", async () => {
    const ack = await driver.slashCommand({ userId: ALICE, text: 'read prod' });
    assert.deepEqual(ack.payload, { response_type: 'ephemeral', text: 'You asked for read prod' });
    assert.equal(ack.envelope?.accepts_response_payload, true);
    assert.ok(ack.ms < 3000);
    await fake.waitFor(() => fake.ephemerals(ALICE).find((e) => e.text === 'Sent to the approvers'), 'the response_url reply');
    const post = await fake.waitFor(() => fake.dmMessages(BOB).find((m) => m.text === 'Approve?'), 'the approval post');

    const click = await driver.clickButton(post, 'approve', BOB);
    assert.equal(click.envelope?.type, 'interactive');
    assert.equal(click.envelope?.accepts_response_payload, false);
    assert.deepEqual(click.payload, {});
    await fake.waitFor(() => fake.message(post.channel, post.ts)?.text === 'Approved', 'the update');
  });

  it('applies a view_submission answered in the ack, and delivers events', async () => {
    await driver.slashCommand({ userId: ALICE, text: 'modal' });
    const modal = await fake.waitFor(() => fake.views(ALICE).find((v) => v.view.callback_id === 'ask'), 'the modal');
    const submitted = await driver.submitView(modal, { why: 'incident 42' });
    assert.equal(submitted.envelope?.accepts_response_payload, true);
    assert.deepEqual(submitted.problems, []);
    assert.deepEqual(fake.view(modal.id)!.view.blocks, [section('Because incident 42')]);

    const event = await driver.appHomeOpened(BOB);
    assert.equal(event.envelope?.type, 'events_api');
    assert.equal(event.envelope?.retry_attempt, 0);
    await fake.waitFor(() => fake.homeView(BOB), "Bob's Home tab");
  });

  it('after a disconnect (refresh_requested), or a dropped connection, the client opens a new one', async () => {
    const first = fake.socketMode.disconnect('refresh_requested');
    const second = await fake.socketMode.waitForConnection({ afterId: first.id });
    assert.equal(first.closeCode, 1000);
    assert.deepEqual(first.disconnects, ['refresh_requested']);
    assert.equal((await driver.appHomeOpened(ALICE)).connectionId, second.id);
    await fake.waitFor(() => fake.homeView(ALICE), "Alice's Home tab");

    const dropped = fake.socketMode.drop();
    const third = await fake.socketMode.waitForConnection({ afterId: dropped.id });
    assert.equal(dropped.closeCode, 1006);
    assert.equal((await driver.slashCommand({ userId: ALICE, text: 'again' })).connectionId, third.id);
    await fake.waitFor(() => fake.dmMessages(BOB).length === 2, 'the second approval post');
    const urls = fake.calls('apps.connections.open').filter((c) => (c.response as { ok: boolean }).ok);
    assert.equal(urls.length, 4, "one URL for each of the app's three connections, and the first test's own");
  });

  it('rejects an envelope sent with no connection open, and the app closes its connection normally on stop', async () => {
    const connection = fake.socketMode.openConnection()!;
    await app.stop();
    await fake.waitFor(() => !connection.open, 'the connection to close');
    assert.equal(connection.closeCode, 1000);
    assert.throws(() => driver.appHomeOpened(ALICE), /no open Socket Mode connection/);
  });
});
