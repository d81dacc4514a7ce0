import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Tells whoever started a piece of work that what it asked for is now durably recorded: from
 * then on any replica can finish it, so the Slack edge may acknowledge it (PRODUCT.md §7: work
 * acknowledged to Slack is recorded before the ack answers). The services say it at the point
 * where it is true; the edge waits for it.
 */
const current = new AsyncLocalStorage<() => void>();

/** Says that the work under way in this call chain is recorded; nothing when nobody waits. */
export function markRecorded(): void {
  current.getStore()?.();
}

/**
 * Runs `work` and answers, beside its outcome, a promise that settles once the work says it is
 * recorded, or once the work settles, whichever comes first.
 */
export function runRecorded<T>(work: () => Promise<T>): { recorded: Promise<void>; done: Promise<T> } {
  let say!: () => void;
  const recorded = new Promise<void>((resolve) => {
    say = resolve;
  });
  const done = current.run(say, work);
  done.then(say, say);
  return { recorded, done };
}
