import { formatMinutes } from '../../../domain/duration.ts';
import type { AccessRequest } from '../../../domain/request.ts';
import { actions, context, fields, requestButton, section, type SlackMessage } from './elements.ts';
import {
  ADMINS_WERE_TOLD,
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

/** What the requester's messages show besides the request itself. */
export interface RequesterContext {
  /** The integration's customAccessDetails (at most 400 characters by the config schema). */
  customAccessDetails?: string | undefined;
}

/**
 * The requester's DM about a request, as it stands now: waiting (with Cancel), granted (with
 * Show credentials / Extend / Revoke), or how it ended. Earlier copies are updated with it, so a
 * button never outlives the state it acts on.
 */
export function requesterMessage(request: AccessRequest, extra: RequesterContext = {}): SlackMessage {
  const what =
    request.kind === 'extension' ? `more time (${formatMinutes(request.durationMinutes)}) on \`${request.parentId}\`` : summary(request);
  const filedBy = request.requestedBy ? ` · asked for you by ${mention(request.requestedBy)}` : '';
  const idLine = context(`Request \`${request.id}\` · ${STATUS_ICONS[request.status]} ${STATUS_WORDS[request.status]}${filedBy}`);
  switch (request.status) {
    case 'pending':
      return {
        text: `Your request ${request.id} waits for approval`,
        blocks: [
          section(`:hourglass_flowing_sand: Your request for ${what} waits for approval by ${approversText(request)}.`),
          idLine,
          actions(`requester:${request.id}`, [
            requestButton('Cancel request', 'cancel', request.id, {
              confirm: {
                title: 'Cancel this request?',
                text: `Request \`${request.id}\` will be withdrawn.`,
                confirm: 'Cancel request',
                deny: 'Keep it',
              },
            }),
          ]),
        ],
      };
    case 'granted':
      return grantedMessage(request, extra);
    default:
      return {
        text: truncate(`Your request ${request.id} ${STATUS_WORDS[request.status]}`, LIMITS.messageText),
        blocks: [
          section(`${STATUS_ICONS[request.status]} ${endedSentence(request, what)}`),
          idLine,
          ...(ASKED_AGAIN_AFTER.has(request.status) && request.kind === 'access'
            ? [actions(`ended:${request.id}`, [requestButton('Request again', 'requestAgain', request.id)])]
            : []),
        ],
      };
  }
}

/**
 * The ends after which the same access may be wanted again: the DM offers *Request again*, the
 * request form filled in with the same target, permission and duration.
 */
export const ASKED_AGAIN_AFTER: ReadonlySet<AccessRequest['status']> = new Set(['expired', 'revoked', 'denied', 'timedout', 'failed']);

/**
 * An earlier DM about a request, once a newer one carries its current state: one line, no
 * buttons, so only the newest message can be acted on.
 */
export function supersededMessage(request: AccessRequest): SlackMessage {
  return {
    text: `Request ${request.id} is ${STATUS_WORDS[request.status]}`,
    blocks: [
      context(
        `Request \`${request.id}\` is now ${STATUS_ICONS[request.status]} ${STATUS_WORDS[request.status]}; the newest message about it has the details.`,
      ),
    ],
  };
}

/** The DM on grant: target, permission, expiry in the reader's zone, access details, buttons. */
function grantedMessage(request: AccessRequest, extra: RequesterContext): SlackMessage {
  const blocks: SlackMessage['blocks'] = [
    section(
      `:unlock: *Access granted* · request \`${request.id}\`${request.requestedBy ? ` · asked for you by ${mention(request.requestedBy)}` : ''}`,
    ),
    fields([
      ['Target', `\`${targetText(request)}\``],
      ['Permission', `\`${request.permission}\``],
      ['Expires', request.expiresAt ? slackDate(request.expiresAt) : 'unknown'],
      ['Database user', request.dbUser ? `\`${escapeWithin(request.dbUser, 200)}\`` : 'unknown'],
    ]),
  ];
  if (extra.customAccessDetails) blocks.push(section(`*How to connect*\n${escapeWithin(extra.customAccessDetails, 1000)}`));
  blocks.push(
    context('The password is shown only to you, in a window, and a new one is made each time you ask.'),
    grantActions(`grant:${request.id}`, request, 'ends now and open sessions are closed'),
  );
  return { text: `Access granted: ${request.permission} on ${targetText(request)} (request ${request.id})`, blocks };
}

/** The reminder before expiry, with Extend. */
export function expiringSoonMessage(request: AccessRequest): SlackMessage {
  const when = request.expiresAt ? slackDate(request.expiresAt) : 'soon';
  return {
    text: `Your access ${request.id} ends soon`,
    blocks: [
      section(`:alarm_clock: Your \`${request.permission}\` access to \`${targetText(request)}\` ends ${when}. Need more time?`),
      context(`Request \`${request.id}\``),
      actions(`expiring:${request.id}`, [requestButton('Extend', 'extend', request.id, { style: 'primary' })]),
    ],
  };
}

/** Told when an extension was applied to a grant. */
export function extendedMessage(request: AccessRequest): SlackMessage {
  const when = request.expiresAt ? slackDate(request.expiresAt) : 'later';
  return {
    text: `Your access ${request.id} was extended`,
    blocks: [
      section(`:hourglass: Your access to \`${targetText(request)}\` now lasts until ${when}.`),
      context(`Request \`${request.id}\``),
    ],
  };
}

function endedSentence(request: AccessRequest, what: string): string {
  switch (request.status) {
    case 'approved':
      return request.kind === 'extension'
        ? `Your request for ${what} was approved.`
        : `Your request for ${what} was approved; Sesame is granting it.`;
    case 'granting':
      return `Your request for ${what} is being granted.`;
    case 'revoking':
      return `Your access ${what} is being revoked.`;
    case 'expired':
      return `Your access to \`${targetText(request)}\` expired${request.endedAt ? ` ${slackDate(request.endedAt)}` : ''}. Sessions still open were closed.`;
    case 'revoked':
      return `Your access to \`${targetText(request)}\` was revoked${request.endedBy && request.endedBy !== 'system' ? ` by ${mention(request.endedBy)}` : ''}. Sessions still open were closed.`;
    case 'denied':
      return `Your request for ${what} was denied${request.decidedBy ? ` by ${mention(request.decidedBy)}` : ''}: ${escapeWithin(request.denyReason ?? 'no reason given', 1500)}`;
    case 'failed':
      return `Your request for ${what} could not be granted. ${ADMINS_WERE_TOLD}; nothing is left granted. Ask again once they have fixed it.`;
    case 'timedout':
      return `Your request for ${what} timed out: nobody decided in time. Ask again if you still need it.`;
    case 'cancelled':
      return `Your request for ${what} was cancelled.`;
    default:
      return `Your request for ${what} is ${STATUS_WORDS[request.status]}.`;
  }
}

function approversText(request: AccessRequest): string {
  const ids = [...new Set(request.approverGroups.flatMap((g) => g.slackIds))];
  const shown = ids.slice(0, 10).map(mention).join(', ');
  return ids.length > 10 ? `${shown} and ${ids.length - 10} more` : shown || 'nobody';
}

/** What the person can do with a live grant: see the credentials, ask for more time, end it (after a confirmation). */
export function grantActions(blockId: string, request: AccessRequest, revokeMeans: string) {
  return actions(blockId, [
    requestButton('Show credentials', 'showCredentials', request.id, { style: 'primary' }),
    requestButton('Extend', 'extend', request.id),
    requestButton('Revoke', 'revoke', request.id, {
      style: 'danger',
      confirm: {
        title: 'End this access now?',
        text: `Your access to \`${targetText(request)}\` ${revokeMeans}.`,
        confirm: 'Revoke',
        deny: 'Keep it',
      },
    }),
  ]);
}
