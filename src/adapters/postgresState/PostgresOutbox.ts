import type { NotificationOutbox, OutboxDraft, OutboxEntry } from '../../ports/Coordination.ts';
import type { Row } from '../stateTables/columns.ts';
import type { PostgresConnection, Queryable } from './PostgresConnection.ts';

/**
 * Each key's advisory lock, for the length of a transaction: an enqueue and a claim of one key
 * take turns, so a key's entries are numbered in the order they are committed and a claim sees
 * every claim of the key made before it. An enqueue waits for it; a claim only tries, and passes
 * the key over when it is taken, so two claims never wait for each other.
 */
const KEY_LOCK = (wait: 'wait' | 'try') => `pg${wait === 'try' ? '_try' : ''}_advisory_xact_lock(hashtext('sesame_outbox'), hashtext($1))`;

/**
 * What makes entry `o` claimable at $1: due, not claimed, the oldest of its key, and no other
 * entry of its key claimed (an earlier-numbered one may have been committed after a later one
 * was claimed, before enqueues took the key's lock).
 */
const CLAIMABLE = `o.due_at <= $1 AND (o.claimed_until IS NULL OR o.claimed_until < $1)
  AND NOT EXISTS (SELECT 1 FROM sesame_outbox p WHERE p.key = o.key AND p.id < o.id)
  AND NOT EXISTS (SELECT 1 FROM sesame_outbox c WHERE c.key = o.key AND c.id <> o.id AND c.claimed_until >= $1)`;

/** Keys being claimed or queued to meanwhile are passed over; after this many, the claim gives up for now. */
const CANDIDATES = 3;

const leaseEnd = (now: string, lease: string) => `${now}::timestamptz + ${lease}::integer * interval '1 millisecond'`;

/**
 * The notification outbox in the shared state (`sesame_outbox`), so that among several replicas
 * each notification is delivered by one, and a replica that dies holding one leaves it to
 * another once its claim runs out. Every change to a claimed entry is made only while the caller
 * still holds the claim.
 */
export class PostgresOutbox implements NotificationOutbox {
  readonly #db: PostgresConnection;

  constructor(db: PostgresConnection) {
    this.#db = db;
  }

  async enqueue(draft: OutboxDraft, at: Date): Promise<void> {
    // One statement, so one transaction: the key's lock is held until the entry is committed.
    await this.#db.query(
      `WITH turn AS (SELECT ${KEY_LOCK('wait')})
       INSERT INTO sesame_outbox (key, kind, payload, created_at, due_at)
       SELECT $1, $2, $3::jsonb, $4, $4 FROM turn`,
      [draft.key, draft.kind, JSON.stringify(draft.payload ?? null), at],
    );
  }

  /**
   * Picks the oldest claimable entry, skipping those another replica is locking, then takes its
   * key's lock and claims it only if it is still claimable in a fresh snapshot: READ COMMITTED
   * re-checks a locked row's own columns but not the other rows the conditions read, which a
   * claim of the same key committed meanwhile may have changed.
   */
  async claim(owner: string, now: Date, leaseMs: number): Promise<OutboxEntry | undefined> {
    return this.#db.transaction(async (tx) => {
      const passedOver: string[] = [];
      for (let i = 0; i < CANDIDATES; i++) {
        const candidate = (
          await tx.query(
            `SELECT o.id, o.key FROM sesame_outbox o WHERE ${CLAIMABLE} AND o.key <> ALL($2::text[])
             ORDER BY o.id LIMIT 1 FOR UPDATE SKIP LOCKED`,
            [now, passedOver],
          )
        ).rows[0];
        if (!candidate) return undefined;
        const claimed = await claimIfStillClaimable(tx, candidate, owner, now, leaseMs);
        if (claimed) return claimed;
        passedOver.push(String(candidate.key));
      }
      return undefined;
    });
  }

  async stepDone(id: number, owner: string, step: string, now: Date, leaseMs: number): Promise<boolean> {
    const result = await this.#db.query(
      `UPDATE sesame_outbox
          SET done = CASE WHEN done ? $3 THEN done ELSE done || to_jsonb($3::text) END,
              claimed_until = ${leaseEnd('$4', '$5')}
        WHERE id = $1 AND claimed_by = $2`,
      [id, owner, step, now, leaseMs],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async renew(id: number, owner: string, now: Date, leaseMs: number): Promise<boolean> {
    const result = await this.#db.query(
      `UPDATE sesame_outbox SET claimed_until = ${leaseEnd('$3', '$4')} WHERE id = $1 AND claimed_by = $2`,
      [id, owner, now, leaseMs],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async complete(id: number, owner: string): Promise<void> {
    await this.#db.query('DELETE FROM sesame_outbox WHERE id = $1 AND claimed_by = $2', [id, owner]);
  }

  async retryLater(id: number, owner: string, retryAt: Date, error: string): Promise<void> {
    await this.#db.query(
      `UPDATE sesame_outbox SET due_at = $3, claimed_by = NULL, claimed_until = NULL, last_error = $4
        WHERE id = $1 AND claimed_by = $2`,
      [id, owner, retryAt, error],
    );
  }

  async backlog(): Promise<number> {
    return Number((await this.#db.one('SELECT count(*) AS n FROM sesame_outbox'))?.n ?? 0);
  }
}

/** Claims the candidate (locked by this transaction) under its key's lock, if nothing claimed its key meanwhile. */
async function claimIfStillClaimable(
  tx: Queryable,
  candidate: Row,
  owner: string,
  now: Date,
  leaseMs: number,
): Promise<OutboxEntry | undefined> {
  const turn = (await tx.query(`SELECT ${KEY_LOCK('try')} AS ours`, [candidate.key])).rows[0];
  if (turn?.ours !== true) return undefined;
  // A new statement: its snapshot is taken after the lock, so it sees every claim of the key.
  const row = (
    await tx.query(
      `UPDATE sesame_outbox o SET claimed_by = $3, claimed_until = ${leaseEnd('$1', '$4')}, attempts = o.attempts + 1
        WHERE o.id = $2 AND ${CLAIMABLE}
        RETURNING o.id, o.key, o.kind, o.payload, o.done, o.attempts, o.created_at`,
      [now, candidate.id, owner, leaseMs],
    )
  ).rows[0];
  return row ? entryOf(row) : undefined;
}

function entryOf(row: Row): OutboxEntry {
  return {
    id: Number(row.id),
    key: String(row.key),
    kind: String(row.kind),
    payload: row.payload,
    done: (row.done as string[]) ?? [],
    attempts: Number(row.attempts),
    createdAt: new Date(row.created_at as Date),
  };
}
