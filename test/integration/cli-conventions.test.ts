/**
 * The command line as a person meets it, through the real process (`node --import tsx
 * src/cli.ts …`): help on stdout with exit 0, usage errors on stderr with exit 2 that name what
 * was wrong and point at --help, the version, and no state file from a --help or a usage error.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const CLI = new URL('../../src/cli.ts', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const COMMANDS = ['start', 'check', 'schema', 'audit', 'sweep', 'state'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir: string;
let configPath: string;
let statePath: string;

function sesame(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', CLI, ...args],
      {
        cwd: ROOT,
        env: { ...process.env, SESAME_CONFIG: configPath, LOCAL_PG_PASSWORD: 'not-used-by-these-tests', LOG_LEVEL: 'silent' },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('the command line', { timeout: 120_000 }, () => {
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sesame-cli-'));
    configPath = join(dir, 'sesame.yml');
    statePath = join(dir, 'state', 'sesame.db');
    // A config that would work: were a command to run, it would create the state file.
    writeFileSync(
      configPath,
      `state: { sqlite: ${statePath} }
integrations:
  - name: local
    type: postgresql
    host: 127.0.0.1
    port: 1
    database: appdb
    sslMode: disable
    username: sesame_connector
    password: \${LOCAL_PG_PASSWORD}
accessFlows:
  - name: read
    requestors: ["*"]
    permissions: [readonly]
    maxDuration: 1h
`,
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every command its own --help on stdout, exit 0, touching nothing', async () => {
    const asked = [...COMMANDS.map((command) => [command, '--help']), ['check', '-h']];
    const runs = await Promise.all(asked.map((args) => sesame(...args)));
    for (const [i, run] of runs.entries()) {
      const command = asked[i]![0]!;
      assert.equal(run.code, 0, `${command} --help: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: sesame ${command}`), command);
      assert.match(run.stdout, /--help/);
      assert.equal(run.stderr, '', command);
    }
    assert.equal(existsSync(statePath), false, 'no --help created the state file');
    assert.equal(existsSync(join(dir, 'state')), false);
  });

  it('answers --help, -h and help with the usage on stdout, exit 0', async () => {
    const runs = await Promise.all([['--help'], ['-h'], ['help']].map((args) => sesame(...args)));
    for (const run of runs) {
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stdout, /^Usage: sesame <command>/);
      assert.match(run.stdout, /--version/);
      assert.equal(run.stderr, '');
    }
  });

  it('treats a bare sesame as a usage error: usage on stderr, exit 2', async () => {
    const run = await sesame();
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^Usage: sesame <command>/);
  });

  it('prints the version of package.json with --version and -v', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const run of await Promise.all([sesame('--version'), sesame('-v')])) {
      assert.equal(run.code, 0);
      assert.equal(run.stdout, `${version}\n`);
      assert.equal(run.stderr, '');
    }
  });

  it('refuses unknown options, arguments and commands on stderr with exit 2, naming them and pointing at --help', async () => {
    const cases: [string[], RegExp][] = [
      [['schema', '--bogus'], /sesame schema: Unknown option '--bogus'\. Run "sesame schema --help"/],
      [['check', '--verbose'], /sesame check: Unknown option '--verbose'\. Run "sesame check --help"/],
      [['start', '--port=3000'], /sesame start: Unknown option '--port'\. Run "sesame start --help"/],
      [['sweep', 'now'], /sesame sweep: Unexpected argument 'now'.*Run "sesame sweep --help"/],
      [['audit', '--since'], /sesame audit: Option '--since <value>' argument missing\. Run "sesame audit --help"/],
      [['audit', '--since', '2026-01-01', '--format', 'csv'], /Unknown option '--format'/],
      [['state'], /^sesame state needs one of: migrate\. Run "sesame state --help"/],
      [['state', 'copy'], /^sesame state does not know "copy"; it takes one of: migrate\. Run "sesame state --help"/],
      [['state', 'migrate', '--into', 'x'], /sesame state: Unknown option '--into'\. Run "sesame state --help"/],
      [['state', 'migrate', '--to', 'mysql://u:Secret-Pw@db/x'], /^sesame state migrate: --to must start with postgres:\/\//],
      [['frobnicate'], /^Unknown command "frobnicate"\. Run "sesame --help"/],
      [['--frobnicate'], /^Unknown option "--frobnicate"\. Run "sesame --help"/],
    ];
    const runs = await Promise.all(cases.map(([args]) => sesame(...args)));
    for (const [i, run] of runs.entries()) {
      const [args, message] = cases[i]!;
      assert.doesNotMatch(run.stderr, /Secret-Pw/);
      assert.equal(run.code, 2, args.join(' '));
      assert.equal(run.stdout, '', args.join(' '));
      assert.match(run.stderr, message, args.join(' '));
    }
    assert.equal(existsSync(statePath), false, 'no usage error created the state file');
  });

  it('says what to do about a bad --since, and opens nothing', async () => {
    const run = await sesame('audit', '--since', 'yesterday-ish');
    assert.equal(run.code, 2);
    assert.match(run.stderr, /--since "yesterday-ish" is not a date; write it like 2026-01-01/);
    assert.equal(existsSync(statePath), false);
  });
});
