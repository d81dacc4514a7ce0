import type { Approval } from '../domain/request.ts';

/**
 * A message that was sent about a request (an approval DM, the approval channel's post, the
 * requester's DM), so every copy can be updated when the request changes.
 */
export interface NotificationRef {
  requestId: string;
  /** Who the message is for: `approver`, `channel` or `requester`. */
  audience: 'approver' | 'channel' | 'requester';
  /** Slack user the copy was sent to, for `approver` and `requester`. */
  recipient?: string;
  channel: string;
  ts: string;
  at: Date;
}

/**
 * What a notifier reads and writes of the state: the messages it sent about a request, so every
 * copy can be updated, and the decisions made on it, to show them. The state store provides it.
 */
export interface NotificationLog {
  /** Remembers a message sent about a request; the same (channel, ts) twice is kept once. */
  addNotification(ref: NotificationRef): Promise<void>;
  /** Every message sent about a request, oldest first. */
  listNotifications(requestId: string): Promise<NotificationRef[]>;
  listApprovals(requestId: string): Promise<Approval[]>;
}
