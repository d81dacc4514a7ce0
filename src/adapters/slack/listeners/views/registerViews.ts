import type { App, ViewSubmitAction } from '@slack/bolt';
import { VIEW } from '../../ids.ts';
import type { SlackEdge } from '../context.ts';
import { onDenySubmitted } from './onDenySubmitted.ts';
import { onExtendSubmitted } from './onExtendSubmitted.ts';
import { onRequestSubmitted } from './onRequestSubmitted.ts';

/**
 * Submissions of the request, deny and extend modals. Each is validated by the service it goes
 * to; what the service refuses comes back on the block it concerns (`response_action: errors`)
 * and changes nothing.
 */
export function registerViews(app: App, edge: SlackEdge): void {
  app.view<ViewSubmitAction>(VIEW.request, (args) => onRequestSubmitted(edge, args));
  app.view<ViewSubmitAction>(VIEW.deny, (args) => onDenySubmitted(edge, args));
  app.view<ViewSubmitAction>(VIEW.extend, (args) => onExtendSubmitted(edge, args));
}
