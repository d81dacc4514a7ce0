import { createHash } from 'node:crypto';
import { KeyedMutex } from '../../lib/KeyedMutex.ts';
import type { Logger } from '../../logger.ts';
import type { Clock } from '../../ports/Clock.ts';
import { type Coordination, DELIVERY_MEMORY_MS, DELIVERY_TAKEOVER_MS, type DeliveryLog, type KeyedLock } from '../../ports/Coordination.ts';
import { LOCK_CLASS, type ReplicaIdentity } from './lockKeys.ts';
import { PostgresLeadership } from './PostgresLeadership.ts';
import type { PostgresConnection } from './PostgresConnection.ts';

/**
 * Coordination of replicas through the shared PostgreSQL state: per-key locks are session-level
 * advisory locks held on a connection of their own for as long as the work runs; leadership of
 * each job is a session-level advisory lock on one dedicated connection (see
 * {@link PostgresLeadership}); Slack deliveries are rows taken with a conditional insert.
 */
export class PostgresCoordination implements Coordination {
  readonly locks: KeyedLock;
  readonly leadership: PostgresLeadership;
  readonly deliveries: DeliveryLog;

  constructor(db: PostgresConnection, replica: ReplicaIdentity, clock: Clock, logger: Logger) {
    this.locks = new PostgresKeyedLock(db);
    this.leadership = new PostgresLeadership(db, replica, logger);
    this.deliveries = new PostgresDeliveryLog(db, clock);
  }

  async close(): Promise<void> {
    await this.leadership.close();
  }
}

/**
 * One holder per key across every replica: within this process a KeyedMutex queues the work
 * (so one key never takes two connections), then a session-level advisory lock on a connection
 * of the lock pool keeps every other replica out until the work ends. A transaction-level lock
 * through the main pool would not do: each query may go out on another connection. If the lock's
 * connection is lost mid-work the server releases the lock; the work under it is made of
 * conditional changes, so a second holder then finds it done rather than doing it twice.
 */
class PostgresKeyedLock implements KeyedLock {
  readonly #local = new KeyedMutex();
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    return this.#local.run(key, async () => {
      const client = await this.#db.lockConnection();
      let broken: Error | undefined;
      const onError = (err: Error) => {
        broken = err;
      };
      client.on('error', onError);
      try {
        try {
          await client.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS.person, lockNumber(key)]);
        } catch (err) {
          broken = err as Error;
          throw this.#db.explained(err);
        }
        try {
          return await work();
        } finally {
          await client.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS.person, lockNumber(key)]).catch(onError);
        }
      } finally {
        client.off('error', onError);
        // A connection whose unlock failed may still hold the lock: it is closed, not reused.
        client.release(broken);
      }
    });
  }
}

/**
 * A key's 32-bit lock number, computed here: keys may hold any character (a person's key joins
 * server and user with a NUL, which PostgreSQL text cannot carry). Two keys that share a number
 * only wait for each other.
 */
function lockNumber(key: string): number {
  return createHash('sha256').update(key).digest().readInt32BE(0);
}

/**
 * The Slack payloads taken, one row per key. A key is taken by the insert that creates its row,
 * or again by one that finds it unacknowledged and older than the takeover time (its taker died
 * before answering Slack).
 */
class PostgresDeliveryLog implements DeliveryLog {
  readonly #db: PostgresConnection;
  readonly #clock: Clock;
  #taken = 0;

  constructor(db: PostgresConnection, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
  }

  async take(key: string, now: Date): Promise<boolean> {
    const row = await this.#db.one(
      `INSERT INTO sesame_slack_deliveries (key, at) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET at = EXCLUDED.at
         WHERE NOT sesame_slack_deliveries.acknowledged AND sesame_slack_deliveries.at < $3
       RETURNING key`,
      key,
      now,
      new Date(now.getTime() - DELIVERY_TAKEOVER_MS),
    );
    // Old keys go now and then; Slack retries an event for minutes, never for a day.
    if (++this.#taken % 500 === 1) {
      const before = new Date(this.#clock.now().getTime() - DELIVERY_MEMORY_MS);
      await this.#db.query('DELETE FROM sesame_slack_deliveries WHERE at < $1', [before]).catch(() => undefined);
    }
    return row !== undefined;
  }

  async acknowledged(key: string): Promise<void> {
    await this.#db.query('UPDATE sesame_slack_deliveries SET acknowledged = true WHERE key = $1', [key]);
  }
}

export type { ReplicaIdentity } from './lockKeys.ts';
