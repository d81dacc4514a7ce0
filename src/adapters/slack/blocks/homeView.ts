import type { types } from '@slack/bolt';
import type { AccessRequest } from '../../../domain/request.ts';
import { actions, context, divider, header, requestButton, section } from './elements.ts';
import { LIST_PAGE } from './commandReplies.ts';
import { grantActions } from './requesterMessages.ts';
import { mention, slackDate, STATUS_ICONS, STATUS_WORDS, summary } from './text.ts';

/**
 * Requests shown per list. Each takes two blocks (text and buttons) and a Home tab holds at most
 * 100 blocks: three lists of 14 with their headers stay below it.
 */
const PER_LIST = 14;
/** Requests of each kind read for the Home tab and counted in its headers; beyond it, "N+". */
export const HOME_COUNTED = 1000;

export interface HomeContent {
  /**
   * The person's requests (newest first): the granted ones and the pending ones are shown, the
   * newest {@link HOME_COUNTED} of each read.
   */
  mine: readonly AccessRequest[];
  /** Pending requests this person may still approve. */
  awaiting: readonly AccessRequest[];
  /** The slash command, for the hints. */
  command: string;
  /** A line shown on top, e.g. the outcome of a click made on this tab. */
  notice?: string;
}

/** The App Home tab: my active grants, my pending requests, and approvals waiting for me. */
export function homeView(content: HomeContent): types.HomeView {
  const grants = content.mine.filter((r) => r.status === 'granted' && r.kind === 'access');
  const pending = content.mine.filter((r) => r.status === 'pending');
  const blocks: types.KnownBlock[] = [];
  if (content.notice) blocks.push(section(content.notice));
  blocks.push(header(`Your access${counted(grants)}`));
  list(
    blocks,
    grants,
    `No active access. Use \`${content.command}\` to ask for some.`,
    (r) => [
      section(`${STATUS_ICONS.granted} ${summary(r)}\nUntil ${r.expiresAt ? slackDate(r.expiresAt) : 'unknown'} · \`${r.id}\``),
      grantActions(`home-grant:${r.id}`, r, 'ends now'),
    ],
    content.command,
  );
  blocks.push(divider(), header(`Your pending requests${counted(pending)}`));
  list(
    blocks,
    pending,
    'Nothing waiting.',
    (r) => [
      section(`${STATUS_ICONS.pending} ${summary(r)}\n${STATUS_WORDS.pending} · \`${r.id}\``),
      actions(`home-pending:${r.id}`, [requestButton('Cancel request', 'cancel', r.id)]),
    ],
    content.command,
  );
  blocks.push(divider(), header(`Waiting for your approval${counted(content.awaiting)}`));
  list(
    blocks,
    content.awaiting,
    'Nothing waits for you.',
    (r) => [
      section(`${mention(r.requester.slackId)} asks for ${summary(r)} · \`${r.id}\``),
      actions(`home-decide:${r.id}`, [
        requestButton('Approve', 'approve', r.id, { style: 'primary' }),
        requestButton('Deny', 'deny', r.id, { style: 'danger' }),
      ]),
    ],
    content.command,
  );
  return { type: 'home', blocks };
}

/** " (12)" after a header, " (1000+)" when as many as were read. */
function counted(items: readonly AccessRequest[]): string {
  if (items.length === 0) return '';
  return ` (${items.length >= HOME_COUNTED ? `${HOME_COUNTED}+` : items.length})`;
}

function list(
  blocks: types.KnownBlock[],
  items: readonly AccessRequest[],
  empty: string,
  render: (r: AccessRequest) => types.KnownBlock[],
  command: string,
): void {
  if (items.length === 0) {
    blocks.push(context(empty));
    return;
  }
  for (const r of items.slice(0, PER_LIST)) blocks.push(...render(r));
  if (items.length > PER_LIST) {
    const more = items.length >= HOME_COUNTED ? `${items.length - PER_LIST}+` : String(items.length - PER_LIST);
    blocks.push(context(`…and ${more} more; \`${command} list\` shows them all, ${LIST_PAGE} a page.`));
  }
}
