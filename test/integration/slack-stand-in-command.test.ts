import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { webApi } from '@slack/bolt';
import { pollUntil } from '../support/poll.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('npm run slack-stand-in: the stand-in for a bot under development', { timeout: 60_000 }, () => {
  const children: ChildProcess[] = [];
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  });

  function start(args: string[], env: NodeJS.ProcessEnv = {}) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/playground/standInMain.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, SLACK_BOT_TOKEN: '', SLACK_APP_TOKEN: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const out = { stdout: '', stderr: '' };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out.stdout += chunk;
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      out.stderr += chunk;
    });
    return { child, out };
  }

  it('prints the environment for a bot, answers its Web API calls as Slack does and logs each, and stops on Ctrl-C', async () => {
    const { child, out } = start(['--port', '0'], { SLACK_BOT_TOKEN: 'xoxb-dev-bot' });
    await pollUntil(
      () => /export SLACK_API_URL=(\S+) SLACK_BOT_TOKEN=(\S+) SLACK_APP_TOKEN=(\S+)/.test(out.stdout),
      () => `the stand-in printed no environment; stdout: ${out.stdout} stderr: ${out.stderr}`,
    );
    const [, apiUrl, botToken] = /export SLACK_API_URL=(\S+) SLACK_BOT_TOKEN=(\S+)/.exec(out.stdout)!;
    assert.match(apiUrl!, /^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    assert.equal(botToken, 'xoxb-dev-bot', 'a token given in the environment is the one it accepts');

    const client = new webApi.WebClient(botToken, { slackApiUrl: apiUrl, retryConfig: { retries: 0 } });
    const auth = await client.auth.test();
    assert.equal(auth.user_id, 'U0SESAME');
    const user = await client.users.lookupByEmail({ email: 'ada@example.com' });
    assert.equal(user.user?.real_name, 'Ada Lovelace', "the playground's people are known");
    await assert.rejects(
      client.chat.postMessage({ channel: 'C0APPROVALS', text: 'x', blocks: [{ type: 'section' }] as never }),
      /invalid_blocks/,
      'Block Kit Slack would refuse is refused',
    );
    await assert.rejects(
      new webApi.WebClient('xoxb-wrong', { slackApiUrl: apiUrl, retryConfig: { retries: 0 } }).auth.test(),
      /invalid_auth/,
    );

    await pollUntil(
      () => out.stdout.includes('"error":"invalid_auth"'),
      () => `the calls were not logged: ${out.stdout}`,
    );
    const calls = out.stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { method: string; ok: boolean; error?: string });
    assert.deepEqual(
      calls.map((c) => [c.method, c.ok, c.error ?? null]),
      [
        ['auth.test', true, null],
        ['users.lookupByEmail', true, null],
        ['chat.postMessage', false, 'invalid_blocks'],
        ['auth.test', false, 'invalid_auth'],
      ],
    );
    assert.ok(!out.stdout.includes('xoxb-wrong'), 'no token a caller sent is logged');

    child.kill('SIGINT');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });

  it('a port in use says so and how to choose another', async () => {
    const first = start(['--port', '0']);
    await pollUntil(
      () => /SLACK_API_URL=http:\/\/127\.0\.0\.1:(\d+)/.test(first.out.stdout),
      () => `no address printed: ${first.out.stderr}`,
    );
    const port = /SLACK_API_URL=http:\/\/127\.0\.0\.1:(\d+)/.exec(first.out.stdout)![1]!;
    const second = start(['--port', port]);
    const [code] = await once(second.child, 'exit');
    assert.equal(code, 2);
    assert.match(second.out.stderr, /port is in use; choose another with --port N/);
    first.child.kill('SIGINT');
    await once(first.child, 'exit');
  });
});
