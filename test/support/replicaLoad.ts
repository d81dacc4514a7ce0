/**
 * A steady load on a set of replicas while they are killed in turn: short grants asked for with
 * `/access`, approved with a click, their credentials shown and used, and each checked once its
 * expiry and one `expire` interval have passed. What each request went through is kept as an
 * outcome, and `replicaLoadSuite` judges the outcomes, the state, Slack's record and the logs.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { StandInMessage, StandInUser } from '../../src/playground/slack/SlackStandIn.ts';
import { killAll } from './botProcess.ts';
import { pollUntil } from './poll.ts';
import { APP, pgVersions, startCluster, type TestCluster } from './postgres.ts';
import { jobRuns, leaderOf, overlappingRuns, type ReplicaSet, type ReplicaTransport, startReplicaSet } from './replicas.ts';
import { APPROVAL_CHANNEL, PEOPLE } from './slack/botHarness.ts';

/** The `expire` job's interval, and its cron. */
export const EXPIRE_INTERVAL_MS = 2000;
export const EXPIRE_CRON = '*/2 * * * * *';
/**
 * How long a revocation itself may take once the job has picked it up (ending sessions, the
 * leftover search), on top of the one interval.
 */
export const REVOCATION_GRACE_MS = 3000;

/** The flow of the load: readwrite on appdb for at most a minute (the shortest duration), Bob or Carol approve. */
export const SHORT_FLOW_YAML = `  - name: short-write
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}] }]
    permissions: [readwrite]
    maxDuration: 1m
    approvers: [${PEOPLE.bob.id}, ${PEOPLE.carol.id}]
    approvalMode: any`;

/** One requester per request, so that each database user holds exactly one grant. */
export function requesters(count: number): StandInUser[] {
  return Array.from({ length: count }, (_, k) => ({ id: `U0REQ${k}`, name: `req${k}`, email: `req${k}@example.com` }));
}

/** What happened to one request. */
export interface Outcome {
  k: number;
  userId: string;
  reason: string;
  /** Whether the slash command was acknowledged (HTTP 200, or an ack on the socket). */
  acked: boolean;
  id?: string;
  expiresAt?: Date;
  /** The credentials shown, and whether they logged in and read while the grant lasted. */
  uri?: string;
  usedWhileGranted?: boolean;
  /** After expiry + one interval + the grace: the session opened before, and a new login. */
  sessionEnded?: boolean;
  loginRefused?: string;
  /** The first thing that went wrong, for the report. */
  problem?: string;
}

/** What a kill did: which replica, when, and why it was chosen. */
export interface Kill {
  replica: number;
  atMs: number;
  why: string;
}

const hasButton = (m: StandInMessage, actionId: string) => JSON.stringify(m.blocks).includes(actionId);

function accepted(set: ReplicaSet, ack: unknown): boolean {
  return (set.driver.answerOf as (a: unknown) => { accepted: boolean })(ack).accepted;
}

/** Sends the click until the state shows `done` (a click lost with a dying replica is clicked again). */
async function clickUntil(click: () => Promise<unknown>, done: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 1; attempt <= 4; attempt++) {
    if (await done()) return;
    await click().catch(() => undefined);
    const deadline = Date.now() + 8000;
    while (Date.now() < deadline) {
      if (await done()) return;
      await sleep(200);
    }
  }
  throw new Error(`${what}: still not done after four clicks`);
}

async function statusOf(set: ReplicaSet, id: string): Promise<string | undefined> {
  const [row] = await set.state<{ status: string }>('SELECT status FROM requests WHERE id = $1', [id]);
  return row?.status;
}

/** Asks, approves and shows the credentials of request `k`, filling in its outcome. */
async function askAndUse(set: ReplicaSet, outcome: Outcome, sessions: pg.Client[]): Promise<void> {
  const { fake, driver } = set;
  const ack = await driver.slashCommand({
    userId: outcome.userId,
    text: `local/${APP.database} readwrite for 1m because ${outcome.reason}`,
  });
  outcome.acked = accepted(set, ack);
  if (!outcome.acked) return;
  const id = await pollUntil(
    async () => (await set.state<{ id: string }>('SELECT id FROM requests WHERE reason = $1', [outcome.reason]))[0]?.id,
    `request ${outcome.reason} in the state`,
    { timeoutMs: 20_000, intervalMs: 100 },
  );
  outcome.id = id;
  const approval = await fake.waitFor(
    () => fake.dmMessages(PEOPLE.bob.id).find((m) => m.text.includes(id) && hasButton(m, `sesame.approve:${id}`)),
    `Bob's approval DM for ${id}`,
    30_000,
  );
  await clickUntil(
    () => driver.clickButton(approval, `sesame.approve:${id}`, PEOPLE.bob.id),
    async () => (await statusOf(set, id)) !== 'pending',
    `approving ${id}`,
  );
  const granted = await fake.waitFor(
    () => fake.dmMessages(outcome.userId).find((m) => /Access granted/.test(m.text) && m.text.includes(id)),
    `the granted DM of ${id}`,
    30_000,
  );
  const viewsBefore = fake.views(outcome.userId).length;
  const modal = () =>
    fake
      .views(outcome.userId)
      .slice(viewsBefore)
      .find((v) => JSON.stringify(v.view).includes('postgresql://'));
  await clickUntil(
    () => driver.clickButton(granted, `sesame.credentials:${id}`, outcome.userId),
    async () => Boolean(modal()),
    `showing the credentials of ${id}`,
  );
  outcome.uri = /postgresql:\/\/[^`"\\\s]+/.exec(JSON.stringify(modal()!.view))![0];
  const session = new pg.Client({ connectionString: outcome.uri });
  session.on('error', () => undefined);
  sessions.push(session);
  await session.connect();
  outcome.usedWhileGranted = (await session.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n === 3;
  const [row] = await set.state<{ expires_at: Date }>('SELECT expires_at FROM requests WHERE id = $1', [id]);
  outcome.expiresAt = row!.expires_at;
}

/** Once expiry + one interval + the grace have passed: the open session must be gone, a login refused. */
async function checkAfterExpiry(outcome: Outcome, session: pg.Client): Promise<void> {
  const at = outcome.expiresAt!.getTime() + EXPIRE_INTERVAL_MS + REVOCATION_GRACE_MS;
  await sleep(Math.max(0, at - Date.now()));
  outcome.sessionEnded = await session.query('SELECT 1').then(
    () => false,
    () => true,
  );
  await session.end().catch(() => undefined);
  const login = new pg.Client({ connectionString: outcome.uri });
  login.on('error', () => undefined);
  outcome.loginRefused = await login.connect().then(
    () => undefined,
    (err: Error) => err.message,
  );
  await login.end().catch(() => undefined);
}

/** Runs request `k`, `k * spacingMs` after the start, then its check after expiry. */
async function oneRequest(set: ReplicaSet, outcome: Outcome, delayMs: number): Promise<void> {
  await sleep(delayMs);
  const sessions: pg.Client[] = [];
  try {
    await askAndUse(set, outcome, sessions);
    if (outcome.expiresAt && sessions[0]) await checkAfterExpiry(outcome, sessions[0]);
  } catch (err) {
    outcome.problem = (err as Error).message.split('\n')[0];
  } finally {
    for (const s of sessions) await s.end().catch(() => undefined);
  }
}

/**
 * Kills replicas in turn during the load, each started again after a few seconds: the first two
 * while requests are asked and approved, then whichever leads `expire` half a second before the
 * first grant's expiry (the last replica when none says it leads).
 */
async function killInTurn(set: ReplicaSet, outcomes: Outcome[], kills: Kill[]): Promise<void> {
  const started = Date.now();
  const killAndRestart = async (replica: number, why: string, downMs: number) => {
    kills.push({ replica, atMs: Date.now() - started, why });
    await set.kill(replica);
    await sleep(downMs);
    await set.start(replica);
  };
  await sleep(5000);
  await killAndRestart(0, 'during the load', 2000);
  await sleep(3000);
  await killAndRestart(1, 'during the load', 2000);
  const first = await pollUntil(
    () => outcomes.find((o) => o.expiresAt)?.expiresAt ?? (outcomes.every((o) => o.problem || !o.acked) ? new Date(0) : undefined),
    'a grant to expire',
    { timeoutMs: 120_000, intervalMs: 200 },
  );
  if (first.getTime() === 0) return;
  await sleep(Math.max(0, first.getTime() - 500 - Date.now()));
  const leader = await leaderOf(set, 'expire');
  await killAndRestart(
    leader ?? set.replicas.length - 1,
    leader === undefined ? 'no replica said it leads expire' : 'the expire leader',
    4000,
  );
}

/** Runs `count` requests `spacingMs` apart while replicas are killed; resolves once all were checked. */
export async function runLoad(set: ReplicaSet, count: number, spacingMs: number): Promise<{ outcomes: Outcome[]; kills: Kill[] }> {
  const outcomes: Outcome[] = requesters(count).map((u, k) => ({ k, userId: u.id, reason: `load ${k}`, acked: false }));
  const kills: Kill[] = [];
  const killing = killInTurn(set, outcomes, kills);
  await Promise.all(outcomes.map((o) => oneRequest(set, o, o.k * spacingMs)));
  await killing;
  return { outcomes, kills };
}

/** Where the replicas' log lines are written once the suite is done. */
const LOG_FILE = (transport: ReplicaTransport) => join(tmpdir(), `sesame-replicas-${transport}-${process.pid}.log`);

/** Outcomes without their credentials, for failure messages. */
function described(outcomes: readonly Outcome[]): string {
  return JSON.stringify(
    outcomes.map(({ uri: _uri, ...rest }) => rest),
    null,
    1,
  );
}

/** What the replicas logged as a warning or an error about a request, for failure messages. */
function warnings(set: ReplicaSet, requestId: string | undefined): string {
  return set
    .lines()
    .filter((l) => l.requestId === requestId && (l.level === 'warn' || l.level === 'error'))
    .map((l) => `replica ${l.replica}: ${l.msg}: ${JSON.stringify(l.err ?? '')}`)
    .join('\n');
}

/** The load test on `transport`: three replicas, eight requests two seconds apart. */
export function replicaLoadSuite(transport: ReplicaTransport, { replicas = 3, requests = 8, spacingMs = 2000 } = {}): void {
  const version = pgVersions()[0]!;
  let cluster: TestCluster | undefined;
  let set: ReplicaSet | undefined;
  let load: { outcomes: Outcome[]; kills: Kill[] } = { outcomes: [], kills: [] };
  const acked = () => load.outcomes.filter((o) => o.acked);

  before(
    async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      const users = requesters(requests);
      set = await startReplicaSet({ cluster, transport, count: replicas, flowsYaml: SHORT_FLOW_YAML, expireCron: EXPIRE_CRON, users });
      load = await runLoad(set, requests, spacingMs);
    },
    { timeout: 210_000 },
  );
  after(async () => {
    // Every replica's log, for reading what happened when a test failed.
    if (set)
      writeFileSync(
        LOG_FILE(transport),
        set
          .lines()
          .map((l) => JSON.stringify(l))
          .join('\n'),
      );
    await set?.stop();
    await cluster?.stop();
    killAll();
  });

  it('loses nothing: every request acknowledged is in the state, was granted and has expired', async (t) => {
    t.diagnostic(`${acked().length} of ${requests} requests acknowledged; kills: ${JSON.stringify(load.kills)}`);
    t.diagnostic(`the replicas' logs go to ${LOG_FILE(transport)}`);
    assert.ok(acked().length >= requests / 2, `most requests were acknowledged: ${described(load.outcomes)}`);
    const rows = await set!.state<{ reason: string; status: string; granted_at: Date | null }>(
      'SELECT reason, status, granted_at FROM requests',
    );
    for (const outcome of acked()) {
      const row = rows.find((r) => r.reason === outcome.reason);
      assert.ok(row, `request ${outcome.reason} was acknowledged but is not in the state`);
      assert.equal(outcome.problem, undefined, `${outcome.id} went through: ${described([outcome])}\n${warnings(set!, outcome.id)}`);
      assert.ok(row.granted_at, `${outcome.id} was granted`);
      assert.equal(row.status, 'expired', `${outcome.id} ended by expiring`);
      assert.equal(outcome.usedWhileGranted, true, `${outcome.id}'s credentials read the table while granted`);
    }
  });

  it('doubles nothing: one grant.granted event, one granted DM, one approval message per approver and in the channel per request', async () => {
    const events = await set!.state<{ request_id: string; n: number }>(
      "SELECT request_id, count(*)::int AS n FROM audit_events WHERE action = 'grant.granted' GROUP BY request_id",
    );
    const { fake } = set!;
    const doubled: string[] = [];
    const granted = fake
      .calls('chat.postMessage')
      .filter((c) => (c.response as { ok?: boolean }).ok && /Access granted/.test(String(c.args.text)))
      .map((c) => String(c.args.text));
    for (const { id } of acked().filter((o) => o.id)) {
      const mentions = (messages: StandInMessage[]) => messages.filter((m) => m.text.includes(id!)).length;
      const counts = {
        granted: events.find((e) => e.request_id === id)?.n ?? 0,
        // Posted, not as it shows now: the expiry edits the granted DM in place.
        grantedDms: granted.filter((text) => text.includes(id!)).length,
        bob: mentions(fake.dmMessages(PEOPLE.bob.id)),
        carol: mentions(fake.dmMessages(PEOPLE.carol.id)),
        channel: mentions(fake.messages(APPROVAL_CHANNEL)),
      };
      if (Object.values(counts).some((n) => n !== 1)) doubled.push(`${id}: ${JSON.stringify(counts)}`);
    }
    assert.deepEqual(doubled, [], 'each of these should be 1 per request');
  });

  it('runs expire on one replica at a time: no two runs overlap, and a replica says when it takes the lead', () => {
    const runs = jobRuns(set!, 'expire');
    assert.ok(runs.length > 0, 'expire ran');
    const overlaps = overlappingRuns(runs);
    assert.deepEqual(
      overlaps.slice(0, 5).map(([a, b]) => `replica ${a.replica} and replica ${b.replica} at ${new Date(b.startMs).toISOString()}`),
      [],
      `${overlaps.length} overlapping pairs of expire runs`,
    );
    const leads = set!.lines().filter((l) => l.msg === 'this replica now leads the job' && l.job === 'expire');
    assert.ok(leads.length >= 2, `a first leader, and another after the leader was killed: ${JSON.stringify(leads)}`);
    assert.ok(
      load.kills.some((k) => k.why === 'the expire leader'),
      `the replica leading expire was the one killed at the expiry: ${JSON.stringify(load.kills)}`,
    );
  });

  it('ends every access within one expire interval of its expiry, the leader killed at the first one', async () => {
    const late: string[] = [];
    const checked = acked().filter((x) => x.expiresAt);
    assert.ok(checked.length > 0, `some grants were made and checked after their expiry: ${described(load.outcomes)}`);
    for (const o of checked) {
      if (o.sessionEnded !== true) late.push(`${o.id}: its open session outlived expiry + interval`);
      if (o.loginRefused === undefined) late.push(`${o.id}: its password still logs in after expiry + interval`);
    }
    const ended = await set!.state<{ id: string; late_ms: number }>(
      `SELECT id, (extract(epoch FROM ended_at - expires_at) * 1000)::int AS late_ms FROM requests WHERE status = 'expired'`,
    );
    for (const { id, late_ms } of ended) {
      if (late_ms > EXPIRE_INTERVAL_MS + REVOCATION_GRACE_MS) late.push(`${id}: ended ${late_ms} ms after its expiry`);
    }
    assert.deepEqual(late, [], `kills: ${JSON.stringify(load.kills)}`);
  });
}
