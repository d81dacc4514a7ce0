import { describeError, registerSecret } from '../../logger.ts';
import { type TlsAttempt, tlsAttempts } from '../postgres/connection.ts';
import { parseStateUri, type StateServer, type StateSslMode } from './stateUri.ts';

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
