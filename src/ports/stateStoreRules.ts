import { ConflictError, NotFoundError } from '../domain/errors.ts';
import type { AccessRequest } from '../domain/request.ts';
import type { AuditEvent, AuditOf } from './AuditLog.ts';

/**
 * What every state store means by the ports' words, written once so that implementations cannot
 * drift apart: which patch keys change what, the audit events of a change, and the errors a
 * refused write raises. Nothing here knows how a store keeps its data.
 */

/** Request fields a patch may set but never clear: `null` leaves them as they are. */
export const REQUIRED_PATCH_FIELDS: ReadonlySet<string> = new Set(['revokeAttempts', 'approverGroups']);

/**
 * The changes a patch asks for, in the order of `fields`: a value to set, or `null` to clear the
 * field. An absent or undefined key changes nothing, and neither does `null` on a field in
 * `required`.
 */
export function patchChanges<P extends object>(
  patch: P,
  fields: readonly (keyof P & string)[],
  required: ReadonlySet<string> = new Set(),
): { field: keyof P & string; value: NonNullable<P[keyof P]> | null }[] {
  const changes: { field: keyof P & string; value: NonNullable<P[keyof P]> | null }[] = [];
  for (const field of fields) {
    const value = patch[field];
    if (value === undefined || (value === null && required.has(field))) continue;
    changes.push({ field, value: value as NonNullable<P[keyof P]> | null });
  }
  return changes;
}

/** The audit events to write with a change, or none when nothing changed or none was asked for. */
export function auditEventsOf(changed: AccessRequest | undefined, audit: AuditOf | undefined): AuditEvent[] {
  return changed && audit ? [audit(changed)].flat() : [];
}

/** The errors a store raises, each saying what to do about it. */
export const storeErrors = {
  closed: () => new ConflictError('The state store is closed; open it again before using it.'),
  duplicateRequest: (id: string, cause?: unknown) =>
    new ConflictError(`A request with ID ${id} already exists; create the request again with a new ID.`, withCause(cause)),
  missingParent: (parentId: string | undefined, cause?: unknown) =>
    new NotFoundError(`Request ${parentId} does not exist, so it cannot be extended; check the request ID.`, withCause(cause)),
  noRequestToDecide: (requestId: string, cause?: unknown) =>
    new NotFoundError(`Request ${requestId} does not exist, so no decision can be recorded on it; check the request ID.`, withCause(cause)),
  noRequestForMessage: (requestId: string, cause?: unknown) =>
    new NotFoundError(`There is no request ${requestId} to attach a message to.`, withCause(cause)),
  unknownManagedUser: (serverKey: string, username: string) =>
    new NotFoundError(`Sesame does not manage a user ${username} on ${serverKey}; record the user before updating it.`),
};

function withCause(cause: unknown): { cause: unknown } | undefined {
  return cause === undefined ? undefined : { cause };
}

/** How a store refused a write: a key already taken, or a reference to a record that does not exist. */
export type Violation = 'unique' | 'reference';

/** What each refused write means: the error to raise, or `false` for a decision already recorded. */
export const refusals = {
  request: (request: { id: string; parentId?: string | undefined }, violation: Violation, cause: unknown): Error =>
    violation === 'unique' ? storeErrors.duplicateRequest(request.id, cause) : storeErrors.missingParent(request.parentId, cause),
  approval: (approval: { requestId: string }, violation: Violation, cause: unknown): false | Error =>
    violation === 'unique' ? false : storeErrors.noRequestToDecide(approval.requestId, cause),
  notification: (ref: { requestId: string }, violation: Violation, cause: unknown): Error | undefined =>
    violation === 'reference' ? storeErrors.noRequestForMessage(ref.requestId, cause) : undefined,
};

/**
 * What a failed write means: `refused`'s error is thrown, or its answer returned; a failure the
 * store did not name a refusal (`violation` undefined), or one `refused` has no word for, is
 * thrown unchanged.
 */
export function refusedWrite<R>(
  err: unknown,
  violation: Violation | undefined,
  refused: (violation: Violation, cause: unknown) => R | Error | undefined,
): R {
  const outcome = violation === undefined ? undefined : refused(violation, err);
  if (outcome === undefined) throw err;
  if (outcome instanceof Error) throw outcome;
  return outcome;
}
