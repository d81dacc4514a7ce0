import type { types } from '@slack/bolt';
import type { Credentials } from '../../../services/CredentialService.ts';
import { VIEW } from '../ids.ts';
import { context, fields, plain, section } from './elements.ts';
import { escapeWithin, LIMITS, slackDate } from './text.ts';

/**
 * The credentials modal: host, port, database, user, the password minted for this reveal (or
 * the IAM token commands) and a ready `postgresql://` URI with its sslmode. A modal is seen by
 * the person who clicked only, which is why the password goes here and nowhere else.
 */
export function credentialsModal(creds: Credentials): types.ModalView {
  const blocks: types.KnownBlock[] = [
    fields([
      ['Host', code(creds.host)],
      ['Port', code(String(creds.port))],
      ['Database', code(creds.database)],
      ['User', code(creds.username)],
      ['SSL mode', code(creds.sslMode)],
      ['Expires', slackDate(creds.expiresAt)],
    ]),
  ];
  if (creds.password) {
    blocks.push(section(`*Password*\n${code(creds.password)}`));
  }
  blocks.push(section(`*Connection URI*\n${block(creds.uri)}`));
  if (creds.iamCommands?.length) {
    blocks.push(
      section(`*Sign in with an IAM token* (valid for 15 minutes; run again for a new one)\n${block(creds.iamCommands.join('\n'))}`),
    );
  }
  if (creds.iamPolicy) {
    blocks.push(section(`*The IAM policy your AWS identity needs*\n${block(creds.iamPolicy)}`));
  }
  if (creds.customAccessDetails) {
    blocks.push(section(`*How to connect*\n${escapeWithin(creds.customAccessDetails, 1000)}`));
  }
  blocks.push(
    context(
      creds.password
        ? `Request \`${creds.requestId}\` · This password was made just now and replaces the previous one. Sesame does not keep it; copy it now.`
        : `Request \`${creds.requestId}\``,
    ),
  );
  return {
    type: 'modal',
    callback_id: VIEW.credentials,
    title: plain('Your credentials', LIMITS.modalTitle),
    close: plain('Done', LIMITS.modalTitle),
    blocks,
  };
}

function code(text: string): string {
  return `\`${escapeWithin(text, 1800)}\``;
}

function block(text: string): string {
  return `\`\`\`${escapeWithin(text, 2800)}\`\`\``;
}

/**
 * The credentials modal before its content, or instead of it: what is happening (a password
 * being made) or what went wrong.
 */
export function credentialsNoticeModal(text: string): types.ModalView {
  return {
    type: 'modal',
    title: plain('Your credentials', LIMITS.modalTitle),
    close: plain('Close', LIMITS.modalTitle),
    blocks: [section(text)],
  };
}
