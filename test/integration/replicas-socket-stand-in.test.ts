/**
 * The Slack stand-in's Socket Mode with several connections of one app, as replicas of an app
 * hold them: each envelope goes to exactly one open connection, the connections take turns, and
 * once one is gone the others take everything.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import { boltLogger } from '../../src/adapters/slack/SlackApp.ts';
import { createLogger } from '../../src/logger.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { SocketModeDriver } from '../../src/playground/slack/SocketModeDriver.ts';

const ALICE = 'U0ALICE';

describe('the Slack stand-in with several Socket Mode connections of one app', { timeout: 60_000 }, () => {
  let fake: SlackStandIn;
  const apps: App[] = [];
  /** The texts of the commands each app received, by app. */
  const received: string[][] = [];
  let driver: SocketModeDriver;

  /** A Bolt app on its own connection, recording the commands it is given. */
  async function startApp(index: number): Promise<App> {
    const receiver = new SocketModeReceiver({
      appToken: fake.appToken,
      logger: boltLogger(createLogger({ level: 'silent' })),
      installerOptions: { clientOptions: { slackApiUrl: fake.apiUrl } },
    });
    const app = new App({ token: fake.botToken, receiver, clientOptions: { slackApiUrl: fake.apiUrl }, logLevel: LogLevel.ERROR });
    received[index] = [];
    app.command('/access', async ({ command, ack }) => {
      received[index]!.push(command.text);
      await ack({ response_type: 'ephemeral', text: `app ${index}` });
    });
    await app.start();
    return app;
  }

  before(async () => {
    fake = await SlackStandIn.start({ users: [{ id: ALICE, name: 'alice' }] });
    for (const index of [0, 1, 2]) {
      apps.push(await startApp(index));
      await fake.socketMode.waitForConnection({ afterId: index });
    }
    driver = new SocketModeDriver(fake);
  });
  after(async () => {
    await Promise.allSettled(apps.map((a) => a.stop()));
    await fake.stop();
  });

  it('gives each envelope to exactly one open connection, each connection in turn', async () => {
    assert.equal(fake.socketMode.connections().filter((c) => c.open).length, 3);
    const acks = [];
    for (let i = 0; i < 9; i++) acks.push(await driver.slashCommand({ userId: ALICE, text: `command ${i}` }));
    const all = received.flat().sort();
    assert.deepEqual(all, Array.from({ length: 9 }, (_, i) => `command ${i}`).sort(), 'each command handled once');
    assert.deepEqual(
      received.map((texts) => texts.length),
      [3, 3, 3],
      'spread over the three connections',
    );
    assert.deepEqual(new Set(acks.map((a) => a.connectionId)).size, 3);
  });

  it('sends to the connections still open once one is gone, and on a named one when asked', async () => {
    const gone = fake.socketMode.connections()[1]!;
    await apps[1]!.stop();
    await fake.waitFor(() => !gone.open, 'the stopped app to close its connection');
    const before = received.map((texts) => texts.length);
    for (let i = 0; i < 4; i++) await driver.slashCommand({ userId: ALICE, text: `after ${i}` });
    const after = received.map((texts, index) => texts.length - before[index]!);
    assert.deepEqual(after, [2, 0, 2]);

    const third = fake.socketMode.connections()[2]!;
    const ack = await driver.on(third.id).slashCommand({ userId: ALICE, text: 'on the third' });
    assert.equal(ack.connectionId, third.id);
    assert.equal(received[2]!.at(-1), 'on the third');
  });
});
