import type { types } from '@slack/bolt';
import { formatMinutes } from '../../../domain/duration.ts';
import type { AccessRequest } from '../../../domain/request.ts';
import type { RequestOptions } from '../../../services/requestInputs.ts';
import { option } from './elements.ts';
import { type RequestField, requestBlockId, requestModal } from './requestModal.ts';

/** What a request asked for, as the form's fields hold it. */
type Choices = Partial<Record<Exclude<RequestField, 'reason'>, string>>;

/**
 * The request modal opened from a request that ended, filled in with what it asked for: the
 * same integration, database, schema, table, permission and duration, and an empty reason for
 * a fresh one. The form is drawn from the person's options today: an integration or permission
 * they may no longer ask for is not chosen for them, and the submission is checked as any other.
 */
export function requestAgainModal(options: RequestOptions, previous: Pick<AccessRequest, 'target' | 'permission' | 'durationMinutes'>) {
  const { integration, database, schema, table } = previous.target;
  const modal = requestModal(options, integration);
  const offered = options.integrations.find((i) => i.name === integration);
  if (!offered || modal.private_metadata !== integration) return modal;
  const choices: Choices = {
    ...(database ? { database } : {}),
    ...(schema ? { schema } : {}),
    ...(table ? { table } : {}),
    ...(offered.permissions.includes(previous.permission) ? { permission: previous.permission } : {}),
    duration: formatMinutes(previous.durationMinutes),
  };
  return { ...modal, blocks: modal.blocks.map((block) => withChoice(block, integration, choices)) };
}

/** An input block of the form with the choice made for its field, as the picker itself would hold it. */
function withChoice(block: types.AnyBlock, integration: string, choices: Choices): types.AnyBlock {
  if (!isInput(block)) return block;
  const field = (Object.keys(choices) as (keyof Choices)[]).find((f) => block.block_id === requestBlockId(f, integration));
  const value = field ? choices[field] : undefined;
  if (value === undefined) return block;
  const element = block.element;
  switch (element.type) {
    case 'static_select':
    case 'external_select':
      // The option format the pickers load (answerOptions, permissionInput): the name as text and value.
      return { ...block, element: { ...element, initial_option: option(value, value) } };
    case 'plain_text_input':
      return { ...block, element: { ...element, initial_value: value } };
    default:
      return block;
  }
}

function isInput(block: types.AnyBlock): block is types.InputBlock {
  return block.type === 'input';
}
