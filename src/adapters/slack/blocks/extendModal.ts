import type { types } from '@slack/bolt';
import { formatMinutes } from '../../../domain/duration.ts';
import type { AccessRequest } from '../../../domain/request.ts';
import { VIEW } from '../ids.ts';
import { plain, section } from './elements.ts';
import { REASON_BLOCK } from './denyModal.ts';
import { MAX_REASON_CHARS } from '../../../domain/request.ts';
import { LIMITS, summary } from './text.ts';

export const DURATION_BLOCK = 'duration';

/** Extend asks how much longer and why; the same flow rules as a new request apply. `request` gives the summary. */
export function extendModal(requestId: string, request?: AccessRequest): types.ModalView {
  return {
    type: 'modal',
    callback_id: VIEW.extend,
    private_metadata: requestId,
    title: plain('Extend access', LIMITS.modalTitle),
    submit: plain('Ask', LIMITS.modalTitle),
    close: plain('Back', LIMITS.modalTitle),
    blocks: [
      section(`More time on \`${requestId}\`${request ? `: ${summary(request)}` : ''}. The same rules as a new request apply.`),
      {
        type: 'input',
        block_id: DURATION_BLOCK,
        label: plain('How much longer'),
        hint: plain('Like 30m, 1h or 1h30m.'),
        element: {
          type: 'plain_text_input',
          action_id: 'duration',
          initial_value: formatMinutes(Math.min(request?.durationMinutes ?? 60, 60)),
          max_length: 20,
        },
      },
      {
        type: 'input',
        block_id: REASON_BLOCK,
        optional: true,
        label: plain('Why? (empty: the original reason)'),
        element: { type: 'plain_text_input', action_id: 'reason', multiline: true, max_length: MAX_REASON_CHARS },
      },
    ],
  };
}
