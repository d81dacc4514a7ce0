import pg from 'pg';
import { describeError } from '../../logger.ts';
import { storeErrors } from '../../ports/stateStoreRules.ts';
import { isAuthFailure, isConnectionFailure, UnverifiedServerPasswordError, VerifiedPasswordClient } from '../postgres/connection.ts';
import type { Row } from '../stateTables/columns.ts';
import { connectionOf, describeServer, type PostgresStateSettings, StateUnavailableError } from './settings.ts';

/** Something that runs SQL: the pool, or one client inside a transaction. */
export interface Queryable {
  query(text: string, params?: unknown[]): Promise<pg.QueryResult<Row>>;
}

/** Connections to the state database, at most this many per Sesame process. */
const POOL_SIZE = 5;
/** Connections that hold per-person locks, apart from the pool the work under them uses. */
const LOCK_POOL_SIZE = 8;
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * The pool of connections shared by the state store's parts. `ready` settles once the schema is
 * brought up to date; every query waits for it, so a store that could not open fails each call
 * with the same clear error. After `close`, every call fails the same way as SQLite's.
 */
export class PostgresConnection {
  readonly #pool: pg.Pool;
  readonly #clientConfig: pg.ClientConfig;
  #lockPool: pg.Pool | undefined;
  readonly #where: string;
  #ready: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(settings: PostgresStateSettings) {
    const { server, ssl } = connectionOf(settings);
    this.#where = describeServer(server);
    this.#clientConfig = {
      host: server.host,
      port: server.port,
      database: server.database,
      user: server.user,
      ...(server.password ? { password: server.password } : {}),
      ssl,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      application_name: 'sesame',
      // A peer that vanished (power, network) is noticed by the operating system, not only
      // when the next query times out.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    };
    this.#pool = new pg.Pool({ Client: VerifiedPasswordClient, ...this.#clientConfig, max: POOL_SIZE });
    // An idle connection the server ends is replaced at the next use; it must not crash Sesame.
    this.#pool.on('error', () => undefined);
  }

  /**
   * A connection of its own, outside the pool, for a session-level lock held as long as the
   * connection lives (job leadership). The caller ends it; its errors are the caller's to handle.
   */
  async dedicated(): Promise<pg.Client> {
    await this.#usable();
    const client = new VerifiedPasswordClient({ ...this.#clientConfig, application_name: 'sesame leader' });
    try {
      await client.connect();
    } catch (err) {
      client.on('error', () => undefined);
      await client.end().catch(() => undefined);
      throw this.explained(err);
    }
    return client;
  }

  /**
   * A connection of the lock pool, to hold a session-level advisory lock while the work under it
   * uses the main pool (so held locks can never starve that work of connections).
   */
  async lockConnection(): Promise<pg.PoolClient> {
    await this.#usable();
    if (!this.#lockPool) {
      this.#lockPool = new pg.Pool({
        Client: VerifiedPasswordClient,
        ...this.#clientConfig,
        application_name: 'sesame locks',
        max: LOCK_POOL_SIZE,
      });
      this.#lockPool.on('error', () => undefined);
    }
    return this.#lockPool.connect().catch((err) => {
      throw this.explained(err);
    });
  }

  /** Names the database in messages: host, port and database, never the password. */
  get where(): string {
    return this.#where;
  }

  /** Makes every query wait for `opening` (the migrations), and fail with its error if it fails. */
  openWith(opening: (db: Queryable & Pick<PostgresConnection, 'transaction'>) => Promise<void>): Promise<void> {
    const ready = opening({ query: (text, params) => this.#raw(text, params), transaction: (work) => this.#inTransaction(work) });
    this.#ready = ready;
    // Callers see the failure through ready() or their own query; it is not left unhandled.
    ready.catch(() => undefined);
    return ready;
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async query(text: string, params?: unknown[]): Promise<pg.QueryResult<Row>> {
    await this.#usable();
    return this.#raw(text, params);
  }

  /** The first row `text` returns, if any. */
  async one(text: string, ...params: unknown[]): Promise<Row | undefined> {
    return (await this.query(text, params)).rows[0];
  }

  /** Every row `text` returns. */
  async all(text: string, ...params: unknown[]): Promise<Row[]> {
    return (await this.query(text, params)).rows;
  }

  /** Runs `work` on one connection in one transaction: it commits all or nothing. */
  async transaction<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    await this.#usable();
    return this.#inTransaction(work);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#pool.end().catch(() => undefined), this.#lockPool?.end().catch(() => undefined)]);
  }

  async #usable(): Promise<void> {
    if (this.#closed) throw storeErrors.closed();
    await this.#ready;
    if (this.#closed) throw storeErrors.closed();
  }

  async #raw(text: string, params?: unknown[]): Promise<pg.QueryResult<Row>> {
    return this.#pool.query<Row>(text, params).catch((err) => {
      throw this.explained(err);
    });
  }

  async #inTransaction<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect().catch((err) => {
      throw this.explained(err);
    });
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await work(client as Queryable);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch((rollbackErr: Error) => {
        broken = rollbackErr;
      });
      throw this.explained(err);
    } finally {
      client.release(broken);
    }
  }

  /** A failure to reach or sign in to the server, said with the database's name; other errors pass unchanged. */
  explained(err: unknown): unknown {
    if (this.#closed) return storeErrors.closed();
    if (!unreachable(err)) return err;
    return new StateUnavailableError(
      `${this.#where} cannot be reached: ${describeError(err)}. Check state.postgres, the server and the network.`,
      { cause: err },
    );
  }
}

/** Errors that mean the server is not there, not taking connections, refused the login, or failed TLS. */
function unreachable(err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  return (
    isConnectionFailure(err) ||
    isAuthFailure(err) ||
    err instanceof UnverifiedServerPasswordError ||
    code === '3D000' ||
    /CERT|SELF_SIGNED|UNABLE_TO/.test(code) ||
    /does not support SSL/i.test((err as Error)?.message ?? '')
  );
}
