import { formatMinutes } from '../../../domain/duration.ts';
import type { AccessRequest, RequestStatus } from '../../../domain/request.ts';
import { formatTarget } from '../../../domain/target.ts';

/**
 * Slack's documented limits, where the builders meet them. A message or view over any of these
 * is rejected by Slack (`invalid_blocks`), so the builders cut text down to fit instead.
 */
export const LIMITS = {
  /** Blocks in a message. */
  messageBlocks: 50,
  /** Blocks in a modal or Home tab view. */
  viewBlocks: 100,
  /** Text of a section block. */
  sectionText: 3000,
  /** Each of a section's fields, and there are at most ten. */
  sectionField: 2000,
  sectionFields: 10,
  /** Text of a header block. */
  headerText: 150,
  /** Elements of a context block. */
  contextElements: 10,
  /** Text of a button, and of an option. */
  buttonText: 75,
  optionText: 75,
  /** Value of an option (static and external selects). */
  optionValue: 150,
  /** Options in a select. */
  options: 100,
  /** Title, submit and close labels of a modal. */
  modalTitle: 24,
  /** The hint under an input block. */
  hint: 2000,
  /** Title, text and button labels of a confirm dialog. */
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  /** The notification text of a message; Slack truncates longer ones. */
  messageText: 4000,
  /** A view's private_metadata. */
  privateMetadata: 3000,
} as const;

/**
 * What people are told when something failed inside Sesame or on the database (PRODUCT.md §6):
 * never the details (hosts, the connector, what the database said), which go to the admins.
 */
export const ADMINS_WERE_TOLD = "Sesame's admins were told what went wrong";

/** Cuts `text` to at most `max` characters, ending with an ellipsis when it was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * Escapes what Slack's mrkdwn treats as control characters, so text people wrote (a reason, a
 * table name) cannot mention `@channel` or fake a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Escapes `text` and cuts it so the escaped result has at most `max` characters. Cutting after
 * escaping could split an entity (`&am…`); this cuts the original text instead.
 */
export function escapeWithin(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const ch of text) {
    const next = escapeMrkdwn(ch);
    if (out.length + next.length > max - 1) break;
    out += next;
  }
  return `${out}…`;
}

/** A mention of a Slack user. */
export function mention(slackId: string): string {
  return `<@${slackId}>`;
}

/**
 * A moment shown in each reader's own time zone and locale: Slack's date token, with the ISO
 * time as the fallback for clients that cannot render it.
 */
export function slackDate(at: Date): string {
  const unix = Math.floor(at.getTime() / 1000);
  return `<!date^${unix}^{date_short_pretty} at {time}|${at.toISOString()}>`;
}

/** The target as `prod/app/public`, escaped for mrkdwn. */
export function targetText(request: Pick<AccessRequest, 'target'>): string {
  return escapeMrkdwn(formatTarget(request.target));
}

/** `readonly on prod/app for 2h`, for one-line summaries. */
export function summary(request: AccessRequest): string {
  return `\`${request.permission}\` on \`${targetText(request)}\` for ${formatMinutes(request.durationMinutes)}`;
}

/** How each status reads in a sentence. */
export const STATUS_WORDS: Record<RequestStatus, string> = {
  pending: 'waiting for approval',
  approved: 'approved',
  granting: 'being granted',
  granted: 'granted',
  revoking: 'being revoked',
  revoked: 'revoked',
  expired: 'expired',
  denied: 'denied',
  cancelled: 'cancelled',
  timedout: 'timed out without a decision',
  failed: 'failed',
};

/** An emoji for each status, so a list reads at a glance. */
export const STATUS_ICONS: Record<RequestStatus, string> = {
  pending: ':hourglass_flowing_sand:',
  approved: ':white_check_mark:',
  granting: ':gear:',
  granted: ':unlock:',
  revoking: ':gear:',
  revoked: ':lock:',
  expired: ':lock:',
  denied: ':no_entry:',
  cancelled: ':heavy_multiplication_x:',
  timedout: ':alarm_clock:',
  failed: ':warning:',
};
