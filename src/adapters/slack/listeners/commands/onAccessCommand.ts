import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { noticeReply } from '../../blocks/commandReplies.ts';
import type { SlackMessage } from '../../blocks/elements.ts';
import { commandUsage, parseCommandText, type ParsedCommand } from '../../commandText.ts';
import { explainWithUsage } from '../../errorText.ts';
import { explainAndLog, type SlackEdge } from '../context.ts';
import { COMMAND_KINDS, type CommandUse } from './commandKinds.ts';

/**
 * The slash command (PRODUCT.md §6), `/access` unless configured otherwise. Acknowledged at
 * once, within Slack's 3 seconds; the work follows and the answer goes back through the
 * response_url as an ephemeral message. Bad input is answered with what was wrong and the usage,
 * and changes nothing.
 */
export async function onAccessCommand(
  edge: SlackEdge,
  { command, ack, respond, client }: SlackCommandMiddlewareArgs & AllMiddlewareArgs,
): Promise<void> {
  await ack();
  const usage = commandUsage(edge.command);
  const reply = (message: SlackMessage) => respond({ response_type: 'ephemeral', replace_original: false, ...message });
  let parsed: ParsedCommand;
  try {
    parsed = parseCommandText(command.text ?? '');
  } catch (err) {
    await reply(noticeReply(explainWithUsage(err, usage).text));
    return;
  }
  const use: CommandUse = { parsed, userId: command.user_id, triggerId: command.trigger_id, client, reply };
  const work = async () => {
    try {
      await (COMMAND_KINDS[parsed.kind] as (edge: SlackEdge, use: CommandUse) => Promise<void>)(edge, use);
    } catch (err) {
      await reply(noticeReply(explainAndLog(edge, err, `command ${parsed.kind}`, (e) => explainWithUsage(e, usage)).text));
    }
  };
  // The request form must open within the trigger's 3 seconds, so it never waits in the queue.
  await (parsed.kind === 'modal' ? work() : edge.work.run(work));
}
