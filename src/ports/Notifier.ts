import type { AccessRequest } from '../domain/request.ts';
import type { SessionSummary } from './SessionAudit.ts';
import type { LeftoverRemoval } from './TargetDatabase.ts';

/** What one revocation, reconciliation or clean-up removed on one integration. */
export interface LeftoverReport {
  integration: string;
  /** The person's database user; absent for the shared group roles. */
  dbUser?: string;
  requestId?: string;
  removals: LeftoverRemoval[];
}

/** What ending a departed person's access did, for the admins. */
export interface DepartureNotice {
  slackId: string;
  /** Grants taken away (their sessions ended with them). */
  revoked: string[];
  /** Requests that waited for approval, or for their grant, and will not be granted. */
  cancelled: string[];
  /** Grants whose revocation failed now: retried with backoff like any other. */
  failing: string[];
}

/**
 * Tells people what happened. The Slack notifier DMs and posts; a failed notification never
 * undoes or blocks a grant or a revocation, so callers do not await its success for correctness.
 */
export interface Notifier {
  /** A new request waits for these approvers. */
  approvalRequested(request: AccessRequest): Promise<void>;
  /** The request changed status (approved, granted, denied, expired, revoked, failed, timedout, cancelled). */
  requestUpdated(request: AccessRequest): Promise<void>;
  /** The grant expires soon; the requester may extend it. */
  expiringSoon(request: AccessRequest): Promise<void>;
  /** Revocation has failed repeatedly; admins should look. */
  revocationFailing(request: AccessRequest, attempts: number, error: string): Promise<void>;
  /**
   * The request still waits for approvers who have not decided. Optional: a notifier without it
   * (the log) has nobody to remind.
   */
  approvalReminder?(request: AccessRequest): Promise<void>;
  /**
   * Sesame removed what a person (or a shared role) left behind: privileges, planted triggers,
   * objects. Admins should know; the details are for them only.
   */
  leftoversRemoved?(report: LeftoverReport): Promise<void>;
  /**
   * A person was deactivated in Slack: their grants were revoked and their waiting requests
   * cancelled. Admins should know.
   */
  personDeactivated?(report: DepartureNotice): Promise<void>;
  /** A grant has ended and its session logs were counted (integrations with `audit: true`). */
  sessionsCounted?(request: AccessRequest, counts: SessionSummary): Promise<void>;
  /**
   * A break-glass grant was made without approval: a loud alert to the approval channel, the
   * admins and the flow's approvers, who review it.
   */
  breakGlassUsed?(request: AccessRequest): Promise<void>;
  /** A break-glass grant was marked Reviewed or Flagged (a flag is told to the admins too). */
  breakGlassReviewed?(request: AccessRequest): Promise<void>;
  /** A break-glass grant still waits for review a day later. */
  breakGlassReviewReminder?(request: AccessRequest): Promise<void>;
}
