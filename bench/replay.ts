import pg from 'pg';
import { STALE_REPEAT_GRANT } from '../src/adapters/postgres/scopeFingerprint.ts';

/** One statement as the engine sent it (from its statement observer). */
export interface SentStatement {
  database: string;
  text: string;
  values?: unknown[];
  /** The name it was prepared under, if it was. */
  preparedAs?: string;
}

/**
 * The floor of every benchmark: the statements Sesame sent, sent again directly with pg over one
 * open connection per database, with one set of names swapped for another so the work is the
 * same but on fresh objects. No pool, no checks, no services: just the SQL.
 */
export class DirectSender {
  private readonly clients = new Map<string, pg.Client>();

  constructor(private readonly connect: (database: string) => pg.ClientConfig) {}

  private async client(database: string): Promise<pg.Client> {
    let c = this.clients.get(database);
    if (!c) {
      c = new pg.Client(this.connect(database));
      // A connection the server ends (a cluster stopped between groups) must not end the run; a
      // send on it still fails loudly.
      c.on('error', () => undefined);
      await c.connect();
      this.clients.set(database, c);
    }
    return c;
  }

  /** Opens the connections up front so no measured operation pays for a connect. */
  async warm(databases: string[]): Promise<void> {
    for (const d of databases) await this.client(d);
  }

  /** Sends the statements in order, each with `from` replaced by `to` in text and values. */
  async send(statements: readonly SentStatement[], from: string, to: string): Promise<void> {
    for (const s of statements) {
      const client = await this.client(s.database);
      const text = s.text.replaceAll(from, to);
      const values = s.values?.map((v) => swap(v, from, to));
      // Prepared where Sesame prepares, so the floor is the same work done directly.
      try {
        await (s.preparedAs ? client.query({ name: s.preparedAs, text, values }) : client.query(text, values));
      } catch (err) {
        // A repeat grant's check that found the scope or the user not as remembered raised this
        // in Sesame's run too, which then went on with the full grant recorded after it.
        if ((err as { code?: string }).code !== STALE_REPEAT_GRANT) throw err;
      }
    }
  }

  async close(): Promise<void> {
    for (const c of this.clients.values()) await c.end();
    this.clients.clear();
  }
}

function swap(value: unknown, from: string, to: string): unknown {
  if (typeof value === 'string') return value.replaceAll(from, to);
  if (Array.isArray(value)) return value.map((v) => swap(v, from, to));
  return value;
}

/** Percentile of a list of durations (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}
