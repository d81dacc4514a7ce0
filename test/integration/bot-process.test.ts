/**
 * The bot as `npm start` runs it: a real process, configured through the environment, that
 * reports every config problem at once and stops cleanly on SIGTERM.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'sesame-bot-'));
const TOKEN = 'xoxb-1111-2222-not-a-real-token';

function startBot(configText: string, extraEnv: Record<string, string> = {}) {
  const configPath = join(dir, `sesame-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(configPath, configText);
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, SESAME_CONFIG: configPath, SLACK_BOT_TOKEN: TOKEN, LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the bot process', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('starts, logs JSON lines without the token, and stops cleanly on SIGTERM', async () => {
    const bot = startBot(`state: { sqlite: ${join(dir, 'ok.db')} }\n`);
    await waitFor(() => bot.out().includes('sesame started'), 'the start-up log line');
    bot.child.kill('SIGTERM');
    assert.equal(await bot.exited, 0, bot.err());
    const lines = bot.out().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; level: string });
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

  it('refuses to start without a bot token and says which variable to set', async () => {
    const bot = startBot('{}\n', { SLACK_BOT_TOKEN: '' });
    assert.equal(await bot.exited, 2);
    assert.match(bot.err(), /SLACK_BOT_TOKEN is not set/);
  });
});
