import { sqlState, type ConnectionPools } from './connection.ts';
import { Session, type StatementObserver } from './session.ts';

/*
 * The sessions of one integration's server: which database administrative work runs in, work
 * in another database on the session already held, and retries after concurrent catalog changes.
 */

function messageOf(err: unknown): string {
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return `${(err as Error | undefined)?.message ?? ''} ${(cause as Error | undefined)?.message ?? ''}`;
}

/** Two sessions changed the same catalog row at once, or a lock wait ran out: worth a retry. */
function isConcurrencyConflict(err: unknown): boolean {
  const state = sqlState(err);
  return (
    state === '40001' ||
    state === '40P01' ||
    state === '55P03' ||
    (state === 'XX000' && /concurrently (updated|deleted)/.test(messageOf(err)))
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class ServerSessions {
  readonly #integration: string;
  readonly #defaultDatabase: string;
  readonly #pools: ConnectionPools;
  readonly #onStatement?: StatementObserver;
  /** The database administrative statements run in, found on first use. */
  #maintenanceDatabase: string | undefined;
  /** Why administrative work runs elsewhere than in the integration's database, when it does. */
  #fallbackReason: string | undefined;

  constructor(options: { integration: string; defaultDatabase: string; pools: ConnectionPools; onStatement?: StatementObserver }) {
    this.#integration = options.integration;
    this.#defaultDatabase = options.defaultDatabase;
    this.#pools = options.pools;
    this.#onStatement = options.onStatement;
  }

  /**
   * Runs administrative work in the integration's database, or, when that database refuses the
   * connector (CONNECT revoked from PUBLIC) or does not exist, in `postgres` or `template1`.
   */
  async maintenance<T>(work: (m: Session) => Promise<T>): Promise<T> {
    const candidates = [...new Set([this.#maintenanceDatabase ?? this.#defaultDatabase, this.#defaultDatabase, 'postgres', 'template1'])];
    let lastError: unknown;
    for (const database of candidates) {
      try {
        const result = await this.inDatabase(database, work, true);
        this.#maintenanceDatabase = database;
        return result;
      } catch (err) {
        if (!(err instanceof NotConnected)) throw err;
        lastError = err.cause;
        const state = sqlState(err.cause) ?? '';
        if (!['42501', '3D000'].includes(state)) break;
        if (database === this.#defaultDatabase) {
          this.#fallbackReason = state === '3D000' ? `database ${database} does not exist` : `the connector may not connect to ${database}`;
        }
      }
    }
    throw lastError;
  }

  /**
   * Where administrative work ran, said for a person: the integration's database, or another
   * one with the reason the integration's was not used.
   */
  describeMaintenanceDatabase(held: Session): string {
    if (held.database === this.#defaultDatabase) return `database ${held.database}`;
    const why = this.#fallbackReason ?? `database ${this.#defaultDatabase} was not reachable`;
    return `database ${held.database}, not the configured ${this.#defaultDatabase}: ${why}`;
  }

  /**
   * Runs `work` in `database` on the session already held when it is that database. Taking a
   * second connection to it instead would deadlock: the pool holds four connections, and four
   * grants at once each hold one while waiting for the same group role's lock.
   */
  on<T>(held: Session, database: string, work: (s: Session) => Promise<T>): Promise<T> {
    return database === held.database ? work(held) : this.inDatabase(database, work);
  }

  async inDatabase<T>(database: string, work: (s: Session) => Promise<T>, markConnectFailures = false): Promise<T> {
    let connected = false;
    try {
      return await this.#pools.withClient(database, async (client) => {
        connected = true;
        return work(new Session(database, client, this.#integration, this.#onStatement));
      });
    } catch (err) {
      if (markConnectFailures && !connected) throw new NotConnected(err);
      throw err;
    }
  }

  close(): Promise<void> {
    return this.#pools.closeAll();
  }
}

/** Runs work again (five times at most, with a short random wait) when it met a concurrent change. */
export async function retryingConflicts<T>(work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (err) {
      if (attempt >= 5 || !isConcurrencyConflict(err)) throw err;
      await sleep(25 * attempt + Math.floor(Math.random() * 25));
    }
  }
}

/** Could not open a connection at all (as opposed to a statement that failed). */
class NotConnected extends Error {
  constructor(override readonly cause: unknown) {
    super('not connected');
  }
}
