/**
 * Sesame at 10,000 active grants over 100 integrations, on the SQLite state: the time to build
 * the Home tab of a person holding 1,200 of them and the first two pages of an admin's
 * `list all`, store queries included, each against its target of 100 ms; then the bot as a
 * process at that scale and discovery of 1,000 RDS instances (bench/scaleProcess.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listLimit, listMessage } from '../src/adapters/slack/blocks/commandReplies.ts';
import { HOME_COUNTED, homeView } from '../src/adapters/slack/blocks/homeView.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/SqliteStateStore.ts';
import { createLogger } from '../src/logger.ts';
import { createServices } from '../src/services/index.ts';
import { IntegrationRegistry } from '../src/services/IntegrationRegistry.ts';
import { FakeDirectory, FakeTargetDatabases, ManualClock, RecordingNotifier } from '../test/support/fakes.ts';
import { seedGrants } from '../test/support/manyGrants.ts';
import { PEOPLE, testConfig } from '../test/support/services.ts';
import { percentile, timed } from './replay.ts';
import { scaleProcessBenchmarks } from './scaleProcess.ts';

const GRANTS = 10_000;
const TARGET_MS = 100;
const round = (n: number) => Math.round(n * 100) / 100;

export async function scaleBenchmarks(log: (line: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-bench-scale-'));
  const store = SqliteStateStore.open(join(dir, 'sesame.db'));
  const [, seedMs] = await timed(() =>
    seedGrants(store, {
      grants: GRANTS,
      integrations: 100,
      requesterOf: (i) => (i < 1200 ? 'U0ALICE' : `U${String(i % 500).padStart(5, '0')}`),
    }),
  );
  const config = testConfig();
  const clock = new ManualClock();
  const services = createServices({
    config,
    integrations: new IntegrationRegistry(config.integrations, clock),
    store,
    databases: new FakeTargetDatabases([]),
    notifier: new RecordingNotifier(),
    directory: new FakeDirectory({ ...PEOPLE }),
    clock,
    logger: createLogger({ level: 'silent' }),
  });
  const home = async () => {
    const [grants, pending, awaiting] = await Promise.all([
      services.requests.list('U0ALICE', { statuses: ['granted'], limit: HOME_COUNTED }),
      services.requests.list('U0ALICE', { statuses: ['pending'], limit: HOME_COUNTED }),
      services.requests.awaitingApproval('U0ALICE'),
    ]);
    return homeView({ mine: [...grants, ...pending], awaiting, command: '/access' });
  };
  const list = async (page: number) => {
    const { all, requests } = await services.requests.listForCommand('U0ADMIN', true, listLimit(page));
    return listMessage(requests, { all, command: '/access', page });
  };
  const samples = { home: [] as number[], list1: [] as number[], list2: [] as number[] };
  for (let i = 0; i < 20; i++) {
    samples.home.push((await timed(home))[1]);
    samples.list1.push((await timed(() => list(1)))[1]);
    samples.list2.push((await timed(() => list(2)))[1]);
  }
  const rssMb = round(process.memoryUsage().rss / 2 ** 20);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  const figure = (ms: number[]) => ({ p50Ms: round(percentile(ms, 50)), p95Ms: round(percentile(ms, 95)), targetMs: TARGET_MS });
  const figures = {
    grants: GRANTS,
    seedMs: round(seedMs),
    homeTab: figure(samples.home),
    listAllPage1: figure(samples.list1),
    listAllPage2: figure(samples.list2),
    benchProcessRssMb: rssMb,
  };
  for (const [name, f] of [
    ['Home tab (1,200 grants of one person)', figures.homeTab],
    ['`list all` page 1', figures.listAllPage1],
    ['`list all` page 2', figures.listAllPage2],
  ] as const) {
    log(`${name} at ${GRANTS} active grants  p50 ${f.p50Ms} ms  p95 ${f.p95Ms} ms (target < ${TARGET_MS} ms)`);
  }
  return { ...figures, process: await scaleProcessBenchmarks(log) };
}
