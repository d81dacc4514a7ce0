import type { AccessRequest } from '../domain/request.ts';
import type { DepartureNotice, LeftoverReport } from './Notifier.ts';
import type { SessionSummary } from './SessionAudit.ts';

/** What went wrong where a person was told only that it failed: the admins get the details. */
export interface InternalErrorAlert {
  /** What the person was doing: `command extend`, `button showCredentials`, … */
  where: string;
  /** The error's own words, for the admins: hosts, the connector, what the database said. */
  details: string;
}

/** One notifier call, as the outbox keeps it and the delivery side makes it. */
export type Notification =
  | { kind: 'approvalRequested'; request: AccessRequest }
  | { kind: 'requestUpdated'; request: AccessRequest }
  | { kind: 'expiringSoon'; request: AccessRequest }
  | { kind: 'approvalReminder'; request: AccessRequest }
  | { kind: 'revocationFailing'; request: AccessRequest; attempts: number; error: string }
  | { kind: 'sessionsCounted'; request: AccessRequest; counts: SessionSummary }
  | { kind: 'leftoversRemoved'; report: LeftoverReport }
  | { kind: 'internalError'; alert: InternalErrorAlert }
  | { kind: 'personDeactivated'; report: DepartureNotice }
  | { kind: 'breakGlassUsed'; request: AccessRequest }
  | { kind: 'breakGlassReviewed'; request: AccessRequest }
  | { kind: 'breakGlassReviewReminder'; request: AccessRequest };

export type NotificationKind = Notification['kind'];

/**
 * The posts of one delivery, by name. A delivery that failed half way, or whose replica died,
 * is made again; the posts it had made are not.
 */
export interface DeliverySteps {
  /**
   * Makes `post` unless an earlier attempt made it, then records it made (which also keeps the
   * delivery's claim). Throws when another replica has taken the delivery over: stop then.
   */
  once(step: string, post: () => Promise<void>): Promise<void>;
}

/** Makes every post of a notification (the Slack notifier); throws when some could not be made. */
export interface NotificationDelivery {
  /** Names the medium in the log: `Slack`. */
  readonly medium: string;
  deliver(notification: Notification, steps: DeliverySteps): Promise<void>;
}
