/**
 * Failover of the expiry: three replicas of the bot (real processes, as `npm start` runs them) on
 * a shared PostgreSQL state, `expire` every second. Each run grants a real request (the command,
 * Bob's approve click, the credentials shown to the requester), brings its expiry close, and
 * SIGKILLs the replica that leads `expire` just before it; the figure is the time from the kill
 * to the revocation done: the request `expired` in the state and its password refused by the
 * server. Its floor is the same flow with nobody killed, runs alternating with the kills.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { SignedAppDriver } from '../src/playground/slack/SignedAppDriver.ts';
import { pollUntil } from '../test/support/poll.ts';
import { APP, type TestCluster } from '../test/support/postgres.ts';
import { requesters, SHORT_FLOW_YAML } from '../test/support/replicaLoad.ts';
import { leaderOf, type ReplicaSet, startReplicaSet } from '../test/support/replicas.ts';
import { PEOPLE } from '../test/support/slack/botHarness.ts';
import { percentile } from './replay.ts';

const RUNS = Number(process.env.BENCH_FAILOVER_RUNS ?? 5);
const INTERVAL_MS = 1000;
const EXPIRE_CRON = '*/1 * * * * *';
/** How long before the expiry the leader is killed. */
const KILL_BEFORE_MS = 200;
/**
 * How long before the tick of `expire` the expiry falls: each run puts it just before a whole
 * second, so the tick that finds the grant due comes KILL_BEFORE_MS + this after the kill, and a
 * replica that took over too late for that tick needs one more interval.
 */
const EXPIRY_BEFORE_TICK_MS = 50;
const round = (n: number) => Math.round(n * 100) / 100;

/** A granted request and the password the requester was shown. */
interface Grant {
  id: string;
  uri: string;
}

/** `/access` from `userId`, Bob's approve click, the requester's credentials click; the grant's URI. */
async function grant(set: ReplicaSet, userId: string, reason: string): Promise<Grant> {
  const driver = set.driver as SignedAppDriver;
  const { fake } = set;
  const ack = await driver.slashCommand({ userId, text: `local/${APP.database} readwrite for 1m because ${reason}` });
  if (ack.status !== 200) throw new Error(`the command answered HTTP ${ack.status}`);
  const id = await pollUntil(
    async () => (await set.state<{ id: string }>('SELECT id FROM requests WHERE reason = $1', [reason]))[0]?.id,
    `request ${reason} in the state`,
    { timeoutMs: 20_000 },
  );
  const approval = await fake.waitFor(
    () => fake.dmMessages(PEOPLE.bob.id).find((m) => m.text.includes(id) && JSON.stringify(m.blocks).includes(`sesame.approve:${id}`)),
    `Bob's approval DM for ${id}`,
    30_000,
  );
  await driver.clickButton(approval, `sesame.approve:${id}`, PEOPLE.bob.id);
  const granted = await fake.waitFor(
    () => fake.dmMessages(userId).find((m) => /Access granted/.test(m.text) && m.text.includes(id)),
    `the granted DM of ${id}`,
    30_000,
  );
  const viewsBefore = fake.views(userId).length;
  await driver.clickButton(granted, `sesame.credentials:${id}`, userId);
  const modal = await fake.waitFor(
    () =>
      fake
        .views(userId)
        .slice(viewsBefore)
        .find((v) => JSON.stringify(v.view).includes('postgresql://')),
    `the credentials of ${id}`,
    30_000,
  );
  const uri = /postgresql:\/\/[^`"\\\s]+/.exec(JSON.stringify(modal.view))![0];
  if ((await loginError(uri)) !== undefined) throw new Error(`${id}'s credentials do not log in while granted`);
  return { id, uri };
}

/** Why a login with `uri` failed; undefined when it succeeded. */
async function loginError(uri: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: uri });
  client.on('error', () => undefined);
  const error = await client.connect().then(
    () => undefined,
    (err: Error) => err.message,
  );
  await client.end().catch(() => undefined);
  return error;
}

/**
 * One run: a fresh grant whose expiry is brought to just before a tick of `expire`, then (with
 * `kill`) the leader of `expire` SIGKILLed KILL_BEFORE_MS before the expiry; milliseconds from
 * that moment to the request `expired` and its login refused. The killed replica is started again.
 */
async function oneRun(set: ReplicaSet, userId: string, reason: string, kill: boolean): Promise<number> {
  const { id, uri } = await grant(set, userId, reason);
  // The shortest grant a flow allows is a minute: the benchmark moves this one's expiry in the
  // state database instead of waiting for it. The role's VALID UNTIL stays a minute away, so a
  // refused login below is the revocation's doing.
  const tick = Math.ceil((Date.now() + 2500) / INTERVAL_MS) * INTERVAL_MS;
  const expiresAt = tick - EXPIRY_BEFORE_TICK_MS;
  await set.state('UPDATE requests SET expires_at = $1 WHERE id = $2', [new Date(expiresAt), id]);
  const leader = kill ? await leaderOf(set, 'expire') : undefined;
  if (kill && leader === undefined) throw new Error('no replica says it leads expire');
  await sleep(Math.max(0, expiresAt - KILL_BEFORE_MS - Date.now()));
  const from = performance.now();
  if (leader !== undefined) await set.kill(leader);
  await pollUntil(
    async () => {
      const [row] = await set.state<{ status: string }>('SELECT status FROM requests WHERE id = $1', [id]);
      return row?.status === 'expired' && (await loginError(uri)) !== undefined;
    },
    `${id} to be revoked`,
    { timeoutMs: 30_000, intervalMs: 5 },
  );
  const ms = performance.now() - from;
  if (leader !== undefined) await set.start(leader);
  return ms;
}

function spread(ms: number[]) {
  return { p50Ms: round(percentile(ms, 50)), maxMs: round(Math.max(...ms)), runsMs: ms.map(round) };
}

/** RUNS runs with the leader killed, alternating with RUNS runs without, on three replicas. */
export async function failoverBenchmark(cluster: TestCluster, log: (line: string) => void) {
  const users = requesters(2 * RUNS);
  const set = await startReplicaSet({ cluster, transport: 'http', count: 3, flowsYaml: SHORT_FLOW_YAML, expireCron: EXPIRE_CRON, users });
  const killed: number[] = [];
  const floor: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      floor.push(await oneRun(set, users[2 * run]!.id, `failover floor ${run}`, false));
      killed.push(await oneRun(set, users[2 * run + 1]!.id, `failover kill ${run}`, true));
    }
  } finally {
    await set.stop();
  }
  const figures = {
    runs: RUNS,
    replicas: 3,
    expireIntervalMs: INTERVAL_MS,
    killBeforeExpiryMs: KILL_BEFORE_MS,
    leaderKilled: spread(killed),
    floor: spread(floor),
    bound: { p50Ms: round(INTERVAL_MS + percentile(floor, 50)), maxMs: round(INTERVAL_MS + Math.max(...floor)) },
  };
  log(
    `expire leader killed ${KILL_BEFORE_MS} ms before a grant's expiry, 3 replicas, expire every 1 s, ×${RUNS}:` +
      ` kill → revoked p50 ${figures.leaderKilled.p50Ms} ms  max ${figures.leaderKilled.maxMs} ms` +
      `   bound (1 interval + no kill) p50 ${figures.bound.p50Ms} ms  max ${figures.bound.maxMs} ms` +
      `   floor (nobody killed) p50 ${figures.floor.p50Ms} ms  max ${figures.floor.maxMs} ms`,
  );
  return figures;
}
