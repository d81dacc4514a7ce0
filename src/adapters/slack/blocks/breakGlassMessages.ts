import type { types } from '@slack/bolt';
import { formatMinutes } from '../../../domain/duration.ts';
import type { AccessRequest } from '../../../domain/request.ts';
import { approverLines, quote } from './approvalMessage.ts';
import { actions, context, fields, requestButton, section, type SlackMessage } from './elements.ts';
import { escapeMrkdwn, LIMITS, mention, slackDate, STATUS_ICONS, STATUS_WORDS, targetText, truncate } from './text.ts';

/** Reviewers named per approver group before the rest are counted. */

/**
 * The loud alert of a break-glass grant (README "Break-glass"): who took what without approval,
 * for how long and why, to the approval channel, the admins and the flow's approvers. While
 * nobody has reviewed it, it carries Reviewed and Flagged; afterwards it says who reviewed it
 * and when. `revoke`, while the grant lasts, is the approvers' Revoke button.
 */
export function breakGlassMessage(request: AccessRequest, revoke?: types.ActionsBlock, reminder = false): SlackMessage {
  const what =
    request.kind === 'extension'
      ? `more time (${formatMinutes(request.durationMinutes)}) on \`${targetText(request)}\``
      : `\`${request.permission}\` on \`${targetText(request)}\` for ${formatMinutes(request.durationMinutes)}`;
  const blocks: types.KnownBlock[] = [
    ...(reminder ? [context(`:bell: Reminder: this break-glass access still waits for a review.`)] : []),
    section(`:rotating_light: *BREAK-GLASS access ${request.id}*\n${mention(request.requester.slackId)} took ${what} *without approval*.`),
    fields([
      ['Requester', `${mention(request.requester.slackId)}${request.requester.email ? ` (${escapeMrkdwn(request.requester.email)})` : ''}`],
      ['Request ID', `\`${request.id}\`${request.parentId ? ` (extends \`${request.parentId}\`)` : ''}`],
      ['Target', `\`${targetText(request)}\``],
      ['Permission', `\`${request.permission}\``],
      ['Duration', formatMinutes(request.durationMinutes)],
      ['Expires', request.expiresAt ? slackDate(request.expiresAt) : 'not yet granted'],
      ['Flow', escapeMrkdwn(request.flowName)],
    ]),
    section(`*Reason*\n${quote(request.reason || '(none given)')}`),
    section(`*Who reviews it*\n${reviewerLines(request)}`),
    context(`Now ${STATUS_ICONS[request.status]} ${STATUS_WORDS[request.status]}`),
  ];
  if (request.reviewOutcome) {
    blocks.push(context(reviewLine(request)));
    if (revoke) blocks.push(revoke);
  } else {
    blocks.push(
      actions(`review:${request.id}`, [
        requestButton('Reviewed', 'reviewed', request.id, { style: 'primary' }),
        requestButton('Flagged', 'flagged', request.id, {
          style: 'danger',
          confirm: {
            title: 'Flag this break-glass access?',
            text: `Sesame's admins are told to look into what ${mention(request.requester.slackId)} did with \`${request.id}\`.`,
            confirm: 'Flag it',
            deny: 'Cancel',
          },
        }),
        ...(revoke?.elements.filter((e): e is types.Button => e.type === 'button') ?? []),
      ]),
    );
  }
  const review = request.reviewOutcome ? `, ${request.reviewOutcome}` : ', waiting for review';
  return {
    text: truncate(
      `BREAK-GLASS access ${request.id}: ${request.permission} on ${targetText(request)} without approval (${STATUS_WORDS[request.status]}${review})`,
      LIMITS.messageText,
    ),
    blocks,
  };
}

/** Who reviewed the break-glass grant, how and when. */
export function reviewLine(request: AccessRequest): string {
  const icon = request.reviewOutcome === 'flagged' ? ':triangular_flag_on_post: Flagged' : ':white_check_mark: Reviewed';
  const by = request.reviewedBy ? ` by ${mention(request.reviewedBy)}` : '';
  return `${icon}${by}${request.reviewedAt ? ` ${slackDate(request.reviewedAt)}` : ''}`;
}

/** The admins' alert when a reviewer flags a break-glass grant. */
export function flaggedAlert(request: AccessRequest): SlackMessage {
  const line =
    `:triangular_flag_on_post: ${mention(request.reviewedBy ?? 'system')} flagged break-glass access \`${request.id}\`: ` +
    `${mention(request.requester.slackId)} took \`${request.permission}\` on \`${targetText(request)}\` without approval.\n` +
    `*Reason given*\n${quote(request.reason || '(none given)')}\n` +
    `Look into what was done with it; \`sesame audit\` lists the events of \`${request.id}\`.`;
  return { text: `Break-glass access ${request.id} was flagged`, blocks: [section(line)] };
}

/** The flow's approvers, who review it, and the admins, who may too. */
function reviewerLines(request: AccessRequest): string {
  return `${approverLines(request.approverGroups)}\n• Sesame's admins`;
}

/** `/access list` for admins: the break-glass grants that wait for review, on top of `list`. */
export function withUnreviewed(list: SlackMessage, unreviewed: readonly AccessRequest[]): SlackMessage {
  if (unreviewed.length === 0) return list;
  const lines = unreviewed.map(
    (r) =>
      `• \`${r.id}\` ${mention(r.requester.slackId)} · \`${r.permission}\` on \`${targetText(r)}\`${r.grantedAt ? ` · granted ${slackDate(r.grantedAt)}` : ''} · now ${STATUS_WORDS[r.status]}`,
  );
  const head = section(
    truncate(`:rotating_light: *Break-glass grants waiting for review:* ${unreviewed.length}\n${lines.join('\n')}`, LIMITS.sectionText),
  );
  return {
    text: truncate(`${unreviewed.length} break-glass grants waiting for review; ${list.text}`, LIMITS.messageText),
    blocks: [head, ...list.blocks].slice(0, LIMITS.messageBlocks),
  };
}
