import type { NotificationOutbox, OutboxDraft, OutboxEntry } from '../../ports/Coordination.ts';

interface Held extends OutboxEntry {
  dueAt: number;
  claimedBy?: string;
  claimedUntil?: number;
  lastError?: string;
}

/**
 * The notification outbox of one process (the SQLite store, tests): the same rules as the
 * PostgreSQL one, kept in memory. Each key's entries go one at a time, in queue order; a claim
 * whose lease ran out may be taken by another owner, and the first owner's later calls then do
 * nothing.
 */
export class MemoryOutbox implements NotificationOutbox {
  /** In queue order. */
  readonly #entries: Held[] = [];
  #nextId = 1;

  async enqueue(draft: OutboxDraft, at: Date): Promise<void> {
    this.#entries.push({
      id: this.#nextId++,
      key: draft.key,
      kind: draft.kind,
      // Kept as JSON, as a shared store keeps it: what comes out is what went in, as JSON.
      payload: JSON.parse(JSON.stringify(draft.payload ?? null)),
      done: [],
      attempts: 0,
      createdAt: new Date(at),
      dueAt: at.getTime(),
    });
  }

  async claim(owner: string, now: Date, leaseMs: number): Promise<OutboxEntry | undefined> {
    const t = now.getTime();
    const seen = new Set<string>();
    for (const entry of this.#entries) {
      if (seen.has(entry.key)) continue;
      seen.add(entry.key);
      const claimed = this.#entries.some((e) => e.key === entry.key && isClaimed(e, t));
      if (claimed || entry.dueAt > t) continue;
      entry.claimedBy = owner;
      entry.claimedUntil = t + leaseMs;
      entry.attempts += 1;
      return copyOf(entry);
    }
    return undefined;
  }

  async stepDone(id: number, owner: string, step: string, now: Date, leaseMs: number): Promise<boolean> {
    const entry = this.#held(id, owner);
    if (!entry) return false;
    if (!entry.done.includes(step)) entry.done.push(step);
    entry.claimedUntil = now.getTime() + leaseMs;
    return true;
  }

  async renew(id: number, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const entry = this.#held(id, owner);
    if (!entry) return false;
    entry.claimedUntil = now.getTime() + leaseMs;
    return true;
  }

  async complete(id: number, owner: string): Promise<void> {
    const entry = this.#held(id, owner);
    if (entry) this.#entries.splice(this.#entries.indexOf(entry), 1);
  }

  async retryLater(id: number, owner: string, retryAt: Date, error: string): Promise<void> {
    const entry = this.#held(id, owner);
    if (!entry) return;
    entry.dueAt = retryAt.getTime();
    entry.claimedBy = undefined;
    entry.claimedUntil = undefined;
    entry.lastError = error;
  }

  async backlog(): Promise<number> {
    return this.#entries.length;
  }

  #held(id: number, owner: string): Held | undefined {
    return this.#entries.find((e) => e.id === id && e.claimedBy === owner);
  }
}

function isClaimed(entry: Held, t: number): boolean {
  return entry.claimedUntil !== undefined && entry.claimedUntil >= t;
}

function copyOf(entry: Held): OutboxEntry {
  const { id, key, kind, payload, done, attempts, createdAt } = entry;
  return { id, key, kind, payload, done: [...done], attempts, createdAt: new Date(createdAt) };
}
