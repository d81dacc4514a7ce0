#!/usr/bin/env node
// Runs the test suite with Node's own test runner (through tsx for TypeScript).
//   node scripts/run-tests.mjs             unit, contract, integration and e2e tests; PostgreSQL 15 and 17
//   node scripts/run-tests.mjs --matrix    the suites on real PostgreSQL (engine, lifecycle) on 14, 15, 16, 17 and 18
//   node scripts/run-tests.mjs FILE...     only these files
// SESAME_PG_VERSIONS (e.g. "16,18") overrides the PostgreSQL versions either way.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
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

const selected = files.length
  ? files
  : matrix
    ? find('test/integration').filter((f) => !f.includes('sqlite'))
    : ['test/unit', 'test/contract', 'test/integration', 'test/e2e'].flatMap(find);

const env = { ...process.env };
env.SESAME_PG_VERSIONS ??= matrix ? '14,15,16,17,18' : '15,17';
env.LOG_LEVEL ??= 'silent';

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...selected],
  { stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
