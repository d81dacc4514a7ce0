import type { AccessRequest } from '../../../domain/request.ts';
import type { SessionSummary } from '../../../ports/SessionAudit.ts';
import { context, section, type SlackMessage } from './elements.ts';
import { escapeWithin, LIMITS, slackDate, truncate } from './text.ts';

/** Each statement shown is cut to this many characters; the export has it whole. */
const STATEMENT_CHARS = 300;

/**
 * What a grant was used for, posted in the request's threads when it ends: its sessions and
 * statements, the first statements (each cut short, all within one section), and the command
 * that exports every one of them.
 */
export function sessionsMessage(request: AccessRequest, counts: SessionSummary, command: string): SlackMessage {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const line = `:bar_chart: \`${request.id}\` was used for ${plural(counts.sessions, 'session')} and ${plural(counts.statements, 'audited statement')}.`;
  const first = (counts.first ?? []).map((s) => {
    const where = s.database ? ` in \`${escapeWithin(s.database, 100)}\`` : '';
    // Dates come back from the outbox as text.
    return `• ${slackDate(new Date(s.at))}${where}: \`${escapeWithin(s.statement.replace(/\s+/g, ' '), STATEMENT_CHARS).replaceAll('`', "'")}\``;
  });
  const blocks: SlackMessage['blocks'] = [section(line)];
  if (first.length > 0) {
    const more = counts.statements > first.length ? ` (the first ${first.length} of ${counts.statements})` : '';
    blocks.push(section(truncate(`*Statements*${more}\n${first.join('\n')}`, LIMITS.sectionText)));
  }
  if (counts.statements > 0 || counts.sessions > 0) {
    blocks.push(
      context(
        `Every statement: \`npm run sesame -- audit --since ${request.createdAt.toISOString().slice(0, 10)} --request ${request.id}\` (${command} list shows the request).`,
      ),
    );
  }
  return { text: line, blocks };
}
