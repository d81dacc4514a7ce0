import type { AccessRequest } from '../domain/request.ts';
import { runBoundedByKey, type KeyedBounds } from '../lib/boundedByKey.ts';
import { describeError, type Logger } from '../logger.ts';

/**
 * How many revocations the expiry sweep runs at once: per server (each holds one of the
 * server's pooled connections, four per database), and in all (each holds a per-person lock,
 * which on the PostgreSQL state is a connection of its own, eight per process).
 */
export const SWEEP_BOUNDS: KeyedBounds = { perKey: 4, total: 8 };

/**
 * Runs `work` on every due request, servers side by side and at most {@link SWEEP_BOUNDS} at a
 * time; requests not on a server yet (nothing to revoke there) share one key. A request whose
 * work fails does not stop the others; the first failure is thrown once all have run.
 */
export async function sweepByServer(
  due: readonly AccessRequest[],
  work: (req: AccessRequest) => Promise<void>,
  logger: Logger,
  bounds: KeyedBounds = SWEEP_BOUNDS,
): Promise<void> {
  const failures = await runBoundedByKey(due, (req) => req.serverKey ?? '', work, bounds);
  for (const err of failures) logger.warn({ err: describeError(err) }, 'the expiry sweep could not finish a request');
  if (failures.length > 0) throw failures[0];
}
