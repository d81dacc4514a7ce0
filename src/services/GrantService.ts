import { ConflictError } from '../domain/errors.ts';
import {
  fromStatesOf,
  isGranted,
  isOnServer,
  latestExpiry,
  UNFINISHED_GRANT_STATUSES,
  type AccessRequest,
  type RequestOnServer,
} from '../domain/request.ts';
import { databaseUserName } from '../domain/username.ts';
import type { Integration } from '../domain/integration.ts';
import { describeError, type Logger } from '../logger.ts';
import type { KeyedLock } from '../ports/Coordination.ts';
import type { Clock } from '../ports/Clock.ts';
import type { ManagedUser, ManagedUserStore } from '../ports/ManagedUserStore.ts';
import type { Notifier } from '../ports/Notifier.ts';
import type { RequestStore } from '../ports/RequestStore.ts';
import type { TargetDatabase, TargetDatabases } from '../ports/TargetDatabase.ts';
import { SYSTEM, type AuditTrail } from './AuditTrail.ts';
import type { IntegrationRegistry } from './IntegrationRegistry.ts';
import { notify, requireIntegration, requireRequest } from './shared.ts';
import { userKey, whatOthersNeed } from './userGrants.ts';

const MINUTE_MS = 60_000;

/** The ports granting uses. */
export interface GrantDeps {
  integrations: Pick<IntegrationRegistry, 'get' | 'list'>;
  requests: RequestStore;
  users: ManagedUserStore;
  databases: TargetDatabases;
  notifier: Pick<Notifier, 'requestUpdated'>;
  audit: AuditTrail;
  clock: Clock;
  logger: Logger;
  /** Per database user; shared with every other step that changes users. */
  userLocks: KeyedLock;
}

/**
 * Granting: an approved request becomes a database user with the roles it asked for, and an
 * approved extension moves the grant's expiry. Every step records its intent in the store before
 * the database is touched and its outcome after, so {@link resume} can finish whatever a crash
 * interrupted.
 */
export class GrantService {
  constructor(private readonly deps: GrantDeps) {}

  /**
   * Grants an `approved` access request: records `granting`, creates or enables the person's
   * database user, makes it a member of the role for the permission on the target, records
   * `granted`. A failure records `failed` and tells the requester. Safe to call twice.
   */
  async grant(requestId: string): Promise<AccessRequest> {
    const current = await this.mustGet(requestId);
    if (current.kind === 'extension') return this.applyExtension(current);
    const integration = requireIntegration(this.deps.integrations, current.target.integration);
    const db = this.deps.databases.get(integration.name);
    let started: AccessRequest | undefined;
    try {
      const serverKey = await db.serverKey();
      const dbUser = databaseUserName(current.requester, integration.userNameTemplate);
      await this.assertUserIsTheirs(serverKey, dbUser, current, integration);
      started = await this.start(requestId, current, serverKey, dbUser);
      if (!started) return current; // someone else is granting or it was already decided
      const req = started;
      const outcome = await this.deps.userLocks.run(userKey(serverKey, dbUser), () =>
        this.grantUnderLock(req, serverKey, dbUser, integration, db),
      );
      if (outcome.status === 'granted') await notify(this.deps.logger, 'granted', () => this.deps.notifier.requestUpdated(outcome));
      return outcome;
    } catch (err) {
      return this.fail(requestId, err, started);
    }
  }

  /**
   * Finishes what a crash interrupted: approved requests are granted, `granting` ones granted
   * again (idempotent), approved extensions applied. A grant whose time has passed meanwhile is
   * then ended by the next expiry sweep, which runs at start. Returns how many it finished.
   * With `olderThanMs`, only requests left that long (the expiry job finishes those a replica
   * left when it died; the person's lock keeps it from racing one that is still at work).
   */
  async resume(options: { olderThanMs?: number } = {}): Promise<number> {
    const before = this.deps.clock.now().getTime() - (options.olderThanMs ?? 0);
    const pending = (await this.deps.requests.listRequests({ statuses: UNFINISHED_GRANT_STATUSES })).filter(
      (r) => (r.kind === 'access' || !r.grantedAt) && lastMoved(r) <= before,
    );
    for (const req of pending) {
      try {
        await this.grant(req.id);
      } catch (err) {
        this.deps.logger.error({ requestId: req.id, err: describeError(err) }, 'resume failed');
      }
    }
    return pending.length;
  }

  /**
   * Applies approved extensions that are not applied yet: one whose database step failed is
   * tried again on the expiry schedule, not only at the next start.
   */
  async applyPendingExtensions(): Promise<number> {
    const pending = (await this.deps.requests.listRequests({ statuses: ['approved'] })).filter(
      (r) => r.kind === 'extension' && !r.grantedAt,
    );
    for (const ext of pending) {
      try {
        await this.applyExtension(ext);
      } catch (err) {
        this.deps.logger.warn({ requestId: ext.id, err: describeError(err) }, 'extension could not be applied; will retry');
      }
    }
    return pending.length;
  }

  /**
   * Applies an approved extension to the grant it extends: the new expiry is the later of the
   * current expiry and now, plus the extension's duration; VALID UNTIL follows.
   */
  async applyExtension(ext: AccessRequest): Promise<AccessRequest> {
    const { requests, clock, logger, notifier } = this.deps;
    if (ext.status !== 'approved' || !ext.parentId || ext.grantedAt) return ext;
    const parent = await this.mustGet(ext.parentId);
    if (!isGranted(parent)) {
      const failed = await requests.transition(ext.id, ['approved'], 'failed', {
        lastError: `${parent.id} is ${parent.status}; only granted access can be extended.`,
        endedAt: clock.now(),
      });
      if (failed) await notify(logger, 'failed', () => notifier.requestUpdated(failed));
      return failed ?? ext;
    }
    // The extension's expiresAt is fixed when it is approved, so applying it twice changes nothing.
    const wanted = ext.expiresAt ?? new Date(Math.max(parent.expiresAt.getTime(), clock.now().getTime()) + ext.durationMinutes * MINUTE_MS);
    const fixed = ext.expiresAt ? ext : await requests.update(ext.id, ['approved'], { expiresAt: wanted });
    const newExpiry = fixed?.expiresAt ?? wanted;
    const extended =
      newExpiry > parent.expiresAt
        ? await requests.update(parent.id, ['granted'], { expiresAt: newExpiry, expiryReminderSentAt: null })
        : parent;
    if (!extended) return this.mustGet(ext.id);
    const db = this.deps.databases.get(parent.target.integration);
    await this.deps.userLocks.run(userKey(parent.serverKey, parent.dbUser), async () => {
      await db.grant({
        username: parent.dbUser,
        ownerLabel: parent.requester.email ?? parent.requester.slackId,
        ownerId: parent.requester.slackId,
        target: parent.target,
        permission: parent.permission,
        validUntil: await this.latestExpiry(extended, parent.serverKey, parent.dbUser),
        auditStatements: this.deps.integrations.get(parent.target.integration)?.audit === true,
      });
    });
    // An applied extension stays `approved` (it holds no grant of its own); grantedAt marks it applied.
    const done =
      (await requests.update(ext.id, ['approved'], { grantedAt: clock.now() }, () =>
        this.deps.audit.of('grant.extended', SYSTEM, { extensionId: ext.id, expiresAt: newExpiry.toISOString() })(extended),
      )) ?? ext;
    if (extended !== parent) await notify(logger, 'extended', () => notifier.requestUpdated(extended));
    return done;
  }

  /** Records `granting` with the user and the expiry; undefined when this call is not the one to grant. */
  private async start(requestId: string, current: AccessRequest, serverKey: string, dbUser: string): Promise<AccessRequest | undefined> {
    const now = this.deps.clock.now();
    const started = await this.deps.requests.transition(
      requestId,
      fromStatesOf('granting'),
      'granting',
      { serverKey, dbUser, expiresAt: new Date(now.getTime() + current.durationMinutes * MINUTE_MS) },
      this.deps.audit.of('grant.started', SYSTEM, { dbUser }),
    );
    return started ?? (current.status === 'granting' ? current : undefined);
  }

  /** The database step of a grant and `granted`, under the person's lock. */
  private async grantUnderLock(
    req: AccessRequest,
    serverKey: string,
    dbUser: string,
    integration: Integration,
    db: TargetDatabase,
  ): Promise<AccessRequest> {
    const { requests, clock, audit } = this.deps;
    // A revocation may have taken the request over while this waited for the lock.
    const still = await requests.getRequest(req.id);
    if (still?.status !== 'granting') return still ?? req;
    const existing = await this.deps.users.getManagedUser(serverKey, dbUser);
    const validUntil = await this.latestExpiry(req, serverKey, dbUser);
    const result = await db.grant({
      username: dbUser,
      ownerLabel: req.requester.email ?? req.requester.slackId,
      ownerId: req.requester.slackId,
      target: req.target,
      permission: req.permission,
      validUntil,
      auditStatements: integration.audit === true,
    });
    await this.recordUser(req, serverKey, dbUser, integration, existing);
    const granted = await requests.transition(
      req.id,
      fromStatesOf('granted'),
      'granted',
      { grantedRoles: result.roles, grantedAt: clock.now() },
      (r) => [
        ...(result.userCreated ? [audit.of('user.created', SYSTEM, { dbUser })(r)] : []),
        audit.of('grant.granted', SYSTEM, { dbUser, roles: result.roles, expiresAt: r.expiresAt?.toISOString() })(r),
      ],
    );
    return granted ?? (await requests.getRequest(req.id)) ?? req;
  }

  /** Records the person's database user: new, or dropped by clean-up and created again by this grant. */
  private async recordUser(
    req: AccessRequest,
    serverKey: string,
    dbUser: string,
    integration: Integration,
    existing: ManagedUser | undefined,
  ): Promise<void> {
    const { users, clock } = this.deps;
    if (!existing) {
      await users.upsertManagedUser({
        serverKey,
        username: dbUser,
        integration: integration.name,
        slackId: req.requester.slackId,
        ...(req.requester.email ? { email: req.requester.email } : {}),
        createdAt: clock.now(),
      });
    } else if (existing.droppedAt) {
      // Dropped by clean-up and created again by this grant: a new life for the same name.
      await users.updateManagedUser(serverKey, dbUser, { droppedAt: null, lastRevokedAt: null, passwordSetAt: null });
    }
  }

  /** Records `failed` and tells the requester; what reached the database is taken away again. */
  private async fail(requestId: string, err: unknown, started: AccessRequest | undefined): Promise<AccessRequest> {
    const { requests, clock, logger } = this.deps;
    const message = describeError(err);
    logger.warn({ requestId, err: message }, 'grant failed');
    const failed = await requests.transition(
      requestId,
      fromStatesOf('failed'),
      'failed',
      { lastError: message, endedAt: clock.now() },
      this.deps.audit.of('grant.failed', SYSTEM, { error: message }),
    );
    if (failed) {
      await notify(logger, 'failed', () => this.deps.notifier.requestUpdated(failed));
      // Whatever part of the grant reached the database must not outlive the failure.
      if (started?.dbUser && isOnServer(failed)) await this.cleanUpFailedGrant(failed);
      return failed;
    }
    throw err;
  }

  /** The VALID UNTIL a user needs: the latest expiry of this grant and the person's other ones. */
  private async latestExpiry(req: AccessRequest, serverKey: string, dbUser: string): Promise<Date> {
    const { validUntil } = await whatOthersNeed(this.deps.requests, { ...req, serverKey, dbUser });
    return latestExpiry([req, ...(validUntil ? [{ expiresAt: validUntil }] : [])]) ?? this.deps.clock.now();
  }

  private async cleanUpFailedGrant(failed: RequestOnServer): Promise<void> {
    try {
      const { keepRoles, validUntil } = await whatOthersNeed(this.deps.requests, failed);
      await this.deps.databases.get(failed.target.integration).revoke({
        username: failed.dbUser,
        roles: failed.grantedRoles ?? [],
        keepRoles,
        validUntil,
      });
    } catch (err) {
      // Reconciliation removes whatever is left; the failure itself is already recorded.
      this.deps.logger.warn({ requestId: failed.id, err: describeError(err) }, 'clean-up after a failed grant failed');
    }
  }

  /**
   * A managed user belongs to exactly one person (PRODUCT.md §5). A name template that gives a
   * second person the same name (`{emailLocal}` for alice@corp and alice@contractor) must fail
   * before anything is recorded or sent, never hand the first person's user to the second.
   */
  private async assertUserIsTheirs(serverKey: string, dbUser: string, req: AccessRequest, integration: Integration): Promise<void> {
    const existing = await this.deps.users.getManagedUser(serverKey, dbUser);
    if (!existing || existing.slackId === req.requester.slackId) return;
    throw new ConflictError(
      `The database user name ${dbUser} on ${integration.name} already belongs to another person (${existing.email ?? existing.slackId}), and two people never share a database user. An admin must change the integration's userNameTemplate (now ${integration.userNameTemplate ?? '{email}'}; {email} or {slackId} give every person their own name).`,
    );
  }

  private mustGet(id: string): Promise<AccessRequest> {
    return requireRequest(this.deps.requests, id);
  }
}

/** When an unfinished request last moved: approved (or created approved), or its grant started. */
function lastMoved(r: AccessRequest): number {
  if (r.status === 'granting' && r.expiresAt) return r.expiresAt.getTime() - r.durationMinutes * 60_000;
  return (r.decidedAt ?? r.createdAt).getTime();
}
