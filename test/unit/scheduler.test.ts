import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Scheduler, type Job } from '../../src/jobs/Scheduler.ts';
import { createLogger } from '../../src/logger.ts';

const silent = createLogger({ level: 'silent' });

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('the scheduler', () => {
  it('runs start-up jobs once, in order, before the schedule starts', async () => {
    const order: string[] = [];
    const jobs: Job[] = [
      { id: 'a', cron: '0 0 1 1 *', timeoutMs: 1000, runAtStart: true, run: async () => order.push('a') },
      { id: 'b', cron: '0 0 1 1 *', timeoutMs: 1000, run: async () => order.push('b') },
      { id: 'c', cron: '0 0 1 1 *', timeoutMs: 1000, runAtStart: true, run: async () => order.push('c') },
    ];
    const s = new Scheduler(jobs, silent);
    await s.start();
    assert.deepEqual(order, ['a', 'c']);
    await s.stop();
  });

  it('never overlaps a job with itself: a run asked for while one is going joins it', async () => {
    const gate = deferred();
    let runs = 0;
    const outcomes: string[] = [];
    const s = new Scheduler(
      [
        {
          id: 'slow',
          cron: '0 0 1 1 *',
          timeoutMs: 1000,
          run: async () => {
            runs++;
            await gate.promise;
          },
        },
      ],
      silent,
      (id, outcome) => outcomes.push(`${id}:${outcome}`),
    );
    const first = s.runNow('slow');
    const second = s.runNow('slow');
    gate.resolve();
    await Promise.all([first, second]);
    assert.equal(runs, 1);
    assert.deepEqual(outcomes, ['slow:skipped', 'slow:ok']);
    await s.runNow('slow');
    assert.equal(runs, 2, 'runs again once the previous run ended');
  });

  it('logs a failing job and keeps going; stop waits for the run in flight', async () => {
    const gate = deferred();
    let finished = false;
    const outcomes: string[] = [];
    const s = new Scheduler(
      [
        {
          id: 'bad',
          cron: '0 0 1 1 *',
          timeoutMs: 1000,
          run: async () => {
            throw new Error('boom');
          },
        },
        {
          id: 'long',
          cron: '0 0 1 1 *',
          timeoutMs: 1000,
          run: async () => {
            await gate.promise;
            finished = true;
          },
        },
      ],
      silent,
      (id, outcome) => outcomes.push(`${id}:${outcome}`),
    );
    await s.runNow('bad');
    assert.deepEqual(outcomes, ['bad:error']);
    void s.runNow('long');
    const stopped = s.stop();
    setTimeout(() => gate.resolve(), 20);
    await stopped;
    assert.equal(finished, true);
  });

  it('runs a job on its cron schedule (seconds field)', async () => {
    let runs = 0;
    const s = new Scheduler(
      [
        {
          id: 'tick',
          cron: '* * * * * *',
          timeoutMs: 1000,
          run: async () => {
            runs++;
          },
        },
      ],
      silent,
    );
    await s.start();
    const deadline = Date.now() + 3500;
    while (runs === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await s.stop();
    assert.ok(runs >= 1, 'a job scheduled every second ran within 3.5 s');
  });
});
