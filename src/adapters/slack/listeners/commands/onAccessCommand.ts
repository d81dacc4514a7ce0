import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { noticeReply } from '../../blocks/commandReplies.ts';
import type { SlackMessage } from '../../blocks/elements.ts';
import { commandUsage, parseCommandText, type ParsedCommand } from '../../commandText.ts';
import { explainWithUsage } from '../../errorText.ts';
import { acknowledging, explainAndLog, type SlackEdge } from '../context.ts';
import { COMMAND_KINDS, type CommandUse } from './commandKinds.ts';

/** Uses of the command that change something: acknowledged once the change is recorded. */
const RECORDED_KINDS: ReadonlySet<ParsedCommand['kind']> = new Set(['request', 'grant', 'extend', 'cancel', 'revoke']);

/**
 * The slash command (PRODUCT.md §6), `/access` unless configured otherwise. A use that only
 * reads is acknowledged at once; one that changes something is acknowledged once the change is
 * recorded (any replica can then finish it, should this one die right after the ack), and
 * always within Slack's 3 seconds. The answer goes back through the response_url as an
 * ephemeral message, after the ack. Bad input is answered with what was wrong and the usage,
 * and changes nothing.
 */
export async function onAccessCommand(
  edge: SlackEdge,
  { command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs,
): Promise<void> {
  const usage = commandUsage(edge.command);
  let parsed: ParsedCommand;
  try {
    parsed = parseCommandText(command.text ?? '');
  } catch (err) {
    await ack();
    await respond({ response_type: 'ephemeral', replace_original: false, ...noticeReply(explainWithUsage(err, usage).text) });
    return;
  }
  const recordedFirst = RECORDED_KINDS.has(parsed.kind);
  const acking = acknowledging(ack, recordedFirst);
  await acking.started;
  const reply = async (message: SlackMessage) => {
    await acking.beforeAnswer();
    return respond({ response_type: 'ephemeral', replace_original: false, ...message });
  };
  const use: CommandUse = { parsed, userId: command.user_id, triggerId: command.trigger_id, client, reply };
  const work = async () => {
    try {
      await (COMMAND_KINDS[parsed.kind] as (edge: SlackEdge, use: CommandUse) => Promise<void>)(edge, use);
    } catch (err) {
      await reply(noticeReply(explainAndLog(edge, err, `command ${parsed.kind}`, (e) => explainWithUsage(e, usage)).text));
    }
  };
  // The request form must open within the trigger's 3 seconds, so it never waits in the queue.
  if (parsed.kind === 'modal') return work();
  if (!recordedFirst) return edge.work.run(work);
  await acking.run(() => (edge.recording ?? edge.work).run(work));
}
