import { ConflictError, NotAllowedError } from '../domain/errors.ts';
import { REVOCABLE_STATUSES, type AccessRequest, type RequestStatus } from '../domain/request.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { RequestService } from './RequestService.ts';
import type { RevocationService } from './RevocationService.ts';

export interface WholeRequestDeps {
  requests: Pick<RequestStore, 'getRequest' | 'listRequests'>;
  revocations: Pick<RevocationService, 'revoke'>;
  asks: Pick<RequestService, 'cancel' | 'extend'>;
}

/**
 * Revoke, cancel and extend by the ID a person has: one request's (or one part's, `R7K3QX.2`),
 * or that of a request for several targets (`R7K3QX`), which acts on each of its parts the action
 * applies to. Each part is still checked on its own: who may revoke it, which flow extends it.
 */
export class WholeRequests {
  constructor(private readonly deps: WholeRequestDeps) {}

  /** Ends the access now: the request's, or every part's that holds some. */
  async revoke(id: string, actorSlackId: string): Promise<AccessRequest[]> {
    const parts = await this.partsOf(id, REVOCABLE_STATUSES, 'holds access to revoke');
    if (!parts) return [await this.deps.revocations.revoke(id, actorSlackId)];
    return this.eachPart(parts, (part) => this.deps.revocations.revoke(part.id, actorSlackId));
  }

  /** Withdraws the request, or every part that still waits for approval. */
  async cancel(id: string, actorSlackId: string): Promise<AccessRequest[]> {
    const parts = await this.partsOf(id, ['pending'], 'waits for approval');
    if (!parts) return [await this.deps.asks.cancel(id, actorSlackId)];
    return this.eachPart(parts, (part) => this.deps.asks.cancel(part.id, actorSlackId));
  }

  /** Asks for more time on the grant, or on every granted part, each under its own flow. */
  async extend(id: string, actorSlackId: string, durationMinutes: number, reason?: string): Promise<AccessRequest[]> {
    const parts = await this.partsOf(id, ['granted'], 'is granted');
    if (!parts) return [await this.deps.asks.extend(id, actorSlackId, durationMinutes, reason)];
    return this.eachPart(parts, (part) => this.deps.asks.extend(part.id, actorSlackId, durationMinutes, reason));
  }

  /**
   * The parts in `statuses` when `id` names a request for several targets; undefined when it
   * names a request (or nothing: the single action says so). A group none of whose parts the
   * action applies to is a ConflictError that lists the parts as they are.
   */
  private async partsOf(id: string, statuses: readonly RequestStatus[], applies: string): Promise<AccessRequest[] | undefined> {
    if (await this.deps.requests.getRequest(id)) return undefined;
    const parts = await this.deps.requests.listRequests({ groupId: id });
    if (parts.length === 0) return undefined;
    parts.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    const acted = parts.filter((p) => p.kind === 'access' && statuses.includes(p.status));
    if (acted.length === 0) {
      const states = parts.map((p) => `${p.id} ${p.status}`).join(', ');
      throw new ConflictError(`No part of ${id} ${applies} (${states}); nothing was changed.`);
    }
    return acted;
  }

  /**
   * Acts on each part in turn. A part this person may not act on is skipped when they may act on
   * another (an approver of one part only); when they may act on none, the first refusal is the
   * answer. Any other failure stops at once and is the answer.
   */
  private async eachPart(parts: readonly AccessRequest[], act: (part: AccessRequest) => Promise<AccessRequest>): Promise<AccessRequest[]> {
    const done: AccessRequest[] = [];
    let refused: NotAllowedError | undefined;
    for (const part of parts) {
      try {
        done.push(await act(part));
      } catch (err) {
        if (!(err instanceof NotAllowedError)) throw err;
        refused ??= err;
      }
    }
    if (done.length === 0 && refused) throw refused;
    return done;
  }
}
