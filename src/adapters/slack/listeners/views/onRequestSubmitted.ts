import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { parseDurationMinutes } from '../../../../domain/duration.ts';
import { InputError } from '../../../../domain/errors.ts';
import { parsePermission } from '../../../../domain/permission.ts';
import { INTEGRATION_BLOCK, MORE_TARGETS_BLOCK, readRequestForm, requestBlockId, type RequestField } from '../../blocks/requestModal.ts';
import { parsePartLines, type CommandPart } from '../../commandText.ts';
import { explainAndLog, type SlackEdge } from '../context.ts';
import { submitWithin } from './submitWithin.ts';

/**
 * The request modal's submission: the form becomes a request for the request service. What the
 * form or the service refuses comes back on the block it concerns.
 */
export async function onRequestSubmitted(
  edge: SlackEdge,
  { ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs,
): Promise<void> {
  const userId = body.user.id;
  const form = readRequestForm(view.state.values);
  const integration = form.integration ?? view.private_metadata;
  const blockOf = (field: RequestField) => requestBlockId(field, integration);
  let input: Parameters<SlackEdge['services']['requests']['requestParts']>[0];
  let more: CommandPart[];
  try {
    more = parsePartLines(form.more ?? '');
  } catch (err) {
    await ack({ response_action: 'errors', errors: { [MORE_TARGETS_BLOCK]: explainAndLog(edge, err, 'request form').text } });
    return;
  }
  try {
    // The target above is a part when it has a permission; with a bundle chosen it may have none.
    if (!form.permission && !form.bundle) throw new InputError('Choose a permission.');
    const first = form.permission
      ? [
          {
            target: {
              integration,
              ...(form.database ? { database: form.database } : {}),
              ...(form.schema ? { schema: form.schema } : {}),
              ...(form.table ? { table: form.table } : {}),
            },
            permission: parsePermission(form.permission),
          },
        ]
      : [];
    input = {
      requesterSlackId: userId,
      parts: [...first, ...(form.bundle ? [{ bundle: form.bundle }] : []), ...more],
      ...(form.duration ? { durationMinutes: parseDurationMinutes(form.duration) } : {}),
      ...(form.reason ? { reason: form.reason } : {}),
    };
  } catch (err) {
    const field: RequestField = form.permission || form.bundle ? 'duration' : 'permission';
    await ack({ response_action: 'errors', errors: { [blockOf(field)]: explainAndLog(edge, err, 'request form').text } });
    return;
  }
  // Once created, the notifier DMs the requester (waiting, or granted when no approval is needed).
  await submitWithin(
    edge,
    client,
    userId,
    ack,
    (err) => blockForRequestError(err, blockOf),
    'request',
    () => edge.services.requests.requestParts(input),
  );
}

/**
 * The block of the request form an error is about: the field an InputError names (the service
 * says which part of the request was wrong); otherwise the permission, the choice that most
 * often decides which flow applies.
 */
export function blockForRequestError(err: unknown, blockOf: (field: RequestField) => string): string {
  const field = err instanceof InputError ? err.field : undefined;
  if (field === 'integration') return INTEGRATION_BLOCK;
  return blockOf(field ?? 'permission');
}
