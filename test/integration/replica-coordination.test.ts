import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PostgresStateStore } from '../../src/adapters/postgresState/PostgresStateStore.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { Scheduler } from '../../src/jobs/Scheduler.ts';
import { systemClock } from '../../src/ports/Clock.ts';
import { userKey } from '../../src/services/userGrants.ts';
import type { Coordination } from '../../src/ports/Coordination.ts';
import { capturingLogger } from '../support/logs.ts';
import { pollUntil } from '../support/poll.ts';
import { freePort, startCluster, type TestCluster } from '../support/postgres.ts';
import { TcpProxy } from '../support/tcpProxy.ts';
import { healthRoutes, serveRoutes } from '../../src/http/health.ts';
import { stateDatabases } from '../support/stateDatabases.ts';

/**
 * Replicas coordinating through one real PostgreSQL state: each "replica" here is a store and its
 * coordination, as each Sesame process has; the connections are real, and so are the locks.
 */
describe('replicas on one PostgreSQL state', { timeout: 180_000 }, () => {
  let cluster: TestCluster | undefined;
  const databases = stateDatabases(() => cluster!, 'sesame_coordination');
  const opened: { store: PostgresStateStore; coordination: Coordination }[] = [];
  let uri = '';

  before(async () => {
    cluster = await startCluster(17);
    await databases.createRole();
    uri = await databases.fresh();
  });
  after(async () => {
    for (const r of opened) {
      await r.coordination.close().catch(() => undefined);
      await r.store.close();
    }
    await cluster?.stop();
  });

  function replica(name: string, configHash = 'same-config', at = uri) {
    const store = PostgresStateStore.open({ uri: at, sslMode: 'disable' });
    const { logger, lines } = capturingLogger('info');
    const coordination = store.coordination({ replicaId: name, configHash }, systemClock, logger);
    opened.push({ store, coordination });
    return { store, coordination, lines };
  }

  /** The server ends the replica's leader connection, as a failover or a network cut would. */
  async function cutLeaderConnections() {
    await cluster!.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sesame leader'", [], {
      database: 'postgres',
    });
  }

  it('one replica leads a job; another takes over when the leader closes, or when its connection is cut', async () => {
    const a = replica('replica-a');
    const b = replica('replica-b');
    assert.equal(await a.coordination.leadership.lead('expire'), true);
    assert.equal(await b.coordination.leadership.lead('expire'), false);
    // Leadership is per job: the follower of one may lead another.
    assert.equal(await b.coordination.leadership.lead('rotate'), true);
    assert.equal(await a.coordination.leadership.lead('rotate'), false);
    assert.deepEqual(a.coordination.leadership.leading(), ['expire']);
    assert.deepEqual(b.coordination.leadership.leading(), ['rotate']);
    assert.equal(await a.coordination.leadership.lead('expire'), true, 'a leader keeps leading');
    assert.ok(a.lines.some((l) => /this replica now leads the job/.test(l) && /"job":"expire"/.test(l)));

    await cutLeaderConnections();
    // The cut replica stops leading at once; the other takes the job at its next tick.
    await pollUntil(
      () => a.lines.some((l) => /this replica stopped leading: its state connection was lost/.test(l)),
      'the cut leader stopping',
      { timeoutMs: 10_000 },
    );
    assert.deepEqual(a.coordination.leadership.leading(), []);
    assert.equal(await b.coordination.leadership.lead('expire'), true);
    assert.equal(await a.coordination.leadership.lead('expire'), false, 'the old leader is a follower now');
  });

  it('a replica that closes gives up its leads at once', async () => {
    const c = replica('replica-c');
    const d = replica('replica-d');
    assert.equal(await c.coordination.leadership.lead('cleanup'), true);
    assert.equal(await d.coordination.leadership.lead('cleanup'), false);
    await c.coordination.close();
    assert.equal(await d.coordination.leadership.lead('cleanup'), true);
  });

  it('a job runs only on the replica that leads it, and never on two at once', async () => {
    const e = replica('replica-e');
    const f = replica('replica-f');
    const runs: string[] = [];
    let running = 0;
    let overlapped = false;
    const job = (who: string) => ({
      id: 'remind',
      cron: '0 0 1 1 *',
      timeoutMs: 60_000,
      run: async () => {
        running++;
        if (running > 1) overlapped = true;
        runs.push(who);
        await new Promise((resolve) => setTimeout(resolve, 20));
        running--;
      },
    });
    const { logger } = capturingLogger('info');
    const schedulers = [
      new Scheduler([job('e')], logger, undefined, e.coordination.leadership),
      new Scheduler([job('f')], logger, undefined, f.coordination.leadership),
    ];
    for (let i = 0; i < 10; i++) await Promise.all(schedulers.map((s) => s.tick('remind')));
    assert.equal(overlapped, false);
    assert.equal(runs.length, 10);
    assert.equal(new Set(runs).size, 1, `one replica ran every tick, not ${JSON.stringify(runs)}`);
    await Promise.all(schedulers.map((s) => s.stop()));
  });

  it('shows in /metrics which jobs this replica leads', async () => {
    const g = replica('replica-g');
    await g.coordination.leadership.lead('discover');
    const metrics = createMetrics({ activeGrants: async () => 0, leadership: g.coordination.leadership });
    const { body } = await metrics.render();
    assert.match(body, /sesame_job_leader\{job="discover"\} 1/);
    assert.match(body, /sesame_job_leader\{job="expire"\} 0/);
    assert.match(body, /sesame_replicas_with_other_config 0/);
  });

  it('reports replicas that run another config, with their names, and counts them in /metrics', async () => {
    const ownUri = await databases.fresh();
    const h = replica('replica-h', 'config-one', ownUri);
    const i = replica('replica-i', 'config-two', ownUri);
    await h.coordination.leadership.lead('expire');
    await i.coordination.leadership.lead('expire');
    await pollUntil(
      () => h.coordination.leadership.configMismatches().length === 1 && i.coordination.leadership.configMismatches().length === 1,
      'both replicas seeing the other config',
      { timeoutMs: 15_000 },
    );
    assert.equal(h.coordination.leadership.configMismatches()[0]?.replicaId, 'replica-i');
    const said = i.lines.find((l) => /different config share this state/.test(l));
    assert.ok(said, 'the mismatch is logged as an error');
    assert.match(said, /"level":"?(error|50)/);
    assert.match(said, /replica-h/);
    const metrics = createMetrics({ activeGrants: async () => 0, leadership: h.coordination.leadership });
    assert.match((await metrics.render()).body, /sesame_replicas_with_other_config 1/);
  });

  it('no replica leads while the state cannot be reached, and says so once', async () => {
    const port = await freePort();
    const store = PostgresStateStore.open({ uri: `postgres://x:y@127.0.0.1:${port}/nowhere`, sslMode: 'disable' });
    const { logger, lines } = capturingLogger('info');
    const coordination = store.coordination({ replicaId: 'replica-lost', configHash: 'x' }, systemClock, logger);
    opened.push({ store, coordination });
    assert.equal(await coordination.leadership.lead('expire'), false);
    assert.equal(await coordination.leadership.lead('expire'), false);
    assert.equal(lines.filter((l) => /no job runs on this replica while the state database cannot be reached/.test(l)).length, 1);
  });

  it('the state lost and back: not ready and leading nothing meanwhile, then ready and leading again by itself', async () => {
    const proxy = await TcpProxy.start(cluster!.port);
    const viaProxy = (await databases.fresh()).replace(`:${cluster!.port}/`, `:${proxy.port}/`);
    const p = replica('replica-p', 'same-config', viaProxy);
    const { logger } = capturingLogger('info');
    const metrics = createMetrics({ activeGrants: async () => 0, leadership: p.coordination.leadership });
    const { server, port } = await serveRoutes(healthRoutes({ store: p.store, metrics, configLoaded: () => true, logger }), 0, '127.0.0.1');
    const readyz = async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
    try {
      assert.equal(await readyz(), 200);
      assert.equal(await p.coordination.leadership.lead('remind'), true);
      proxy.cut();
      assert.equal(await readyz(), 503);
      assert.equal(await p.coordination.leadership.lead('remind'), false, 'no job runs without the state');
      assert.deepEqual(p.coordination.leadership.leading(), []);
      proxy.restore();
      assert.equal(await readyz(), 200);
      assert.equal(await p.coordination.leadership.lead('remind'), true, 'leading again with nothing done by hand');
    } finally {
      server.close();
      await proxy.stop();
    }
  });

  it('the per-person lock takes the keys the services make: server and user joined by a NUL', async () => {
    const q = replica('replica-q');
    let ran = false;
    await q.coordination.locks.run(userKey('127.0.0.1:5432/appdb', 'alice@example.com'), async () => {
      ran = true;
    });
    assert.equal(ran, true);
  });

  it('the per-person lock holds across replicas; different keys do not wait for each other', async () => {
    const j = replica('replica-j');
    const k = replica('replica-k');
    const events: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = j.coordination.locks.run('srv/alice', async () => {
      events.push('j in');
      await held;
      events.push('j out');
    });
    await pollUntil(() => events.includes('j in'), 'the first holder', { timeoutMs: 5000 });
    const second = k.coordination.locks.run('srv/alice', async () => {
      events.push('k in');
    });
    const other = k.coordination.locks.run('srv/bob', async () => {
      events.push('k bob');
    });
    await other;
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(events, ['j in', 'k bob'], 'the second replica waits for alice while bob goes on');
    release();
    await Promise.all([first, second]);
    assert.deepEqual(events, ['j in', 'k bob', 'j out', 'k in']);
  });

  it('the per-person lock is freed when its holder dies, and is not left held after an error', async () => {
    const l = replica('replica-l');
    const m = replica('replica-m');
    await assert.rejects(
      l.coordination.locks.run('srv/carol', async () => {
        throw new Error('the grant failed');
      }),
      /the grant failed/,
    );
    let ran = false;
    await m.coordination.locks.run('srv/carol', async () => {
      ran = true;
    });
    assert.equal(ran, true);
    let endWork!: () => void;
    const holding = l.coordination.locks.run('srv/dave', () => new Promise<void>((resolve) => (endWork = resolve)));
    holding.catch(() => undefined);
    await pollUntil(
      async () =>
        (
          await cluster!.query<{ n: string }>("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND granted", [], {
            database: new URL(uri).pathname.slice(1),
          })
        ).some((r) => Number(r.n) > 0),
      'the lock held',
      { timeoutMs: 5000 },
    );
    await cluster!.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sesame locks'", [], {
      database: 'postgres',
    });
    let took = false;
    await m.coordination.locks.run('srv/dave', async () => {
      took = true;
    });
    assert.equal(took, true, 'the server freed the lock of the dead session');
    endWork();
    await holding;
  });

  it('a Slack payload is taken once across replicas, again only after its taker went silent', async () => {
    const n = replica('replica-n');
    const o = replica('replica-o');
    const t0 = new Date();
    assert.equal(await n.coordination.deliveries.take('event:Ev1', t0), true);
    assert.equal(await o.coordination.deliveries.take('event:Ev1', new Date(t0.getTime() + 1000)), false);
    assert.equal(await o.coordination.deliveries.take('event:Ev1', new Date(t0.getTime() + 5000)), true, 'its taker never acknowledged it');
    await o.coordination.deliveries.acknowledged('event:Ev1');
    assert.equal(await n.coordination.deliveries.take('event:Ev1', new Date(t0.getTime() + 60_000)), false);
    const both = await Promise.all([n, o, n, o].map((r) => r.coordination.deliveries.take('trigger:T1', t0)));
    assert.equal(both.filter(Boolean).length, 1, 'racing takers: one wins');
  });
});
