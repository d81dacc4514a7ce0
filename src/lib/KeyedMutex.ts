/**
 * Runs work for one key at a time, in arrival order; different keys run side by side. The
 * services hold one per database user, so a grant and a revocation of the same person never
 * interleave (one would otherwise remove a group role the other just added); the PostgreSQL
 * adapter holds one per role, so two grants touching one role wait for each other instead of
 * colliding in PostgreSQL ("tuple concurrently updated").
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(work, work);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
