/**
 * scripts/run-tests.mjs gives every test file a time limit: a file that hangs (in a before()
 * hook, as a cluster start-up once did) fails with a message naming it, and the run goes on.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = join(import.meta.dirname, '..', '..');
const HANGING = 'test/support/fixtures/hangs-in-before.ts';
/** How long this test waits for the runner before it stops the run itself. */
const GUARD_MS = 60_000;

function runTests(files: string[], env: Record<string, string>): Promise<{ code: number | null; output: string; stoppedByGuard: boolean }> {
  return new Promise((resolve, reject) => {
    // Without the marker node:test leaves in its test processes, which would make the inner run skip its files.
    const { NODE_TEST_CONTEXT: _, ...outer } = process.env;
    const child = spawn(process.execPath, ['scripts/run-tests.mjs', ...files], {
      cwd: ROOT,
      env: { ...outer, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so that the guard below stops the runner and the files it started.
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    let stoppedByGuard = false;
    const guard = setTimeout(() => {
      stoppedByGuard = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, GUARD_MS);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, output, stoppedByGuard });
    });
  });
}

describe('the test runner', { timeout: GUARD_MS + 30_000 }, () => {
  it('fails a file whose before() hook hangs, naming it, once the file time limit runs out', async () => {
    const run = await runTests([HANGING], { SESAME_TEST_FILE_TIMEOUT_MS: '2000' });
    assert.equal(run.stoppedByGuard, false, `the runner did not stop the hanging file:\n${run.output}`);
    assert.equal(run.code, 1, run.output);
    assert.match(run.output, /hangs-in-before\.ts/);
    assert.match(run.output, /test timed out after 2000ms/);
  });

  it('refuses a time limit that is not a number of milliseconds', async () => {
    const run = await runTests([HANGING], { SESAME_TEST_FILE_TIMEOUT_MS: '2 minutes' });
    assert.equal(run.code, 2, run.output);
    assert.match(run.output, /SESAME_TEST_FILE_TIMEOUT_MS must be a number of milliseconds/);
  });
});
