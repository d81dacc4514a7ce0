/**
 * Stopping the bot the way operators and orchestrators do: SIGTERM to `npm start` (npm hands it
 * to the bot, which is the very process npm started), Ctrl-C in a terminal (the whole process
 * group gets SIGINT, and npm forwards one more), and SIGTERM while start-up waits for a Slack
 * that never answers. Each ends with the bot's own log of its stop, exit 0, nothing left running
 * and nothing listening; the stdout of `npm start` is JSON lines only.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { botEnv, childrenOf, isAlive, isListening, killAll, spawnBot, spawnNodeBot, type BotProcess } from '../support/botProcess.ts';

const dir = mkdtempSync(join(tmpdir(), 'sesame-signals-'));
const TOKEN = 'xoxb-3333-4444-not-a-real-token';
let fake: SlackStandIn;
/** Accepts connections and never answers: a Slack that hangs. */
let silent: Server;
let silentUrl: string;

function env(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return botEnv(dir, name, { apiUrl: fake.apiUrl, token: TOKEN }, extra);
}

/** Waits for the start-up line and returns the port the bot answers on. */
async function started(bot: BotProcess): Promise<number> {
  const line = await bot.waitForLine((l) => l.msg === 'sesame started', 'the start-up log line');
  return line.port as number;
}

/** The bot's own log of a stop: asked once, finished, and the process gone with its port. */
async function assertStoppedCleanly(bot: BotProcess, port: number, pids: number[]): Promise<void> {
  const { code, signal } = await bot.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, bot.err());
  const msgs = bot.lines().map((l) => l.msg);
  assert.equal(msgs.filter((m) => m === 'stopping: finishing work in flight').length, 1, msgs.join('\n'));
  assert.ok(msgs.includes('stopped'), msgs.join('\n'));
  assert.equal(await isListening(port), false, 'nothing listens on the port any more');
  for (const pid of pids) assert.equal(isAlive(pid), false, `process ${pid} is gone`);
}

describe('stopping the bot', { timeout: 120_000 }, () => {
  before(async () => {
    fake = await SlackStandIn.start({ botToken: TOKEN });
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}/api/`;
  });
  after(async () => {
    killAll();
    silent?.closeAllConnections();
    silent?.close();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGTERM to `npm start` stops the bot itself, which logs its stop and exits 0; stdout is JSON lines only', async () => {
    const bot = spawnBot('npm', ['start'], env('npm-term'), { group: true });
    const port = await started(bot);
    // npm's child is the bot itself: no shell and no second runtime between them.
    const children = childrenOf(bot.child.pid!);
    assert.equal(children.length, 1, `npm has one child: ${children.join(', ')}`);
    process.kill(bot.child.pid!, 'SIGTERM');
    await assertStoppedCleanly(bot, port, children);
    // Every line parses (lines() throws on one that does not), npm's banner included nowhere.
    assert.ok(bot.lines().length >= 3);
    assert.doesNotMatch(bot.out(), /> sesame@/);
    assert.match(bot.err(), /> sesame@\S+ start/, "npm's banner goes to stderr");
  });

  it('Ctrl-C under `npm start` (SIGINT to the whole process group) stops it once, gracefully', async () => {
    const bot = spawnBot('npm', ['start'], env('npm-int'), { group: true });
    const port = await started(bot);
    const children = childrenOf(bot.child.pid!);
    // The terminal signals every process of the group; npm forwards its own copy as well.
    process.kill(-bot.child.pid!, 'SIGINT');
    await assertStoppedCleanly(bot, port, children);
  });

  it('SIGTERM while start-up waits for Slack stops the process within seconds, exit 0', async () => {
    const bot = spawnNodeBot(env('startup', { SLACK_API_URL: silentUrl }));
    const listening = await bot.waitForLine((l) => l.msg === 'answering /healthz, /readyz and /metrics', 'the health endpoints');
    const port = listening.port as number;
    // Start-up is now waiting for auth.test, which never answers.
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    assert.equal(ready.status, 503);
    assert.match(await ready.text(), /Slack not reachable yet/);
    const sentAt = Date.now();
    bot.child.kill('SIGTERM');
    await assertStoppedCleanly(bot, port, [bot.child.pid!]);
    assert.ok(Date.now() - sentAt < 5_000, `stopped in ${Date.now() - sentAt} ms`);
    assert.ok(!bot.lines().some((l) => l.msg === 'sesame started'));
  });

  it("the image's entry point (`sesame start`) stops the same way, during start-up too", async () => {
    const bot = spawnBot(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'start'], env('cli-startup', { SLACK_API_URL: silentUrl }));
    const listening = await bot.waitForLine((l) => l.msg === 'answering /healthz, /readyz and /metrics', 'the health endpoints');
    const port = listening.port as number;
    const sentAt = Date.now();
    bot.child.kill('SIGTERM');
    await assertStoppedCleanly(bot, port, [bot.child.pid!]);
    assert.ok(Date.now() - sentAt < 5_000, `stopped in ${Date.now() - sentAt} ms`);
  });
});
