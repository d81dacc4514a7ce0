import { NotAllowedError } from '../domain/errors.ts';
import type { AccessRequest } from '../domain/request.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { RequestService } from './RequestService.ts';
import type { RequestOptions } from './requestInputs.ts';
import { requireRequest } from './shared.ts';

/** What asking again reads: the old request, and what the person may request now. */
export interface RequestAgainDeps {
  requests: Pick<RequestStore, 'getRequest'>;
  options: Pick<RequestService, 'requestOptions'>;
}

/** A request to start from again, beside what its requester may ask for today. */
export interface RequestAgain {
  previous: AccessRequest;
  options: RequestOptions;
}

/**
 * Asking for the same access again, from a request that ended: its target, permission and
 * duration, and the person's current options, which alone decide what the form offers. Only the
 * requester may start from their request; what they submit is checked as any other request.
 */
export class RequestAgainService {
  constructor(private readonly deps: RequestAgainDeps) {}

  async start(requestId: string, actorSlackId: string): Promise<RequestAgain> {
    const previous = await requireRequest(this.deps.requests, requestId);
    if (previous.requester.slackId !== actorSlackId) {
      throw new NotAllowedError(`Only the person who asked for ${previous.id} can request it again; /access asks for your own.`);
    }
    return { previous, options: await this.deps.options.requestOptions(actorSlackId) };
  }
}
