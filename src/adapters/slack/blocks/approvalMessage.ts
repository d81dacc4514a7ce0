import { formatMinutes } from '../../../domain/duration.ts';
import type { AccessRequest, Approval, ApproverGroup } from '../../../domain/request.ts';
import { actions, context, fields, requestButton, section, type SlackMessage } from './elements.ts';
import { breakGlassMessage } from './breakGlassMessages.ts';
import {
  ADMINS_WERE_TOLD,
  escapeMrkdwn,
  escapeWithin,
  LIMITS,
  mention,
  slackDate,
  STATUS_ICONS,
  STATUS_WORDS,
  summary,
  targetText,
  truncate,
} from './text.ts';

/** Approvers named per group before the rest are counted ("and 40 more"). */
const MENTIONS_PER_GROUP = 15;

/**
 * The message approvers get (a DM each, and the approval channel's post): who asks for what,
 * why, why the reader is an approver, the request ID, and Approve / Deny while it is pending.
 * Once decided, the same builder renders the copy without those buttons, with who decided and
 * when, and Revoke while the grant lasts.
 */
export function approvalMessage(request: AccessRequest, approvals: readonly Approval[] = [], quorum = 1): SlackMessage {
  // A break-glass grant asked nobody: its copies are its alert, updated like any other.
  if (request.breakGlass) return breakGlassMessage(request, request.status === 'granted' ? approverRevoke(request) : undefined);
  const pending = request.status === 'pending';
  const what =
    request.kind === 'extension' ? `more time (${formatMinutes(request.durationMinutes)}) on \`${targetText(request)}\`` : summary(request);
  const headline = `${mention(request.requester.slackId)} asks for ${what}`;
  const blocks: SlackMessage['blocks'] = [
    section(`:key: *Access request ${request.id}*\n${headline}`),
    fields([
      ['Requester', `${mention(request.requester.slackId)}${request.requester.email ? ` (${escapeMrkdwn(request.requester.email)})` : ''}`],
      ['Request ID', `\`${request.id}\`${request.parentId ? ` (extends \`${request.parentId}\`)` : ''}`],
      ['Target', `\`${targetText(request)}\``],
      ['Permission', `\`${request.permission}\``],
      ['Duration', formatMinutes(request.durationMinutes)],
      ['Flow', escapeMrkdwn(request.flowName)],
    ]),
    ...(request.requestedBy
      ? [
          context(
            `Filed for ${mention(request.requester.slackId)} by ${mention(request.requestedBy)}, under ${mention(request.requester.slackId)}'s own flows.`,
          ),
        ]
      : []),
    ...(request.groupId
      ? [context(`Part of request \`${request.groupId}\`, which asks for several targets; you decide on this part only.`)]
      : []),
    section(`*Reason*\n${quote(request.reason || '(none given)')}`),
    section(`*Why you are asked* (${approvalRule(request.approvalMode, quorum)})\n${approverLines(request.approverGroups)}`),
  ];
  const approvedSoFar = approvals.filter((a) => a.decision === 'approve');
  if (pending && quorum > 1) {
    const who = approvedSoFar.map((a) => mention(a.approverId)).join(', ');
    blocks.push(context(`:white_check_mark: ${approvedSoFar.length} of ${quorum} approvals${who ? `: ${who}` : ' so far'}`));
  } else if (pending && approvedSoFar.length > 0) {
    blocks.push(
      context(
        `:white_check_mark: Approved so far by ${approvedSoFar.map((a) => `${mention(a.approverId)} ${slackDate(a.at)}`).join(', ')}`,
      ),
    );
  }
  if (pending) {
    blocks.push(
      actions(`decide:${request.id}`, [
        requestButton('Approve', 'approve', request.id, { style: 'primary' }),
        requestButton('Deny', 'deny', request.id, { style: 'danger' }),
      ]),
    );
  } else {
    blocks.push(context(outcomeLine(request)));
    if (request.status === 'granted' && request.kind === 'access') blocks.push(approverRevoke(request));
  }
  return {
    text: truncate(`Access request ${request.id}: ${plainHeadline(request)} (${STATUS_WORDS[request.status]})`, LIMITS.messageText),
    blocks,
  };
}

/** How many approvals the request needs, in words. */
function approvalRule(mode: AccessRequest['approvalMode'], quorum: number): string {
  const each = mode === 'all' ? 'one approval from each group' : 'one approval is enough';
  if (quorum <= 1) return each;
  return mode === 'all' ? `${each}, ${quorum} people in all` : `${quorum} approvals from different people`;
}

/** The line that replaces the buttons once a request is decided: who, when, and what became of it. */
export function outcomeLine(request: AccessRequest): string {
  const icon = STATUS_ICONS[request.status];
  const who = request.decidedBy ? ` by ${mention(request.decidedBy)}` : '';
  const when = request.decidedAt ? ` ${slackDate(request.decidedAt)}` : '';
  switch (request.status) {
    case 'denied':
      return `${icon} Denied${who}${when}: ${escapeWithin(request.denyReason ?? '', 1500)}`;
    case 'cancelled':
      return `${icon} Cancelled by ${mention(request.endedBy ?? request.requester.slackId)}${request.endedAt ? ` ${slackDate(request.endedAt)}` : ''}`;
    case 'timedout':
      return `${icon} Timed out without a decision${request.endedAt ? ` ${slackDate(request.endedAt)}` : ''}`;
    default: {
      const decided = request.decidedBy ? `Approved${who}${when}` : 'Approved automatically';
      return `:white_check_mark: ${decided} · now ${icon} ${STATUS_WORDS[request.status]}`;
    }
  }
}

/**
 * What is posted in each copy's thread when the request changes: the status, with the expiry
 * for a grant and the reason for a denial. A failure's details go to the admins only: the
 * approval channel may be read by anyone, the requester included.
 */
export function statusThreadMessage(request: AccessRequest, approvals: readonly Approval[] = []): SlackMessage {
  const icon = STATUS_ICONS[request.status];
  if (request.status === 'pending') {
    const by = approvals.filter((a) => a.decision === 'approve').map((a) => mention(a.approverId));
    const text = `:white_check_mark: \`${request.id}\` approved by ${by.join(', ') || 'nobody yet'}; it still waits for the other approvers.`;
    return { text: `${request.id} partly approved`, blocks: [section(text)] };
  }
  let text = `${icon} \`${request.id}\` ${STATUS_WORDS[request.status]}`;
  if (request.status === 'granted' && request.expiresAt) text += ` until ${slackDate(request.expiresAt)}`;
  if (request.status === 'denied' && request.decidedBy) {
    text += ` by ${mention(request.decidedBy)}: ${escapeWithin(request.denyReason ?? '', 1500)}`;
  }
  if (request.status === 'approved' && request.decidedBy) text += ` by ${mention(request.decidedBy)}`;
  if (request.status === 'revoked' && request.endedBy && request.endedBy !== 'system') text += ` by ${mention(request.endedBy)}`;
  if (request.status === 'cancelled' && request.endedBy) text += ` by ${mention(request.endedBy)}`;
  if (request.status === 'failed') text += `. ${ADMINS_WERE_TOLD}.`;
  const fallback = truncate(`${request.id} ${STATUS_WORDS[request.status]}`, LIMITS.messageText);
  return { text: fallback, blocks: [section(text)] };
}

/** While the grant lasts, its approvers (and admins) may end it; the service checks who clicked. */
function approverRevoke(request: AccessRequest) {
  return actions(`approver-grant:${request.id}`, [
    requestButton('Revoke', 'revoke', request.id, {
      style: 'danger',
      confirm: {
        title: 'End this access now?',
        text: `${mention(request.requester.slackId)} loses access to \`${targetText(request)}\` now, and their open sessions are closed.`,
        confirm: 'Revoke',
        deny: 'Keep it',
      },
    }),
  ]);
}

function plainHeadline(request: AccessRequest): string {
  return `${request.permission} on ${targetText(request)} for ${formatMinutes(request.durationMinutes)}`;
}

/** Each approver group with why it approves and who is in it, cut to fit one section. */
export function approverLines(groups: readonly ApproverGroup[]): string {
  const lines = groups.map((g) => {
    const shown = g.slackIds.slice(0, MENTIONS_PER_GROUP).map(mention).join(', ');
    const more = g.slackIds.length > MENTIONS_PER_GROUP ? ` and ${g.slackIds.length - MENTIONS_PER_GROUP} more` : '';
    return `• ${escapeMrkdwn(g.reason)}: ${shown || 'nobody'}${more}`;
  });
  // A section's text is at most 3,000 characters: whole lines are kept while they fit.
  const kept: string[] = [];
  let length = 0;
  for (const line of lines) {
    if (length + line.length + 1 > LIMITS.sectionText - 100) {
      kept.push(`…and ${lines.length - kept.length} more groups`);
      break;
    }
    kept.push(line);
    length += line.length + 1;
  }
  return kept.join('\n');
}

/** Text people wrote, as a block quote, escaped, and short enough for a section. */
export function quote(text: string): string {
  // Each line gains a `>`; a reason has at most 1,000 characters, so 1,500 escaped leaves room.
  return escapeWithin(text, 1500)
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
}
