import type { Integration } from '../domain/integration.ts';
import { fromStatesOf, latestExpiry, LIVE_GRANT_STATUSES, type AccessRequest } from '../domain/request.ts';
import { describeError } from '../logger.ts';
import type { KeyedLock } from '../ports/Coordination.ts';
import { mintPassword } from '../domain/password.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from '../ports/Clock.ts';
import type { Directory } from '../ports/Directory.ts';
import type { ManagedUser, ManagedUserStore } from '../ports/ManagedUserStore.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { DropUserResult, TargetDatabases } from '../ports/TargetDatabase.ts';
import { SYSTEM, type AuditTrail } from './AuditTrail.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import { recordLeftovers } from './leftovers.ts';
import { notify, type RandomBytes } from './shared.ts';
import { userKey } from './userGrants.ts';

/** Where the audit trail says a dropped user's objects went. */
const HEIR_ROLE_NOTE = 'the heir role sesame_orphan_owner (cannot log in, holds no privilege)';

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;
/** The requester is told this long before expiry (PRODUCT.md §6). */
export const EXPIRY_REMINDER_MS = 10 * MINUTE_MS;
/** Pending requests are brought to approvers' attention again after this long without a decision. */
export const APPROVER_REMINDER_MS = 4 * 60 * MINUTE_MS;

/** The integration setting that says after how many days a user is due, and the moment it counts from. */
type DueSetting = 'credentialRotationDays' | 'userCleanupDays';
type DueSince = 'passwordSetAt' | 'lastRevokedAt';

/** The ports the scheduled upkeep uses. */
export interface MaintenanceDeps {
  integrations: Pick<IntegrationRegistry, 'get' | 'available'>;
  requests: RequestStore;
  users: ManagedUserStore;
  databases: TargetDatabases;
  notifier: Notifier;
  audit: AuditTrail;
  clock: Clock;
  logger: Logger;
  /** Per database user; shared with granting and revocation. */
  userLocks: KeyedLock;
  /** Who has left: asked when a reminder is due (Slack's user_change event is the other way in). */
  directory?: Pick<Directory, 'isDeactivated'>;
  /** Ends the access of a person who left. */
  personLeft?: (slackId: string) => Promise<unknown>;
  randomBytes: RandomBytes;
}

export interface ReconcileReport {
  integrations: number;
  usersChecked: number;
  usersCorrected: number;
  /** Things people or shared roles left behind that were found and removed. */
  leftoversRemoved: number;
  errors: string[];
}

/**
 * The scheduled upkeep: pending requests that time out, reminders, reconciliation of what the
 * databases say against what the store says, password rotation and clean-up of old users.
 * Every job is safe to run twice and to be stopped half way.
 */
export class MaintenanceService {
  constructor(private readonly deps: MaintenanceDeps) {}

  /** Ends pending requests past their TTL and tells the requester. */
  async timeOutPending(): Promise<number> {
    const { requests, clock } = this.deps;
    return this.markEach(
      await requests.listPendingPastTtl(clock.now()),
      (req) =>
        requests.transition(
          req.id,
          fromStatesOf('timedout'),
          'timedout',
          { endedAt: clock.now() },
          this.deps.audit.of('request.timedout', SYSTEM),
        ),
      'timed out',
      (timedOut) => this.deps.notifier.requestUpdated(timedOut),
    );
  }

  /** Tells requesters whose grant ends within ten minutes, once per expiry. */
  async remindExpiring(): Promise<number> {
    const { requests, clock } = this.deps;
    const horizon = clock.now().getTime() + EXPIRY_REMINDER_MS;
    return this.markEach(
      // Only the grants near their end: the (status, expires_at) index finds them among thousands.
      await requests.listRequests({ statuses: ['granted'], expiresBy: new Date(horizon) }),
      async (req) => {
        if (req.kind !== 'access' || !req.expiresAt || req.expiryReminderSentAt) return undefined;
        // The reminder asks Slack who the person is: one who left loses everything now instead.
        if (await this.left(req.requester.slackId)) return undefined;
        return requests.update(req.id, ['granted'], { expiryReminderSentAt: clock.now() });
      },
      'expiring soon',
      (marked) => this.deps.notifier.expiringSoon(marked),
    );
  }

  /**
   * Reminds approvers of requests that have waited {@link APPROVER_REMINDER_MS} since they were
   * made or since the last reminder, once per interval.
   */
  async remindApprovers(): Promise<number> {
    const { requests, clock } = this.deps;
    const now = clock.now().getTime();
    return this.markEach(
      await requests.listRequests({ statuses: ['pending'] }),
      async (req) => {
        const since = (req.approverReminderSentAt ?? req.createdAt).getTime();
        if (now - since < APPROVER_REMINDER_MS) return undefined;
        if (await this.left(req.requester.slackId)) return undefined;
        return requests.update(req.id, ['pending'], { approverReminderSentAt: clock.now() });
      },
      'approval reminder',
      async (marked) => this.deps.notifier.approvalReminder?.(marked),
    );
  }

  /** True when Slack says the person was deactivated; their access then ends (see DepartureService). */
  private async left(slackId: string): Promise<boolean> {
    const { directory, personLeft } = this.deps;
    if (!directory?.isDeactivated || !personLeft) return false;
    const gone = await directory.isDeactivated(slackId).catch(() => false);
    if (gone) await personLeft(slackId);
    return gone;
  }

  /**
   * The loop of the jobs that move requests on and tell someone: `mark` records the change with
   * a conditional update (undefined when the request is not due, or another replica got there
   * first), and only a request it marked is counted and `tell` about, so nobody hears twice. A
   * failed notification is logged as `what` and does not stop the rest.
   */
  private async markEach(
    requests: readonly AccessRequest[],
    mark: (req: AccessRequest) => Promise<AccessRequest | undefined>,
    what: string,
    tell: (marked: AccessRequest) => Promise<void>,
  ): Promise<number> {
    let count = 0;
    for (const req of requests) {
      const marked = await mark(req);
      if (!marked) continue;
      count++;
      await notify(this.deps.logger, what, () => tell(marked));
    }
    return count;
  }

  /**
   * Compares each server's managed users with the live grants in the store and takes away
   * whatever has no live grant behind it: group memberships left over, or login left enabled.
   * Users with a grant under way are left alone until it settles.
   */
  async reconcile(): Promise<ReconcileReport> {
    const { requests, databases } = this.deps;
    const report: ReconcileReport = { integrations: 0, usersChecked: 0, usersCorrected: 0, leftoversRemoved: 0, errors: [] };
    // Several integrations may point at one server: reconcile each server once, through the
    // first of them, with the grantable roles of all of them.
    const servers = new Map<string, Integration[]>();
    // An unavailable integration cannot be reached; its grants wait in `revoking` until it is back.
    for (const integration of this.deps.integrations.available()) {
      try {
        const key = await databases.get(integration.name).serverKey();
        servers.set(key, [...(servers.get(key) ?? []), integration]);
      } catch (err) {
        report.errors.push(`${integration.name}: ${describeError(err)}`);
      }
    }
    for (const [serverKey, integrations] of servers) {
      const integration = integrations[0]!;
      const db = databases.get(integration.name);
      const grantable = new Set(integrations.flatMap((i) => i.grantableRoles));
      report.integrations++;
      try {
        const shared = await db.secureSharedRoles();
        await recordLeftovers(this.deps, { integration: integration.name, removals: shared });
        report.leftoversRemoved += shared.length;
        for (const user of await db.listManagedUsers()) {
          report.usersChecked++;
          // Under the person's lock, with the store read again: a grant that lands meanwhile is
          // either finished and counted here, or waits until this is done.
          const corrected = await this.deps.userLocks.run(userKey(serverKey, user.username), async () => {
            const live = await requests.listRequests({ serverKey, dbUser: user.username, statuses: LIVE_GRANT_STATUSES });
            const access = live.filter((r) => r.kind === 'access');
            if (access.some((r) => r.status !== 'granted')) return false; // in flight: the grant or revocation finishes it
            const expected = new Set(access.flatMap((r) => r.grantedRoles ?? []));
            const excess = user.roles.filter((r) => !expected.has(r) && (user.groupRoles.includes(r) || grantable.has(r)));
            const loginLeftOn = access.length === 0 && user.canLogin;
            if (excess.length === 0 && !loginLeftOn) {
              // Nothing to take back, but the person may still have left something behind:
              // a trigger that fired since, a privilege handed out by hand (PRODUCT.md §5).
              if (!user.mayHaveLeftovers) return false;
              const removals = await db.removeLeftovers({
                username: user.username,
                keepRoles: [...expected],
                everything: access.length === 0,
              });
              await recordLeftovers(this.deps, { integration: integration.name, dbUser: user.username, removals });
              report.leftoversRemoved += removals.length;
              return removals.length > 0;
            }
            const result = await db.revoke({
              username: user.username,
              roles: excess,
              keepRoles: [...expected],
              validUntil: latestExpiry(access),
            });
            await this.deps.audit.record('reconcile.revoked', 'system', undefined, {
              integration: integration.name,
              dbUser: user.username,
              removedRoles: excess,
              loginDisabled: loginLeftOn,
            });
            await recordLeftovers(this.deps, { integration: integration.name, dbUser: user.username, removals: result.leftovers });
            report.leftoversRemoved += result.leftovers.length;
            return true;
          });
          if (corrected) report.usersCorrected++;
        }
      } catch (err) {
        const message = `${integration.name}: ${describeError(err)}`;
        report.errors.push(message);
        this.deps.logger.warn({ integration: integration.name, err: message }, 'reconciliation failed');
      }
    }
    return report;
  }

  /**
   * Replaces passwords older than `credentialRotationDays`, never while the user has a live
   * grant (it would cut off someone working). The new password is random and known to nobody:
   * the next reveal mints one the person sees.
   */
  rotateCredentials(): Promise<number> {
    return this.changeUsersDue({
      days: 'credentialRotationDays',
      since: 'passwordSetAt',
      failure: 'rotation failed',
      change: async (user, integration) => {
        await this.deps.databases.get(integration.name).setPassword(
          user.username,
          mintPassword((n) => this.deps.randomBytes(n)),
        );
        await this.deps.users.updateManagedUser(user.serverKey, user.username, { passwordSetAt: this.deps.clock.now() });
      },
      record: (user, integration) =>
        this.deps.audit.record('credentials.rotated', 'system', undefined, { integration: integration.name, dbUser: user.username }),
    });
  }

  /**
   * Drops users whose last grant ended more than `userCleanupDays` ago (0: at the first pass
   * after it). In every database, what they left behind is removed, their SECURITY DEFINER
   * routines become SECURITY INVOKER, what they own goes to a heir role that cannot log in and
   * holds nothing, the rest is dropped, then the user; the audit trail lists what was kept and
   * where. With `onlyImmediate`, only integrations with `userCleanupDays: 0` (the expire pass).
   */
  cleanUpUsers(options: { onlyImmediate?: boolean } = {}): Promise<number> {
    return this.changeUsersDue({
      days: 'userCleanupDays',
      since: 'lastRevokedAt',
      only: (integration) => !options.onlyImmediate || integration.userCleanupDays === 0,
      failure: 'user clean-up failed',
      change: async (user, integration) => {
        const result = await this.deps.databases.get(integration.name).dropUser(user.username);
        await this.deps.users.updateManagedUser(user.serverKey, user.username, { droppedAt: this.deps.clock.now() });
        return result;
      },
      record: async (user, integration, result: DropUserResult) => {
        await recordLeftovers(this.deps, { integration: integration.name, dbUser: user.username, removals: result.leftovers });
        await this.deps.audit.record('user.dropped', 'system', undefined, {
          integration: integration.name,
          dbUser: user.username,
          keptObjects: result.kept,
          madeSecurityInvoker: result.neutralised,
          ...(result.kept.length > 0 ? { keptBy: HEIR_ROLE_NOTE } : {}),
        });
      },
    });
  }

  /**
   * The loop of the jobs that change users who are due ({@link usersDue}): for each, `change`
   * under the person's lock while they hold no live grant ({@link whileNoLiveGrant}), then
   * `record` what it did. One person's failure is logged and the others still get their turn.
   * Returns how many were changed.
   */
  private async changeUsersDue<T>(job: {
    days: DueSetting;
    since: DueSince;
    /** Which integrations' users this pass takes (default all). */
    only?: (integration: Integration) => boolean;
    /** The log message when changing one person fails. */
    failure: string;
    change: (user: ManagedUser, integration: Integration) => Promise<T>;
    record: (user: ManagedUser, integration: Integration, result: T) => Promise<void>;
  }): Promise<number> {
    let count = 0;
    for (const { user, integration } of await this.usersDue(job.days, job.since)) {
      if (job.only && !job.only(integration)) continue;
      try {
        const changed = await this.whileNoLiveGrant(user, () => job.change(user, integration));
        if (!changed) continue;
        await job.record(user, integration, changed.result);
        count++;
      } catch (err) {
        this.deps.logger.warn({ dbUser: user.username, err: describeError(err) }, job.failure);
      }
    }
    return count;
  }

  /** Managed users whose `since` moment lies more than their integration's `days` setting in the past. */
  private async usersDue(days: DueSetting, since: DueSince): Promise<{ user: ManagedUser; integration: Integration }[]> {
    const due: { user: ManagedUser; integration: Integration }[] = [];
    const now = this.deps.clock.now().getTime();
    for (const user of await this.deps.users.listManagedUsers()) {
      const integration = this.integrationOf(user);
      const setting = integration?.[days];
      const at = user[since];
      if (!integration || setting === undefined || !at || user.droppedAt || now - at.getTime() < setting * DAY_MS) continue;
      due.push({ user, integration });
    }
    return due;
  }

  /**
   * Runs `work` under the person's lock if they hold no live grant on their server through any
   * integration, checked under that same lock so a grant cannot land between check and work.
   * Undefined when it did not run.
   */
  private whileNoLiveGrant<T>(user: ManagedUser, work: () => Promise<T>): Promise<{ result: T } | undefined> {
    return this.deps.userLocks.run(userKey(user.serverKey, user.username), async () => {
      const live = await this.deps.requests.listRequests({
        serverKey: user.serverKey,
        dbUser: user.username,
        statuses: LIVE_GRANT_STATUSES,
        limit: 1,
      });
      if (live.length > 0) return undefined;
      return { result: await work() };
    });
  }

  private integrationOf(user: ManagedUser): Integration | undefined {
    return this.deps.integrations.get(user.integration);
  }
}
