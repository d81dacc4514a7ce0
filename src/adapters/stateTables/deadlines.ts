import type { NextDeadlines } from '../../ports/RequestStore.ts';

/** A timestamp column as either store returns it: epoch milliseconds (SQLite) or a Date (PostgreSQL). */
type Moment = unknown;

function earliest(moments: readonly Moment[]): Date | undefined {
  let min: number | undefined;
  for (const m of moments) {
    const ms = m instanceof Date ? m.getTime() : typeof m === 'number' || typeof m === 'bigint' ? Number(m) : undefined;
    if (ms !== undefined && !Number.isNaN(ms) && (min === undefined || ms < min)) min = ms;
  }
  return min === undefined ? undefined : new Date(min);
}

/** The row of a next-deadlines query as {@link NextDeadlines}: the earliest of each kind's columns. */
export function earliestOf(revocation: readonly Moment[], reminder: readonly Moment[]): NextDeadlines {
  const r = earliest(revocation);
  const m = earliest(reminder);
  return { ...(r ? { revocation: r } : {}), ...(m ? { reminder: m } : {}) };
}
