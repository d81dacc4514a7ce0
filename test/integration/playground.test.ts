/**
 * The playground as people start it: its page and API in process (the same function
 * `npm run playground` runs), a readonly request granted end to end with the SQL box used as the
 * granted user, the refusals (a host beyond loopback, a port in use, a second playground), and
 * `npm start` without config or token as a real process that Ctrl-C stops leaving nothing behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PageMessage, PlaygroundState } from '../../src/playground/pageApi.ts';
import { runPlayground, type RunningPlayground } from '../../src/playground/run.ts';
import { pollUntil } from '../support/poll.ts';

const dir = mkdtempSync(join(tmpdir(), 'sesame-playground-test-'));
const lockFile = join(dir, 'playground.lock');
let playground: RunningPlayground;

async function state(): Promise<PlaygroundState> {
  const res = await fetch(`${playground.address}api/state`);
  assert.equal(res.status, 200);
  return (await res.json()) as PlaygroundState;
}

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${playground.address}api/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

function blockText(blocks: unknown[]): string {
  return JSON.stringify(blocks);
}

describe('the playground', { timeout: 180_000 }, () => {
  before(async () => {
    playground = await runPlayground({ port: 0, lockFile });
  });
  after(async () => {
    await playground?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the page and its state: the banner, the people, the sample database, no secret', async () => {
    const page = await fetch(playground.address);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const s = await state();
    assert.deepEqual(s.banner, { dataDir: playground.dataDir, address: playground.address });
    assert.equal(s.command, '/access');
    assert.deepEqual(
      s.people.map((p) => p.role),
      ['requester', 'approver', 'approver', 'admin'],
    );
    assert.equal(s.database.database, 'shop');
    assert.equal(s.database.host, '127.0.0.1');
    const config = readFileSync(join(playground.dataDir, 'sesame.yml'), 'utf8');
    assert.match(config, /password: \$\{PLAYGROUND_CONNECTOR_PASSWORD\}/, 'the config names the password, it does not hold it');
    assert.doesNotMatch(JSON.stringify(s), /xoxb-|password/i);
  });

  it('grants readonly at once on a slash command, with a DM and audit events, and the SQL box works as the granted user', async () => {
    const requester = (await state()).people.find((p) => p.role === 'requester')!;
    const sent = await post('command', { user: requester.id, text: 'sample/shop readonly for 2m because looking around' });
    assert.deepEqual(sent, { status: 200, json: { ok: true } });

    let grantDm: PageMessage | undefined;
    await pollUntil(
      async () => {
        const s = await state();
        grantDm = s.people.find((p) => p.id === requester.id)!.dm.find((m) => /Access granted/.test(m.text));
        return Boolean(grantDm) && s.audit.some((e) => e.action === 'grant.granted' && e.actor === 'system');
      },
      'the grant DM and its audit event',
      { timeoutMs: 20_000, intervalMs: 200 },
    );
    const button = JSON.stringify(grantDm!.blocks).match(/"action_id":"(sesame\.credentials:[^"]+)"/)?.[1];
    assert.ok(button, blockText(grantDm!.blocks));
    const clicked = await post('action', {
      user: requester.id,
      surface: { kind: 'message', channel: grantDm!.channel, ts: grantDm!.ts },
      actionId: button,
    });
    assert.deepEqual(clicked.json, { ok: true });

    let modalText = '';
    await pollUntil(
      async () => {
        const modal = (await state()).people.find((p) => p.id === requester.id)!.modals.at(-1);
        modalText = modal ? JSON.stringify(modal.view) : '';
        return modalText.includes('Password');
      },
      'the credentials modal',
      { timeoutMs: 10_000, intervalMs: 200 },
    );
    const username = modalText.match(/\*User\*\\n`([^`]+)`/)?.[1];
    const password = modalText.match(/\*Password\*\\n`([^`]+)`/)?.[1];
    assert.ok(username && password, modalText);

    const read = await post('sql', { username, password, database: 'shop', sql: 'SELECT name FROM customers ORDER BY id' });
    assert.equal(read.status, 200, JSON.stringify(read.json));
    assert.deepEqual(read.json, { ok: true, command: 'SELECT', columns: ['name'], rows: [['Ada'], ['Grace'], ['Edsger']] });
    const write = await post('sql', { username, password, database: 'shop', sql: "INSERT INTO products (name, price) VALUES ('x', 1)" });
    assert.equal(write.status, 400);
    assert.match(write.json.error, /permission denied for table products/);
    const wrong = await post('sql', { username, password: 'not-it', database: 'shop', sql: 'SELECT 1' });
    assert.match(wrong.json.error, /password authentication failed/);
    const log = readFileSync(playground.logFile, 'utf8');
    assert.ok(!log.includes(password), 'the password reached the log');
  });

  it('answers bad input with a clear 400, and refuses requests addressed to another host', async () => {
    const notJson = await fetch(`${playground.address}api/sql`, { method: 'POST', body: 'SELECT 1' });
    assert.equal(notJson.status, 400);
    assert.match(((await notJson.json()) as { error: string }).error, /JSON/);
    const broken = await fetch(`${playground.address}api/command`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{',
    });
    assert.equal(broken.status, 400);
    const big = await post('sql', { username: 'a', password: 'b', database: 'shop', sql: 'x'.repeat(70_000) });
    assert.equal(big.status, 400);
    assert.match(big.json.error, /larger than/);
    const missing = await post('sql', { username: 'a', database: 'shop', sql: 'SELECT 1' });
    assert.match(missing.json.error, /password must be/);
    // fetch always sends the address's own Host; node:http sends what it is told, as a rebinding browser would.
    const rebound = await new Promise<number | undefined>((resolve, reject) =>
      httpGet({ host: '127.0.0.1', port: playground.port, path: '/api/state', headers: { Host: 'evil.example' } }, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).on('error', reject),
    );
    assert.equal(rebound, 403);
  });

  it('refuses to listen beyond loopback', async () => {
    await assert.rejects(
      runPlayground({ host: '0.0.0.0', port: 0, lockFile: join(dir, 'other.lock') }),
      /loopback only.*not on 0\.0\.0\.0/,
    );
  });

  it('says so when a second playground starts beside the first', async () => {
    await assert.rejects(
      runPlayground({ port: 0, lockFile }),
      new RegExp(`a playground is already running at ${playground.address.replaceAll('.', '\\.')} \\(pid ${process.pid}\\)`),
    );
  });

  it('says when the port is in use, and how to choose another', async () => {
    const port = playground.port;
    await assert.rejects(
      runPlayground({ port, lockFile: join(dir, 'another.lock') }),
      new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use.*PORT=${port + 1} npm start`),
    );
    assert.ok(!existsSync(join(dir, 'another.lock')), 'the lock is released after a failed start');
  });

  it('takes over a lock left by a process that no longer runs', async () => {
    const stale = join(dir, 'stale.lock');
    // Larger than any pid Linux hands out.
    writeFileSync(stale, JSON.stringify({ pid: 2 ** 22 + 1, address: 'http://127.0.0.1:1/' }));
    await assert.rejects(runPlayground({ port: playground.port, lockFile: stale }), /already in use/);
    assert.ok(!existsSync(stale), 'the stale lock was taken over, then released');
  });
});

/** The IDs of `parent`'s children named `command`, read from /proc. */
function childrenNamed(parent: number, command: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        return comm === command && Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent;
      } catch {
        return false;
      }
    });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start without a config file or a Slack token', { timeout: 180_000 }, () => {
  it('starts the playground, prints one line with its address, and Ctrl-C leaves nothing behind', async () => {
    // Its own temporary folder, so what it leaves (or does not) is seen; PostgreSQL may run as another user.
    const tmp = mkdtempSync(join(tmpdir(), 'sesame-playground-process-'));
    chmodSync(tmp, 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp, PORT: '0', SESAME_CONFIG: join(tmp, 'none.yml') };
    delete env.SLACK_BOT_TOKEN;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      await pollUntil(() => out.includes('\n') || child.exitCode !== null, 'the address line', { timeoutMs: 90_000, intervalMs: 100 });
      assert.equal(err, '');
      const lines = out.trim().split('\n');
      assert.equal(lines.length, 1, out);
      const address = lines[0]!.match(/http:\/\/127\.0\.0\.1:\d+\//)?.[0];
      const dataDir = lines[0]!.match(/data in (\S+),/)?.[1];
      assert.ok(address && dataDir, out);
      assert.ok(dataDir.startsWith(tmp));
      const s = (await (await fetch(`${address}api/state`)).json()) as PlaygroundState;
      assert.equal(s.banner.address, address);
      const postgres = childrenNamed(child.pid!, 'postgres');
      assert.equal(postgres.length, 1, 'one PostgreSQL server runs');
      assert.ok(existsSync(join(tmp, 'sesame-playground.lock')));

      child.kill('SIGINT');
      assert.equal(await exited, 0, err);
      assert.ok(!existsSync(dataDir), 'the temporary folder is gone');
      assert.ok(!existsSync(join(tmp, 'sesame-playground.lock')), 'the lock is released');
      assert.equal(alive(postgres[0]!), false, 'PostgreSQL stopped');
      assert.equal(await portOpen(s.database.port), false, 'nothing listens on the database port');
      assert.equal(await portOpen(Number(new URL(address).port)), false, 'nothing listens on the page port');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(tmp, { recursive: true, force: true });
    }
  });
});
