import { formatMinutes } from '../../../domain/duration.ts';
import { REVOCABLE_STATUSES, type AccessRequest } from '../../../domain/request.ts';
import { actions, context, requestButton, section, type SlackMessage } from './elements.ts';
import { ASKED_AGAIN_AFTER, grantActions } from './requesterMessages.ts';
import { escapeWithin, LIMITS, mention, slackDate, STATUS_ICONS, STATUS_WORDS, targetText, truncate } from './text.ts';

/**
 * The requester's one DM about a request for several targets: every part as it stands now, each
 * with the buttons its state allows (Show credentials / Extend / Revoke while granted, Cancel
 * while waiting, Request again once ended), and Revoke all / Cancel all for the whole. It is
 * updated in place as each part moves; what changed is also said in its thread.
 */
export function partsMessage(groupId: string, parts: readonly AccessRequest[]): SlackMessage {
  const first = parts[0];
  const head = first
    ? `:package: *Your request \`${groupId}\`* for ${parts.length} targets, ${formatMinutes(first.durationMinutes)} each\n*Reason:* ${escapeWithin(first.reason || '(none given)', 500)}`
    : `:package: *Your request \`${groupId}\`*`;
  const blocks: SlackMessage['blocks'] = [section(head)];
  for (const part of parts) {
    blocks.push(section(truncate(partLine(part), LIMITS.sectionText)));
    const buttons = partButtons(part);
    if (buttons) blocks.push(buttons);
  }
  const revocable = parts.filter((p) => REVOCABLE_STATUSES.includes(p.status));
  const waiting = parts.filter((p) => p.status === 'pending');
  const whole = [
    ...(revocable.length > 1
      ? [
          requestButton('Revoke all', 'revoke', groupId, {
            style: 'danger',
            confirm: {
              title: 'End all of this access now?',
              text: `Every granted part of \`${groupId}\` ends now and open sessions are closed.`,
              confirm: 'Revoke all',
              deny: 'Keep it',
            },
          }),
        ]
      : []),
    ...(waiting.length > 1 ? [requestButton('Cancel all waiting', 'cancel', groupId)] : []),
  ];
  if (whole.length > 0) blocks.push(actions(`parts:${groupId}`, whole));
  blocks.push(
    context(
      `\`revoke ${groupId}\`, \`extend ${groupId} <duration>\` or \`cancel ${groupId}\` act on every part; \`${groupId}.2\` names one. The password is shown only to you, in a window.`,
    ),
  );
  const granted = parts.filter((p) => p.status === 'granted').length;
  return { text: truncate(`Your request ${groupId}: ${granted} of ${parts.length} parts granted`, LIMITS.messageText), blocks };
}

function partLine(part: AccessRequest): string {
  const what = `*${part.id}* · \`${part.permission}\` on \`${targetText(part)}\``;
  const state = `${STATUS_ICONS[part.status]} ${STATUS_WORDS[part.status]}`;
  switch (part.status) {
    case 'granted':
      return `${what}\n${state} until ${part.expiresAt ? slackDate(part.expiresAt) : 'its expiry'} as \`${escapeWithin(part.dbUser ?? '?', 200)}\``;
    case 'pending': {
      const ids = [...new Set(part.approverGroups.flatMap((g) => g.slackIds))];
      const who = ids.slice(0, 5).map(mention).join(', ') + (ids.length > 5 ? ` and ${ids.length - 5} more` : '');
      return `${what}\n${state} by ${who || 'nobody'}`;
    }
    case 'denied':
      return `${what}\n${state}${part.decidedBy ? ` by ${mention(part.decidedBy)}` : ''}: ${escapeWithin(part.denyReason ?? 'no reason given', 500)}`;
    case 'revoked':
      return `${what}\n${state}${part.endedBy && part.endedBy !== 'system' ? ` by ${mention(part.endedBy)}` : ''}`;
    default:
      return `${what}\n${state}`;
  }
}

function partButtons(part: AccessRequest) {
  if (part.status === 'granted') return grantActions(`part:${part.id}`, part, 'ends now and open sessions are closed');
  if (part.status === 'pending') return actions(`part:${part.id}`, [requestButton('Cancel', 'cancel', part.id)]);
  if (ASKED_AGAIN_AFTER.has(part.status)) return actions(`part:${part.id}`, [requestButton('Request again', 'requestAgain', part.id)]);
  return undefined;
}

/** The line said in the DM's thread when a part moves, so the requester is told, not only shown. */
export function partMovedLine(part: AccessRequest): SlackMessage {
  const line = `${STATUS_ICONS[part.status]} \`${part.id}\` (\`${part.permission}\` on \`${targetText(part)}\`) is ${STATUS_WORDS[part.status]}.`;
  return { text: truncate(line.replace(/[*`]/g, ''), LIMITS.messageText), blocks: [section(truncate(line, LIMITS.sectionText))] };
}
