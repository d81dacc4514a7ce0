/**
 * The action IDs and view callback IDs Sesame's surfaces use, in one place so builders and
 * listeners cannot drift apart. A button's action ID carries the request ID after a colon:
 * Slack requires action IDs to be unique within a message or view, and the Home tab shows the
 * same buttons for many requests.
 */
export const ACTION = {
  approve: 'sesame.approve',
  deny: 'sesame.deny',
  showCredentials: 'sesame.credentials',
  extend: 'sesame.extend',
  revoke: 'sesame.revoke',
  cancel: 'sesame.cancel',
  /** On a request that ended: opens the request modal filled in with what it asked for. */
  requestAgain: 'sesame.requestAgain',
  /** On a break-glass alert: the reviewer found the use fine, or wants it looked into. */
  reviewed: 'sesame.breakglass.reviewed',
  flagged: 'sesame.breakglass.flagged',
  /** The request modal's integration picker: choosing one redraws the permissions. */
  pickIntegration: 'sesame.request.integration',
  pickDatabase: 'sesame.request.database',
  pickSchema: 'sesame.request.schema',
  pickTable: 'sesame.request.table',
} as const;

export type RequestAction =
  | 'approve'
  | 'deny'
  | 'showCredentials'
  | 'extend'
  | 'revoke'
  | 'cancel'
  | 'requestAgain'
  | 'reviewed'
  | 'flagged';

/** Callback IDs of the modals. */
export const VIEW = {
  request: 'sesame.request',
  deny: 'sesame.deny',
  extend: 'sesame.extend',
  credentials: 'sesame.credentials',
} as const;

/** The action ID of a request's button: `sesame.approve:R7K3QX`. */
export function requestActionId(action: RequestAction, requestId: string): string {
  return `${ACTION[action]}:${requestId}`;
}

/** Matches the action IDs of one kind of request button, whatever request they are for. */
export function requestActionPattern(action: RequestAction): RegExp {
  return new RegExp(`^${ACTION[action].replaceAll('.', '\\.')}:`);
}
