import type { AckFn, ViewResponseAction, webApi } from '@slack/bolt';
import { noticeReply } from '../../blocks/commandReplies.ts';
import { explainAndLog, settleWithin, type SlackEdge } from '../context.ts';

/**
 * Slack closes a submission after 3 seconds; a service call that is still running after this
 * long is left to finish, and its outcome reaches the person by DM instead.
 */
const SUBMISSION_DEADLINE_MS = 2500;

/**
 * Runs a submission's one service call: a refusal comes back on the block `blockFor` names; a call still
 * running at the deadline is acknowledged and its refusal, if any, sent by DM.
 */
export async function submitWithin(
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
