import type pg from 'pg';
import { describeError, type Logger } from '../../logger.ts';
import type { Leadership, ReplicaSeen } from '../../ports/Coordination.ts';
import { LOCK_CLASS, type ReplicaIdentity } from './lockKeys.ts';
import type { PostgresConnection } from './PostgresConnection.ts';

/** How often a replica says it is alive, reads who else is, and checks its leader connection. */
const HEARTBEAT_MS = 3_000;
/** A query on the leader connection that takes longer than this means the connection is gone. */
const LEADER_QUERY_TIMEOUT_MS = 3_000;
/** Replicas seen within this long are alive. */
const LIVE_WITHIN_SECONDS = 15;
/** A config mismatch is said again this often while it lasts. */
const MISMATCH_REPEAT_MS = 60_000;

/**
 * Leadership per job through session-level advisory locks on one dedicated connection.
 *
 * Why a lock and not a lease: the database ends the lock with the session, so a leader that is
 * killed (SIGKILL, a crash, a node gone with its TCP connection reset) is replaced at the next
 * tick of the job on another replica, with no clock shared between replicas and no lease to
 * wait out; and a leader that loses its connection learns it at its next query and stops at
 * once. The lock is held for as long as the connection lives, never through the pool, where
 * each query may go out on another connection and the lock would guard nothing. A connection
 * that hangs without being reset is caught by the heartbeat's timeout here and by TCP
 * keepalives on both sides.
 */
export class PostgresLeadership implements Leadership {
  readonly #db: PostgresConnection;
  readonly #replica: ReplicaIdentity;
  readonly #logger: Logger;
  readonly #startedAt = new Date();
  readonly #leads = new Set<string>();
  #client: pg.Client | undefined;
  #connecting: Promise<pg.Client | undefined> | undefined;
  #mismatches: ReplicaSeen[] = [];
  #mismatchSaidAt = 0;
  #unreachableSaid = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(db: PostgresConnection, replica: ReplicaIdentity, logger: Logger) {
    this.#db = db;
    this.#replica = replica;
    this.#logger = logger;
  }

  /** Starts the heartbeat: this replica is seen by the others, and sees them. */
  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => void this.#beat(), HEARTBEAT_MS);
    this.#timer.unref();
    void this.#beat();
  }

  async lead(jobId: string): Promise<boolean> {
    if (this.#closed) return false;
    this.start();
    const client = await this.#connection();
    if (!client) return false;
    try {
      if (this.#leads.has(jobId)) {
        // Still connected right now: a run never starts on a lead that is already lost.
        await this.#query(client, 'SELECT 1');
        return this.#client === client && this.#leads.has(jobId);
      }
      const { rows } = await this.#query(client, 'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [LOCK_CLASS.leader, jobId]);
      if (rows[0]?.ok !== true || this.#client !== client) return false;
      this.#leads.add(jobId);
      this.#logger.info({ job: jobId, replica: this.#replica.replicaId }, 'this replica now leads the job');
      return true;
    } catch (err) {
      this.#lost(client, err);
      return false;
    }
  }

  leading(): readonly string[] {
    return [...this.#leads].sort();
  }

  configMismatches(): readonly ReplicaSeen[] {
    return this.#mismatches;
  }

  /** Gives up every lead and leaves the replicas' table; the lock connection is ended. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    const client = this.#client ?? (await this.#connecting?.catch(() => undefined));
    this.#client = undefined;
    this.#leads.clear();
    if (!client) return;
    await this.#query(client, 'DELETE FROM sesame_replicas WHERE replica_id = $1', [this.#replica.replicaId]).catch(() => undefined);
    await Promise.race([client.end().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }

  async #beat(): Promise<void> {
    const client = await this.#connection();
    if (!client) return;
    try {
      await this.#query(
        client,
        `INSERT INTO sesame_replicas (replica_id, config_hash, started_at, seen_at, leads) VALUES ($1, $2, $3, now(), $4)
         ON CONFLICT (replica_id) DO UPDATE SET seen_at = now(), leads = EXCLUDED.leads, config_hash = EXCLUDED.config_hash`,
        [this.#replica.replicaId, this.#replica.configHash, this.#startedAt, JSON.stringify(this.leading())],
      );
      const { rows } = await this.#query(
        client,
        `SELECT replica_id, config_hash, seen_at FROM sesame_replicas
         WHERE replica_id <> $1 AND seen_at > now() - make_interval(secs => $2)`,
        [this.#replica.replicaId, LIVE_WITHIN_SECONDS],
      );
      this.#compare(rows.map((r) => ({ replicaId: String(r.replica_id), configHash: String(r.config_hash), seenAt: r.seen_at as Date })));
    } catch (err) {
      this.#lost(client, err);
    }
  }

  /** Replicas with another config are reported, never silently mixed (PRODUCT.md §7). */
  #compare(others: ReplicaSeen[]): void {
    const differing = others.filter((r) => r.configHash !== this.#replica.configHash);
    const changed = differing.map((r) => r.replicaId).join() !== this.#mismatches.map((r) => r.replicaId).join();
    this.#mismatches = differing;
    if (differing.length === 0) {
      if (changed) this.#logger.info({ replica: this.#replica.replicaId }, 'every live replica now runs the same config');
      return;
    }
    const now = Date.now();
    if (!changed && now - this.#mismatchSaidAt < MISMATCH_REPEAT_MS) return;
    this.#mismatchSaidAt = now;
    this.#logger.error(
      {
        replica: this.#replica.replicaId,
        configHash: this.#replica.configHash,
        differing: differing.map((r) => ({ replica: r.replicaId, configHash: r.configHash })),
      },
      'replicas with a different config share this state: give every replica the same config file and environment',
    );
  }

  /** The leader connection, connecting when there is none; undefined when the state cannot be reached. */
  async #connection(): Promise<pg.Client | undefined> {
    if (this.#client) return this.#client;
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  async #connect(): Promise<pg.Client | undefined> {
    try {
      const client = await this.#db.dedicated();
      client.on('error', (err) => this.#lost(client, err));
      client.on('end', () => this.#lost(client, new Error('the connection ended')));
      if (this.#closed) {
        await client.end().catch(() => undefined);
        return undefined;
      }
      // The server, too, notices a peer that vanished without closing (a host gone).
      await this.#query(client, 'SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3');
      this.#client = client;
      if (this.#unreachableSaid) this.#logger.info({ replica: this.#replica.replicaId }, 'the state database answers again');
      this.#unreachableSaid = false;
      return client;
    } catch (err) {
      if (!this.#unreachableSaid) {
        this.#logger.warn({ err: describeError(err) }, 'no job runs on this replica while the state database cannot be reached');
        this.#unreachableSaid = true;
      }
      return undefined;
    }
  }

  /** The connection failed or hung: every lead ends now (the server frees the locks with the session). */
  #lost(client: pg.Client, err: unknown): void {
    if (this.#client !== client) return;
    this.#client = undefined;
    if (this.#leads.size > 0) {
      this.#logger.warn(
        { jobs: this.leading(), replica: this.#replica.replicaId, err: describeError(err) },
        'this replica stopped leading: its state connection was lost',
      );
    }
    this.#leads.clear();
    // Ending politely waits for the server; a hung connection is cut instead.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => undefined);
  }

  async #query(client: pg.Client, text: string, params?: unknown[]): Promise<pg.QueryResult> {
    let timer: NodeJS.Timeout | undefined;
    const sent = client.query(text, params);
    sent.catch(() => undefined);
    try {
      return await Promise.race([
        sent,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the state database did not answer within ${LEADER_QUERY_TIMEOUT_MS} ms`)),
            LEADER_QUERY_TIMEOUT_MS,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
