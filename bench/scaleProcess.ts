/**
 * Sesame as `npm start` runs it (node on src/main.ts, a Slack stand-in) on a SQLite state holding
 * 10,000 active grants over 100 `postgresql` integrations, and discovery of 1,000 RDS instances:
 * - start to ready: spawn to the first 200 of /readyz (and to the "sesame started" line); floor:
 *   bench/scaleFloor.ts, which loads the same modules, opens the same state and answers 200;
 * - RSS of that process once started (its expire pass at start done) and after it built the
 *   Home tab of three people; floors: the same floor process, and a bare `node -e`;
 * - discovery of 1,000 tagged instances and 20 Aurora clusters against the fake AWS with the real
 *   SDK clients (AWS_ENDPOINT_URL_*), paged; floor: the same paged Describe calls and one
 *   GetSecretValue per resource, made directly with the SDK one after another.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paginateDescribeDBClusters, paginateDescribeDBInstances, RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AwsClients } from '../src/adapters/aws/AwsClients.ts';
import { RdsDiscovery } from '../src/adapters/aws/RdsDiscovery.ts';
import { SecretsManagerSecretSource } from '../src/adapters/aws/SecretsManagerSecretSource.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/SqliteStateStore.ts';
import { configSchema } from '../src/config/schema.ts';
import { SignedAppDriver } from '../src/playground/slack/SignedAppDriver.ts';
import { SlackStandIn } from '../src/playground/slack/SlackStandIn.ts';
import { FakeAws } from '../test/support/aws/FakeAws.ts';
import { TEST_AWS_REGION, useAwsEnv } from '../test/support/aws/awsEnv.ts';
import { killAll, spawnBot, type BotProcess } from '../test/support/botProcess.ts';
import { seedGrants } from '../test/support/manyGrants.ts';
import { pollUntil } from '../test/support/poll.ts';
import { freePort } from '../test/support/postgres.ts';
import { percentile, timed } from './replay.ts';

const GRANTS = 10_000;
const INTEGRATIONS = 100;
const STARTS = 3;
const INSTANCES = 1000;
const CLUSTERS = 20;
const TAG = 'sesame-secret';
const TOKEN = 'xoxb-1111-2222-scale-bench';
const SIGNING_SECRET = 'scale-bench-signing-secret-0123456789';
const HOME_PEOPLE = ['U0ALICE', 'U00001', 'U00002'];
const TARGETS = { rssMb: 300, readyMs: 2000, discoveryMs: 10_000 };
const round = (n: number) => Math.round(n * 100) / 100;
const mb = (kb: number) => round(kb / 1024);

/** 100 integrations on a port where nothing listens: Sesame connects to an integration only when it needs to. */
function configText(statePath: string): string {
  const integrations = Array.from({ length: INTEGRATIONS }, (_, i) => {
    const name = `int-${String(i).padStart(3, '0')}`;
    return `  - name: ${name}\n    type: postgresql\n    host: 127.0.0.1\n    port: 9\n    database: app\n    sslMode: disable\n    username: sesame_connector\n    password: \${SCALE_PG_PASSWORD}`;
  });
  return [
    'slack: { command: /access }',
    `state: { sqlite: ${statePath} }`,
    'integrations:',
    ...integrations,
    'accessFlows:',
    '  - { name: self, requestors: ["*"], permissions: [readonly], maxDuration: 8h, approvers: [] }',
    '',
  ].join('\n');
}

/** /proc/<pid>/status: resident memory now and at its peak, in MB. */
function rssOf(pid: number): { rssMb: number; peakMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rssMb: mb(kb('VmRSS')), peakMb: mb(kb('VmHWM')) };
}

/** Spawns node on `entry` with `env`, and times spawn → the first 200 of `path` on `port`. */
async function spawnUntilReady(entry: string, env: Record<string, string>, port: number, path: string) {
  const started = performance.now();
  const proc = spawnBot(process.execPath, ['--import', 'tsx', entry], { ...env, PORT: String(port) });
  await pollUntil(
    async () => {
      if (proc.child.exitCode !== null) throw new Error(`${entry} exited ${proc.child.exitCode}; stderr:\n${proc.err()}`);
      const res = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
      await res?.text();
      return res?.status === 200 ? true : undefined;
    },
    () => `${entry} never answered 200 on ${path}; stderr:\n${proc.err()}`,
    { timeoutMs: 60_000, intervalMs: 5 },
  );
  return { proc, readyMs: performance.now() - started, started };
}

async function stop(proc: BotProcess) {
  proc.child.kill('SIGTERM');
  await proc.exited;
}

/** The bot, started `STARTS` times on the state; the last run also opens three Home tabs before its RSS is read. */
async function botRuns(env: Record<string, string>, slack: SlackStandIn, statePath: string) {
  const runs = { readyMs: [] as number[], startedMs: [] as number[], floorMs: [] as number[] };
  let memory = { started: rssOf(process.pid), afterHome: rssOf(process.pid), floor: rssOf(process.pid) };
  for (let run = 0; run < STARTS; run++) {
    const floor = await spawnUntilReady('bench/scaleFloor.ts', { SCALE_FLOOR_STATE: statePath }, await freePort(), '/');
    runs.floorMs.push(floor.readyMs);
    memory.floor = rssOf(floor.proc.child.pid!);
    await stop(floor.proc);
    const port = await freePort();
    const bot = await spawnUntilReady('src/main.ts', env, port, '/readyz');
    runs.readyMs.push(bot.readyMs);
    await bot.proc.waitForLine((l) => l.msg === 'sesame started', 'sesame started', 120_000);
    runs.startedMs.push(performance.now() - bot.started);
    if (run === STARTS - 1) {
      const started = rssOf(bot.proc.child.pid!);
      const driver = new SignedAppDriver({ url: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET, standIn: slack });
      const published = () => slack.calls('views.publish').filter((c) => (c.response as { ok?: boolean }).ok).length;
      const before = published();
      for (const person of HOME_PEOPLE) await driver.appHomeOpened(person);
      await pollUntil(() => (published() >= before + HOME_PEOPLE.length ? true : undefined), 'the Home tabs published', {
        timeoutMs: 30_000,
        intervalMs: 20,
      });
      memory = { ...memory, started, afterHome: rssOf(bot.proc.child.pid!) };
    }
    await stop(bot.proc);
  }
  return { runs, memory };
}

/** The RSS of `node -e` doing nothing, in MB. */
function bareNodeRssMb(): number {
  const out = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.memoryUsage().rss))'], { encoding: 'utf8' });
  return round(Number(out.stdout) / 2 ** 20);
}

/** 1,000 tagged instances and 20 Aurora clusters of two members each, every one with its connector secret. */
function fillFakeAws(fake: FakeAws) {
  for (let n = 0; n < INSTANCES; n++) {
    const id = `db-${String(n).padStart(4, '0')}`;
    const { arn } = fake.putSecret(TEST_AWS_REGION, `sesame/${id}`, { username: 'sesame_connector', password: `password-of-${id}` });
    fake.addInstance({ region: TEST_AWS_REGION, id, tags: { [TAG]: arn } });
  }
  for (let n = 0; n < CLUSTERS; n++) {
    const id = `aurora-${String(n).padStart(2, '0')}`;
    const { arn } = fake.putSecret(TEST_AWS_REGION, `sesame/${id}`, { username: 'sesame_connector', password: `password-of-${id}` });
    fake.addCluster({ region: TEST_AWS_REGION, id, tags: { [TAG]: arn } });
    for (const member of [1, 2]) fake.addInstance({ region: TEST_AWS_REGION, id: `${id}-${member}`, clusterId: id, tags: { [TAG]: arn } });
  }
}

/** The floor of discovery: the same paged Describe calls and one GetSecretValue per tagged resource, one after another. */
async function directDiscovery(): Promise<number> {
  const rds = new RDSClient({ region: TEST_AWS_REGION });
  const secrets = new SecretsManagerClient({ region: TEST_AWS_REGION });
  const arns: string[] = [];
  for await (const page of paginateDescribeDBInstances(
    { client: rds, pageSize: 100 },
    { Filters: [{ Name: 'engine', Values: ['postgres'] }] },
  )) {
    for (const i of page.DBInstances ?? []) {
      const arn = i.TagList?.find((t) => t.Key === TAG)?.Value;
      if (arn && !i.DBClusterIdentifier) arns.push(arn);
    }
  }
  for await (const page of paginateDescribeDBClusters({ client: rds, pageSize: 100 }, {})) {
    for (const c of page.DBClusters ?? []) {
      const arn = c.TagList?.find((t) => t.Key === TAG)?.Value;
      if (arn) arns.push(arn);
    }
  }
  for (const arn of arns) await secrets.send(new GetSecretValueCommand({ SecretId: arn }));
  rds.destroy();
  secrets.destroy();
  return arns.length;
}

/** Discovery through RdsDiscovery with the SDK's clients from the environment, as the bot builds them. */
async function discoveryBenchmark() {
  const fake = await FakeAws.start();
  const restore = useAwsEnv(fake);
  try {
    fillFakeAws(fake);
    const entries = configSchema.parse({ discovery: [{ type: 'aws-rds', regions: [TEST_AWS_REGION], secretTagKey: TAG }] }).discovery;
    const once = async (secretReads?: number) => {
      const clients = new AwsClients({ maxAttempts: 10 });
      const secrets = new SecretsManagerSecretSource({ clients });
      const discovery = new RdsDiscovery({ clients, secrets, ...(secretReads ? { secretReads } : {}) });
      const [result, ms] = await timed(() => discovery.discover(entries));
      clients.destroy();
      if (result.errors.length > 0 || result.integrations.length !== INSTANCES + CLUSTERS) {
        throw new Error(`discovery found ${result.integrations.length}, errors: ${JSON.stringify(result.errors.slice(0, 3))}`);
      }
      return ms;
    };
    await once(); // warms the SDK's modules and the fake
    const oneAtATimeMs = await once(1);
    const [found, floorMs] = await timed(directDiscovery);
    const sesameMs = await once();
    const calls = { describe: fake.calls('DescribeDBInstances').length, secrets: fake.calls('GetSecretValue').length };
    return { resources: found, sesameMs: round(sesameMs), oneAtATimeMs: round(oneAtATimeMs), floorMs: round(floorMs), calls };
  } finally {
    restore();
    await fake.stop();
  }
}

export async function scaleProcessBenchmarks(log: (line: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-bench-scale-process-'));
  const statePath = join(dir, 'sesame.db');
  const slack = await SlackStandIn.start({
    botToken: TOKEN,
    users: HOME_PEOPLE.map((id) => ({ id, name: id.toLowerCase(), email: `${id.toLowerCase()}@example.com` })),
  });
  try {
    const store = SqliteStateStore.open(statePath);
    await seedGrants(store, {
      grants: GRANTS,
      integrations: INTEGRATIONS,
      requesterOf: (i) => (i < 1200 ? 'U0ALICE' : `U${String(i % 500).padStart(5, '0')}`),
      start: new Date(Date.now() - GRANTS * 1000),
    });
    await store.close();
    const configPath = join(dir, 'sesame.yml');
    writeFileSync(configPath, configText(statePath));
    const env = {
      SESAME_CONFIG: configPath,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_APP_TOKEN: '',
      SLACK_API_URL: slack.apiUrl,
      SCALE_PG_PASSWORD: 'not-used-by-the-bench',
    };
    const { runs, memory } = await botRuns(env, slack, statePath);
    const discovery = await discoveryBenchmark();
    const figures = {
      grants: GRANTS,
      integrations: INTEGRATIONS,
      rss: { ...memory, bareNodeMb: bareNodeRssMb(), targetMb: TARGETS.rssMb },
      startToReady: {
        readyMs: round(percentile(runs.readyMs, 50)),
        startedMs: round(percentile(runs.startedMs, 50)),
        floorMs: round(percentile(runs.floorMs, 50)),
        runs: STARTS,
        targetMs: TARGETS.readyMs,
      },
      discovery: { ...discovery, targetMs: TARGETS.discoveryMs },
    };
    const r = figures.rss;
    log(
      `RSS at ${GRANTS} active grants over ${INTEGRATIONS} integrations  started ${r.started.rssMb} MB, after 3 Home tabs ${r.afterHome.rssMb} MB` +
        ` (peak ${r.afterHome.peakMb} MB, target < ${TARGETS.rssMb} MB)   floor: same modules + state ${r.floor.rssMb} MB, bare node ${r.bareNodeMb} MB`,
    );
    const s = figures.startToReady;
    log(
      `start to ready at ${GRANTS}  /readyz 200 after ${s.readyMs} ms, "sesame started" after ${s.startedMs} ms (median of ${STARTS}, target < ${TARGETS.readyMs} ms)` +
        `   floor: same modules + state, listening ${s.floorMs} ms`,
    );
    const d = figures.discovery;
    log(
      `discovery of ${INSTANCES} RDS instances and ${CLUSTERS} clusters  sesame ${d.sesameMs} ms (one secret at a time ${d.oneAtATimeMs} ms, target < ${TARGETS.discoveryMs} ms)` +
        `   floor: the same calls direct, one after another ${d.floorMs} ms`,
    );
    return figures;
  } finally {
    killAll();
    await slack.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
