import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FileSink } from '../../src/adapters/auditSink/FileSink.ts';
import { LocalCoordination } from '../../src/adapters/local/LocalCoordination.ts';
import { SqliteStateStore } from '../../src/adapters/sqlite/SqliteStateStore.ts';
import { buildSesame, type Sesame } from '../../src/app.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import { createLogger } from '../../src/logger.ts';
import type { SessionRecord } from '../../src/ports/SessionRecords.ts';
import { AuditStream, type SinkStore } from '../../src/services/audit/AuditStream.ts';
import { FakeDirectory, FakeTargetDatabase, FakeTargetDatabases, ManualClock } from '../support/fakes.ts';
import { capturingLogger } from '../support/logs.ts';
import { PEOPLE, testConfig } from '../support/services.ts';

const SECRET = 'whsec-audit-sink-3f9a1c7e5b2d8046';
const HOUR = 60 * 60_000;

/** What the receiver took: each item as it arrived, with the request's idempotency key. */
interface Taken {
  key: string;
  items: Record<string, unknown>[];
}

/**
 * A webhook receiver on loopback that checks each request's signature and timestamp, and is up
 * (200), down (503), hanging (never answers) or closed (refuses connections) as a test says.
 */
class Receiver {
  mode: 'up' | 'down' | 'hang' = 'up';
  readonly taken: Taken[] = [];
  requests = 0;
  badSignatures = 0;
  readonly #hanging: ServerResponse[] = [];
  readonly #server: Server;
  port = 0;

  constructor(private readonly secret: string) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.#answer(req.headers, Buffer.concat(chunks).toString('utf8'), res));
    });
  }

  #answer(headers: NodeJS.Dict<string | string[]>, body: string, res: ServerResponse): void {
    this.requests += 1;
    if (this.mode === 'hang') {
      this.#hanging.push(res);
      return;
    }
    const timestamp = String(headers['x-sesame-timestamp']);
    const expected = Buffer.from(`sha256=${createHmac('sha256', this.secret).update(`${timestamp}.${body}`).digest('hex')}`);
    const given = Buffer.from(String(headers['x-sesame-signature']));
    const fresh = Math.abs(Date.now() / 1000 - Number(timestamp)) < 300;
    if (given.length !== expected.length || !timingSafeEqual(given, expected) || !fresh) {
      this.badSignatures += 1;
      res.writeHead(401).end();
      return;
    }
    if (this.mode === 'down') {
      res.writeHead(503).end('down for maintenance');
      return;
    }
    const { items } = JSON.parse(body) as { items: Record<string, unknown>[] };
    this.taken.push({ key: String(headers['idempotency-key']), items });
    res.writeHead(204).end();
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  /** Stops listening: connections are refused until `listen(port)` again. */
  async close(): Promise<void> {
    this.releaseHanging();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Cuts the connections of the requests left hanging. */
  releaseHanging(): void {
    for (const res of this.#hanging.splice(0)) res.socket?.destroy();
  }

  items(type: string): Record<string, unknown>[] {
    return this.taken.flatMap((t) => t.items).filter((i) => i.type === type);
  }
}

function metricValue(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

function sessionRecord(request: AccessRequest, n: number): SessionRecord {
  return {
    id: `local/main/postgresql.log@${n * 100}`,
    requestId: request.id,
    integration: 'local',
    dbUser: request.dbUser ?? 'alice@example.com',
    requester: request.requester.slackId,
    at: new Date(Date.UTC(2026, 5, 1, 9, n)),
    sessionId: `sess-${n}`,
    kind: n === 1 ? 'connect' : 'statement',
    ...(n === 1 ? {} : { commandTag: 'SELECT', statement: `SELECT ${n}` }),
  };
}

describe('streaming the audit trail to a webhook', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-audit-sink-'));
  const receiver = new Receiver(SECRET);
  const clock = new ManualClock();
  const captured = capturingLogger('debug');
  let sesame: Sesame;

  before(async () => {
    await receiver.listen();
    const config = testConfig({
      state: { sqlite: join(dir, 'sesame.db') },
      audit: { sink: { webhook: `http://127.0.0.1:${receiver.port}/sesame/audit`, secret: SECRET, batchSize: 3 } },
    });
    const local = new FakeTargetDatabase('local', 'local.example:5432');
    const other = new FakeTargetDatabase('other', 'local.example:5432', local.users);
    sesame = buildSesame(config, {
      logger: captured.logger,
      clock,
      directory: new FakeDirectory({ ...PEOPLE }, { sre: ['U0DAVE', 'U0ALICE'] }),
      databases: new FakeTargetDatabases([local, other]),
      metrics: true,
    });
  });
  after(async () => {
    await sesame?.close();
    await receiver.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  const grant = (who: string) =>
    sesame.services.requests.requestAccess({
      requesterSlackId: who,
      target: { integration: 'local', database: 'appdb', schema: 'public' },
      permission: 'readonly',
      durationMinutes: 60,
      reason: 'debugging',
    });

  async function metrics(): Promise<{ audit?: number; sessions?: number; failures?: number }> {
    const { body } = await sesame.metrics!.render();
    return {
      audit: metricValue(body, 'sesame_audit_sink_backlog{stream="audit"}'),
      sessions: metricValue(body, 'sesame_audit_sink_backlog{stream="sessions"}'),
      failures: metricValue(body, 'sesame_audit_sink_failures_total'),
    };
  }

  it('keeps what the receiver refuses in the backlog, and grants and revocations go on while it hangs', async () => {
    const first = await grant('U0ALICE');
    assert.equal(first.status, 'granted');
    await sesame.store.recordSessions([sessionRecord(first, 1), sessionRecord(first, 2)], {});

    receiver.mode = 'down';
    await sesame.scheduler.runNow('audit-sink');
    assert.ok(receiver.requests >= 1, 'the stream tried');
    assert.equal(receiver.taken.length, 0);
    const down = await metrics();
    assert.ok((down.audit ?? 0) > 0, `audit backlog while down: ${down.audit}`);
    assert.equal(down.sessions, 2);
    assert.ok((down.failures ?? 0) >= 1);

    // The receiver now takes requests and never answers; the stream is stuck in one of them.
    receiver.mode = 'hang';
    clock.advance(HOUR);
    const hungBefore = receiver.requests;
    const stuck = sesame.scheduler.runNow('audit-sink');
    while (receiver.requests === hungBefore) await new Promise((r) => setTimeout(r, 10));
    const started = performance.now();
    const second = await grant('U0CAROL');
    assert.equal(second.status, 'granted');
    const revoked = await sesame.services.revocations.revoke(first.id, 'U0ALICE');
    assert.equal(revoked.status, 'revoked');
    const tookMs = performance.now() - started;
    assert.ok(tookMs < 2_000, `a grant and a revocation took ${Math.round(tookMs)} ms while the receiver hung`);
    receiver.releaseHanging();
    await stuck;
    assert.equal(receiver.taken.length, 0);
  });

  it('tries again while the receiver refuses connections, then delivers everything in order, once, signed', async () => {
    const second = (await sesame.store.listRequests({})).find((r) => r.requester.slackId === 'U0CAROL')!;
    await sesame.store.recordSessions([sessionRecord(second, 3)], {});
    const { port } = receiver;
    await receiver.close();
    clock.advance(HOUR);
    await sesame.scheduler.runNow('audit-sink');
    // Within the backoff, a pass does not even try.
    await sesame.scheduler.runNow('audit-sink');
    assert.equal(receiver.taken.length, 0);

    await receiver.listen(port);
    receiver.mode = 'up';
    clock.advance(HOUR);
    await sesame.scheduler.runNow('audit-sink');

    const stored = await sesame.store.listAuditAfter(0, 1_000);
    const audit = receiver.items('audit');
    assert.deepEqual(
      audit.map((i) => i.id),
      stored.map((e) => e.id),
      'every audit event, in id order, none twice',
    );
    assert.deepEqual(audit, JSON.parse(JSON.stringify(stored.map((e) => ({ type: 'audit', ...e })))));
    const records = await sesame.store.listSessionRecords({});
    assert.deepEqual(receiver.items('session'), JSON.parse(JSON.stringify(records.map((r) => ({ type: 'session', ...r })))));
    assert.equal(receiver.badSignatures, 0);
    for (const { key, items } of receiver.taken) {
      assert.ok(items.length <= 3, 'batches hold batchSize items at most');
      const ids = items.map((i) => (i.type === 'audit' ? i.id : i.seq));
      assert.equal(key, `${items[0]!.type === 'audit' ? 'audit' : 'sessions'}-${ids[0]}-${ids.at(-1)}`);
    }
    const upAgain = await metrics();
    assert.equal(upAgain.audit, 0);
    assert.equal(upAgain.sessions, 0);
    assert.ok((upAgain.failures ?? 0) >= 3, `failures counted: ${upAgain.failures}`);
  });

  it('never shows the secret in the log, in an error or in the state', async () => {
    await sesame.scheduler.runNow('audit-sink');
    const log = captured.lines.join('');
    assert.match(log, /the audit sink did not take a batch/);
    assert.match(log, /ECONNREFUSED|answered 503/);
    assert.ok(!log.includes(SECRET), 'the log holds the secret');
    assert.ok(!log.includes('/sesame/audit'), "the log holds the URL's path");
    for (const name of ['sesame.db', 'sesame.db-wal']) {
      const path = join(dir, name);
      if (existsSync(path)) assert.ok(!readFileSync(path).includes(SECRET), `${name} holds the secret`);
    }
    const text = JSON.stringify([await sesame.store.listAuditAfter(0, 1_000), await sesame.store.watermark('sink:audit')]);
    assert.ok(!text.includes(SECRET));
  });

  it('runs only on the replica that leads the audit-sink job', async () => {
    const coordination = new LocalCoordination();
    const follower = buildSesame(testConfig({ audit: { sink: { webhook: `http://127.0.0.1:${receiver.port}/x`, secret: SECRET } } }), {
      logger: createLogger({ level: 'silent' }),
      clock,
      directory: new FakeDirectory({ ...PEOPLE }),
      databases: new FakeTargetDatabases([]),
      store: SqliteStateStore.open(':memory:'),
      coordination: {
        locks: coordination.locks,
        deliveries: coordination.deliveries,
        leadership: { lead: async () => false, leading: () => [], configMismatches: () => [] },
        close: () => coordination.close(),
      },
    });
    try {
      await follower.store.appendAudit({ at: clock.now(), action: 'request.created', actor: 'U0FOLLOW' });
      const before = receiver.requests;
      await follower.scheduler.tick('audit-sink');
      assert.equal(receiver.requests, before);
      await follower.scheduler.runNow('audit-sink');
      assert.equal(receiver.requests, before + 1, 'the job itself delivers when it runs');
    } finally {
      await follower.close();
    }
  });

  it('is not scheduled without audit.sink', async () => {
    const plain = buildSesame(testConfig(), {
      logger: createLogger({ level: 'silent' }),
      directory: new FakeDirectory({}),
      databases: new FakeTargetDatabases([]),
      store: SqliteStateStore.open(':memory:'),
    });
    try {
      await assert.rejects(plain.scheduler.runNow('audit-sink'), /No job named audit-sink/);
    } finally {
      await plain.close();
    }
  });
});

describe('streaming the audit trail to a file', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-audit-file-'));
  const statePath = join(dir, 'state', 'sesame.db');
  const file = join(dir, 'out', 'audit.jsonl');
  const clock = new ManualClock();
  const logger = createLogger({ level: 'silent' });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const lines = () =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  const stream = (store: SinkStore) => new AuditStream({ store, sink: new FileSink(file), clock, logger, batchSize: 4 });
  const append = async (store: SqliteStateStore, from: number, to: number) => {
    for (let n = from; n <= to; n++) await store.appendAudit({ at: clock.now(), action: 'credentials.revealed', actor: `U0${n}` });
  };

  it('writes every event once, in order, and a new stream on the same state goes on where the last one stopped', async () => {
    const store = SqliteStateStore.open(statePath, { clock, logger });
    await append(store, 1, 6);
    assert.deepEqual((await stream(store).pass()).delivered, { audit: 6, sessions: 0 });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    await store.close();

    const reopened = SqliteStateStore.open(statePath, { clock, logger });
    await append(reopened, 7, 9);
    assert.deepEqual((await stream(reopened).pass()).delivered, { audit: 3, sessions: 0 });
    assert.deepEqual((await stream(reopened).pass()).delivered, { audit: 0, sessions: 0 });
    assert.deepEqual(
      lines().map((l) => l.actor),
      ['U01', 'U02', 'U03', 'U04', 'U05', 'U06', 'U07', 'U08', 'U09'],
    );
    assert.deepEqual(
      lines().map((l) => l.id),
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.equal(lines()[0]!.type, 'audit');
    assert.equal(lines()[0]!.at, clock.now().toISOString());
    await reopened.close();
  });

  it('sends a batch again when the process stops between writing it and saving the cursor, and skips nothing', async () => {
    const store = SqliteStateStore.open(statePath, { clock, logger });
    await append(store, 10, 12);
    let crash = true;
    const crashing: SinkStore = {
      listAuditAfter: (id, limit) => store.listAuditAfter(id, limit),
      listSessionRecords: (filter) => store.listSessionRecords(filter),
      watermark: (key) => store.watermark(key),
      setWatermark: async (key, value) => {
        if (crash) throw new Error('the process stopped here');
        return store.setWatermark(key, value);
      },
    };
    const failed = await stream(crashing).pass();
    assert.ok(failed.retryAt, 'the pass failed');
    crash = false;
    assert.deepEqual((await stream(store).pass()).delivered, { audit: 3, sessions: 0 });
    const actors = lines().map((l) => l.actor);
    assert.deepEqual(actors.slice(0, 9), ['U01', 'U02', 'U03', 'U04', 'U05', 'U06', 'U07', 'U08', 'U09']);
    assert.deepEqual(actors.slice(9), ['U010', 'U011', 'U012', 'U010', 'U011', 'U012'], 'the unsaved batch, then again');
    await store.close();
  });
});
