/**
 * Who a config entry names: a Slack user ID (`U0BOB`), an email, a user group handle
 * (`@platform`) or everyone (`*`).
 */
export type Principal =
  | { kind: 'user'; slackId: string }
  | { kind: 'email'; email: string }
  | { kind: 'group'; handle: string }
  | { kind: 'everyone' };

export const SLACK_USER_ID_RE = /^[UW][A-Z0-9]{2,}$/;
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const GROUP_RE = /^@[a-z0-9][a-z0-9._-]*$/i;

export const PRINCIPAL_USAGE = 'a Slack user ID (U0123ABCD), an email (ops@example.com), a user group handle (@platform) or "*"';

export function parsePrincipal(text: string): Principal | undefined {
  const t = text.trim();
  if (t === '*') return { kind: 'everyone' };
  if (SLACK_USER_ID_RE.test(t)) return { kind: 'user', slackId: t };
  if (EMAIL_RE.test(t)) return { kind: 'email', email: t.toLowerCase() };
  if (GROUP_RE.test(t)) return { kind: 'group', handle: t.slice(1).toLowerCase() };
  return undefined;
}
