import { describeError, type Logger } from '../../logger.ts';
import type { AuditEvent, AuditLog } from '../../ports/AuditLog.ts';
import type { Clock } from '../../ports/Clock.ts';
import type { SessionRecordStore, StoredSessionRecord } from '../../ports/SessionRecords.ts';

/** The two ordered streams a sink receives: audit events by id, session records by seq. */
export type SinkStream = 'audit' | 'sessions';
export const SINK_STREAMS: readonly SinkStream[] = ['audit', 'sessions'];

/** Where each stream's cursor (the last id or seq the sink accepted) is kept in the state store. */
export const SINK_CURSOR_KEYS: Readonly<Record<SinkStream, string>> = { audit: 'sink:audit', sessions: 'sink:sessions' };

/** One line of the file, one entry of a webhook's `items`; dates become ISO text in JSON. */
export type SinkItem = ({ type: 'audit' } & AuditEvent) | ({ type: 'session' } & StoredSessionRecord);

/** A batch of one stream, in order: `first` and `last` are the id (or seq) of its ends. */
export interface SinkBatch {
  stream: SinkStream;
  first: number;
  last: number;
  items: SinkItem[];
}

/** A receiver of batches. `deliver` resolves once the receiver has taken the whole batch, and throws otherwise. */
export interface AuditSink {
  /** Says where batches go, for the log: never a secret. */
  readonly describe: string;
  deliver(batch: SinkBatch): Promise<void>;
}

export type SinkStore = Pick<AuditLog, 'listAuditAfter'> & Pick<SessionRecordStore, 'listSessionRecords' | 'watermark' | 'setWatermark'>;

/** The backlog gauge counts this many items at most per stream (a scrape reads no more). */
export const BACKLOG_COUNT_LIMIT = 10_000;

export interface AuditStreamOptions {
  store: SinkStore;
  sink: AuditSink;
  clock: Clock;
  logger: Logger;
  /** Items per batch, at most. */
  batchSize: number;
  /** Told of each failed delivery (the metrics count them). */
  onFailure?: () => void;
  /** The first wait after a failure, doubled at each failure in a row up to `maxBackoffMs`. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /**
   * How long a hole in the ids is waited for. On a shared PostgreSQL state an id is taken when a
   * transaction writes and seen when it commits, so a later id can be seen first; a hole still
   * there after this long belongs to a transaction that rolled back (or a duplicate that was not
   * stored) and is passed over.
   */
  gapWaitMs?: number;
  /** A pass stops starting new batches after this long; the next pass goes on. */
  passBudgetMs?: number;
}

/** What one pass did. */
export interface StreamPass {
  delivered: Record<SinkStream, number>;
  /** Set when the sink refused a batch: the pass stopped and the next try waits until then. */
  retryAt?: Date;
  /** Set when the pass did not try at all, still waiting after a failure. */
  waitingUntil?: Date;
}

/** An item with its place in its stream. */
interface Placed {
  position: number;
  item: SinkItem;
}

/**
 * Streams the audit trail and the session records to a sink, each in its own order (audit events
 * by id, session records by seq), at least once: a stream's cursor moves, in the state store,
 * only after the sink took the batch, so a crash between the two sends the batch again and never
 * skips one. A failed delivery is tried again with exponential backoff; the stream runs on its
 * own schedule, never in the call chain of a grant or a revocation.
 */
export class AuditStream {
  readonly #o: Required<Omit<AuditStreamOptions, 'onFailure'>> & Pick<AuditStreamOptions, 'onFailure'>;
  #failures = 0;
  #retryAt: Date | undefined;
  /** Per stream, the highest position seen and when: a hole below one seen long enough ago is final. */
  readonly #seen: Record<SinkStream, { position: number; atMs: number }[]> = { audit: [], sessions: [] };

  constructor(options: AuditStreamOptions) {
    this.#o = { initialBackoffMs: 1_000, maxBackoffMs: 5 * 60_000, gapWaitMs: 15_000, passBudgetMs: 20_000, ...options };
  }

  /**
   * Delivers what is waiting, a batch of each stream in turn, until both are caught up, the sink
   * fails, or the pass's budget is spent. Never throws: a failure is logged and counted.
   */
  async pass(): Promise<StreamPass> {
    const delivered: Record<SinkStream, number> = { audit: 0, sessions: 0 };
    const now = this.#o.clock.now();
    if (this.#retryAt && now < this.#retryAt) return { delivered, waitingUntil: this.#retryAt };
    const endsAt = now.getTime() + this.#o.passBudgetMs;
    const open = new Set<SinkStream>(SINK_STREAMS);
    while (open.size > 0 && this.#o.clock.now().getTime() < endsAt) {
      for (const stream of [...open]) {
        let sent: number;
        try {
          sent = await this.#step(stream);
        } catch (err) {
          return { delivered, retryAt: this.#failed(stream, err) };
        }
        delivered[stream] += sent;
        if (sent === 0) open.delete(stream);
      }
    }
    if (this.#failures > 0) this.#o.logger.info({ sink: this.#o.sink.describe, delivered }, 'the audit sink takes batches again');
    this.#failures = 0;
    this.#retryAt = undefined;
    return { delivered };
  }

  /** Delivers the next batch of `stream`, if any, and moves its cursor: how many items it held. */
  async #step(stream: SinkStream): Promise<number> {
    const cursor = await readCursor(this.#o.store, stream);
    const listed = await this.#list(stream, cursor);
    const ready = this.#ready(stream, cursor, listed);
    if (ready.length === 0) return 0;
    const first = ready[0]!.position;
    const last = ready[ready.length - 1]!.position;
    await this.#o.sink.deliver({ stream, first, last, items: ready.map((p) => p.item) });
    await this.#o.store.setWatermark(SINK_CURSOR_KEYS[stream], String(last));
    return ready.length;
  }

  async #list(stream: SinkStream, cursor: number): Promise<Placed[]> {
    const { store, batchSize } = this.#o;
    if (stream === 'audit') {
      const events = await store.listAuditAfter(cursor, batchSize);
      return events.map((event) => ({ position: event.id ?? 0, item: { type: 'audit', ...event } }));
    }
    const records = await store.listSessionRecords({ afterSeq: cursor, limit: batchSize });
    return records.map((record) => ({ position: record.seq, item: { type: 'session', ...record } }));
  }

  /**
   * The listed items that may go now, in order: each follows the one before without a hole, or
   * lies below a position seen at least `gapWaitMs` ago (any hole there is final).
   */
  #ready(stream: SinkStream, cursor: number, listed: Placed[]): Placed[] {
    const nowMs = this.#o.clock.now().getTime();
    const seen = this.#seen[stream];
    const newest = listed.at(-1)?.position;
    if (newest !== undefined && newest > (seen.at(-1)?.position ?? -1)) seen.push({ position: newest, atMs: nowMs });
    // Keep the newest of the settled observations and every one after it.
    let settledIndex = -1;
    for (const [i, s] of seen.entries()) if (s.atMs <= nowMs - this.#o.gapWaitMs) settledIndex = i;
    if (settledIndex > 0) seen.splice(0, settledIndex);
    const settled = settledIndex >= 0 ? (seen[0]?.position ?? 0) : 0;
    const ready: Placed[] = [];
    let previous = cursor;
    for (const placed of listed) {
      if (placed.position !== previous + 1 && placed.position > settled) {
        this.#o.logger.debug({ stream, after: previous, next: placed.position }, 'waiting for a hole in the audit stream to fill');
        break;
      }
      ready.push(placed);
      previous = placed.position;
    }
    return ready;
  }

  /** Counts a failure and sets when the next try may start. */
  #failed(stream: SinkStream, err: unknown): Date {
    this.#failures += 1;
    this.#o.onFailure?.();
    const waitMs = Math.min(this.#o.maxBackoffMs, this.#o.initialBackoffMs * 2 ** Math.min(this.#failures - 1, 30));
    this.#retryAt = new Date(this.#o.clock.now().getTime() + waitMs);
    this.#o.logger.warn(
      { sink: this.#o.sink.describe, stream, failures: this.#failures, retryInMs: waitMs, err: describeError(err) },
      'the audit sink did not take a batch; it is tried again later',
    );
    return this.#retryAt;
  }
}

async function readCursor(store: SinkStore, stream: SinkStream): Promise<number> {
  const value = await store.watermark(SINK_CURSOR_KEYS[stream]);
  const cursor = value === undefined ? 0 : Number(value);
  return Number.isSafeInteger(cursor) && cursor >= 0 ? cursor : 0;
}

/**
 * Items of each stream not delivered yet, read from the store (so any replica reports it, not
 * only the one that streams), counted up to {@link BACKLOG_COUNT_LIMIT}.
 */
export async function sinkBacklog(store: SinkStore): Promise<Record<SinkStream, number>> {
  const [audit, sessions] = await Promise.all([readCursor(store, 'audit'), readCursor(store, 'sessions')]);
  const [events, records] = await Promise.all([
    store.listAuditAfter(audit, BACKLOG_COUNT_LIMIT),
    store.listSessionRecords({ afterSeq: sessions, limit: BACKLOG_COUNT_LIMIT }),
  ]);
  return { audit: events.length, sessions: records.length };
}
