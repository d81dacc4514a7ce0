import { forgetSecret, registerSecret } from '../../../../logger.ts';
import { credentialsModal, credentialsNoticeModal } from '../../blocks/credentialsModal.ts';
import { explainAndLog, type SlackEdge } from '../context.ts';
import type { Click } from './requestButton.ts';

/** Show credentials: a new password for the clicker's grant, in a modal only they see. */
export async function onShowCredentialsClicked(edge: SlackEdge, { body, client, userId, requestId }: Click): Promise<void> {
  // The trigger expires 3 seconds after the click and minting a password takes a round trip
  // to the database: a modal opens at once and is filled in when the password is set.
  const opened = await client.views.open({ trigger_id: body.trigger_id, view: credentialsNoticeModal('Making a new password…') });
  const viewId = opened.view?.id;
  try {
    const creds = await edge.services.credentials.revealCredentials(requestId, userId);
    // Known as a secret while it is on its way, so no log line can carry it.
    registerSecret(creds.password);
    try {
      if (viewId) await client.views.update({ view_id: viewId, view: credentialsModal(creds) });
    } finally {
      forgetSecret(creds.password);
    }
  } catch (err) {
    const { text } = explainAndLog(edge, err, 'show credentials');
    if (viewId) await client.views.update({ view_id: viewId, view: credentialsNoticeModal(text) });
  }
}
