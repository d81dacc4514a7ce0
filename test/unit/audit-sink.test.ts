import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FileSink } from '../../src/adapters/auditSink/FileSink.ts';
import { idempotencyKey, webhookSignature } from '../../src/adapters/auditSink/WebhookSink.ts';
import { configHash } from '../../src/app.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { createLogger, redact } from '../../src/logger.ts';
import type { AuditEvent } from '../../src/ports/AuditLog.ts';
import type { SessionRecordFilter, StoredSessionRecord } from '../../src/ports/SessionRecords.ts';
import { AuditStream, type SinkBatch, sinkBacklog, type SinkStore } from '../../src/services/audit/AuditStream.ts';
import { ManualClock } from '../support/fakes.ts';
import { configProblems as problems } from '../support/configProblems.ts';

describe('config: audit.sink', { timeout: 30_000 }, () => {
  it('is absent by default; each integration keeps its own audit flag', () => {
    const config = parseConfigText('slack: {}\n', {});
    assert.deepEqual(config.audit, {});
  });

  it('takes a file, relative to the config file, with batchSize 100 by default', () => {
    const config = parseConfigText('audit:\n  sink:\n    file: ./out/audit.jsonl\n', {}, '/etc/sesame/sesame.yml');
    assert.deepEqual(config.audit.sink, { file: '/etc/sesame/out/audit.jsonl', batchSize: 100 });
  });

  it('takes an https webhook with its secret from the environment, and registers the secret with the logger', () => {
    const secret = 'env-webhook-secret-5c1d9e0a77';
    const config = parseConfigText(
      'audit:\n  sink:\n    webhook: https://audit.example.com/in\n    secret: ${SINK_HMAC}\n    batchSize: 10\n',
      {
        SINK_HMAC: secret,
      },
    );
    assert.deepEqual(config.audit.sink, { webhook: 'https://audit.example.com/in', secret, batchSize: 10 });
    assert.equal(redact(`signed with ${secret}`), 'signed with [REDACTED]');
  });

  it('allows http only to a loopback host', () => {
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:9000']) {
      assert.deepEqual(problems(`audit:\n  sink:\n    webhook: http://${host}/hook\n    secret: a-long-enough-secret\n`), [], host);
    }
    const [problem] = problems('audit:\n  sink:\n    webhook: http://audit.example.com/hook\n    secret: a-long-enough-secret\n');
    assert.match(
      problem ?? '',
      /^audit\.sink\.webhook: must be an https:\/\/ URL: http:\/\/ is allowed only for a loopback host.*for tests/,
    );
  });

  it('reports each bad value with its path, never the secret', () => {
    const secret = 'literal-secret-never-shown-7d2f';
    const found = problems(
      `audit:\n  sink:\n    webhook: ftp://user:${secret}@audit.example.com/\n    file: ./x\n    secret: short\n    batchSize: 0\n    retries: 3\n`,
    );
    const text = found.join('\n');
    assert.ok(!text.includes(secret), text);
    assert.match(text, /audit\.sink\.webhook: must not hold a user name or password/);
    assert.match(text, /audit\.sink\.webhook: and file are both set/);
    assert.match(text, /audit\.sink\.secret: must be at least 16 characters/);
    assert.match(text, /audit\.sink\.batchSize: must be a whole number from 1 to 10000/);
    assert.match(text, /audit\.sink\.retries: is not a known key/);
    assert.match(
      problems('audit:\n  sink:\n    webhook: https://a.example/\n').join('\n'),
      /audit\.sink\.secret: is required with webhook/,
    );
    assert.match(problems('audit:\n  sink: {}\n').join('\n'), /audit\.sink: needs file: <path> or webhook: <https URL>/);
    assert.match(
      problems('audit:\n  sink:\n    file: ./a\n    secret: a-long-enough-secret\n').join('\n'),
      /audit\.sink\.secret: is only for webhook/,
    );
    assert.match(
      problems('audit:\n  sink:\n    webhook: "not a url"\n    secret: a-long-enough-secret\n').join('\n'),
      /must be a URL like https/,
    );
    assert.match(problems('audit:\n  sinks: {}\n').join('\n'), /audit\.sinks: is not a known key; did you mean "sink"\?/);
  });

  it('leaves the secret out of the config hash the replicas compare', () => {
    const text = (secret: string) => `audit:\n  sink:\n    webhook: https://a.example/\n    secret: ${secret}\n`;
    assert.equal(
      configHash(parseConfigText(text('first-secret-0123456789'), {})),
      configHash(parseConfigText(text('second-secret-987654321'), {})),
    );
  });
});

/** A store of audit events and session records with the ids a test gives, holes and all. */
class HoleyStore implements SinkStore {
  events: AuditEvent[] = [];
  records: StoredSessionRecord[] = [];
  readonly marks = new Map<string, string>();
  async listAuditAfter(id: number, limit: number) {
    return this.events.filter((e) => (e.id ?? 0) > id).slice(0, limit);
  }
  async listSessionRecords(filter: SessionRecordFilter) {
    return this.records.filter((r) => r.seq > (filter.afterSeq ?? 0)).slice(0, filter.limit);
  }
  async watermark(key: string) {
    return this.marks.get(key);
  }
  async setWatermark(key: string, value: string) {
    this.marks.set(key, value);
  }
  add(...ids: number[]) {
    for (const id of ids) this.events.push({ id, at: new Date(0), action: 'request.created', actor: `U${id}` });
  }
}

/** A sink that keeps what it took, and fails while `failing` is set. */
class MemorySink {
  readonly describe = 'memory';
  readonly batches: SinkBatch[] = [];
  failing = false;
  async deliver(batch: SinkBatch) {
    if (this.failing) throw new Error('receiver down');
    this.batches.push(batch);
  }
  ids(): number[] {
    return this.batches.flatMap((b) => b.items.map((i) => (i.type === 'audit' ? (i.id ?? 0) : i.seq)));
  }
}

describe('the audit stream', { timeout: 30_000 }, () => {
  const logger = createLogger({ level: 'silent' });
  const setup = (options: { batchSize?: number; gapWaitMs?: number } = {}) => {
    const store = new HoleyStore();
    const sink = new MemorySink();
    const clock = new ManualClock();
    let failures = 0;
    const stream = new AuditStream({ store, sink, clock, logger, batchSize: 2, onFailure: () => failures++, ...options });
    return { store, sink, clock, stream, failures: () => failures };
  };

  it('delivers in batches, in order, and moves the cursor only past what the sink took', async () => {
    const { store, sink, stream } = setup();
    store.add(1, 2, 3, 4, 5);
    const pass = await stream.pass();
    assert.deepEqual(pass.delivered, { audit: 5, sessions: 0 });
    assert.deepEqual(
      sink.batches.map((b) => [b.first, b.last, idempotencyKey(b)]),
      [
        [1, 2, 'audit-1-2'],
        [3, 4, 'audit-3-4'],
        [5, 5, 'audit-5-5'],
      ],
    );
    assert.equal(store.marks.get('sink:audit'), '5');
    assert.deepEqual(await sinkBacklog(store), { audit: 0, sessions: 0 });
  });

  it('backs off from 1 s, doubling up to 5 min, and starts again at once after a success', async () => {
    const { store, sink, clock, stream, failures } = setup();
    store.add(1, 2, 3);
    sink.failing = true;
    const waits: number[] = [];
    for (let i = 0; i < 11; i++) {
      const pass = await stream.pass();
      assert.ok(pass.retryAt);
      waits.push(pass.retryAt.getTime() - clock.now().getTime());
      const waiting = await stream.pass();
      assert.deepEqual(waiting.waitingUntil, pass.retryAt, 'a pass within the backoff does not try');
      clock.advance(waits.at(-1)!);
    }
    assert.deepEqual(
      waits,
      [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300].map((s) => s * 1000),
    );
    assert.equal(failures(), 11);
    assert.equal(store.marks.get('sink:audit'), undefined);
    assert.deepEqual(await sinkBacklog(store), { audit: 3, sessions: 0 });
    sink.failing = false;
    assert.deepEqual((await stream.pass()).delivered, { audit: 3, sessions: 0 });
    store.add(4);
    sink.failing = true;
    const again = await stream.pass();
    assert.equal(again.retryAt!.getTime() - clock.now().getTime(), 1000);
  });

  it('waits at a hole in the ids, then passes it once it has stayed a while (a rolled-back transaction)', async () => {
    const { store, sink, clock, stream } = setup({ batchSize: 10, gapWaitMs: 15_000 });
    store.add(1, 2, 4, 5);
    await stream.pass();
    assert.deepEqual(sink.ids(), [1, 2]);
    // Id 3 commits late: it goes first, then the rest.
    store.events.splice(2, 0, { id: 3, at: new Date(0), action: 'request.created', actor: 'late' });
    await stream.pass();
    assert.deepEqual(sink.ids(), [1, 2, 3, 4, 5]);
    store.add(7, 8);
    await stream.pass();
    clock.advance(10_000);
    await stream.pass();
    assert.deepEqual(sink.ids(), [1, 2, 3, 4, 5], 'still waiting for 6');
    clock.advance(5_000);
    store.add(10);
    await stream.pass();
    assert.deepEqual(sink.ids(), [1, 2, 3, 4, 5, 7, 8], '6 never came; 10 waits for 9 in its turn');
    clock.advance(15_000);
    await stream.pass();
    assert.deepEqual(sink.ids(), [1, 2, 3, 4, 5, 7, 8, 10]);
  });

  it('streams session records by seq beside the audit events, each with its own cursor', async () => {
    const { store, sink, stream } = setup();
    store.add(1, 2, 3);
    const record = (seq: number): StoredSessionRecord => ({
      seq,
      id: `log@${seq}`,
      requestId: 'R1',
      integration: 'local',
      dbUser: 'alice',
      requester: 'U0ALICE',
      at: new Date(0),
      sessionId: 's',
      kind: 'connect',
    });
    store.records = [record(1), record(2), record(3)];
    assert.deepEqual((await stream.pass()).delivered, { audit: 3, sessions: 3 });
    assert.deepEqual(
      sink.batches.map((b) => `${b.stream}:${b.first}-${b.last}`),
      ['audit:1-2', 'sessions:1-2', 'audit:3-3', 'sessions:3-3'],
    );
    assert.deepEqual(sink.batches[1]!.items[0], { type: 'session', ...record(1) });
    assert.equal(store.marks.get('sink:sessions'), '3');
  });
});

describe('the sinks', { timeout: 30_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-sinks-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sign the timestamp and the raw body with HMAC-SHA256', () => {
    // echo -n '1767225600.{"items":[]}' | openssl dgst -sha256 -hmac 'a-long-enough-secret'
    assert.equal(
      webhookSignature('a-long-enough-secret', '1767225600', '{"items":[]}'),
      'sha256=e784c4731882986589501212281983b6a88e22baefbf0988f9ed1e972f8ca61f',
    );
  });

  it('a file goes on from an incomplete last line on a line of its own', async () => {
    const path = join(dir, 'audit.jsonl');
    writeFileSync(path, '{"type":"audit","id":1}\n');
    appendFileSync(path, '{"type":"audit","id":2,"act');
    await new FileSink(path).deliver({
      stream: 'audit',
      first: 2,
      last: 2,
      items: [{ type: 'audit', id: 2, at: new Date(0), action: 'request.created', actor: 'U1' }],
    });
    assert.deepEqual(readFileSync(path, 'utf8').split('\n'), [
      '{"type":"audit","id":1}',
      '{"type":"audit","id":2,"act',
      '{"type":"audit","id":2,"at":"1970-01-01T00:00:00.000Z","action":"request.created","actor":"U1"}',
      '',
    ]);
  });
});
