import type { webApi } from '@slack/bolt';
import { helpMessage, listLimit, listMessage, noticeReply, submittedReply } from '../../blocks/commandReplies.ts';
import { withUnreviewed } from '../../blocks/breakGlassMessages.ts';
import type { SlackMessage } from '../../blocks/elements.ts';
import { requestModal } from '../../blocks/requestModal.ts';
import { STATUS_WORDS } from '../../blocks/text.ts';
import type { ParsedCommand } from '../../commandText.ts';
import type { SlackEdge } from '../context.ts';

/** One use of the command, parsed, with what its answer needs. */
export interface CommandUse<K extends ParsedCommand['kind'] = ParsedCommand['kind']> {
  parsed: Extract<ParsedCommand, { kind: K }>;
  userId: string;
  triggerId: string;
  client: webApi.WebClient;
  /** Answers the person privately, through the command's response_url. */
  reply: (message: SlackMessage) => Promise<unknown>;
}

/** What the command does for each kind of use: one service call, its outcome as a reply. */
export const COMMAND_KINDS: { [K in ParsedCommand['kind']]: (edge: SlackEdge, use: CommandUse<K>) => Promise<void> } = {
  modal: openRequestForm,
  help: replyHelp,
  list: replyList,
  revoke: revokeByCommand,
  cancel: cancelByCommand,
  extend: extendByCommand,
  request: requestByCommand,
  grant: grantByCommand,
};

/** `/access`: the request form, with the integrations and permissions the person may ask for. */
async function openRequestForm(edge: SlackEdge, { userId, triggerId, client }: CommandUse<'modal'>): Promise<void> {
  const options = await edge.services.requests.requestOptions(userId);
  await client.views.open({ trigger_id: triggerId, view: requestModal(options) });
}

async function replyHelp(edge: SlackEdge, { userId, reply }: CommandUse<'help'>): Promise<void> {
  await reply(helpMessage(edge.command, await edge.services.requests.requestOptions(userId)));
}

async function replyList(edge: SlackEdge, { parsed, userId, reply }: CommandUse<'list'>): Promise<void> {
  const page = parsed.page ?? 1;
  const { all, requests } = await edge.services.requests.listForCommand(userId, parsed.all, listLimit(page));
  // Admins see the break-glass grants that wait for review first.
  const unreviewed = all ? await edge.services.breakGlass.unreviewed(userId) : [];
  await reply(withUnreviewed(listMessage(requests, { all, command: edge.command, page }), unreviewed));
}

async function revokeByCommand(edge: SlackEdge, { parsed, userId, reply }: CommandUse<'revoke'>): Promise<void> {
  const ended = await edge.services.whole.revoke(parsed.requestId, userId);
  await reply(noticeReply(ended.map((r) => `:lock: \`${r.id}\` is ${STATUS_WORDS[r.status]}.`).join('\n')));
}

async function cancelByCommand(edge: SlackEdge, { parsed, userId, reply }: CommandUse<'cancel'>): Promise<void> {
  const cancelled = await edge.services.whole.cancel(parsed.requestId, userId);
  await reply(noticeReply(cancelled.map((r) => `:heavy_multiplication_x: \`${r.id}\` is ${STATUS_WORDS[r.status]}.`).join('\n')));
}

async function extendByCommand(edge: SlackEdge, { parsed, userId, reply }: CommandUse<'extend'>): Promise<void> {
  await reply(submittedReply(await edge.services.whole.extend(parsed.requestId, userId, parsed.durationMinutes)));
}

async function requestByCommand(edge: SlackEdge, { parsed, userId, reply }: CommandUse<'request'>): Promise<void> {
  const created = await edge.services.requests.requestParts({
    requesterSlackId: userId,
    parts: parsed.parts,
    ...(parsed.durationMinutes !== undefined ? { durationMinutes: parsed.durationMinutes } : {}),
    ...(parsed.reason !== undefined ? { reason: parsed.reason } : {}),
    ...(parsed.breakGlass ? { breakGlass: true } : {}),
  });
  await reply(submittedReply(created));
}

/** `grant <person> …`: a request filed for someone else; the person gets the DMs and the credentials. */
async function grantByCommand(edge: SlackEdge, { parsed, userId, reply }: CommandUse<'grant'>): Promise<void> {
  const created = await edge.services.onBehalf.file({
    actorSlackId: userId,
    person: parsed.person,
    parts: parsed.parts,
    ...(parsed.durationMinutes !== undefined ? { durationMinutes: parsed.durationMinutes } : {}),
    ...(parsed.reason !== undefined ? { reason: parsed.reason } : {}),
  });
  await reply(submittedReply(created, { for: created[0]!.requester.slackId }));
}
