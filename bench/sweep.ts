/**
 * The expiry sweep over 1,000 expired grants on a real PostgreSQL: services, SQLite store and
 * engine together, once one after another (as the sweep ran before it ran servers side by side
 * and a few at a time on each) and once as `expireDue` runs it now, each on its own 1,000 grants;
 * the floor is the parallel run's revocation statements sent directly, one after another. The
 * sequential run is profiled: the time in the state store, in the engine and in the rest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresTargetDatabase } from '../src/adapters/postgres/postgresTargetDatabases.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/SqliteStateStore.ts';
import { configSchema } from '../src/config/schema.ts';
import type { Target } from '../src/domain/target.ts';
import { createLogger } from '../src/logger.ts';
import type { TargetDatabase } from '../src/ports/TargetDatabase.ts';
import { SWEEP_BOUNDS } from '../src/services/expirySweep.ts';
import { createServices } from '../src/services/index.ts';
import { IntegrationRegistry } from '../src/services/IntegrationRegistry.ts';
import { RevocationService, type RevocationDeps } from '../src/services/RevocationService.ts';
import { FakeDirectory, FakeTargetDatabases, ManualClock, RecordingNotifier } from '../test/support/fakes.ts';
import { APP, type TestCluster } from '../test/support/postgres.ts';
import { DirectSender, timed, type SentStatement } from './replay.ts';

const COUNT = Number(process.env.BENCH_COUNT ?? 1000);
const TARGET_MS = 3000;
const round = (n: number) => Math.round(n * 100) / 100;
const pad = (i: number) => String(i).padStart(5, '0');

/** Milliseconds spent in each method of `target`, summed over calls (meaningful when calls do not overlap). */
function profiled<T extends object>(target: T, spent: Map<string, number>, prefix: string): T {
  return new Proxy(target, {
    get(obj, name, receiver) {
      const value = Reflect.get(obj, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const started = performance.now();
        const result = value.apply(obj, args);
        const add = () =>
          spent.set(`${prefix}.${String(name)}`, (spent.get(`${prefix}.${String(name)}`) ?? 0) + performance.now() - started);
        if (result instanceof Promise) return result.finally(add);
        add();
        return result;
      };
    },
  });
}

export async function sweepBenchmark(cluster: TestCluster, log: (line: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-bench-sweep-'));
  const spent = new Map<string, number>();
  const store = SqliteStateStore.open(join(dir, 'sesame.db'));
  let recorder: SentStatement[] | undefined;
  const engine = postgresTargetDatabase(cluster.integrationConfig({ name: 'bench' }), {
    onStatement: (e) =>
      recorder?.push({
        database: e.database,
        text: e.text,
        ...(e.values ? { values: e.values } : {}),
        ...(e.preparedAs ? { preparedAs: e.preparedAs } : {}),
      }),
  });
  const people: Record<string, string> = {};
  for (const batch of ['s', 'p']) for (let i = 0; i < COUNT; i++) people[`U${batch}${pad(i)}`] = `sweep-${batch}-${pad(i)}@example.com`;
  const config = configSchema.parse({
    integrations: [cluster.integrationConfig({ name: 'bench' })],
    accessFlows: [{ name: 'auto', requestors: ['*'], permissions: ['readonly'], maxDuration: '8h', approvers: [] }],
  });
  const clock = new ManualClock(new Date());
  const services = createServices({
    config,
    integrations: new IntegrationRegistry(config.integrations, clock),
    store: profiled(store, spent, 'store'),
    databases: new FakeTargetDatabases<TargetDatabase>([profiled(engine, spent, 'engine')]),
    notifier: profiled(new RecordingNotifier(), spent, 'notifier'),
    directory: new FakeDirectory(people),
    clock,
    logger: createLogger({ level: 'silent' }),
  });
  const target: Target = { integration: 'bench', database: APP.database, schema: 'public' };
  const grantBatch = async (batch: string) => {
    const sent: SentStatement[] = [];
    recorder = sent;
    for (let i = 0; i < COUNT; i++) {
      await services.requests.requestAccess({
        requesterSlackId: `U${batch}${pad(i)}`,
        target,
        permission: 'readonly',
        durationMinutes: 60,
        reason: 'bench',
      });
    }
    recorder = undefined;
    clock.advance(61 * 60_000);
    return sent;
  };
  const left = async () => (await store.listRequests({ statuses: ['granted', 'revoking'] })).length;

  // Before: one after another, as the sweep ran before.
  await grantBatch('s');
  spent.clear();
  const oneByOne = new RevocationService({
    ...(Reflect.get(services.revocations, 'deps') as RevocationDeps),
    sweepBounds: { perKey: 1, total: 1 },
  });
  const [, sequentialMs] = await timed(() => oneByOne.expireDue(COUNT * 2));
  const profile = Object.fromEntries([...spent].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v)]));
  if ((await left()) !== 0) throw new Error('the sequential sweep left grants');

  // After: expireDue as it runs now.
  const grantsSent = await grantBatch('p');
  const direct = new DirectSender((database) => ({
    host: cluster.host,
    port: cluster.port,
    database,
    user: cluster.connector.username,
    password: cluster.connector.password,
  }));
  await direct.warm([APP.database, 'postgres']);
  await direct.send(grantsSent, 'sweep-p-', 'sweep-f-');
  const revokesSent: SentStatement[] = [];
  recorder = revokesSent;
  const [expired, parallelMs] = await timed(() => services.revocations.expireDue(COUNT * 2));
  recorder = undefined;
  if (expired !== COUNT || (await left()) !== 0) throw new Error(`the sweep ended ${expired} of ${COUNT}`);
  const [, floorMs] = await timed(() => direct.send(revokesSent, 'sweep-p-', 'sweep-f-'));
  await direct.close();
  await engine.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const figures = {
    grants: COUNT,
    sequentialMs: round(sequentialMs),
    parallelMs: round(parallelMs),
    floorMs: round(floorMs),
    ratio: round(parallelMs / floorMs),
    statements: revokesSent.length,
    bounds: SWEEP_BOUNDS,
    targetMs: TARGET_MS,
    sequentialProfileMs: profile,
  };
  log(
    `expiry sweep over ${COUNT} expired grants  before (one after another) ${round(sequentialMs / 1000)} s` +
      `   now (${SWEEP_BOUNDS.perKey} per server, ${SWEEP_BOUNDS.total} in all) ${round(parallelMs / 1000)} s (target < ${TARGET_MS / 1000} s)` +
      `   floor ${round(floorMs / 1000)} s   ${revokesSent.length} statements`,
  );
  log(`  where the sequential sweep's time goes (ms): ${JSON.stringify(profile)}`);
  return figures;
}
