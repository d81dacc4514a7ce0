/**
 * The bot as `npm start` runs it: a real process, configured through the environment, talking
 * to a fake Slack Web API (SLACK_API_URL), that checks its token, serves health and metrics,
 * reports every config problem at once and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from '../support/poll.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';

const dir = mkdtempSync(join(tmpdir(), 'sesame-bot-'));
const TOKEN = 'xoxb-1111-2222-not-a-real-token';
const SIGNING_SECRET = 'bot-process-signing-secret';
let fake: SlackStandIn;
const children = new Set<ChildProcess>();

function startBot(configText: string, extraEnv: Record<string, string> = {}) {
  const configPath = join(dir, `sesame-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(configPath, configText);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      SESAME_CONFIG: configPath,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: fake.apiUrl,
      SLACK_APP_TOKEN: '',
      PORT: '0',
      LOG_LEVEL: 'info',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

describe('the bot process', { timeout: 120_000 }, () => {
  before(async () => {
    fake = await SlackStandIn.start({ botToken: TOKEN });
  });
  after(async () => {
    for (const child of children) child.kill('SIGKILL');
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts, serves health and metrics, logs JSON lines without the token, and stops cleanly on SIGTERM', async () => {
    const bot = startBot(`state: { sqlite: ${join(dir, 'ok.db')} }\n`);
    await pollUntil(() => bot.out().includes('sesame started'), 'the start-up log line', { timeoutMs: 30_000, intervalMs: 50 });
    const started = JSON.parse(
      bot
        .out()
        .split('\n')
        .find((l) => l.includes('sesame started'))!,
    ) as { port: number; mode: string };
    assert.equal(started.mode, 'http');
    const base = `http://127.0.0.1:${started.port}`;
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /sesame_active_grants 0/);
    // Unsigned requests to Slack's endpoint are refused.
    assert.equal((await fetch(`${base}/slack/events`, { method: 'POST', body: 'command=/access' })).status, 401);
    assert.ok(fake.calls('auth.test').length > 0, 'the token was checked with auth.test');
    bot.child.kill('SIGTERM');
    assert.equal(await bot.exited, 0, bot.err());
    const lines = bot
      .out()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; level: string });
    assert.ok(lines.some((l) => l.msg === 'sesame started' && l.level === 'info'));
    assert.ok(lines.some((l) => l.msg === 'stopping: finishing work in flight'));
    assert.ok(!bot.out().includes(TOKEN) && !bot.err().includes(TOKEN));
  });

  it('reports every config problem at once, with its path, and exits non-zero', async () => {
    const bot = startBot(
      `integrations:
  - name: Bad_Name
    type: postgresql
    host: db
    database: app
    sslMode: sometimes
    username: sesame_connector
    password: \${MISSING_SECRET_PASSWORD}
accessFlows:
  - name: f
    requestors: ["*"]
    permissions: [readonly]
    maxDuration: 0m
`,
    );
    assert.equal(await bot.exited, 2);
    const err = bot.err();
    assert.match(err, /integrations\[0\]\.name/);
    assert.match(err, /integrations\[0\]\.sslMode: must be one of disable, allow, prefer, require, verify-ca, verify-full/);
    assert.match(err, /integrations\[0\]\.password/);
    assert.match(err, /MISSING_SECRET_PASSWORD/);
    assert.match(err, /accessFlows\[0\]\.maxDuration/);
  });

  it('refuses to start when Slack refuses the token, and says which variable to fix', async () => {
    const bot = startBot(`state: { sqlite: ${join(dir, 'bad-token.db')} }\n`, { SLACK_BOT_TOKEN: 'xoxb-9999-wrong-token' });
    assert.equal(await bot.exited, 2);
    assert.match(bot.err(), /SLACK_BOT_TOKEN: Slack refused the bot token \(invalid_auth\)/);
    assert.ok(!bot.err().includes('xoxb-9999-wrong-token') && !bot.out().includes('xoxb-9999-wrong-token'));
  });

  it('refuses to start when the PostgreSQL state cannot be reached, naming it and never its password', async () => {
    const bot = startBot('state: { postgres: "postgres://sesame:State-Secret-Pw@127.0.0.1:1/sesame_state", sslMode: disable }\n');
    assert.equal(await bot.exited, 2);
    assert.match(bot.err(), /the PostgreSQL state database sesame_state on 127\.0\.0\.1:1 cannot be reached/);
    assert.ok(!`${bot.err()}${bot.out()}`.includes('State-Secret-Pw'));
  });

  it('refuses HTTP mode without a signing secret', async () => {
    const bot = startBot(`state: { sqlite: ${join(dir, 'no-secret.db')} }\n`, { SLACK_SIGNING_SECRET: '' });
    assert.equal(await bot.exited, 2);
    assert.match(bot.err(), /SLACK_SIGNING_SECRET: is not set/);
  });

  it('refuses to start without a bot token and says which variable to set', async () => {
    const bot = startBot('{}\n', { SLACK_BOT_TOKEN: '' });
    assert.equal(await bot.exited, 2);
    assert.match(bot.err(), /SLACK_BOT_TOKEN: is not set: give the Bot User OAuth Token/);
  });

  it('reports every problem of the environment and the config in one message: token, signing secret and config together', async () => {
    const bot = startBot('integrations:\n  - name: app\n    type: postgresql\n    sslMode: sometimes\n', {
      SLACK_BOT_TOKEN: '',
      SLACK_SIGNING_SECRET: '',
    });
    assert.equal(await bot.exited, 2);
    const err = bot.err();
    assert.match(err, /^Sesame cannot start: \d+ problems in the environment and the config file:/);
    assert.match(err, /SLACK_BOT_TOKEN: is not set/);
    assert.match(err, /SLACK_SIGNING_SECRET: is not set: HTTP mode needs the app's signing secret/);
    assert.match(err, /integrations\[0\]\.sslMode: must be one of/);
    assert.equal(bot.out(), '', 'nothing on stdout: no start-up was attempted');
  });

  it('names a missing config file beside the missing signing secret', async () => {
    const bot = startBot('{}\n', { SESAME_CONFIG: join(dir, 'no-such-file.yml'), SLACK_SIGNING_SECRET: '' });
    assert.equal(await bot.exited, 2);
    assert.match(bot.err(), /config file: no config file at .*no-such-file\.yml/);
    assert.match(bot.err(), /SLACK_SIGNING_SECRET: is not set/);
  });
});
