import type { types } from '@slack/bolt';
import type { AccessRequest } from '../../../domain/request.ts';
import { VIEW } from '../ids.ts';
import { plain, section } from './elements.ts';
import { MAX_REASON_CHARS } from '../../../domain/request.ts';
import { LIMITS, mention, summary } from './text.ts';

/** Block ID of the reason input in the deny and extend modals. */
export const REASON_BLOCK = 'reason';

/**
 * Deny asks for a reason; the requester sees it. The request ID travels in private_metadata;
 * `request`, when the clicker may still decide on it, gives the summary.
 */
export function denyModal(requestId: string, request?: AccessRequest): types.ModalView {
  return {
    type: 'modal',
    callback_id: VIEW.deny,
    private_metadata: requestId,
    title: plain('Deny request', LIMITS.modalTitle),
    submit: plain('Deny', LIMITS.modalTitle),
    close: plain('Back', LIMITS.modalTitle),
    blocks: [
      section(
        request
          ? `Deny ${mention(request.requester.slackId)}'s request \`${requestId}\`: ${summary(request)}?`
          : `Deny request \`${requestId}\`?`,
      ),
      {
        type: 'input',
        block_id: REASON_BLOCK,
        label: plain('Why? The requester sees this.'),
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: MAX_REASON_CHARS },
      },
    ],
  };
}
