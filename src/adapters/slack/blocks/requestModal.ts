import type { RequestField as DomainRequestField } from '../../../domain/errors.ts';
import type { types } from '@slack/bolt';
import { formatMinutes } from '../../../domain/duration.ts';
import { MAX_REASON_CHARS } from '../../../domain/request.ts';
import type { IntegrationOptions, RequestOptions } from '../../../services/requestInputs.ts';
import { ACTION, VIEW } from '../ids.ts';
import { option, plain, section } from './elements.ts';
import { LIMITS } from './text.ts';

/** The request form's fields that live in a block per integration (the integration picker has its own). */
export type RequestField = Exclude<DomainRequestField, 'integration'>;

/**
 * Block IDs that depend on the integration carry its name: when the person picks another
 * integration the view is redrawn, and new block IDs make Slack drop answers that belonged to
 * the old one (a permission it does not offer, a database it does not have).
 */
export function requestBlockId(field: RequestField, integration: string): string {
  return `${field}@${integration}`;
}

export const INTEGRATION_BLOCK = 'integration';
/** More targets, one per line: every line is a part of the request of its own. */
export const MORE_TARGETS_BLOCK = 'more';
/** A bundle asked for with (or instead of) the target above. */
export const BUNDLE_BLOCK = 'bundle';

/**
 * The request modal: integration, then database → schema → table (options loaded from the
 * catalog as the person types, since lists are long), the permissions the person's flows allow
 * there, a duration (the flow's default) and a reason. Only what `options` allows is offered.
 */
export function requestModal(options: RequestOptions, chosenIntegration?: string): types.ModalView {
  const title = plain('Request access', LIMITS.modalTitle);
  if (options.integrations.length === 0) {
    return {
      type: 'modal',
      callback_id: VIEW.request,
      title,
      close: plain('Close', LIMITS.modalTitle),
      blocks: [section(':no_entry: No access flow lets you request anything yet. Ask a Sesame admin to add you to one.')],
    };
  }
  // Slack shows at most 100 options in a static select; integrations beyond that are reached
  // with the command instead.
  const offered = options.integrations.slice(0, LIMITS.options);
  const chosen = offered.find((i) => i.name === chosenIntegration) ?? offered[0]!;
  const name = chosen.name;
  const integrationOptions = offered.map((i) => option(i.name, i.name));
  return {
    type: 'modal',
    callback_id: VIEW.request,
    title,
    submit: plain('Request', LIMITS.modalTitle),
    close: plain('Cancel', LIMITS.modalTitle),
    private_metadata: name,
    blocks: [
      {
        type: 'input',
        block_id: INTEGRATION_BLOCK,
        dispatch_action: true,
        label: plain('Integration'),
        element: {
          type: 'static_select',
          action_id: ACTION.pickIntegration,
          options: integrationOptions,
          initial_option: option(chosen.name, chosen.name),
        },
      },
      catalogPicker('database', name, ACTION.pickDatabase, 'Database', 'Empty: every database of the server'),
      catalogPicker('schema', name, ACTION.pickSchema, 'Schema', 'Empty: every schema of the database'),
      catalogPicker('table', name, ACTION.pickTable, 'Table', 'Empty: every table of the schema'),
      permissionInput(chosen, (options.bundles ?? []).length > 0),
      MORE_TARGETS_INPUT,
      ...bundleInput(options),
      {
        type: 'input',
        block_id: requestBlockId('duration', name),
        label: plain('For how long'),
        hint: plain(`Like 30m, 2h or 1h30m; at most ${formatMinutes(chosen.maxDurationMinutes)}.`),
        element: {
          type: 'plain_text_input',
          action_id: 'duration',
          initial_value: formatMinutes(chosen.defaultDurationMinutes),
          max_length: 20,
        },
      },
      {
        type: 'input',
        block_id: requestBlockId('reason', name),
        optional: !chosen.requireJustification,
        label: plain('Why do you need it?'),
        ...(chosen.justificationHint ? { hint: plain(`Include ${chosen.justificationHint}.`, 150) } : {}),
        element: {
          type: 'plain_text_input',
          action_id: 'reason',
          multiline: true,
          max_length: MAX_REASON_CHARS,
          placeholder: plain('Approvers see this', 150),
        },
      },
    ],
  };
}

function catalogPicker(
  field: 'database' | 'schema' | 'table',
  integration: string,
  actionId: string,
  label: string,
  hint: string,
): types.InputBlock {
  return {
    type: 'input',
    block_id: requestBlockId(field, integration),
    optional: true,
    label: plain(label),
    hint: plain(hint),
    element: {
      type: 'external_select',
      action_id: actionId,
      // Zero: the list loads as soon as the menu opens, before anything is typed.
      min_query_length: 0,
      placeholder: plain(`Every ${field}`, 150),
    },
  };
}

function permissionInput(integration: IntegrationOptions, bundlesOffered: boolean): types.InputBlock {
  const perms = integration.permissions.slice(0, LIMITS.options);
  return {
    type: 'input',
    block_id: requestBlockId('permission', integration.name),
    // With a bundle chosen instead, the target above may be left without a permission.
    optional: bundlesOffered,
    ...(bundlesOffered ? { hint: plain('Leave it empty to ask only for a bundle below.') } : {}),
    label: plain('Permission'),
    element: {
      type: 'static_select',
      action_id: 'permission',
      options: perms.map((p) => option(p, p)),
      ...(perms.length === 1 ? { initial_option: option(perms[0]!, perms[0]!) } : {}),
    },
  };
}

/** More targets, one per line, each a part of the request of its own. */
const MORE_TARGETS_INPUT: types.InputBlock = {
  type: 'input',
  block_id: MORE_TARGETS_BLOCK,
  optional: true,
  label: plain('More targets'),
  hint: plain(
    'One per line: a target and a permission, like analytics/events readwrite. Each line is a part of its own, decided by its own approvers.',
    LIMITS.hint,
  ),
  element: { type: 'plain_text_input', action_id: 'more', multiline: true, max_length: 2000 },
};

/** The bundles the person may ask for, as a select (none: no block). */
function bundleInput(options: RequestOptions): types.InputBlock[] {
  const bundles = (options.bundles ?? []).slice(0, LIMITS.options);
  if (bundles.length === 0) return [];
  const described = bundles.map((b) => `${b.name}: ${b.description ?? b.parts.join(', ')}`).join(' · ');
  return [
    {
      type: 'input',
      block_id: BUNDLE_BLOCK,
      optional: true,
      label: plain('Bundle'),
      hint: plain(described, LIMITS.hint),
      element: {
        type: 'static_select',
        action_id: 'bundle',
        placeholder: plain('No bundle', 150),
        options: bundles.map((b) => option(b.name, b.name)),
      },
    },
  ];
}

/** What the person filled in, read from a view's state (a submission or an options request). */
export interface RequestForm {
  integration?: string;
  database?: string;
  schema?: string;
  table?: string;
  permission?: string;
  duration?: string;
  reason?: string;
  /** The "More targets" lines, as typed. */
  more?: string;
  bundle?: string;
}

type StateValues = Record<string, Record<string, { type?: string; value?: string | null; selected_option?: { value: string } | null }>>;

/** Reads the form from `view.state.values`, whatever integration its block IDs name. */
export function readRequestForm(values: StateValues): RequestForm {
  const form: RequestForm = {};
  for (const [blockId, actions] of Object.entries(values)) {
    const field = blockId.split('@')[0];
    for (const action of Object.values(actions)) {
      const value = action.selected_option?.value ?? action.value ?? undefined;
      if (value === undefined || value === null || value === '') continue;
      switch (field) {
        case 'integration':
        case 'database':
        case 'schema':
        case 'table':
        case 'permission':
        case 'duration':
        case 'reason':
        case 'more':
        case 'bundle':
          form[field] = value;
      }
    }
  }
  return form;
}
