/**
 * Sesame's benchmarks, each printed beside its floor: the same SQL statements Sesame sent, sent
 * directly with pg in the same run (see DirectSender). Run with `npm run bench`; `--json` prints
 * one JSON object with the same figures; `--only slack,failover` runs only the groups named
 * (engine, slack, failover, sweep, scale). BENCH_COUNT changes the 1,000 of the grant and sweep benchmarks,
 * BENCH_TABLES the 10,000 tables of the wide schema.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresTargetDatabase } from '../src/adapters/postgres/postgresTargetDatabases.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/SqliteStateStore.ts';
import { configSchema } from '../src/config/schema.ts';
import { createLogger } from '../src/logger.ts';
import type { Target } from '../src/domain/target.ts';
import type { TargetDatabase } from '../src/ports/TargetDatabase.ts';
import { createServices } from '../src/services/index.ts';
import { IntegrationRegistry } from '../src/services/IntegrationRegistry.ts';
import { APP, startCluster, type TestCluster } from '../test/support/postgres.ts';
import { FakeDirectory, FakeTargetDatabases, ManualClock, RecordingNotifier } from '../test/support/fakes.ts';
import { DirectSender, percentile, timed, type SentStatement } from './replay.ts';
import { grantFloorBenchmark } from './grantFloor.ts';
import { expiryBenchmark } from './expiry.ts';
import { failoverBenchmark } from './replicas.ts';
import { slackBenchmarks } from './slack.ts';
import { scaleBenchmarks } from './scale.ts';
import { sweepBenchmark } from './sweep.ts';

const json = process.argv.includes('--json');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',')) : undefined;
const runs = (group: 'engine' | 'slack' | 'failover' | 'sweep' | 'scale' | 'expiry') => !only || only.has(group);
const COUNT = Number(process.env.BENCH_COUNT ?? 1000);
const TABLES = Number(process.env.BENCH_TABLES ?? 10_000);
const VERSION = Number(process.env.BENCH_PG_VERSION ?? 17);
const log = (line: string) => {
  if (!json) process.stdout.write(`${line}\n`);
};

interface Recorder {
  current: SentStatement[] | undefined;
}

function engineFor(cluster: TestCluster, recorder: Recorder) {
  return postgresTargetDatabase(cluster.integrationConfig({ name: 'bench' }), {
    onStatement: (e) =>
      recorder.current?.push({
        database: e.database,
        text: e.text,
        ...(e.values ? { values: e.values } : {}),
        ...(e.preparedAs ? { preparedAs: e.preparedAs } : {}),
      }),
  });
}

function senderFor(cluster: TestCluster): DirectSender {
  return new DirectSender((database) => ({
    host: cluster.host,
    port: cluster.port,
    database,
    user: cluster.connector.username,
    password: cluster.connector.password,
  }));
}

function latencyFigures(ms: number[]) {
  const total = ms.reduce((a, b) => a + b, 0);
  return { p50Ms: round(percentile(ms, 50)), p95Ms: round(percentile(ms, 95)), perSecond: round((ms.length / total) * 1000) };
}

const round = (n: number) => Math.round(n * 100) / 100;
const pad = (i: number) => String(i).padStart(5, '0');

/** 1,000 grants and 1,000 revocations through the engine, each followed by its floor. */
async function grantsAndRevocations(cluster: TestCluster) {
  const recorder: Recorder = { current: undefined };
  const engine = engineFor(cluster, recorder);
  const direct = senderFor(cluster);
  const target: Target = { integration: 'bench', database: APP.database, schema: 'public' };
  const validUntil = new Date(Date.now() + 3_600_000);
  // Warm both paths: the first grant creates the group role and opens the pools.
  await engine.grant({ username: 'bench_warmup', ownerLabel: 'warm-up', target, permission: 'readonly', validUntil });
  await direct.warm([APP.database, 'postgres']);
  const result = {
    grant: { engine: [] as number[], floor: [] as number[] },
    revoke: { engine: [] as number[], floor: [] as number[] },
    statementsPerGrant: 0,
    statementsPerRevoke: 0,
  };
  const roles: string[][] = [];
  for (let i = 0; i < COUNT; i++) {
    recorder.current = [];
    const [granted, ms] = await timed(() =>
      engine.grant({ username: `bench_a_${pad(i)}`, ownerLabel: 'bench', target, permission: 'readonly', validUntil }),
    );
    roles.push(granted.roles);
    const sent = recorder.current;
    recorder.current = undefined;
    result.grant.engine.push(ms);
    result.statementsPerGrant = sent.length;
    result.grant.floor.push((await timed(() => direct.send(sent, 'bench_a_', 'bench_b_')))[1]);
  }
  for (let i = 0; i < COUNT; i++) {
    recorder.current = [];
    const [, ms] = await timed(() => engine.revoke({ username: `bench_a_${pad(i)}`, roles: roles[i]!, keepRoles: [], validUntil: null }));
    const sent = recorder.current;
    recorder.current = undefined;
    result.revoke.engine.push(ms);
    result.statementsPerRevoke = sent.length;
    result.revoke.floor.push((await timed(() => direct.send(sent, 'bench_a_', 'bench_b_')))[1]);
  }
  await engine.close();
  await direct.close();
  const figures = {
    grant: {
      engine: latencyFigures(result.grant.engine),
      floor: latencyFigures(result.grant.floor),
      statements: result.statementsPerGrant,
    },
    revoke: {
      engine: latencyFigures(result.revoke.engine),
      floor: latencyFigures(result.revoke.floor),
      statements: result.statementsPerRevoke,
    },
  };
  for (const op of ['grant', 'revoke'] as const) {
    const f = figures[op];
    const ratio = round(f.engine.p50Ms / f.floor.p50Ms);
    Object.assign(f, { ratioP50: ratio });
    log(
      `${op.padEnd(6)} ×${COUNT}  engine p50 ${f.engine.p50Ms} ms  p95 ${f.engine.p95Ms} ms  ${f.engine.perSecond}/s` +
        `   floor p50 ${f.floor.p50Ms} ms  p95 ${f.floor.p95Ms} ms  ${f.floor.perSecond}/s` +
        `   ratio p50 ${ratio} (target ≤ 1.5)  ${f.statements} statements`,
    );
  }
  return figures;
}

/** readonly on a schema of 10,000 tables: one grant, timed, with its statement count. */
async function wideSchema(cluster: TestCluster) {
  const [, setupMs] = await timed(async () => {
    await cluster.query(`CREATE SCHEMA wide AUTHORIZATION ${APP.owner}`);
    for (let from = 1; from <= TABLES; from += 1000) {
      const to = Math.min(TABLES, from + 999);
      await cluster.query(
        `SET ROLE ${APP.owner}; DO $$ BEGIN FOR i IN ${from}..${to} LOOP EXECUTE format('CREATE TABLE wide.t%s (id int PRIMARY KEY, v text)', i); END LOOP; END $$`,
      );
    }
  });
  const recorder: Recorder = { current: [] };
  const engine = engineFor(cluster, recorder);
  const target: Target = { integration: 'bench', database: APP.database, schema: 'wide' };
  const [granted, engineMs] = await timed(() =>
    engine.grant({ username: 'wide_a', ownerLabel: 'bench', target, permission: 'readonly', validUntil: new Date(Date.now() + 3_600_000) }),
  );
  const sent = recorder.current!;
  await engine.close();
  // The floor does the same work from the same start: the group role does not exist yet.
  const group = granted.roles[0]!;
  await cluster.query(`DROP OWNED BY "${group}"; REVOKE "${group}" FROM wide_a; DROP ROLE "${group}"`);
  const direct = senderFor(cluster);
  await direct.warm([APP.database, 'postgres']);
  const [, floorMs] = await timed(() => direct.send(sent, 'wide_a', 'wide_b'));
  await direct.close();
  const [check] = await cluster.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'wide' AND c.relkind = 'r' AND has_table_privilege('wide_b', c.oid, 'SELECT')`,
  );
  if (check?.n !== TABLES) throw new Error(`wide_b can read ${check?.n} of ${TABLES} tables`);
  const figures = {
    tables: TABLES,
    engineMs: round(engineMs),
    floorMs: round(floorMs),
    ratio: round(engineMs / floorMs),
    statements: sent.length,
    targetMs: 2000,
    setupMs: round(setupMs),
  };
  log(
    `readonly on a schema of ${TABLES} tables  engine ${figures.engineMs} ms (${sent.length} statements, target < 2000 ms)` +
      `   floor ${figures.floorMs} ms   ratio ${figures.ratio}`,
  );
  return figures;
}

/** The expiry sweep over 1,000 expired grants: services, SQLite store and engine together. */
async function expirySweep(cluster: TestCluster) {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-bench-'));
  const store = SqliteStateStore.open(join(dir, 'sesame.db'));
  const recorder: Recorder = { current: undefined };
  const engine = engineFor(cluster, recorder);
  const people: Record<string, string> = {};
  for (let i = 0; i < COUNT; i++) people[`U${pad(i)}`] = `sweep-a-${pad(i)}@example.com`;
  const config = configSchema.parse({
    integrations: [{ ...cluster.integrationConfig({ name: 'bench' }) }],
    accessFlows: [{ name: 'auto', requestors: ['*'], permissions: ['readonly'], maxDuration: '8h', approvers: [] }],
  });
  const clock = new ManualClock(new Date());
  const services = createServices({
    config,
    integrations: new IntegrationRegistry(config.integrations, clock),
    store,
    databases: new FakeTargetDatabases<TargetDatabase>([engine]),
    notifier: new RecordingNotifier(),
    directory: new FakeDirectory(people),
    clock,
    logger: createLogger({ level: 'silent' }),
  });
  const direct = senderFor(cluster);
  await direct.warm([APP.database, 'postgres']);
  const target: Target = { integration: 'bench', database: APP.database, schema: 'public' };
  const grantsSent: SentStatement[] = [];
  recorder.current = grantsSent;
  for (let i = 0; i < COUNT; i++) {
    await services.requests.requestAccess({
      requesterSlackId: `U${pad(i)}`,
      target,
      permission: 'readonly',
      durationMinutes: 60,
      reason: 'bench',
    });
  }
  // The floor's users get the same grants, sent directly.
  recorder.current = undefined;
  await direct.send(grantsSent, 'sweep-a-', 'sweep-b-');
  clock.advance(61 * 60_000);
  const revokesSent: SentStatement[] = [];
  recorder.current = revokesSent;
  const [expired, engineMs] = await timed(() => services.revocations.expireDue(COUNT * 2));
  recorder.current = undefined;
  const [, floorMs] = await timed(() => direct.send(revokesSent, 'sweep-a-', 'sweep-b-'));
  const left = await store.listRequests({ statuses: ['granted', 'revoking'] });
  if (expired !== COUNT || left.length !== 0) throw new Error(`sweep ended ${expired} of ${COUNT}; ${left.length} left`);
  await engine.close();
  await direct.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const figures = {
    grants: COUNT,
    engineMs: round(engineMs),
    floorMs: round(floorMs),
    ratio: round(engineMs / floorMs),
    statements: revokesSent.length,
    targetMs: 30_000,
  };
  log(
    `expiry sweep over ${COUNT} expired grants  sesame ${round(engineMs / 1000)} s (target < 30 s)` +
      `   floor ${round(floorMs / 1000)} s   ratio ${figures.ratio}  ${revokesSent.length} statements`,
  );
  return figures;
}

async function withCluster<T>(work: (cluster: TestCluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster(VERSION);
  try {
    await cluster.completeConnectorSetup();
    return await work(cluster);
  } finally {
    await cluster.stop();
  }
}

async function main() {
  log(`Sesame benchmarks on PostgreSQL ${VERSION} (floor: the same SQL sent directly with pg, same run)`);
  const results = {
    postgres: VERSION,
    ...(runs('engine')
      ? await withCluster(async (cluster) => ({
          grantsAndRevocations: await grantsAndRevocations(cluster),
          // Before the wide schema: its 10,000 tables would be in every grant's catalog reads.
          repeatGrants: await grantFloorBenchmark(cluster, COUNT, log),
          wideSchema: await wideSchema(cluster),
          expirySweep: await expirySweep(cluster),
        }))
      : {}),
    // A fresh server: the grants above leave 2,000 users and 10,000 tables, which slow every
    // grant's catalog reads and would flatter the ratio of the Slack path to the engine alone.
    ...(runs('slack') ? { slack: await withCluster((fresh) => slackBenchmarks(fresh, log)) } : {}),
    ...(runs('failover') ? { failover: await withCluster((fresh) => failoverBenchmark(fresh, log)) } : {}),
    ...(runs('sweep') ? { sweep: await withCluster((fresh) => sweepBenchmark(fresh, log)) } : {}),
    ...(runs('scale') ? { scale: await scaleBenchmarks(log) } : {}),
    ...(runs('expiry') ? { expiry: await withCluster((fresh) => expiryBenchmark(fresh, log)) } : {}),
  };
  if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
