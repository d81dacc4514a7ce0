import { ConflictError, InputError, NotAllowedError } from '../domain/errors.ts';
import {
  canMove,
  ENDING_GRANT_STATUSES,
  fromStatesOf,
  isOnServer,
  type AccessRequest,
  type EndReason,
  type RequestOnServer,
} from '../domain/request.ts';
import { describeError, type Logger } from '../logger.ts';
import type { KeyedBounds } from '../lib/boundedByKey.ts';
import { markRecorded } from '../lib/recorded.ts';
import type { KeyedLock } from '../ports/Coordination.ts';
import type { Clock } from '../ports/Clock.ts';
import type { ManagedUserStore } from '../ports/ManagedUserStore.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { SessionAudit } from '../ports/SessionAudit.ts';
import type { TargetDatabases } from '../ports/TargetDatabase.ts';
import { SYSTEM, type Actor, type AuditDetails, type AuditTrail } from './AuditTrail.ts';
import { sweepByServer } from './expirySweep.ts';
import type { People } from './People.ts';
import { recordLeftovers } from './leftovers.ts';
import { notify, requireRequest } from './shared.ts';
import { userKey, whatOthersNeed } from './userGrants.ts';

/** After this many failed revocation attempts in a row, admins are told (and every 10 after). */
export const REVOKE_ALERT_AFTER_ATTEMPTS = 3;
const MINUTE_MS = 60_000;

/** Wait before retry `attempt` (1-based): 30 s, 1 m, 2 m, … capped at 30 minutes. */
export function revokeBackoffMs(attempt: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 30 * MINUTE_MS);
}

/** The ports revocation uses. */
export interface RevocationDeps {
  requests: RequestStore;
  users: Pick<ManagedUserStore, 'updateManagedUser'>;
  databases: TargetDatabases;
  notifier: Notifier;
  audit: AuditTrail;
  clock: Clock;
  logger: Logger;
  /** Who may end someone else's grant: admins, and the request's approvers as they resolve now. */
  people: Pick<People, 'isAdminOrCurrentApprover'>;
  /** Per database user; shared with every other step that changes users. */
  userLocks: KeyedLock;
  /** Session logs per grant, for integrations with `audit: true`. */
  sessions?: SessionAudit;
  /** How many revocations the expiry sweep runs at once; SWEEP_BOUNDS unless given. */
  sweepBounds?: KeyedBounds;
}

/**
 * Ending grants: on request, at expiry, and again after a failure. Every step records its intent
 * in the store before the database is touched and its outcome after, so the expiry sweep finishes
 * whatever a crash interrupted.
 */
export class RevocationService {
  constructor(private readonly deps: RevocationDeps) {}

  /**
   * Ends a live grant now. The requester may end their own; its approvers and admins may end it
   * too. Granting or already ending grants are taken over; ended ones are reported as they are.
   */
  async revoke(requestId: string, actorSlackId: string): Promise<AccessRequest> {
    const req = await this.mustGet(requestId);
    if (!(await this.mayRevoke(req, actorSlackId))) {
      throw new NotAllowedError(`Only the requester, an approver of ${req.id} or a Sesame admin can revoke it; nothing was changed.`);
    }
    if (req.kind === 'extension') {
      throw new InputError(`${req.id} is an extension; revoke the request it extends (${req.parentId}).`);
    }
    if (ENDING_GRANT_STATUSES.includes(req.status)) return req;
    if (!canMove(req.status, 'revoking')) {
      throw new ConflictError(
        `${req.id} is ${req.status}, not granted, so there is nothing to revoke.${req.status === 'pending' ? ` Use cancel ${req.id} to withdraw it.` : ''}`,
      );
    }
    const revoking = await this.beginRevoking(req, actorSlackId, await this.deps.audit.actorOf(actorSlackId, req));
    if (!revoking) return this.mustGet(req.id);
    // From here the expiry sweep of any replica finishes it, should this one die.
    markRecorded();
    return this.performRevocation(revoking);
  }

  /**
   * Whether this person may end the request's grant: the requester, a Sesame admin, or one of its
   * approvers. Approvers are its approver groups as they resolve when the click arrives, as for
   * a decision: someone who has left the group since no longer may, someone who joined may.
   */
  private async mayRevoke(req: AccessRequest, actorSlackId: string): Promise<boolean> {
    return req.requester.slackId === actorSlackId || this.deps.people.isAdminOrCurrentApprover(req, actorSlackId);
  }

  /**
   * The expiry sweep: ends every grant past its expiry and retries revocations that are due,
   * servers side by side and a few at a time on each (see {@link sweepByServer}); one person's
   * grants on one server still end one after another, under their lock. Returns how many
   * requests it worked on.
   */
  async expireDue(limit = 500): Promise<number> {
    const due = await this.deps.requests.listDueForRevocation(this.deps.clock.now(), limit);
    await sweepByServer(due, (req) => this.expireOne(req), this.deps.logger, this.deps.sweepBounds);
    return due.length;
  }

  /**
   * Records that a grant (or one being made) is revoked now: `revoking`, with its audit event,
   * before the database is touched, so any replica's sweep finishes it. Undefined when it was
   * already ending or has ended.
   */
  beginRevoking(req: AccessRequest, endedBy: string, who: Actor, details: AuditDetails = {}): Promise<AccessRequest | undefined> {
    return this.deps.requests.transition(
      req.id,
      fromStatesOf('revoking'),
      'revoking',
      { endReason: 'revoked', endedBy },
      this.deps.audit.of('grant.revoking', who, details),
    );
  }

  /** One request of the sweep: a grant past its expiry starts ending; a due retry runs again. */
  private async expireOne(req: AccessRequest): Promise<void> {
    let revoking: AccessRequest | undefined = req;
    if (req.status === 'granted') {
      revoking = await this.deps.requests.transition(
        req.id,
        ['granted'],
        'revoking',
        { endReason: 'expired', endedBy: 'system' },
        this.deps.audit.of('grant.revoking', SYSTEM, { reason: 'expired' }),
      );
    }
    if (revoking) await this.performRevocation(revoking);
  }

  /**
   * Takes away what one grant gave, keeping what the person's other live grants need; disables
   * login when nothing is left. A failure is recorded and retried with backoff; admins are told
   * after repeated failures. VALID UNTIL keeps new logins out meanwhile.
   */
  async performRevocation(req: AccessRequest): Promise<AccessRequest> {
    const { requests, clock } = this.deps;
    const endReason: EndReason = req.endReason ?? 'revoked';
    const finalStatus = endReason === 'expired' ? 'expired' : 'revoked';
    if (!isOnServer(req)) {
      // Nothing reached the database (the crash came before `granting` was recorded fully).
      return (await requests.transition(req.id, fromStatesOf(finalStatus), finalStatus, { endedAt: clock.now() })) ?? req;
    }
    try {
      const ended = await this.deps.userLocks.run(userKey(req.serverKey, req.dbUser), () => this.revokeUnderLock(req, finalStatus));
      if (!ended) return (await requests.getRequest(req.id)) ?? req;
      // Slack and the session logs may be slow: neither holds the person's lock.
      await notify(this.deps.logger, finalStatus, () => this.deps.notifier.requestUpdated(ended));
      await this.countSessions(ended);
      return ended;
    } catch (err) {
      return this.retryLater(req, err);
    }
  }

  /** The database step of a revocation and its end state, under the person's lock; undefined when it was already finished. */
  private async revokeUnderLock(req: RequestOnServer, finalStatus: 'expired' | 'revoked'): Promise<AccessRequest | undefined> {
    const { requests, clock, audit } = this.deps;
    // Another sweep or a revoke click may have finished it while this waited for the lock.
    const still = await requests.getRequest(req.id);
    if (still?.status !== 'revoking') return undefined;
    const { others, keepRoles, validUntil } = await whatOthersNeed(requests, req);
    const db = this.deps.databases.get(req.target.integration);
    const result = await db.revoke({
      username: req.dbUser,
      roles: req.grantedRoles ?? [],
      keepRoles,
      validUntil,
    });
    const now = clock.now();
    const ended = await requests.transition(
      req.id,
      fromStatesOf(finalStatus),
      finalStatus,
      { endedAt: now, lastError: null },
      audit.of(finalStatus === 'expired' ? 'grant.expired' : 'grant.revoked', await audit.actorOf(req.endedBy ?? 'system', req), {
        dbUser: req.dbUser,
        removedRoles: result.removedRoles,
        terminatedSessions: result.terminatedSessions,
        attempts: req.revokeAttempts + 1,
      }),
    );
    if (ended && others.length === 0) {
      await this.deps.users.updateManagedUser(req.serverKey, req.dbUser, { lastRevokedAt: now });
    }
    if (ended) {
      await recordLeftovers(
        this.deps,
        { integration: req.target.integration, dbUser: req.dbUser, requestId: req.id, removals: result.leftovers },
        ended,
      );
    }
    return ended;
  }

  /** Records a failed attempt with the time of the next one; admins hear of repeated failures. */
  private async retryLater(req: AccessRequest, err: unknown): Promise<AccessRequest> {
    const message = describeError(err);
    const attempts = req.revokeAttempts + 1;
    this.deps.logger.warn({ requestId: req.id, attempts, err: message }, 'revocation failed; will retry');
    const updated = await this.deps.requests.update(
      req.id,
      ['revoking'],
      {
        revokeAttempts: attempts,
        nextAttemptAt: new Date(this.deps.clock.now().getTime() + revokeBackoffMs(attempts)),
        lastError: message,
      },
      this.deps.audit.of('grant.revoke_failed', SYSTEM, { attempts, error: message }),
    );
    if (attempts === REVOKE_ALERT_AFTER_ATTEMPTS || (attempts > REVOKE_ALERT_AFTER_ATTEMPTS && attempts % 10 === 0)) {
      await notify(this.deps.logger, 'revocation failing', () => this.deps.notifier.revocationFailing(updated ?? req, attempts, message));
    }
    return updated ?? req;
  }

  /**
   * For integrations with `audit: true`: reads what is new in the server's logs, counts the ended
   * grant's sessions and statements, records the counts in the audit trail and posts them, with
   * the first statements, in the request's threads.
   * A log that cannot be read is logged; it never holds up the revocation.
   */
  private async countSessions(ended: AccessRequest): Promise<void> {
    if (!this.deps.sessions) return;
    try {
      const counts = await this.deps.sessions.countsFor(ended);
      if (!counts) return;
      await this.deps.audit.record('grant.sessions', 'system', ended, {
        dbUser: ended.dbUser,
        sessions: counts.sessions,
        statements: counts.statements,
      });
      const notifier = this.deps.notifier;
      if (notifier.sessionsCounted) await notify(this.deps.logger, 'session counts', () => notifier.sessionsCounted!(ended, counts));
    } catch (err) {
      this.deps.logger.warn({ requestId: ended.id, err: describeError(err) }, 'session logs could not be counted');
    }
  }

  private mustGet(id: string): Promise<AccessRequest> {
    return requireRequest(this.deps.requests, id);
  }
}
