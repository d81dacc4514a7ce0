/**
 * Expiry at the moment itself, in real time on a real PostgreSQL: grants whose expiries are spread
 * across a minute (written in the state store, as a short grant would have them), each ended by
 * the deadline timer alone (no `expire` schedule runs). Measured per grant: revocation recorded,
 * open session ended and new login refused, each after the expiry; the floor is the engine's
 * revoke of one grant alone. Then the target is cut behind a TCP proxy before a batch of expiries
 * and restored: restore → revoked, beside the fixed 30 s backoff it replaces.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { LocalCoordination } from '../src/adapters/local/LocalCoordination.ts';
import { postgresTargetDatabase } from '../src/adapters/postgres/postgresTargetDatabases.ts';
import { SqliteStateStore } from '../src/adapters/sqlite/SqliteStateStore.ts';
import { configSchema } from '../src/config/schema.ts';
import { Deadlines } from '../src/jobs/deadlines.ts';
import { createLogger } from '../src/logger.ts';
import { systemClock } from '../src/ports/Clock.ts';
import type { TargetDatabase } from '../src/ports/TargetDatabase.ts';
import { createServices } from '../src/services/index.ts';
import { IntegrationRegistry } from '../src/services/IntegrationRegistry.ts';
import { FakeDirectory, FakeTargetDatabases, RecordingNotifier } from '../test/support/fakes.ts';
import { APP, type TestCluster } from '../test/support/postgres.ts';
import { TcpProxy } from '../test/support/tcpProxy.ts';
import { percentile, timed } from './replay.ts';

const GRANTS = 200;
/** Sessions held open at once (the test server allows 100 connections). */
const SESSIONS = 50;
const SPREAD_MS = 60_000;
const OUTAGE_GRANTS = 20;
const TARGET_MS = 1000;
const OLD_BACKOFF_MS = 30_000;

const round = (n: number) => Math.round(n * 10) / 10;
const spread = (ms: number[]) => ({ p50Ms: round(percentile(ms, 50)), p99Ms: round(percentile(ms, 99)), maxMs: round(Math.max(...ms)) });

async function sesameOn(cluster: TestCluster, proxy: TcpProxy, dir: string) {
  const logger = createLogger({ level: 'silent' });
  const store = SqliteStateStore.open(join(dir, 'sesame.db'));
  const people: Record<string, string> = {};
  for (let i = 0; i <= GRANTS + OUTAGE_GRANTS; i++) people[`U${i}`] = `expiry-${i}@example.com`;
  const config = configSchema.parse({
    integrations: [{ ...cluster.integrationConfig({ name: 'bench' }), host: '127.0.0.1', port: proxy.port }],
    accessFlows: [{ name: 'auto', requestors: ['*'], permissions: ['readonly'], maxDuration: '8h', approvers: [] }],
  });
  const engine = postgresTargetDatabase(config.integrations[0]!, { logger });
  const databases = new FakeTargetDatabases<TargetDatabase>([engine]);
  const deadlines = new Deadlines({ clock: systemClock, logger, leadership: new LocalCoordination().leadership });
  const services = createServices({
    config,
    integrations: new IntegrationRegistry(config.integrations, systemClock),
    store: deadlines.watchStore(store),
    databases: deadlines.watchDatabases(databases),
    notifier: new RecordingNotifier(),
    directory: new FakeDirectory(people),
    clock: systemClock,
    logger,
  });
  deadlines.attach([], services, store, databases);
  const grant = (i: number) =>
    services.requests.requestAccess({
      requesterSlackId: `U${i}`,
      target: { integration: 'bench', database: APP.database, schema: 'public' },
      permission: 'readonly',
      durationMinutes: 60,
      reason: 'bench',
    });
  /** Moves the expiry as a short grant would have it, and tells the timer as the services do. */
  const expireAt = async (id: string, at: Date) => {
    await deadlines.watchStore(store).update(id, ['granted'], { expiresAt: at });
  };
  return { store, engine, services, deadlines, grant, expireAt };
}

/** When a login with `uri` is first refused, polling from now. */
async function loginRefusedAt(uri: string): Promise<number> {
  for (;;) {
    const client = new pg.Client({ connectionString: uri, connectionTimeoutMillis: 5000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.end();
    } catch {
      return Date.now();
    }
    await sleep(50);
  }
}

async function lateness(s: Awaited<ReturnType<typeof sesameOn>>) {
  const reqs = [];
  for (let i = 0; i < GRANTS; i++) reqs.push(await s.grant(i));
  const start = Date.now() + 5000;
  const expiries = reqs.map((_, i) => start + Math.round((i * SPREAD_MS) / GRANTS));
  const watched = reqs.map((r, i) => ({ r, i })).filter(({ i }) => i % (GRANTS / SESSIONS) === 0);
  const ended: number[] = [];
  const refused: Promise<number>[] = [];
  for (const { r, i } of watched) {
    const { uri } = await s.services.credentials.revealCredentials(r.id, `U${i}`);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    session.on('end', () => ended.push(Date.now() - expiries[i]!));
    await session.connect();
    refused.push(sleep(Math.max(0, expiries[i]! - Date.now())).then(async () => (await loginRefusedAt(uri)) - expiries[i]!));
  }
  for (const [i, r] of reqs.entries()) await s.expireAt(r.id, new Date(expiries[i]!));
  const loginMs = await Promise.all(refused);
  let left = GRANTS;
  while (left > 0) {
    await sleep(200);
    left = (await s.store.listRequests({ statuses: ['granted', 'revoking'] })).length;
  }
  while (ended.length < watched.length) await sleep(50);
  const revokedMs = [];
  for (const [i, r] of reqs.entries()) revokedMs.push((await s.store.getRequest(r.id))!.endedAt!.getTime() - expiries[i]!);
  return { revokedMs, sessionMs: ended, loginMs };
}

async function comeback(s: Awaited<ReturnType<typeof sesameOn>>, proxy: TcpProxy) {
  const reqs = [];
  for (let i = GRANTS; i < GRANTS + OUTAGE_GRANTS; i++) reqs.push(await s.grant(i));
  proxy.cut();
  const at = new Date(Date.now() + 1000);
  for (const r of reqs) await s.expireAt(r.id, at);
  // Every revocation has failed once and waits for its retry.
  for (;;) {
    const failed = await s.store.listRequests({ statuses: ['revoking'] });
    if (failed.filter((r) => r.revokeAttempts > 0).length === OUTAGE_GRANTS) break;
    await sleep(100);
  }
  await sleep(3000);
  const restored = Date.now();
  proxy.restore();
  const doneMs = new Map<string, number>();
  while (doneMs.size < OUTAGE_GRANTS) {
    for (const r of reqs) {
      if (doneMs.has(r.id)) continue;
      const now = await s.store.getRequest(r.id);
      if (now?.status === 'expired') doneMs.set(r.id, now.endedAt!.getTime() - restored);
    }
    await sleep(20);
  }
  return [...doneMs.values()];
}

export async function expiryBenchmark(cluster: TestCluster, log: (line: string) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-bench-expiry-'));
  const proxy = await TcpProxy.start(cluster.port);
  const s = await sesameOn(cluster, proxy, dir);
  s.deadlines.start();
  try {
    const one = await s.grant(GRANTS + OUTAGE_GRANTS);
    const [, floorMs] = await timed(() =>
      s.engine.revoke({ username: one.dbUser!, roles: one.grantedRoles ?? [], keepRoles: [], validUntil: null }),
    );
    await s.services.revocations.revoke(one.id, `U${GRANTS + OUTAGE_GRANTS}`);
    const late = await lateness(s);
    const back = await comeback(s, proxy);
    const figures = {
      grants: GRANTS,
      sessions: SESSIONS,
      spreadMs: SPREAD_MS,
      targetMs: TARGET_MS,
      floorMs: round(floorMs),
      revoked: spread(late.revokedMs),
      sessionEnded: spread(late.sessionMs),
      loginRefused: spread(late.loginMs),
      afterComeback: {
        grants: OUTAGE_GRANTS,
        p50Ms: round(percentile(back, 50)),
        maxMs: round(Math.max(...back)),
        oldBoundMs: OLD_BACKOFF_MS,
      },
    };
    const line = (what: string, f: { p50Ms: number; p99Ms: number; maxMs: number }) =>
      `   ${what} after expiry  p50 ${f.p50Ms} ms  p99 ${f.p99Ms} ms  max ${f.maxMs} ms  (target ≤ ${TARGET_MS} ms, floor ${figures.floorMs} ms)`;
    log(`expiry lateness: ${GRANTS} grants expiring across ${SPREAD_MS / 1000} s, ${SESSIONS} with an open session, no expire schedule`);
    log(line('revocation recorded', figures.revoked));
    log(line('session ended      ', figures.sessionEnded));
    log(line('login refused      ', figures.loginRefused));
    log(
      `revocation after the target comes back (${OUTAGE_GRANTS} grants)  p50 ${figures.afterComeback.p50Ms} ms  max ${figures.afterComeback.maxMs} ms` +
        `  (old bound: the ${OLD_BACKOFF_MS / 1000} s backoff)`,
    );
    return figures;
  } finally {
    await s.deadlines.stop();
    await s.engine.close();
    await s.store.close();
    await proxy.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
