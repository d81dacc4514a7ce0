import { formatMinutes } from '../../../domain/duration.ts';
import type { AccessRequest } from '../../../domain/request.ts';
import type { RequestOptions } from '../../../services/requestInputs.ts';
import { commandUsage } from '../commandText.ts';
import { context, section, type SlackMessage } from './elements.ts';
import { ADMINS_WERE_TOLD, escapeWithin, LIMITS, mention, slackDate, STATUS_ICONS, STATUS_WORDS, summary, truncate } from './text.ts';

/** Lines per section of a list: a section holds at most 3,000 characters. */
const SECTION_BUDGET = LIMITS.sectionText - 100;

/** `help`: the usage and what this person may request, per integration. */
export function helpMessage(command: string, options: RequestOptions): SlackMessage {
  const lines = options.integrations.map(
    (i) =>
      `• \`${i.name}\`: ${i.permissions.map((p) => `\`${p}\``).join(', ')} · up to ${formatMinutes(i.maxDurationMinutes)} (default ${formatMinutes(i.defaultDurationMinutes)})${i.requireJustification ? ' · reason required' : ''}${i.justificationHint ? ` (with ${i.justificationHint})` : ''}`,
  );
  return {
    text: `How to use ${command}`,
    blocks: [
      section(
        `*How to use ${command}*\n${commandUsage(command)
          .map((u) => `• ${u}`)
          .join('\n')}`,
      ),
      ...sections('*What you can request*', lines.length ? lines : ['Nothing yet: no access flow names you. Ask a Sesame admin.']),
      ...((options.bundles ?? []).length > 0
        ? sections(
            `*Bundles* (\`${command} request <bundle> for <duration> because …\`; each part is checked against your flows)`,
            (options.bundles ?? []).map(
              (b) =>
                `• \`${b.name}\`${b.description ? `: ${escapeWithin(b.description, 150)}` : ''} · ${b.parts.map((p) => `\`${escapeWithin(p, 200)}\``).join(', ')}`,
            ),
          )
        : []),
      ...(options.breakGlass
        ? [
            section(
              `:rotating_light: *Break-glass* on ${options.breakGlass.map((n) => `\`${n}\``).join(', ')}: \`${command} break-glass <target> <permission> for <duration> because <reason…>\` grants at once in an emergency; it is announced to the admins and approvers and reviewed afterwards.`,
            ),
          ]
        : []),
    ].slice(0, LIMITS.messageBlocks),
  };
}

/** Requests per page of `list`: two sections' worth, far inside a message's 50 blocks. */
export const LIST_PAGE = 20;
/** Requests counted after the page shown, for its "…and N more"; beyond that it says "N+". */
export const LIST_MORE_COUNTED = 500;

/** How many requests, newest first, `list` reads for page `page` (1-based). */
export function listLimit(page: number): number {
  return page * LIST_PAGE + LIST_MORE_COUNTED;
}

/**
 * `list`: one page of requests with their status, newest first; everyone's for admins (unless
 * `list mine`). `requests` are the newest {@link listLimit} of them, from the first page on.
 */
export function listMessage(requests: readonly AccessRequest[], options: { all: boolean; command: string; page?: number }): SlackMessage {
  const page = options.page ?? 1;
  const title = `${options.all ? '*All requests*' : '*Your requests*'} (newest first${page > 1 ? `, page ${page}` : ''})`;
  const shown = requests.slice((page - 1) * LIST_PAGE, page * LIST_PAGE);
  if (shown.length === 0) {
    const none =
      page > 1
        ? `No page ${page}: there are ${requests.length} requests, ${LIST_PAGE} a page.`
        : `None yet. \`${options.command}\` asks for access.`;
    return { text: 'No requests', blocks: [section(`${title}\n${none}`)] };
  }
  const lines = shown.map((r) => {
    const who = options.all ? `${mention(r.requester.slackId)} · ` : '';
    const until = r.status === 'granted' && r.expiresAt ? ` until ${slackDate(r.expiresAt)}` : '';
    return `${STATUS_ICONS[r.status]} \`${r.id}\` ${who}${summary(r)} · ${STATUS_WORDS[r.status]}${until}`;
  });
  const more = requests.length - page * LIST_PAGE;
  const blocks = sections(title, lines);
  if (more > 0) {
    const count = requests.length >= listLimit(page) ? `${more}+` : String(more);
    const next = `${options.command} list ${options.all ? 'all ' : 'mine '}${page + 1}`;
    blocks.push(context(`…and ${count} more, older: \`${next}\` shows the next ${LIST_PAGE}.`));
  }
  return { text: `${shown.length} requests`, blocks };
}

/** The answer to a request made with the command: what happens next, with the request ID. */
export function submittedReply(requests: AccessRequest | readonly AccessRequest[], options: { for?: string } = {}): SlackMessage {
  const all: readonly AccessRequest[] = Array.isArray(requests) ? requests : [requests as AccessRequest];
  const lines = options.for ? all.map(filedLine) : all.map(submittedLine);
  const group = all.length > 1 ? all[0]!.groupId : undefined;
  if (group) {
    lines.unshift(
      `:package: Request \`${group}\` has ${all.length} parts, each decided by its own approvers. Your DM from Sesame shows every part as it stands; revoke, extend or cancel \`${group}\` acts on all of them, \`${group}.N\` on one.`,
    );
  }
  const first = all[0]!;
  const text = group ? `${group}: ${all.length} parts` : `${first.id} ${STATUS_WORDS[first.status]}`;
  return { text: truncate(text, LIMITS.messageText), blocks: [section(truncate(lines.join('\n'), SECTION_BUDGET))] };
}

/** A line of the answer to `grant`: the person, not the filer, gets the DMs and credentials. */
function filedLine(request: AccessRequest): string {
  const who = mention(request.requester.slackId);
  if (request.status === 'granted')
    return `:unlock: \`${request.id}\` granted to ${who}: ${summary(request)}. Sesame sent them the credentials button.`;
  if (request.status === 'pending')
    return `:hourglass_flowing_sand: \`${request.id}\` for ${who} sent for approval: ${summary(request)}. They get a DM when it is decided.`;
  return `${STATUS_ICONS[request.status]} \`${request.id}\` for ${who} ${STATUS_WORDS[request.status]}: ${summary(request)}.`;
}

function submittedLine(request: AccessRequest): string {
  if (request.status === 'granted') {
    return `:unlock: \`${request.id}\` granted: ${summary(request)}. Your DM from Sesame has the credentials button.`;
  }
  if (request.status === 'pending') {
    return `:hourglass_flowing_sand: \`${request.id}\` sent for approval: ${summary(request)}. You get a DM when it is decided.`;
  }
  const failed = request.status === 'failed' ? ` ${ADMINS_WERE_TOLD}; nothing is left granted.` : '';
  return `${STATUS_ICONS[request.status]} \`${request.id}\` ${STATUS_WORDS[request.status]}: ${summary(request)}.${failed}`;
}

/** A one-line answer, with the request ID it is about. */
export function noticeReply(text: string): SlackMessage {
  return { text: truncate(text.replace(/[*`]/g, ''), LIMITS.messageText), blocks: [section(text)] };
}

/** Lines packed into as few sections as fit, the first one titled. */
function sections(title: string, lines: readonly string[]): SlackMessage['blocks'] {
  const out: SlackMessage['blocks'] = [];
  let current = title;
  for (const line of lines) {
    const piece = truncate(line, SECTION_BUDGET);
    if (current.length + piece.length + 1 > SECTION_BUDGET) {
      out.push(section(current));
      current = piece;
    } else {
      current = `${current}\n${piece}`;
    }
  }
  out.push(section(current));
  if (out.length > LIMITS.messageBlocks - 1) {
    return [...out.slice(0, LIMITS.messageBlocks - 1), context('…cut short: Slack shows at most 50 blocks in a message.')];
  }
  return out;
}
