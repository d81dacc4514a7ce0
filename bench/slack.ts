/**
 * The Slack edge under load: the real bot as `npm start` runs it, in its own processes (Bolt over
 * HTTP, PostgreSQL engine), against the fake Slack Web API, driven with Slack-signed requests
 * from this process, on three deployments: one process on a SQLite store, one replica on a
 * PostgreSQL store, and three replicas on a PostgreSQL store behind a loopback load balancer.
 * - Ack latency of `/access request` commands from 50 concurrent senders; floor: a bare Bolt
 *   app on the same receiver that only acks, driven the same way (directly, no load balancer).
 * - Approve click → login possible (the grant is in PostgreSQL and recorded); floor: the
 *   engine's grant alone for a fresh user, interleaved with the clicks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresTargetDatabase } from '../src/adapters/postgres/postgresTargetDatabases.ts';
import { PostgresStateStore } from '../src/adapters/postgresState/PostgresStateStore.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/SqliteStateStore.ts';
import { APP, freePort, localIntegrationYaml, type TestCluster } from '../test/support/postgres.ts';
import { startLoadBalancer } from '../test/support/loadBalancer.ts';
import { stateDatabases } from '../test/support/stateDatabases.ts';
import { SlackStandIn } from '../src/playground/slack/SlackStandIn.ts';
import { SignedAppDriver } from '../src/playground/slack/SignedAppDriver.ts';
import { percentile, timed } from './replay.ts';

const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const NEVER = '0 0 1 1 *';
const SENDERS = 50;
const COMMANDS = Number(process.env.BENCH_SLACK_COMMANDS ?? 200);
const REPLICA_COMMANDS = Number(process.env.BENCH_REPLICA_COMMANDS ?? COMMANDS);
const APPROVER = 'U0APPROVER';
const round = (n: number) => Math.round(n * 100) / 100;

/** Where a deployment keeps its state: a SQLite file, or a PostgreSQL database shared by its replicas. */
type StateKind = { sqlite: string } | { postgres: string };

/** One deployment measured: its name in the output, its state and how many replicas serve it. */
interface Variant {
  key: 'sqlite' | 'postgresOneReplica' | 'postgresThreeReplicas';
  label: string;
  replicas: number;
  commands: number;
  state: (dir: string) => Promise<StateKind>;
}

/** The store the benchmark reads beside the bot: the one the bot writes. */
type StateReader = SqliteStateStore | PostgresStateStore;

function configText(cluster: TestCluster, state: StateKind): string {
  const stateYaml = 'sqlite' in state ? `{ sqlite: ${state.sqlite} }` : `{ postgres: "${state.postgres}", sslMode: disable }`;
  return `
slack: { command: /access }
state: ${stateYaml}
schedule: { expire: "${NEVER}", remind: "${NEVER}", rotate: "${NEVER}", cleanup: "${NEVER}", discover: "${NEVER}" }
integrations:
${localIntegrationYaml(cluster, 'BENCH_PG_PASSWORD', [`owners: { integration: [${APPROVER}] }`])}
accessFlows:
  - { name: approved, requestors: ["*"], permissions: [readwrite], maxDuration: 8h, approvers: [integration-owner] }
`;
}

function openReader(state: StateKind): StateReader {
  // SQLite in WAL mode lets a reader in beside the bot.
  return 'sqlite' in state ? SqliteStateStore.open(state.sqlite) : PostgresStateStore.open({ uri: state.postgres, sslMode: 'disable' });
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Sends `total` commands from `senders` concurrent senders; returns each ack's latency. */
async function commandLoad(driver: SignedAppDriver, senders: string[], total: number, text: string): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    senders.map(async (userId) => {
      while (next < total) {
        next++;
        const ack = await driver.slashCommand({ userId, text });
        if (ack.status !== 200) throw new Error(`command answered HTTP ${ack.status}`);
        latencies.push(ack.ms);
      }
    }),
  );
  return latencies;
}

/**
 * Starts a process the way a platform team runs Sesame, apart from the load generator and the
 * fake Slack, as Slack is apart from Sesame in production. Resolves when it answers /healthz.
 */
async function startProcess(script: string, env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...(process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : []), '--import', 'tsx', script],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`${script} exited: ${stderr}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`);
        return res.status < 500;
      } catch {
        return false;
      }
    },
    `${script} to start`,
    30_000,
  );
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** What one variant runs on: the stand-in, the bare Bolt floor, the bot's replicas and the way to them. */
interface Deployment {
  fake: SlackStandIn;
  driver: SignedAppDriver;
  bareDriver: SignedAppDriver;
  store: StateReader;
  senders: string[];
  stop(): Promise<void>;
}

/** Starts the stand-in, the bare Bolt app and `variant.replicas` bots (behind a load balancer when more than one). */
async function deploy(cluster: TestCluster, variant: Variant): Promise<Deployment> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-bench-slack-'));
  const senders = Array.from({ length: SENDERS }, (_, i) => `U0S${String(i).padStart(4, '0')}`);
  const fake = await SlackStandIn.start({
    users: [
      { id: APPROVER, name: 'approver', email: 'approver@example.com' },
      ...senders.map((id) => ({ id, name: id.toLowerCase(), email: `${id.toLowerCase()}@example.com` })),
    ],
  });
  const state = await variant.state(dir);
  const configPath = join(dir, 'sesame.yml');
  writeFileSync(configPath, configText(cluster, state));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SESAME_CONFIG: configPath,
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: fake.apiUrl,
    BENCH_PG_PASSWORD: cluster.connector.password,
    LOG_LEVEL: 'silent',
  };
  delete env.SLACK_APP_TOKEN;
  const children: ChildProcess[] = [];
  const ports: number[] = [];
  const stopAll = async () => {
    for (const child of children) await stopProcess(child);
  };
  try {
    // One after another: the first applies the PostgreSQL state's migrations.
    for (let i = 0; i <= variant.replicas; i++) {
      const port = await freePort();
      const script = i < variant.replicas ? 'src/main.ts' : 'bench/bareBolt.ts';
      children.push(await startProcess(script, { ...env, PORT: String(port) }, port));
      ports.push(port);
    }
  } catch (err) {
    await stopAll();
    await fake.stop();
    throw err;
  }
  const botPorts = ports.slice(0, variant.replicas);
  const lb = variant.replicas > 1 ? await startLoadBalancer(() => botPorts.map((p) => `http://127.0.0.1:${p}`)) : undefined;
  const url = lb ? lb.url : `http://127.0.0.1:${botPorts[0]}`;
  const store = openReader(state);
  return {
    fake,
    senders,
    store,
    driver: new SignedAppDriver({ url: `${url}/slack/events`, signingSecret: SIGNING_SECRET, standIn: fake }),
    bareDriver: new SignedAppDriver({ url: `http://127.0.0.1:${ports.at(-1)}/slack/events`, signingSecret: SIGNING_SECRET, standIn: fake }),
    async stop() {
      await store.close();
      await lb?.stop();
      await stopAll();
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The ack latency of `commands` commands, and its floor; leaves SENDERS + commands requests pending. */
async function ackFigures(d: Deployment, variant: Variant, log: (line: string) => void) {
  const { driver, bareDriver, senders, fake, store } = d;
  const pendingCount = async () => (await store.listRequests({ statuses: ['pending'] })).length;
  const text = `request local/${APP.database}/public readwrite for 1h because load test`;
  // Warm both paths (JIT, caches, connections) with the same command before measuring.
  await commandLoad(driver, senders, SENDERS, text);
  await commandLoad(bareDriver, senders, SENDERS, text);
  await until(async () => (await pendingCount()) >= SENDERS && fake.dmMessages(APPROVER).length >= SENDERS, 'the warm-up');
  const floorAcks = await commandLoad(bareDriver, senders, variant.commands, text);
  const acks = await commandLoad(driver, senders, variant.commands, text);
  // Every request recorded and its approval DM sent before the clicks start.
  await until(async () => (await pendingCount()) >= SENDERS + variant.commands, 'every request recorded');
  await until(async () => fake.dmMessages(APPROVER).length >= SENDERS + variant.commands, 'every approval DM');
  const ack = {
    commands: variant.commands,
    senders: SENDERS,
    sesame: { p50Ms: round(percentile(acks, 50)), p99Ms: round(percentile(acks, 99)) },
    floor: { p50Ms: round(percentile(floorAcks, 50)), p99Ms: round(percentile(floorAcks, 99)) },
    targetP99Ms: 300,
  };
  log(
    `${variant.label}: slash command ack ×${variant.commands} from ${SENDERS} senders  sesame p50 ${ack.sesame.p50Ms} ms  p99 ${ack.sesame.p99Ms} ms (target p99 < 300 ms)` +
      `   floor (bare Bolt ack) p50 ${ack.floor.p50Ms} ms  p99 ${ack.floor.p99Ms} ms`,
  );
  return ack;
}

/** Approves one request of each sender, one click at a time, each followed by the floor. */
async function approveFigures(cluster: TestCluster, d: Deployment, variant: Variant, log: (line: string) => void) {
  const { driver, senders, fake, store } = d;
  const floorEngine = postgresTargetDatabase(cluster.integrationConfig({ name: 'local' }));
  const pending = await store.listRequests({ statuses: ['pending'] });
  const clickMs: number[] = [];
  const floorMs: number[] = [];
  for (const sender of senders) {
    const req = pending.find((r) => r.requester.slackId === sender)!;
    const copy = fake.dmMessages(APPROVER).find((m) => m.text.includes(req.id));
    if (!copy) throw new Error(`no approval message for ${req.id}`);
    const started = performance.now();
    await driver.clickButton(copy, `sesame.approve:${req.id}`, APPROVER);
    for (;;) {
      const now = await store.getRequest(req.id);
      if (now?.status === 'granted') break;
      if (now?.status === 'failed') throw new Error(`grant failed: ${now.lastError}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    clickMs.push(performance.now() - started);
    const [, ms] = await timed(() =>
      floorEngine.grant({
        username: `floor-${variant.key.toLowerCase()}-${sender.toLowerCase()}@example.com`,
        ownerLabel: 'bench',
        target: { integration: 'local', database: APP.database, schema: 'public' },
        permission: 'readwrite',
        validUntil: new Date(Date.now() + 3_600_000),
      }),
    );
    floorMs.push(ms);
  }
  await floorEngine.close();
  const approve = {
    clicks: clickMs.length,
    sesame: { p50Ms: round(percentile(clickMs, 50)), p95Ms: round(percentile(clickMs, 95)) },
    floor: { p50Ms: round(percentile(floorMs, 50)), p95Ms: round(percentile(floorMs, 95)) },
    ratioP50: round(percentile(clickMs, 50) / percentile(floorMs, 50)),
    targetRatio: 1.5,
  };
  log(
    `${variant.label}: approve click → login possible ×${approve.clicks}  sesame p50 ${approve.sesame.p50Ms} ms  p95 ${approve.sesame.p95Ms} ms` +
      `   floor (engine grant alone) p50 ${approve.floor.p50Ms} ms  p95 ${approve.floor.p95Ms} ms   ratio p50 ${approve.ratioP50} (target ≤ 1.5)`,
  );
  return approve;
}

/** The ack and approve figures of each deployment, one after another on the same fresh server. */
export async function slackBenchmarks(cluster: TestCluster, log: (line: string) => void) {
  const states = stateDatabases(() => cluster, 'sesame_bench_state');
  await states.createRole();
  const variants: Variant[] = [
    { key: 'sqlite', label: 'SQLite store', replicas: 1, commands: COMMANDS, state: async (dir) => ({ sqlite: join(dir, 'sesame.db') }) },
    {
      key: 'postgresOneReplica',
      label: 'PostgreSQL store, 1 replica',
      replicas: 1,
      commands: REPLICA_COMMANDS,
      state: async () => ({ postgres: await states.fresh() }),
    },
    {
      key: 'postgresThreeReplicas',
      label: 'PostgreSQL store, 3 replicas behind a load balancer',
      replicas: 3,
      commands: REPLICA_COMMANDS,
      state: async () => ({ postgres: await states.fresh() }),
    },
  ];
  const results: Partial<
    Record<Variant['key'], { ack: Awaited<ReturnType<typeof ackFigures>>; approve: Awaited<ReturnType<typeof approveFigures>> }>
  > = {};
  for (const variant of variants) {
    const d = await deploy(cluster, variant);
    try {
      results[variant.key] = { ack: await ackFigures(d, variant, log), approve: await approveFigures(cluster, d, variant, log) };
    } finally {
      await d.stop();
    }
  }
  return results;
}
