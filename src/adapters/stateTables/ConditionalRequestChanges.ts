import type { AccessRequest, RequestStatus } from '../../domain/request.ts';
import { assertCanMove } from '../../domain/request.ts';
import type { AuditOf, RequestPatch } from '../../ports/StateStore.ts';

/**
 * Applies `patch` (and the status `to`, when given) only while the request's status is in
 * `whileIn`, in the same transaction as the audit events of the changed request.
 */
export type ChangeWhileIn = (
  id: string,
  whileIn: readonly RequestStatus[],
  patch: RequestPatch,
  to: RequestStatus | undefined,
  audit: AuditOf | undefined,
) => Promise<AccessRequest | undefined>;

/**
 * A request store's two kinds of change, in every store: a status change is checked against the
 * domain's TRANSITIONS first, then both are one conditional update written with their audit
 * events, which the store provides as {@link changeWhileIn}.
 */
export abstract class ConditionalRequestChanges {
  protected abstract readonly changeWhileIn: ChangeWhileIn;

  async transition(
    id: string,
    from: readonly RequestStatus[],
    to: RequestStatus,
    patch: RequestPatch = {},
    audit?: AuditOf,
  ): Promise<AccessRequest | undefined> {
    assertCanMove(from, to);
    return this.changeWhileIn(id, from, patch, to, audit);
  }

  async update(id: string, whileIn: readonly RequestStatus[], patch: RequestPatch, audit?: AuditOf): Promise<AccessRequest | undefined> {
    return this.changeWhileIn(id, whileIn, patch, undefined, audit);
  }
}
