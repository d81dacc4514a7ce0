import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WorkQueue } from '../../src/lib/WorkQueue.ts';

describe('the work queue', () => {
  it('runs at most `concurrency` jobs at once, in arrival order, and survives failures', async () => {
    const queue = new WorkQueue(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const job = (i: number) => async () => {
      active++;
      peak = Math.max(peak, active);
      order.push(i);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      if (i === 3) throw new Error('job 3 fails');
      return i;
    };
    const results = await Promise.allSettled([1, 2, 3, 4, 5, 6].map((i) => queue.run(job(i))));
    assert.equal(peak, 2);
    assert.deepEqual(order, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'],
    );
    assert.equal(queue.size, 0);
  });
  it('refuses a concurrency below one', () => {
    assert.throws(() => new WorkQueue(0));
  });
});
