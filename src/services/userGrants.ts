import { latestExpiry, REVOCABLE_STATUSES, type RequestOnServer } from '../domain/request.ts';
import type { RequestStore } from '../ports/RequestStore.ts';

/** The key of a person's database user in the per-user locks. */
export function userKey(serverKey: string, dbUser: string): string {
  return `${serverKey}\u0000${dbUser}`;
}

/**
 * What the person's other grants on the same server still need from the database: their roles
 * (never removed) and their latest expiry (the user's VALID UNTIL; null when there are none).
 */
export async function whatOthersNeed(
  requests: Pick<RequestStore, 'listRequests'>,
  req: Pick<RequestOnServer, 'id' | 'serverKey' | 'dbUser'>,
) {
  const others = (
    await requests.listRequests({
      serverKey: req.serverKey,
      dbUser: req.dbUser,
      statuses: REVOCABLE_STATUSES,
    })
  ).filter((o) => o.id !== req.id && o.kind === 'access');
  return {
    others,
    keepRoles: [...new Set(others.flatMap((o) => o.grantedRoles ?? []))],
    validUntil: latestExpiry(others),
  };
}
