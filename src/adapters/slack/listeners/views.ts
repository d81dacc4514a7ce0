import type { AckFn, App, ViewResponseAction, ViewSubmitAction, webApi } from '@slack/bolt';
import { parseDurationMinutes } from '../../../domain/duration.ts';
import { InputError } from '../../../domain/errors.ts';
import { normalizeRequestId } from '../../../domain/request.ts';
import { parsePermission } from '../../../domain/permission.ts';
import { noticeReply } from '../blocks/commandReplies.ts';
import { DURATION_BLOCK } from '../blocks/extendModal.ts';
import { REASON_BLOCK } from '../blocks/denyModal.ts';
import { INTEGRATION_BLOCK, readRequestForm, requestBlockId, type RequestField } from '../blocks/requestModal.ts';
import { VIEW } from '../ids.ts';
import { explainAndLog, settleWithin, type SlackEdge } from './context.ts';

/**
 * Slack closes a submission after 3 seconds; a service call that is still running after this
 * long is left to finish, and its outcome reaches the person by DM instead.
 */
const SUBMISSION_DEADLINE_MS = 2500;

/**
 * Submissions of the request, deny and extend modals. Each is validated by the service it goes
 * to; what the service refuses comes back on the block it concerns (`response_action: errors`)
 * and changes nothing.
 */
export function registerViews(app: App, edge: SlackEdge): void {
  const { services } = edge.sesame;

  app.view<ViewSubmitAction>(VIEW.request, async ({ ack, body, view, client }) => {
    const userId = body.user.id;
    const form = readRequestForm(view.state.values);
    const integration = form.integration ?? view.private_metadata;
    const blockOf = (field: RequestField) => requestBlockId(field, integration);
    let input;
    try {
      if (!form.permission) throw new InputError('Choose a permission.');
      input = {
        requesterSlackId: userId,
        target: {
          integration,
          ...(form.database ? { database: form.database } : {}),
          ...(form.schema ? { schema: form.schema } : {}),
          ...(form.table ? { table: form.table } : {}),
        },
        permission: parsePermission(form.permission),
        ...(form.duration ? { durationMinutes: parseDurationMinutes(form.duration) } : {}),
        ...(form.reason ? { reason: form.reason } : {}),
      };
    } catch (err) {
      const field: RequestField = form.permission ? 'duration' : 'permission';
      await ack({ response_action: 'errors', errors: { [blockOf(field)]: explainAndLog(edge, err, 'request form').text } });
      return;
    }
    // Once created, the notifier DMs the requester (waiting, or granted when no approval is needed).
    await submitWithin(edge, client, userId, ack, (err) => blockForRequestError(err, blockOf), 'request', () =>
      services.requests.requestAccess(input),
    );
  });

  app.view<ViewSubmitAction>(VIEW.deny, async ({ ack, body, view, client }) => {
    const requestId = normalizeRequestId(view.private_metadata) ?? view.private_metadata;
    const reason = view.state.values[REASON_BLOCK]?.reason?.value ?? '';
    await submitWithin(edge, client, body.user.id, ack, () => REASON_BLOCK, 'deny', () =>
      services.requests.decide({ requestId, actorSlackId: body.user.id, decision: 'deny', comment: reason }),
    );
  });

  app.view<ViewSubmitAction>(VIEW.extend, async ({ ack, body, view, client }) => {
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
    await submitWithin(edge, client, body.user.id, ack, () => DURATION_BLOCK, 'extend', () =>
      services.requests.extend(requestId, body.user.id, minutes, reason ?? undefined),
    );
  });
}

/**
 * Runs a submission's one service call: a refusal comes back on the block `blockFor` names; a call still
 * running at the deadline is acknowledged and its refusal, if any, sent by DM.
 */
async function submitWithin(
  edge: SlackEdge,
  client: webApi.WebClient,
  userId: string,
  ack: AckFn<ViewResponseAction>,
  blockFor: (error: unknown) => string,
  what: string,
  call: () => Promise<unknown>,
): Promise<void> {
  const work = call();
  const outcome = await settleWithin(work, SUBMISSION_DEADLINE_MS);
  if (outcome && 'error' in outcome) {
    const { text } = explainAndLog(edge, outcome.error, `${what} form`);
    await ack({ response_action: 'errors', errors: { [blockFor(outcome.error)]: text } });
    return;
  }
  await ack();
  if (!outcome) {
    try {
      await work;
    } catch (err) {
      const { text } = explainAndLog(edge, err, `${what} form`);
      await client.chat.postMessage({ channel: userId, ...noticeReply(text) });
    }
  }
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
