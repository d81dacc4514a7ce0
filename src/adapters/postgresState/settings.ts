import type { SslMode } from '../../domain/integration.ts';
import { describeError, registerSecret } from '../../logger.ts';
import { type TlsAttempt, tlsAttempts } from '../postgres/connection.ts';

/** The state database cannot be used: unreachable, refused the login, or of a newer schema. */
export class StateUnavailableError extends Error {
  override readonly name = 'StateUnavailableError';
}

/** Where the PostgreSQL state lives and how to reach it: `state.postgres` and its TLS keys. */
export interface PostgresStateSettings {
  /** `postgres://user:password@host:port/database` */
  uri: string;
  /** TLS to the server, as in libpq; one connection attempt each, so allow and prefer are not offered. */
  sslMode: StateSslMode;
  /** PEM file of the CA(s) to verify the server against. */
  sslRootCert?: string | undefined;
}

/** The TLS modes of the state database: each makes one attempt, which one pool of connections can keep. */
export const STATE_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const satisfies readonly SslMode[];
export type StateSslMode = (typeof STATE_SSL_MODES)[number];

/** The parts of a state URI; `password` is never shown. */
export interface StateServer {
  host: string;
  port: number;
  database: string;
  user: string;
  password?: string;
}

/**
 * Reads a state URI, or says what is wrong with it without repeating it (it may hold a password).
 * Answers the problem as a sentence, for the config's message.
 */
export function parseStateUri(uri: string): StateServer | string {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'must be a URI like postgres://user:password@host:5432/database';
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    return `must start with postgres:// or postgresql://, not ${url.protocol}//`;
  }
  if (!url.hostname) return 'must name the server: postgres://user:password@host:5432/database';
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!database || database.includes('/')) return 'must name one database after the host: postgres://user:password@host:5432/database';
  if (!url.username) return 'must name the user Sesame signs in as: postgres://user:password@host:5432/database';
  if (url.search) return 'must carry no ?parameters: write TLS settings as state.sslMode and state.sslRootCert';
  const port = url.port ? Number(url.port) : 5432;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    database,
    user: decodeURIComponent(url.username),
    ...(password ? { password } : {}),
  };
}

/** How the state database is named in messages and logs: never with the password. */
export function describeServer(server: Pick<StateServer, 'host' | 'port' | 'database'>): string {
  return `the PostgreSQL state database ${server.database} on ${server.host}:${server.port}`;
}

/** The server and the one TLS attempt to reach it with; the password is kept out of every log line. */
export function connectionOf(settings: PostgresStateSettings): { server: StateServer; ssl: TlsAttempt } {
  const server = parseStateUri(settings.uri);
  if (typeof server === 'string') {
    throw new StateUnavailableError(`The state store's URI (state.postgres) ${server}.`);
  }
  registerSecret(server.password);
  let ssl: TlsAttempt;
  try {
    // With no CA file, an RDS or Aurora endpoint is verified against the RDS CA bundle.
    [ssl = false] = tlsAttempts({ ...settings, rdsCaBundle: server.host.endsWith('.rds.amazonaws.com') });
  } catch (err) {
    throw new StateUnavailableError(`${describeServer(server)} cannot be reached: ${describeError(err)}`, { cause: err });
  }
  return { server, ssl };
}
