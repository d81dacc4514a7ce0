/**
 * Several replicas of the bot as real processes (node on src/main.ts, as `npm start` runs it)
 * sharing one config: the state in a PostgreSQL database, the target a real RDS-like PostgreSQL
 * (the same test cluster, another database and role), and the Slack stand-in as Slack. Over HTTP
 * the stand-in's signed requests go through a loopback load balancer to a live replica; in Socket
 * Mode each replica holds its own connection and the stand-in gives each envelope to one of them.
 * Replicas can be killed (SIGKILL) and started again on the same port (another one when that was
 * taken meanwhile).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { SignedAppDriver } from '../../src/playground/slack/SignedAppDriver.ts';
import { SlackStandIn, type StandInUser } from '../../src/playground/slack/SlackStandIn.ts';
import { SocketModeDriver } from '../../src/playground/slack/SocketModeDriver.ts';
import { type BotProcess, type LogLine, spawnNodeBot } from './botProcess.ts';
import { startLoadBalancer, type LoadBalancer } from './loadBalancer.ts';
import { pollUntil } from './poll.ts';
import { localIntegrationYaml, type TestCluster } from './postgres.ts';
import { APPROVAL_CHANNEL, PEOPLE, SIGNING_SECRET } from './slack/botHarness.ts';
import { stateDatabases } from './stateDatabases.ts';

const PG_ENV = 'REPLICAS_PG_PASSWORD';
/** A schedule that never fires during a test. */
const NEVER = '0 0 1 1 *';

export type ReplicaTransport = 'http' | 'socket';

export interface ReplicaSetOptions {
  cluster: TestCluster;
  transport: ReplicaTransport;
  count: number;
  /** The `accessFlows:` entries, as YAML lines indented by two spaces. */
  flowsYaml: string;
  /** The `expire` job's cron (with seconds); the other jobs never run. */
  expireCron: string;
  /** Requesters besides the harness's usual people. */
  users?: StandInUser[];
}

/** One replica: its port (0 until it first listens), and the process of each of its lives (the current one last). */
export interface Replica {
  index: number;
  port: number;
  lives: BotProcess[];
  alive: boolean;
}

/** A log line, with the replica and the life it came from. */
export type ReplicaLogLine = LogLine & { replica: number; life: number };

export interface ReplicaSet {
  fake: SlackStandIn;
  replicas: Replica[];
  /** Over HTTP, signed requests to the load balancer; in Socket Mode, envelopes on the replicas' connections. */
  driver: SignedAppDriver | SocketModeDriver;
  lb?: LoadBalancer;
  /** Runs one statement on the state database (as the state role) and returns its rows. */
  state<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  /** SIGKILLs the replica's process and waits for it to be gone. */
  kill(index: number): Promise<void>;
  /** Starts the replica again on its port and waits until it says it started. */
  start(index: number): Promise<void>;
  /** GET on a live replica's port (`/metrics`, `/readyz`); undefined when it does not answer. */
  get(index: number, path: string): Promise<string | undefined>;
  /** Every log line of every replica's every life. */
  lines(): ReplicaLogLine[];
  stop(): Promise<void>;
}

/** The config every replica reads: the shared state, the cluster's `local` integration, the flows. */
export function replicaConfigText(options: ReplicaSetOptions, stateUri: string): string {
  return `
slack: { command: /access, approvalChannel: ${APPROVAL_CHANNEL}, admins: [${PEOPLE.admin.id}] }
state: { postgres: "${stateUri}", sslMode: disable }
schedule: { expire: "${options.expireCron}", remind: "${NEVER}", rotate: "${NEVER}", cleanup: "${NEVER}", discover: "${NEVER}" }
integrations:
${localIntegrationYaml(options.cluster, PG_ENV, [`owners: { integration: [${PEOPLE.bob.id}] }`])}
accessFlows:
${options.flowsYaml}
`;
}

/** Starts the stand-in, the state database and `count` replicas (and the load balancer over HTTP). */
export async function startReplicaSet(options: ReplicaSetOptions): Promise<ReplicaSet> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-replicas-'));
  const databases = stateDatabases(() => options.cluster);
  await databases.createRole();
  const stateUri = await databases.fresh();
  const configPath = join(dir, 'sesame.yml');
  writeFileSync(configPath, replicaConfigText(options, stateUri));
  const fake = await SlackStandIn.start({
    users: [...Object.values(PEOPLE).map((p) => ({ ...p })), ...(options.users ?? [])],
    channels: [{ id: APPROVAL_CHANNEL, name: 'db-approvals' }],
  });
  const socket = options.transport === 'socket';
  const replicas: Replica[] = [];
  for (let index = 0; index < options.count; index++) replicas.push({ index, port: 0, lives: [], alive: false });
  const envOf = (replica: Replica): Record<string, string> => ({
    SESAME_CONFIG: configPath,
    SLACK_BOT_TOKEN: fake.botToken,
    SLACK_API_URL: fake.apiUrl,
    SLACK_SIGNING_SECRET: socket ? '' : SIGNING_SECRET,
    SLACK_APP_TOKEN: socket ? fake.appToken : '',
    PORT: String(replica.port),
    [PG_ENV]: options.cluster.connector.password,
    // The scheduler reports each run of a job (`job finished`, with its duration) at debug.
    LOG_LEVEL: 'debug',
  });
  const lb = socket
    ? undefined
    : await startLoadBalancer(() => replicas.filter((r) => r.port > 0).map((r) => `http://127.0.0.1:${r.port}`));
  const stateClient = new pg.Pool({ connectionString: stateUri, max: 2 });
  stateClient.on('error', () => undefined);

  const set: ReplicaSet = {
    fake,
    replicas,
    lb,
    driver: lb
      ? new SignedAppDriver({ url: `${lb.url}/slack/events`, signingSecret: SIGNING_SECRET, standIn: fake })
      : new SocketModeDriver(fake, { timeoutMs: 10_000 }),
    async state(text, params = []) {
      return (await stateClient.query(text, params)).rows;
    },
    async kill(index) {
      const replica = replicas[index]!;
      const life = replica.lives.at(-1);
      replica.alive = false;
      if (!life) return;
      life.child.kill('SIGKILL');
      await life.exited;
    },
    async start(index) {
      const replica = replicas[index]!;
      const connectionsBefore = fake.socketMode.connections().length;
      let started = await startLife(replica, envOf);
      // Its port taken by another process while it was down: a new one, as a new task would get.
      if (!started && replica.port !== 0) {
        replica.port = 0;
        started = await startLife(replica, envOf);
      }
      if (!started) throw new Error(`replica ${index} exited while starting:\n${replica.lives.at(-1)!.err()}`);
      replica.port = Number(started.port);
      if (socket) await fake.socketMode.waitForConnection({ afterId: connectionsBefore, timeoutMs: 30_000 });
      replica.alive = true;
    },
    async get(index, path) {
      try {
        const res = await fetch(`http://127.0.0.1:${replicas[index]!.port}${path}`, { signal: AbortSignal.timeout(3000) });
        return await res.text();
      } catch {
        return undefined;
      }
    },
    lines() {
      return replicas.flatMap((r) => r.lives.flatMap((life, n) => life.lines().map((l) => ({ ...l, replica: r.index, life: n }))));
    },
    async stop() {
      for (const replica of replicas) {
        const life = replica.lives.at(-1);
        if (life && life.child.exitCode === null && life.child.signalCode === null) {
          life.child.kill('SIGTERM');
          await Promise.race([life.exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
          life.child.kill('SIGKILL');
        }
      }
      await lb?.stop();
      await stateClient.end().catch(() => undefined);
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  // One after another: the first applies the state's migrations; several at once would share two cores.
  try {
    for (const replica of replicas) await set.start(replica.index);
  } catch (err) {
    await set.stop();
    throw err;
  }
  return set;
}

/** Starts a life of the replica; its `sesame started` line, or undefined when it exited first. */
async function startLife(replica: Replica, envOf: (replica: Replica) => Record<string, string>): Promise<LogLine | undefined> {
  const life = spawnNodeBot(envOf(replica));
  replica.lives.push(life);
  let exited = false;
  void life.exited.then(() => (exited = true));
  const seen = await pollUntil(
    () => life.lines().find((l) => l.msg === 'sesame started') ?? (exited ? 'exited' : undefined),
    () => `replica ${replica.index} to start; stdout so far:\n${life.out()}\nstderr:\n${life.err()}`,
    { timeoutMs: 90_000, intervalMs: 50 },
  );
  return seen === 'exited' ? undefined : seen;
}

/**
 * The live replica that leads `job`: the one whose /metrics says so (`sesame_job_leader{job="…"} 1`),
 * or else the one whose current life logged last that it took the lead. Undefined when none did.
 */
export async function leaderOf(set: ReplicaSet, job: string): Promise<number | undefined> {
  const pattern = new RegExp(`^sesame_job_leader\\{[^}]*job="${job}"[^}]*\\} 1$`, 'm');
  const live = set.replicas.filter((r) => r.alive);
  for (const replica of live) {
    const metrics = await set.get(replica.index, '/metrics');
    if (metrics && pattern.test(metrics)) return replica.index;
  }
  const took = set
    .lines()
    .filter((l) => l.msg === 'this replica now leads the job' && l.job === job)
    .filter((l) => live.some((r) => r.index === l.replica && r.lives.length - 1 === l.life))
    .sort((a, b) => Date.parse(String(a.time)) - Date.parse(String(b.time)));
  return took.at(-1)?.replica;
}

/** One run of a scheduled job on one replica, from its `job finished` log line. */
export interface JobRun {
  replica: number;
  life: number;
  startMs: number;
  endMs: number;
}

/** The runs of `job` on every replica, by start. */
export function jobRuns(set: ReplicaSet, job: string): JobRun[] {
  return set
    .lines()
    .filter((l) => l.msg === 'job finished' && l.job === job)
    .map((l) => {
      const endMs = Date.parse(String(l.time));
      return { replica: l.replica, life: l.life, startMs: endMs - Number(l.durationMs), endMs };
    })
    .sort((a, b) => a.startMs - b.startMs);
}

/** Pairs of runs of different replicas (or lives) that overlap in time. */
export function overlappingRuns(runs: readonly JobRun[]): [JobRun, JobRun][] {
  const pairs: [JobRun, JobRun][] = [];
  for (let i = 0; i < runs.length; i++) {
    for (let j = i + 1; j < runs.length && runs[j]!.startMs < runs[i]!.endMs; j++) {
      const [a, b] = [runs[i]!, runs[j]!];
      if (a.replica !== b.replica || a.life !== b.life) pairs.push([a, b]);
    }
  }
  return pairs;
}
