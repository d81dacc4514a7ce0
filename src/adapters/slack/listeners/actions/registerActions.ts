import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION, requestActionPattern, type RequestAction } from '../../ids.ts';
import type { SlackEdge } from '../context.ts';
import { onApproveClicked } from './onApproveClicked.ts';
import { onFlaggedClicked, onReviewedClicked } from './onReviewClicked.ts';
import { onCancelClicked } from './onCancelClicked.ts';
import { onDenyClicked } from './onDenyClicked.ts';
import { onExtendClicked } from './onExtendClicked.ts';
import { onIntegrationPicked } from './onIntegrationPicked.ts';
import { onRequestAgainClicked } from './onRequestAgainClicked.ts';
import { onRevokeClicked } from './onRevokeClicked.ts';
import { onShowCredentialsClicked } from './onShowCredentialsClicked.ts';
import { requestButtonListener, type RequestButtonHandler } from './requestButton.ts';

/** The handler of each request button. */
const REQUEST_BUTTONS: Record<RequestAction, RequestButtonHandler> = {
  approve: onApproveClicked,
  deny: onDenyClicked,
  showCredentials: onShowCredentialsClicked,
  extend: onExtendClicked,
  revoke: onRevokeClicked,
  cancel: onCancelClicked,
  requestAgain: onRequestAgainClicked,
  reviewed: onReviewedClicked,
  flagged: onFlaggedClicked,
};

/**
 * The buttons and the request modal's pickers. Each click is acknowledged at once; a button
 * carries only the request ID, and every decision about who may do what is the service's, made
 * again on each click.
 */
export function registerActions(app: App, edge: SlackEdge): void {
  for (const [action, handle] of Object.entries(REQUEST_BUTTONS) as [RequestAction, RequestButtonHandler][]) {
    app.action<BlockAction<ButtonAction>>(requestActionPattern(action), requestButtonListener(edge, action, handle));
  }
  app.action<BlockAction>(ACTION.pickIntegration, (args) => onIntegrationPicked(edge, args));
  // Picking a database, schema or table needs no answer beyond the acknowledgement: the
  // choice is read when the form is submitted.
  for (const id of [ACTION.pickDatabase, ACTION.pickSchema, ACTION.pickTable]) {
    app.action(id, async ({ ack }) => ack());
  }
}
