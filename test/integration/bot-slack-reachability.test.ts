/**
 * The bot process when Slack cannot be reached or refuses it: an unreachable Slack is retried
 * with each attempt logged and its cause named, while /healthz answers 200 and /readyz 503 with
 * the reason; a refused token ends start-up at once with Slack's answer; in Socket Mode, /readyz
 * is 200 only while the socket is open, and the log says what Slack answered instead.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/postgres.ts';
import { pollUntil } from '../support/poll.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { botEnv, killAll, spawnNodeBot, type BotProcess, type LogLine } from '../support/botProcess.ts';

const dir = mkdtempSync(join(tmpdir(), 'sesame-reach-'));
const TOKEN = 'xoxb-5555-6666-not-a-real-token';
const APP_TOKEN = 'xapp-1-A0REACH-7777-not-a-real-token';
let fake: SlackStandIn;
/** Answers auth.test and apps.connections.open, and refuses every WebSocket upgrade with 401. */
let refusing: Server;

function env(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return botEnv(dir, name, { apiUrl: fake.apiUrl, token: TOKEN }, extra);
}

async function healthPort(bot: BotProcess): Promise<number> {
  const line = await bot.waitForLine((l) => l.msg === 'answering /healthz, /readyz and /metrics', 'the health endpoints');
  return line.port as number;
}

async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

async function stop(bot: BotProcess): Promise<void> {
  bot.child.kill('SIGTERM');
  assert.deepEqual(await bot.exited, { code: 0, signal: null }, bot.err());
}

function assertNoSecrets(bot: BotProcess): void {
  for (const secret of [TOKEN, APP_TOKEN]) assert.ok(!bot.out().includes(secret) && !bot.err().includes(secret));
  assert.doesNotMatch(bot.out(), /\[object Object\]/);
}

const retries = (bot: BotProcess): LogLine[] =>
  bot.lines().filter((l) => l.level === 'warn' && String(l.msg).startsWith('Slack not reachable yet'));

describe('the bot when Slack cannot be reached', { timeout: 150_000 }, () => {
  before(async () => {
    fake = await SlackStandIn.start({ botToken: TOKEN, appToken: APP_TOKEN });
    refusing = createServer((req, res) => {
      const method = /\/api\/([\w.]+)/.exec(req.url ?? '')?.[1];
      const { port } = refusing.address() as { port: number };
      const answer =
        method === 'auth.test'
          ? { ok: true, user_id: 'U0BOT', bot_id: 'B0BOT' }
          : method === 'apps.connections.open'
            ? { ok: true, url: `ws://127.0.0.1:${port}/link/?ticket=t` }
            : { ok: false, error: 'unknown_method' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
    });
    refusing.on('upgrade', (_req, socket) => socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', () => resolve()));
  });
  after(async () => {
    killAll();
    refusing?.closeAllConnections();
    refusing?.close();
    await fake?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps checking the token while nothing answers, logging each attempt and why; /healthz 200, /readyz 503', async () => {
    const closed = await freePort();
    const bot = spawnNodeBot(env('unreachable', { SLACK_API_URL: `http://127.0.0.1:${closed}/api/` }));
    const port = await healthPort(bot);
    await pollUntil(() => retries(bot).length >= 2, 'two logged retries', { timeoutMs: 15_000, intervalMs: 50 });
    const [first, second] = retries(bot);
    assert.match(String(first!.cause), /ECONNREFUSED/);
    assert.equal(first!.attempt, 1);
    assert.equal(second!.attempt, 2);
    assert.ok((second!.retryInMs as number) > (first!.retryInMs as number), 'the pause grows');
    assert.deepEqual(await get(port, '/healthz'), { status: 200, text: 'ok\n' });
    const ready = await get(port, '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /^Slack not reachable yet \(auth\.test: no answer from Slack: .*ECONNREFUSED/);
    assert.equal(bot.child.exitCode, null, 'still running');
    await stop(bot);
    assert.doesNotMatch(bot.err(), /SLACK_BOT_TOKEN/, 'not reported as a config problem');
    assertNoSecrets(bot);
  });

  it('starts once Slack answers again, after logging what it answered meanwhile', async () => {
    fake.failHttp('auth.test', { status: 503, times: 2 });
    const bot = spawnNodeBot(env('recovers'));
    const started = await bot.waitForLine((l) => l.msg === 'sesame started', 'the start-up line');
    assert.deepEqual(
      retries(bot).map((l) => l.cause),
      ['Slack answered HTTP 503 Service Unavailable', 'Slack answered HTTP 503 Service Unavailable'],
    );
    assert.equal((await get(started.port as number, '/readyz')).status, 200);
    await stop(bot);
  });

  it('stops at once, exit 2, when Slack refuses the token, with what Slack answered', async () => {
    fake.clearFaults();
    fake.answerError('auth.test', 'account_inactive');
    const checks = fake.calls('auth.test').length;
    const bot = spawnNodeBot(env('refused'));
    assert.deepEqual(await bot.exited, { code: 2, signal: null });
    assert.match(bot.err(), /SLACK_BOT_TOKEN: Slack refused the bot token \(account_inactive\)/);
    assert.equal(fake.calls('auth.test').length, checks + 1, 'asked once, not retried');
    assertNoSecrets(bot);
  });

  it('Socket Mode: /readyz is 503 while apps.connections.open fails, naming Slack’s answer, and 200 once connected', async () => {
    fake.answerError('apps.connections.open', 'internal_error', { times: Number.POSITIVE_INFINITY });
    const bot = spawnNodeBot(env('socket-error', { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '' }));
    const started = await bot.waitForLine((l) => l.msg === 'sesame started', 'the start-up line');
    const port = started.port as number;
    const ready = await get(port, '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /Slack Socket Mode not connected: apps\.connections\.open: Slack answered internal_error/);
    assert.ok(
      bot.lines().some((l) => l.level === 'warn' && /Slack answered internal_error/.test(String(l.msg))),
      'the log names what Slack answered',
    );
    fake.clearFaults('apps.connections.open');
    await fake.socketMode.waitForConnection({ timeoutMs: 20_000 });
    await pollUntil(async () => (await get(port, '/readyz')).status === 200, '/readyz 200 once connected', {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    await stop(bot);
    assertNoSecrets(bot);
  });

  it('Socket Mode: a dropped connection is opened again while Slack answers HTTP 500 for a while, and the process lives on', async () => {
    const bot = spawnNodeBot(env('socket-drop', { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '' }));
    const started = await bot.waitForLine((l) => l.msg === 'sesame started', 'the start-up line');
    const port = started.port as number;
    const first = await fake.socketMode.waitForConnection({ timeoutMs: 10_000 });
    fake.failHttp('apps.connections.open', { status: 500, times: 2 });
    fake.socketMode.drop();
    await fake.socketMode.waitForConnection({ afterId: first.id, timeoutMs: 20_000 });
    await pollUntil(async () => (await get(port, '/readyz')).status === 200, '/readyz 200 once connected again', {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const failures = bot.lines().filter((l) => l.level === 'warn' && /Socket Mode not connected/.test(String(l.msg)));
    assert.ok(
      failures.some((l) => /apps\.connections\.open: Slack answered HTTP 500/.test(String(l.cause))),
      JSON.stringify(failures),
    );
    assert.equal(bot.child.exitCode, null, 'still running');
    await stop(bot);
    assertNoSecrets(bot);
  });

  it('Socket Mode: a refused WebSocket keeps /readyz 503 and the log says what Slack answered to the upgrade', async () => {
    const { port: api } = refusing.address() as { port: number };
    const bot = spawnNodeBot(
      env('socket-refused', { SLACK_APP_TOKEN: APP_TOKEN, SLACK_SIGNING_SECRET: '', SLACK_API_URL: `http://127.0.0.1:${api}/api/` }),
    );
    const started = await bot.waitForLine((l) => l.msg === 'sesame started', 'the start-up line');
    const ready = await get(started.port as number, '/readyz');
    assert.equal(ready.status, 503);
    assert.match(ready.text, /Slack answered the WebSocket upgrade at http:\/\/127\.0\.0\.1:\d+ with HTTP 401 Unauthorized/);
    const failure = bot.lines().find((l) => l.level === 'warn' && /Socket Mode not connected/.test(String(l.msg)));
    assert.match(String(failure?.cause), /HTTP 401 Unauthorized/);
    await stop(bot);
    assertNoSecrets(bot);
  });
});
