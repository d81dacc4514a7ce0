import type { types } from '@slack/bolt';
import { requestActionId, type RequestAction } from '../ids.ts';
import { LIMITS, truncate } from './text.ts';

/** What chat.postMessage, chat.update and response_url take: notification text and blocks. */
export interface SlackMessage {
  /** Shown in notifications and where blocks cannot be (screen readers, old clients). */
  text: string;
  blocks: types.KnownBlock[];
}

export function plain(text: string, max: number = LIMITS.sectionText): types.PlainTextElement {
  return { type: 'plain_text', text: truncate(text, max), emoji: true };
}

export function section(text: string, blockId?: string): types.SectionBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) },
    ...(blockId ? { block_id: blockId } : {}),
  };
}

/** A section of label/value fields, at most ten (Slack's limit), each cut to 2,000 characters. */
export function fields(pairs: readonly (readonly [string, string])[]): types.SectionBlock {
  return {
    type: 'section',
    fields: pairs
      .slice(0, LIMITS.sectionFields)
      .map(([label, value]) => ({ type: 'mrkdwn' as const, text: truncate(`*${label}*\n${value}`, LIMITS.sectionField) })),
  };
}

export function header(text: string): types.HeaderBlock {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

/** A context line; Slack shows at most ten elements, each a text of at most 3,000 characters. */
export function context(...texts: string[]): types.ContextBlock {
  return {
    type: 'context',
    elements: texts.slice(0, LIMITS.contextElements).map((t) => ({ type: 'mrkdwn' as const, text: truncate(t, LIMITS.sectionText) })),
  };
}

export function divider(): types.DividerBlock {
  return { type: 'divider' };
}

export interface ConfirmDialog {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}

/** A button about one request: its action ID and value carry the request ID and nothing else. */
export function requestButton(
  label: string,
  action: RequestAction,
  requestId: string,
  options: { style?: 'primary' | 'danger'; confirm?: ConfirmDialog } = {},
): types.Button {
  return {
    type: 'button',
    text: plain(label, LIMITS.buttonText),
    action_id: requestActionId(action, requestId),
    value: requestId,
    ...(options.style ? { style: options.style } : {}),
    ...(options.confirm
      ? {
          confirm: {
            title: plain(options.confirm.title, LIMITS.confirmTitle),
            text: { type: 'mrkdwn', text: truncate(options.confirm.text, LIMITS.confirmText) },
            confirm: plain(options.confirm.confirm, LIMITS.confirmButton),
            deny: plain(options.confirm.deny, LIMITS.confirmButton),
            ...(options.style === 'danger' ? { style: 'danger' as const } : {}),
          },
        }
      : {}),
  };
}

export function actions(blockId: string, elements: types.Button[]): types.ActionsBlock {
  return { type: 'actions', block_id: blockId, elements };
}

/** An option of a select: text cut to 75 characters; the value must fit in 150. */
export function option(text: string, value: string): types.PlainTextOption {
  return { text: plain(text, LIMITS.optionText), value };
}
