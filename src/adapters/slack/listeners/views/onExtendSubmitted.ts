import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { parseDurationMinutes } from '../../../../domain/duration.ts';
import { normalizeRequestId } from '../../../../domain/request.ts';
import { REASON_BLOCK } from '../../blocks/denyModal.ts';
import { DURATION_BLOCK } from '../../blocks/extendModal.ts';
import { explainAndLog, type SlackEdge } from '../context.ts';
import { submitWithin } from './submitWithin.ts';

/** The extend modal's submission: how much longer, and why, for the request service. */
export async function onExtendSubmitted(
  edge: SlackEdge,
  { ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs,
): Promise<void> {
  const requestId = normalizeRequestId(view.private_metadata) ?? view.private_metadata;
  const values = view.state.values;
  let minutes: number;
  try {
    minutes = parseDurationMinutes(values[DURATION_BLOCK]?.duration?.value ?? '');
  } catch (err) {
    await ack({ response_action: 'errors', errors: { [DURATION_BLOCK]: explainAndLog(edge, err, 'extend form').text } });
    return;
  }
  const reason = values[REASON_BLOCK]?.reason?.value ?? undefined;
  await submitWithin(
    edge,
    client,
    body.user.id,
    ack,
    () => DURATION_BLOCK,
    'extend',
    () => edge.services.whole.extend(requestId, body.user.id, minutes, reason ?? undefined),
  );
}
