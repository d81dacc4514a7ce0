import type { App, SlashCommand, webApi } from '@slack/bolt';
import { commandUsage, parseCommandText, type ParsedCommand } from '../commandText.ts';
import { helpMessage, listMessage, noticeReply, submittedReply } from '../blocks/commandReplies.ts';
import type { SlackMessage } from '../blocks/elements.ts';
import { requestModal } from '../blocks/requestModal.ts';
import { STATUS_WORDS } from '../blocks/text.ts';
import { explainWithUsage } from '../errorText.ts';
import { explainAndLog, type SlackEdge } from './context.ts';

/**
 * The slash command (PRODUCT.md §6). Acknowledged at once, within Slack's 3 seconds; the work
 * follows and the answer goes back through the response_url as an ephemeral message. Bad input
 * is answered with what was wrong and the usage, and changes nothing.
 */
export function registerCommands(app: App, edge: SlackEdge): void {
  const usage = commandUsage(edge.command);
  const { services } = edge.sesame;
  app.command(edge.command, async ({ command, ack, respond, client }) => {
    await ack();
    const reply = (message: SlackMessage) => respond({ response_type: 'ephemeral', replace_original: false, ...message });
    let parsed: ParsedCommand;
    try {
      parsed = parseCommandText(command.text ?? '');
    } catch (err) {
      await reply(noticeReply(explainWithUsage(err, usage).text));
      return;
    }
    // The request form must open within the trigger's 3 seconds, so it never waits in the queue.
    const work = () => handleCommand(parsed, command, reply, client);
    await (parsed.kind === 'modal' ? work() : edge.work.run(work));
  });

  async function handleCommand(
    parsed: ParsedCommand,
    command: SlashCommand,
    reply: (message: SlackMessage) => Promise<unknown>,
    client: webApi.WebClient,
  ): Promise<void> {
    const userId = command.user_id;
    try {
      switch (parsed.kind) {
        case 'modal': {
          const options = await services.requests.requestOptions(userId);
          await client.views.open({ trigger_id: command.trigger_id, view: requestModal(options) });
          return;
        }
        case 'help':
          await reply(helpMessage(edge.command, await services.requests.requestOptions(userId)));
          return;
        case 'list': {
          const { all, requests } = await services.requests.listForCommand(userId, parsed.all);
          await reply(listMessage(requests, { all, command: edge.command }));
          return;
        }
        case 'revoke': {
          const ended = await services.grants.revoke(parsed.requestId, userId);
          await reply(noticeReply(`:lock: \`${ended.id}\` is ${STATUS_WORDS[ended.status]}.`));
          return;
        }
        case 'cancel': {
          const cancelled = await services.requests.cancel(parsed.requestId, userId);
          await reply(noticeReply(`:heavy_multiplication_x: \`${cancelled.id}\` is ${STATUS_WORDS[cancelled.status]}.`));
          return;
        }
        case 'extend':
          await reply(submittedReply(await services.requests.extend(parsed.requestId, userId, parsed.durationMinutes)));
          return;
        case 'request': {
          const created = await services.requests.requestAccess({
            requesterSlackId: userId,
            target: parsed.target,
            permission: parsed.permission,
            ...(parsed.durationMinutes !== undefined ? { durationMinutes: parsed.durationMinutes } : {}),
            ...(parsed.reason !== undefined ? { reason: parsed.reason } : {}),
          });
          await reply(submittedReply(created));
          return;
        }
      }
    } catch (err) {
      await reply(noticeReply(explainAndLog(edge, err, `command ${parsed.kind}`, (e) => explainWithUsage(e, usage)).text));
    }
  }
}
