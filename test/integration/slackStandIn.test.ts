/**
 * The fake Slack Web API and the signed-request driver the end-to-end tests stand on: the fake
 * answers the real WebClient as Slack does (and refuses what Slack refuses), and a real Bolt app
 * accepts the driver's signed requests while refusing forged and stale ones.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { App, LogLevel, webApi } from '@slack/bolt';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { SignedAppDriver } from '../../src/playground/slack/SignedAppDriver.ts';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
const APPROVALS = 'C0APPROVALS';
const directory = {
  users: [
    { id: ALICE, name: 'alice', email: 'alice@example.com', tz: 'Europe/Paris' },
    { id: BOB, name: 'bob', email: 'bob@example.com', tz: 'America/New_York' },
    { id: CAROL, name: 'carol' },
  ],
  usergroups: [{ id: 'S0DBA', handle: 'dba', name: 'DBAs', members: [BOB] }],
  channels: [{ id: APPROVALS, name: 'access-approvals' }],
};

const plain = (text: string) => ({ type: 'plain_text' as const, text });
const section = (text: string) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text } });
const button = (actionId: string, text: string, value = 'req-1') => ({
  type: 'button' as const,
  action_id: actionId,
  text: plain(text),
  value,
});

/** Keeps the WebClient from printing the refusals these tests provoke on purpose. */
const quietLogger: webApi.Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => webApi.LogLevel.ERROR,
  setName: () => {},
};

/** Asserts a rejected WebClient call carries Slack's error code. */
const slackError = (code: string) => (err: unknown) => {
  assert.equal((err as { data?: { error?: string } }).data?.error, code);
  return true;
};

describe('the fake Slack Web API', () => {
  // A January noon, so that time zone offsets are the winter ones; tests move it by hand.
  let clock = Date.parse('2026-01-15T12:00:00Z');
  let fake: SlackStandIn;
  let client: webApi.WebClient;

  /** A call as any HTTP client would make it: JSON body, bearer token. */
  async function raw(method: string, args: Record<string, unknown>, token: string | null = fake.botToken) {
    const res = await fetch(`${fake.apiUrl}${method}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(args),
    });
    const text = await res.text();
    return {
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      text,
      body: text.startsWith('{') ? JSON.parse(text) : undefined,
    };
  }

  function webClient(token = fake.botToken, retryConfig: webApi.RetryOptions = { retries: 0 }) {
    return new webApi.WebClient(token, { slackApiUrl: fake.apiUrl, logger: quietLogger, retryConfig });
  }

  before(async () => {
    fake = await SlackStandIn.start({ ...directory, now: () => clock });
    client = webClient();
  });
  after(() => fake.stop());

  it('checks the bot token on every call', async () => {
    const ok = await client.auth.test();
    assert.equal(ok.user_id, fake.botUserId);
    assert.equal(ok.team_id, fake.teamId);
    assert.equal(ok.bot_id, fake.botId);
    await assert.rejects(webClient('xoxb-someone-else').auth.test(), slackError('invalid_auth'));
    assert.equal((await raw('chat.postMessage', { channel: APPROVALS, text: 'hi' }, null)).body.error, 'not_authed');
    assert.equal(fake.messages(APPROVALS).length, 0, 'nothing is posted without a valid token');
    assert.ok(
      fake.calls('auth.test').every((c) => !('token' in c.args)),
      'tokens are not recorded',
    );
  });

  it('stores a valid message as the WebClient sends it, with its thread replies', async () => {
    const blocks = [section('*alice* asks for read on `prod`'), { type: 'actions', elements: [button('approve', 'Approve')] }];
    const posted = await client.chat.postMessage({ channel: APPROVALS, text: 'Access request', blocks });
    assert.equal(posted.channel, APPROVALS);
    assert.match(posted.ts!, /^\d+\.\d{6}$/);
    const reply = await client.chat.postMessage({ channel: APPROVALS, thread_ts: posted.ts!, text: 'Approved by bob' });

    const [stored, ...others] = fake.messages(APPROVALS);
    assert.equal(others.length, 0, 'a thread reply is not a channel message');
    assert.deepEqual(stored!.blocks, blocks);
    assert.equal(stored!.text, 'Access request');
    assert.deepEqual(
      stored!.replies.map((r) => [r.ts, r.text]),
      [[reply.ts, 'Approved by bob']],
    );
    assert.equal(fake.message(APPROVALS, reply.ts!)?.threadTs, posted.ts);

    const dm = await client.chat.postMessage({ channel: ALICE, text: 'Your access is ready' });
    assert.equal(dm.channel, fake.dmChannelId(ALICE), 'posting to a user ID lands in their DM');
    assert.deepEqual(
      fake.dmMessages(ALICE).map((m) => m.text),
      ['Your access is ready'],
    );
  });

  it('refuses a message Slack would refuse, naming the violation, and stores nothing', async () => {
    const before = fake.messages().length;
    const tooLongButton = { type: 'actions', elements: [button('approve', 'A'.repeat(76))] };
    await assert.rejects(client.chat.postMessage({ channel: APPROVALS, text: 'x', blocks: [tooLongButton] }), (err: unknown) => {
      const data = (err as { data: { error: string; response_metadata: { messages: string[] } } }).data;
      assert.equal(data.error, 'invalid_blocks');
      assert.deepEqual(data.response_metadata.messages, [
        '[ERROR] blocks[0].elements[0].text.text: button text is 76 characters; Slack allows at most 75',
      ]);
      return true;
    });
    await assert.rejects(client.chat.postMessage({ channel: 'C0NOWHERE', text: 'x' }), slackError('channel_not_found'));
    await assert.rejects(client.chat.postMessage({ channel: APPROVALS, text: '' }), slackError('no_text'));
    await assert.rejects(client.chat.postMessage({ channel: APPROVALS, text: 'x'.repeat(40_001) }), slackError('msg_too_long'));
    await assert.rejects(client.chat.postMessage({ channel: APPROVALS, text: 'x', thread_ts: '1.000001' }), slackError('thread_not_found'));
    assert.equal(fake.messages().length, before);
  });

  it('chat.update changes the stored copy and keeps the version before it', async () => {
    const posted = await client.chat.postMessage({
      channel: BOB,
      text: 'Approve?',
      blocks: [{ type: 'actions', elements: [button('approve', 'Approve')] }],
    });
    await client.chat.update({
      channel: posted.channel!,
      ts: posted.ts!,
      text: 'Approved by bob',
      blocks: [section('Approved by <@U0BOB>')],
    });
    const stored = fake.message(posted.channel!, posted.ts!)!;
    assert.equal(stored.text, 'Approved by bob');
    assert.deepEqual(stored.blocks, [section('Approved by <@U0BOB>')]);
    assert.deepEqual(
      stored.edits.map((e) => e.text),
      ['Approve?'],
    );

    const invalid = { type: 'header', text: plain('H'.repeat(151)) };
    await assert.rejects(
      client.chat.update({ channel: posted.channel!, ts: posted.ts!, text: 'x', blocks: [invalid] }),
      slackError('invalid_blocks'),
    );
    assert.equal(fake.message(posted.channel!, posted.ts!)!.text, 'Approved by bob', 'a refused update changes nothing');
    await assert.rejects(client.chat.update({ channel: posted.channel!, ts: '1.999999', text: 'x' }), slackError('message_not_found'));
  });

  it('keeps ephemeral messages per person and gives permalinks', async () => {
    const sent = await client.chat.postEphemeral({ channel: APPROVALS, user: ALICE, text: 'Only you can see this' });
    assert.deepEqual(
      fake.ephemerals(ALICE).map((e) => [e.ts, e.text, e.channel]),
      [[sent.message_ts, 'Only you can see this', APPROVALS]],
    );
    assert.equal(fake.ephemerals(BOB).length, 0);
    await assert.rejects(client.chat.postEphemeral({ channel: APPROVALS, user: 'U0NOBODY', text: 'x' }), slackError('user_not_found'));

    const posted = await client.chat.postMessage({ channel: APPROVALS, text: 'link me' });
    const link = await client.chat.getPermalink({ channel: APPROVALS, message_ts: posted.ts! });
    assert.equal(link.permalink, `https://${fake.teamDomain}.slack.com/archives/${APPROVALS}/p${posted.ts!.replace('.', '')}`);
  });

  it('conversations.open gives each user one stable DM', async () => {
    const first = await client.conversations.open({ users: ALICE });
    const second = await client.conversations.open({ users: ALICE });
    const bob = await client.conversations.open({ users: BOB });
    assert.match(first.channel!.id!, /^D/);
    assert.equal(first.channel!.id, second.channel!.id);
    assert.notEqual(first.channel!.id, bob.channel!.id);
    await assert.rejects(client.conversations.open({ users: 'U0NOBODY' }), slackError('user_not_found'));
  });

  it('answers directory questions: users.info, users.lookupByEmail, user groups', async () => {
    const alice = (await client.users.info({ user: ALICE })).user!;
    assert.equal(alice.profile?.email, 'alice@example.com');
    assert.equal(alice.tz, 'Europe/Paris');
    assert.equal(alice.tz_offset, 3600);
    assert.equal((await client.users.info({ user: BOB })).user!.tz_offset, -5 * 3600);
    assert.equal((await client.users.info({ user: CAROL })).user!.profile?.email, undefined, 'no email when the profile has none');
    await assert.rejects(client.users.info({ user: 'U0NOBODY' }), slackError('user_not_found'));

    assert.equal((await client.users.lookupByEmail({ email: 'Bob@Example.com' })).user!.id, BOB);
    await assert.rejects(client.users.lookupByEmail({ email: 'nobody@example.com' }), slackError('users_not_found'));

    const groups = await client.usergroups.list({ include_users: true });
    assert.deepEqual(
      groups.usergroups!.map((g) => [g.id, g.handle, g.users]),
      [['S0DBA', 'dba', [BOB]]],
    );
    assert.deepEqual((await client.usergroups.users.list({ usergroup: 'S0DBA' })).users, [BOB]);
    await assert.rejects(client.usergroups.users.list({ usergroup: 'S0NONE' }), slackError('no_such_subteam'));
  });

  it('opens a modal only with a trigger_id it issued, unused and under 3 seconds old', async () => {
    const view = { type: 'modal' as const, title: plain('Request access'), blocks: [section('Pick a database')] };

    const expired = fake.issueTrigger(ALICE);
    clock += 3000;
    await assert.rejects(client.views.open({ trigger_id: expired, view }), slackError('expired_trigger_id'));
    await assert.rejects(client.views.open({ trigger_id: '1.2.made-up', view }), slackError('invalid_trigger_id'));

    const fresh = fake.issueTrigger(ALICE);
    clock += 2999;
    const opened = await client.views.open({ trigger_id: fresh, view });
    assert.equal(fake.view(opened.view!.id!)?.userId, ALICE);
    await assert.rejects(client.views.open({ trigger_id: fresh, view }), slackError('exchanged_trigger_id'));

    await assert.rejects(
      client.views.open({ trigger_id: fake.issueTrigger(ALICE), view: { ...view, title: plain('T'.repeat(25)) } }),
      (err: unknown) => {
        const data = (err as { data: { error: string; response_metadata: { messages: string[] } } }).data;
        assert.equal(data.error, 'invalid_arguments');
        assert.match(data.response_metadata.messages[0]!, /view\.title\.text: modal title is 25 characters; Slack allows at most 24/);
        return true;
      },
    );
  });

  it('updates and pushes modals and publishes Home tabs', async () => {
    const opened = await client.views.open({
      trigger_id: fake.issueTrigger(BOB),
      view: { type: 'modal', title: plain('Loading'), blocks: [section('…')] },
    });
    const id = opened.view!.id!;
    const updated = await client.views.update({
      view_id: id,
      hash: opened.view!.hash,
      view: { type: 'modal', title: plain('Ready'), blocks: [section('Done')] },
    });
    assert.deepEqual(
      fake.view(id)!.versions.map((v) => (v.title as { text: string }).text),
      ['Loading', 'Ready'],
    );
    await assert.rejects(
      client.views.update({ view_id: id, hash: opened.view!.hash, view: { type: 'modal', title: plain('Stale'), blocks: [] } }),
      slackError('hash_conflict'),
    );
    assert.notEqual(updated.view!.hash, opened.view!.hash);

    const pushed = await client.views.push({
      trigger_id: fake.issueTrigger(BOB, id),
      view: { type: 'modal', title: plain('Deny'), blocks: [section('Why?')] },
    });
    assert.equal(fake.view(pushed.view!.id!)!.previousViewId, id);
    assert.equal(fake.view(pushed.view!.id!)!.rootViewId, id);

    await client.views.publish({ user_id: BOB, view: { type: 'home', blocks: [section('Your grants')] } });
    await client.views.publish({ user_id: BOB, view: { type: 'home', blocks: [section('No grants')] } });
    assert.deepEqual(fake.homeView(BOB)!.view.blocks, [section('No grants')]);
    assert.equal(fake.homeView(BOB)!.versions.length, 2);
    await assert.rejects(
      client.views.publish({ user_id: BOB, view: { type: 'home', blocks: Array(101).fill(section('x')) } }),
      slackError('invalid_arguments'),
    );
  });

  it('answers HTTP 429 with Retry-After: 1 to the calls it is told to rate-limit', async () => {
    fake.rateLimit('chat.postMessage', { times: 2 });
    for (let i = 0; i < 2; i++) {
      const limited = await raw('chat.postMessage', { channel: APPROVALS, text: 'burst' });
      assert.equal(limited.status, 429);
      assert.equal(limited.retryAfter, '1');
      assert.equal(limited.body.error, 'ratelimited');
    }
    const after = await raw('chat.postMessage', { channel: APPROVALS, text: 'burst' });
    assert.equal(after.status, 200);
    assert.equal(after.body.ok, true);
    assert.equal(fake.messages(APPROVALS).filter((m) => m.text === 'burst').length, 1, 'refused calls store nothing');
  });

  it("lets the real WebClient wait out a 429 and succeed, as Sesame's retries will", async () => {
    fake.rateLimit('chat.postMessage');
    const retrying = webClient(fake.botToken, { retries: 2, factor: 1, minTimeout: 0, maxTimeout: 10 });
    const started = Date.now();
    const posted = await retrying.chat.postMessage({ channel: APPROVALS, text: 'after the limit' });
    assert.ok(Date.now() - started >= 950, 'the client waited for the Retry-After second');
    assert.equal(posted.ok, true);
    const attempts = fake.calls('chat.postMessage').slice(-2);
    assert.deepEqual(
      attempts.map((c) => [c.status, c.args.text]),
      [
        [429, 'after the limit'],
        [200, 'after the limit'],
      ],
    );
    assert.equal(fake.messages(APPROVALS).filter((m) => m.text === 'after the limit').length, 1);
  });

  it('answers HTTP 500 when told to, which a retrying client survives and a single try does not', async () => {
    fake.failHttp('chat.postMessage', { times: 2 });
    const retrying = webClient(fake.botToken, { retries: 2, factor: 1, minTimeout: 0, maxTimeout: 10 });
    await retrying.chat.postMessage({ channel: APPROVALS, text: 'survived' });
    assert.deepEqual(
      fake
        .calls('chat.postMessage')
        .slice(-3)
        .map((c) => c.status),
      [500, 500, 200],
    );

    fake.failHttp('chat.postMessage');
    await assert.rejects(client.chat.postMessage({ channel: APPROVALS, text: 'lost' }), (err: unknown) => {
      assert.equal((err as { code: string }).code, webApi.ErrorCode.HTTPError);
      return true;
    });
    fake.clearFaults('chat.postMessage');
    assert.equal((await client.chat.postMessage({ channel: APPROVALS, text: 'back' })).ok, true);

    fake.answerError('users.info', 'ratelimited');
    await assert.rejects(client.users.info({ user: ALICE }), slackError('ratelimited'));
    assert.equal((await client.users.info({ user: ALICE })).ok, true, 'a scheduled error answer is used once');
  });

  it('answers unknown methods with unknown_method', async () => {
    const res = await raw('chat.teleport', { channel: APPROVALS });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: false, error: 'unknown_method' });
  });

  it('takes response_url posts: ephemeral by default, in_channel, replace_original, delete_original', async () => {
    const respond = (url: string, body: unknown) =>
      fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: await r.json(),
      }));

    const commandUrl = fake.issueResponseUrl({ channel: APPROVALS, userId: CAROL });
    assert.equal((await respond(commandUrl, { text: 'Working on it' })).status, 200);
    assert.deepEqual(
      fake.ephemerals(CAROL).map((e) => [e.text, e.via]),
      [['Working on it', 'response_url']],
    );
    await respond(commandUrl, { response_type: 'in_channel', text: 'carol asked for access' });
    assert.ok(fake.messages(APPROVALS).some((m) => m.text === 'carol asked for access' && m.via === 'response_url'));

    const refused = await respond(commandUrl, { blocks: [section('x'.repeat(3001))] });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error, 'invalid_blocks');
    assert.equal(fake.ephemerals(CAROL).length, 1, 'a refused response shows nothing');

    const original = await client.chat.postMessage({ channel: APPROVALS, text: 'Approve?' });
    const clickUrl = fake.issueResponseUrl({ channel: APPROVALS, userId: BOB, messageTs: original.ts! });
    await respond(clickUrl, { replace_original: true, text: 'Approved' });
    assert.equal(fake.message(APPROVALS, original.ts!)!.text, 'Approved');
    await respond(clickUrl, { delete_original: true });
    assert.equal(
      fake.messages(APPROVALS).some((m) => m.ts === original.ts),
      false,
    );

    for (let use = 3; use <= 5; use++) assert.equal((await respond(clickUrl, { text: `use ${use}` })).status, 200);
    assert.deepEqual(await respond(clickUrl, { text: 'sixth' }), { status: 404, body: { ok: false, error: 'used_url' } });

    const lateUrl = fake.issueResponseUrl({ channel: APPROVALS, userId: BOB });
    clock += 30 * 60_000 + 1;
    assert.deepEqual(await respond(lateUrl, { text: 'too late' }), { status: 404, body: { ok: false, error: 'expired_url' } });
  });
});

describe('a Bolt app driven by SignedAppDriver', () => {
  const signingSecret = 'fake-signing-secret-0123456789abcdef';
  const requestModal: webApi.ModalView = {
    type: 'modal',
    callback_id: 'request',
    title: plain('Request access'),
    submit: plain('Request'),
    blocks: [
      {
        type: 'input',
        block_id: 'db',
        label: plain('Database'),
        element: { type: 'external_select', action_id: 'database', min_query_length: 0 },
      },
      {
        type: 'input',
        block_id: 'perm',
        label: plain('Permission'),
        element: {
          type: 'static_select',
          action_id: 'permission',
          options: [
            { text: plain('Read'), value: 'read' },
            { text: plain('Write'), value: 'write' },
          ],
        },
      },
      {
        type: 'input',
        block_id: 'who',
        label: plain('Approvers'),
        optional: true,
        element: { type: 'multi_users_select', action_id: 'approvers' },
      },
      { type: 'input', label: plain('Reason'), element: { type: 'plain_text_input', action_id: 'reason' } },
    ],
  };
  let fake: SlackStandIn;
  let app: App;
  let driver: SignedAppDriver;
  let commandsHandled = 0;
  let actionsHandled = 0;
  let submitted: unknown;

  before(async () => {
    fake = await SlackStandIn.start(directory);
    app = new App({
      signingSecret,
      token: fake.botToken,
      clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
      logLevel: LogLevel.ERROR,
    });
    app.command('/access', async ({ command, ack, respond, client }) => {
      commandsHandled += 1;
      if (command.text === 'modal') {
        await ack();
        await client.views.open({ trigger_id: command.trigger_id, view: requestModal });
        return;
      }
      await ack({ response_type: 'ephemeral', text: `You asked for ${command.text}` });
      await respond({ text: 'Sent to the approvers' });
      await client.chat.postMessage({
        channel: APPROVALS,
        text: `<@${command.user_id}> asks for ${command.text}`,
        blocks: [
          section(`<@${command.user_id}> asks for *${command.text}*`),
          { type: 'actions', elements: [button('approve', 'Approve'), button('deny', 'Deny')] },
        ],
      });
    });
    app.action('approve', async ({ ack, body, client }) => {
      actionsHandled += 1;
      await ack();
      if (body.type !== 'block_actions' || !body.channel || !body.message) throw new Error('a click on a message carries it');
      const value = (body.actions[0] as { value?: string }).value;
      await client.chat.update({
        channel: body.channel.id,
        ts: body.message.ts,
        text: `Approved ${value} by <@${body.user.id}>`,
        blocks: [section(`Approved by <@${body.user.id}>`)],
      });
    });
    app.options('database', async ({ options, ack }) => {
      await ack({ options: [{ text: plain(`${options.value}-primary`), value: 'db-1' }] });
    });
    app.view('request', async ({ ack, view }) => {
      submitted = view.state.values;
      await ack({
        response_action: 'update',
        view: { type: 'modal', title: plain('Requested'), blocks: [section('Waiting for approval')] },
      });
    });
    app.event('app_home_opened', async ({ event, client }) => {
      await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [section(`Hello <@${event.user}>`)] } });
    });
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    const { port } = server.address() as AddressInfo;
    driver = new SignedAppDriver({ url: `http://127.0.0.1:${port}/slack/events`, signingSecret, standIn: fake });
  });
  after(async () => {
    await app.stop();
    await fake.stop();
  });

  it('answers the url_verification challenge', async () => {
    const ack = await driver.urlVerification('challenge-123');
    assert.equal(ack.status, 200);
    assert.deepEqual(ack.json, { challenge: 'challenge-123' });
  });

  it('accepts a signed slash command; its ack, response_url and Web API calls land in the fake', async () => {
    const ack = await driver.slashCommand({ userId: ALICE, text: 'read prod/app', channelId: APPROVALS });
    assert.equal(ack.status, 200);
    assert.deepEqual(ack.json, { response_type: 'ephemeral', text: 'You asked for read prod/app' });
    assert.ok(ack.ms < 3000, `acknowledged in ${ack.ms} ms`);
    const posted = await fake.waitFor(
      () => fake.messages(APPROVALS).find((m) => m.text === `<@${ALICE}> asks for read prod/app`),
      'the approval post',
    );
    assert.equal(posted.user, fake.botUserId);
    await fake.waitFor(() => fake.ephemerals(ALICE).find((e) => e.text === 'Sent to the approvers'), 'the response_url reply');
  });

  it('delivers a click on a button of a recorded message, which the app then updates', async () => {
    const message = fake.messages(APPROVALS).find((m) => m.text.includes('asks for read prod/app'))!;
    const ack = await driver.clickButton(message, 'approve', BOB);
    assert.equal(ack.status, 200);
    const updated = await fake.waitFor(
      () => fake.message(APPROVALS, message.ts)?.text.startsWith('Approved') && fake.message(APPROVALS, message.ts),
      'the update',
    );
    assert.equal(updated.text, `Approved req-1 by <@${BOB}>`);
    assert.throws(() => driver.clickButton(updated, 'approve', BOB), /no button approve to click/, 'the updated message has no buttons');
  });

  it('opens a modal with the trigger_id, serves external options and takes a submission', async () => {
    const ack = await driver.slashCommand({ userId: ALICE, text: 'modal' });
    assert.equal(ack.status, 200);
    assert.equal(ack.body, '');
    const modal = await fake.waitFor(() => fake.views(ALICE).find((v) => v.view.callback_id === 'request'), 'the request modal');

    const suggestion = await driver.blockSuggestion({ userId: ALICE, actionId: 'database', value: 'pay', view: modal });
    assert.equal(suggestion.status, 200);
    assert.deepEqual(suggestion.options, { options: [{ text: plain('pay-primary'), value: 'db-1' }] });
    assert.deepEqual(suggestion.problems, []);

    assert.throws(() => driver.viewSubmission({ userId: ALICE, view: modal, values: { nope: 'x' } }), /no input with action_id nope/);
    assert.throws(
      () => driver.viewSubmission({ userId: ALICE, view: modal, values: { permission: 'admin' } }),
      /permission has no option with value "admin"/,
    );
    const submission = await driver.submitView(modal, {
      database: { text: 'pay-primary', value: 'db-1' },
      permission: 'write',
      approvers: [BOB, CAROL],
      reason: 'incident 42',
    });
    assert.equal(submission.status, 200);
    assert.deepEqual(submission.problems, []);
    assert.deepEqual(submitted, {
      db: {
        database: {
          type: 'external_select',
          selected_option: { text: { type: 'plain_text', text: 'pay-primary', emoji: true }, value: 'db-1' },
        },
      },
      perm: { permission: { type: 'static_select', selected_option: { text: plain('Write'), value: 'write' } } },
      who: { approvers: { type: 'multi_users_select', selected_users: [BOB, CAROL] } },
      'block-3': { reason: { type: 'plain_text_input', value: 'incident 42' } },
    });
    assert.equal((fake.view(modal.id)!.view.title as { text: string }).text, 'Requested', 'response_action update replaced the modal');
  });

  it('delivers app_home_opened as an Events API callback', async () => {
    const ack = await driver.appHomeOpened(BOB);
    assert.equal(ack.status, 200);
    const home = await fake.waitFor(() => fake.homeView(BOB), "bob's Home tab");
    assert.deepEqual(home.view.blocks, [section(`Hello <@${BOB}>`)]);
  });

  it('refuses forged and stale requests with 401, before any listener runs', async () => {
    const commands = commandsHandled;
    const actions = actionsHandled;
    const posts = fake.messages(APPROVALS).length;
    assert.equal((await driver.forged.slashCommand({ userId: ALICE, text: 'admin prod' })).status, 401);
    assert.equal((await driver.stale.slashCommand({ userId: ALICE, text: 'admin prod' })).status, 401);
    const message = fake.messages(APPROVALS)[0]!;
    assert.equal((await driver.forged.blockAction({ userId: BOB, actionId: 'approve', message, value: 'req-1' })).status, 401);
    assert.equal((await driver.stale.appHomeOpened(CAROL)).status, 401);
    assert.equal(commandsHandled, commands);
    assert.equal(actionsHandled, actions);
    assert.equal(fake.messages(APPROVALS).length, posts);
    assert.equal(fake.homeView(CAROL), undefined);

    assert.equal(
      (await driver.slashCommand({ userId: ALICE, text: 'read prod/app' })).status,
      200,
      'the same request signed properly is accepted',
    );
    assert.equal(commandsHandled, commands + 1);
    await fake.waitFor(() => fake.messages(APPROVALS).length > posts, 'the accepted command to post');
  });
});
