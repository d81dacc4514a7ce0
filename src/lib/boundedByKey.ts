/** How many items run at once: per key, and in all. */
export interface KeyedBounds {
  perKey: number;
  total: number;
}

/**
 * Runs `work` on every item, at most `perKey` items of one key and `total` items in all at a
 * time. Keys take turns: when a slot frees, the key that has waited longest for one starts its
 * next item, so one key with many items does not hold back the others. Every item runs even
 * when some fail; the failures are returned in the order they happened.
 */
export async function runBoundedByKey<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  work: (item: T) => Promise<unknown>,
  bounds: KeyedBounds,
): Promise<unknown[]> {
  for (const bound of [bounds.perKey, bounds.total]) {
    if (!Number.isInteger(bound) || bound < 1) throw new Error('bounds must be whole numbers ≥ 1');
  }
  // Map order is the turn order: a key that starts an item goes to the back.
  const queues = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const queue = queues.get(key);
    if (queue) queue.push(item);
    else queues.set(key, [item]);
  }
  const inFlight = new Map<string, number>();
  const failures: unknown[] = [];
  let running = 0;
  return new Promise((resolve) => {
    const pump = () => {
      let started = true;
      while (started && running < bounds.total) {
        started = false;
        for (const [key, queue] of queues) {
          if ((inFlight.get(key) ?? 0) >= bounds.perKey) continue;
          const item = queue.shift()!;
          queues.delete(key);
          if (queue.length > 0) queues.set(key, queue);
          start(key, item);
          started = true;
          break;
        }
      }
      if (running === 0 && queues.size === 0) resolve(failures);
    };
    const start = (key: string, item: T) => {
      running++;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
      Promise.resolve()
        .then(() => work(item))
        .catch((err: unknown) => {
          failures.push(err);
        })
        .finally(() => {
          running--;
          inFlight.set(key, inFlight.get(key)! - 1);
          pump();
        });
    };
    pump();
  });
}
