import type { SslMode } from '../../domain/integration.ts';

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
