import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { normalizeRequestId } from '../../../../domain/request.ts';
import { REASON_BLOCK } from '../../blocks/denyModal.ts';
import type { SlackEdge } from '../context.ts';
import { submitWithin } from './submitWithin.ts';

/** The deny modal's submission: the denial, with its reason, for the request service to decide. */
export async function onDenySubmitted(
  edge: SlackEdge,
  { ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs,
): Promise<void> {
  const requestId = normalizeRequestId(view.private_metadata) ?? view.private_metadata;
  const reason = view.state.values[REASON_BLOCK]?.reason?.value ?? '';
  await submitWithin(
    edge,
    client,
    body.user.id,
    ack,
    () => REASON_BLOCK,
    'deny',
    () => edge.services.requests.decide({ requestId, actorSlackId: body.user.id, decision: 'deny', comment: reason }),
  );
}
