// Fixtures of the state store's records (requests, managed users), anchored at a fixed moment.
import { TRANSITIONS, type AccessRequest, type NewAccessRequest, type RequestStatus } from '../../src/domain/request.ts';
import type { ManagedUser, RequestPatch, StateStore } from '../../src/ports/StateStore.ts';

/** The moment every fixture is anchored at. */
export const T0 = new Date('2026-03-01T12:00:00.000Z');

/** `T0` moved by `ms` milliseconds. */
export function at(ms: number): Date {
  return new Date(T0.getTime() + ms);
}

/** One minute in milliseconds. */
export const MINUTE = 60_000;

let idCounter = 0;
/** A distinct valid request ID per call (`R` and six characters of the ID alphabet). */
export function nextId(): string {
  const alphabet = '23456789ABCDEFGHJKLMNPQRSTUVWXYZ';
  let n = idCounter++;
  let id = '';
  for (let i = 0; i < 6; i++) {
    id = alphabet[n % alphabet.length] + id;
    n = Math.floor(n / alphabet.length);
  }
  return `R${id}`;
}

/** A request with only the required fields, pending for an hour from `T0`. */
export function newRequest(overrides: Partial<NewAccessRequest> = {}): NewAccessRequest {
  return {
    id: nextId(),
    kind: 'access',
    requester: { slackId: 'U0ALICE' },
    target: { integration: 'prod' },
    permission: 'readonly',
    durationMinutes: 60,
    reason: 'investigate a slow query',
    flowName: 'default',
    approvalMode: 'any',
    allowSelfApproval: false,
    approverGroups: [{ source: '@dba', reason: 'member of @dba', slackIds: ['U0BOB'] }],
    createdAt: T0,
    pendingExpiresAt: at(60 * MINUTE),
    ...overrides,
  };
}

/**
 * Every field of a request set, optional ones included: typed `Required<…>` so that a field added
 * to the request model fails to compile here until the round trip covers it.
 */
export function fullRequest(parentId: string): Required<NewAccessRequest> {
  return {
    id: nextId(),
    kind: 'extension',
    parentId,
    requester: { slackId: 'U0ALICE', email: 'alice@example.com' },
    target: { integration: 'prod-db-1', database: 'app', schema: 'Sales "EU"', table: 'ordérs;--' },
    permission: 'role:report_reader',
    durationMinutes: 90,
    reason: "quarter close: it's urgent 🚀",
    flowName: 'prod',
    approvalMode: 'all',
    allowSelfApproval: true,
    approverGroups: [
      { source: 'owner', reason: 'owner of prod-db-1', slackIds: ['U0OWNER'] },
      { source: '@dba', reason: 'member of @dba', slackIds: ['U0BOB', 'U0CAROL'] },
    ],
    createdAt: at(1),
    pendingExpiresAt: at(30 * MINUTE + 7),
    decidedAt: at(2 * MINUTE + 3),
    decidedBy: 'U0BOB',
    denyReason: 'not during the freeze',
    dbUser: 'sesame_alice',
    serverKey: 'db-ABCDEFGHIJKL',
    grantedRoles: ['sesame_prod_app_sales_ro', 'report_reader'],
    grantedAt: at(3 * MINUTE + 5),
    expiresAt: at(93 * MINUTE + 5),
    endedAt: at(50 * MINUTE + 11),
    endedBy: 'system',
    endReason: 'revoked',
    nextAttemptAt: at(51 * MINUTE + 999),
    lastError: 'connection refused (ECONNREFUSED)',
    expiryReminderSentAt: at(83 * MINUTE + 1),
    approverReminderSentAt: at(10 * MINUTE + 2),
    groupId: 'R7K3QXA',
    requestedBy: 'U0CAROL',
    breakGlass: true,
    reviewOutcome: 'flagged',
    reviewedBy: 'U0BOB',
    reviewedAt: at(60 * MINUTE + 4),
    reviewReminderSentAt: at(24 * 60 * MINUTE + 9),
  };
}

/** A managed user with only the required fields. */
export function managedUser(overrides: Partial<ManagedUser> = {}): ManagedUser {
  return {
    serverKey: 'db-ABCDEFGHIJKL',
    username: 'sesame_alice',
    integration: 'prod',
    slackId: 'U0ALICE',
    createdAt: T0,
    ...overrides,
  };
}

/** The shortest way through the lifecycle from `from` to `to`, without `from`. */
export function pathOfMoves(from: RequestStatus, to: RequestStatus): RequestStatus[] {
  const cameFrom = new Map<RequestStatus, RequestStatus>();
  const queue: RequestStatus[] = [from];
  for (const status of queue) {
    for (const next of TRANSITIONS[status]) {
      if (next === from || cameFrom.has(next)) continue;
      cameFrom.set(next, status);
      queue.push(next);
    }
  }
  const path: RequestStatus[] = [];
  for (let status = to; status !== from; status = cameFrom.get(status)!) {
    if (!cameFrom.has(status)) throw new Error(`The lifecycle has no way from ${from} to ${to}.`);
    path.unshift(status);
  }
  return path;
}

/**
 * Moves a stored request from `from` to `to` the way the lifecycle allows, one move at a time,
 * applying `patch` with the last move. Returns the request as the last move left it.
 */
export async function moveThrough(
  store: Pick<StateStore, 'transition'>,
  id: string,
  from: RequestStatus,
  to: RequestStatus,
  patch: RequestPatch = {},
): Promise<AccessRequest | undefined> {
  const path = pathOfMoves(from, to);
  let status = from;
  let moved: AccessRequest | undefined;
  for (const [i, next] of path.entries()) {
    moved = await store.transition(id, [status], next, i === path.length - 1 ? patch : {});
    if (!moved) return undefined;
    status = next;
  }
  return moved;
}
