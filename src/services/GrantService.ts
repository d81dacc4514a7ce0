import { ConflictError, InputError, integrationNotFound, NotAllowedError } from '../domain/errors.ts';
import {
  canMove,
  ENDING_GRANT_STATUSES,
  fromStatesOf,
  isGranted,
  isOnServer,
  latestExpiry,
  REVOCABLE_STATUSES,
  UNFINISHED_GRANT_STATUSES,
  type AccessRequest,
  type EndReason,
  type RequestOnServer,
} from '../domain/request.ts';
import { iamConnectDetails } from '../domain/iamConnect.ts';
import { mintPassword } from '../domain/password.ts';
import { databaseUserName } from '../domain/username.ts';
import type { Integration } from '../domain/integration.ts';
import { describeError } from '../logger.ts';
import { actorOf, audit, auditOf, bytes, notify, requireRequest, SYSTEM, type ServiceDeps } from './ServiceDeps.ts';
import type { KeyedMutex } from '../lib/KeyedMutex.ts';
import type { People } from './People.ts';
import { recordLeftovers } from './leftovers.ts';

/** After this many failed revocation attempts in a row, admins are told (and every 10 after). */
export const REVOKE_ALERT_AFTER_ATTEMPTS = 3;
const MINUTE_MS = 60_000;

/** Wait before retry `attempt` (1-based): 30 s, 1 m, 2 m, … capped at 30 minutes. */
export function revokeBackoffMs(attempt: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempt - 1), 30 * MINUTE_MS);
}

/** What a person needs to connect. Holds a password: show it to that person only, never log it. */
export interface Credentials {
  requestId: string;
  host: string;
  port: number;
  database: string;
  username: string;
  sslMode: string;
  /** Absent with `userAuth: iam`. */
  password?: string;
  /** With `userAuth: iam`: the commands that mint a token and connect. */
  iamCommands?: string[];
  /** With `userAuth: iam`: the IAM policy the person's AWS identity needs, as JSON. */
  iamPolicy?: string;
  uri: string;
  expiresAt: Date;
  customAccessDetails?: string;
}

/**
 * The credential lifecycle: grant an approved request, extend, revoke or expire a grant, reveal
 * credentials. Every step records its intent in the store before the database is touched and
 * its outcome after, so {@link resume} can finish whatever a crash interrupted.
 */
export class GrantService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly people: People,
    /** Per database user; shared with the maintenance jobs that change users too. */
    private readonly userLocks: KeyedMutex,
  ) {}

  integration(name: string): Integration {
    const i = this.deps.integrations.get(name);
    if (!i) throw integrationNotFound(name, this.deps.integrations.list().map((known) => known.name));
    return i;
  }

  /**
   * Grants an `approved` access request: records `granting`, creates or enables the person's
   * database user, makes it a member of the role for the permission on the target, records
   * `granted`. A failure records `failed` and tells the requester. Safe to call twice.
   */
  async grant(requestId: string): Promise<AccessRequest> {
    const { store, clock, databases } = this.deps;
    const current = await this.mustGet(requestId);
    if (current.kind === 'extension') return this.applyExtension(current);
    const integration = this.integration(current.target.integration);
    const db = databases.get(integration.name);
    let started: AccessRequest | undefined;
    try {
      const serverKey = await db.serverKey();
      const dbUser = databaseUserName(current.requester, integration.userNameTemplate);
      await this.assertUserIsTheirs(serverKey, dbUser, current, integration);
      const now = clock.now();
      started =
        (await store.transition(
          requestId,
          fromStatesOf('granting'),
          'granting',
          { serverKey, dbUser, expiresAt: new Date(now.getTime() + current.durationMinutes * MINUTE_MS) },
          auditOf(this.deps, 'grant.started', SYSTEM, { dbUser }),
        )) ?? (current.status === 'granting' ? current : undefined);
      if (!started) return current; // someone else is granting or it was already decided
      const req = started;
      const outcome = await this.userLocks.run(userKey(serverKey, dbUser), async () => {
        // A revocation may have taken the request over while this waited for the lock.
        const still = await store.getRequest(req.id);
        if (still?.status !== 'granting') return still ?? req;
        const existing = await store.getManagedUser(serverKey, dbUser);
        const validUntil = await this.latestExpiry(req, serverKey, dbUser);
        const result = await db.grant({
          username: dbUser,
          ownerLabel: req.requester.email ?? req.requester.slackId,
          ownerId: req.requester.slackId,
          target: req.target,
          permission: req.permission,
          validUntil,
        });
        if (!existing) {
          await store.upsertManagedUser({
            serverKey,
            username: dbUser,
            integration: integration.name,
            slackId: req.requester.slackId,
            ...(req.requester.email ? { email: req.requester.email } : {}),
            createdAt: clock.now(),
          });
        } else if (existing.droppedAt) {
          // Dropped by clean-up and created again by this grant: a new life for the same name.
          await store.updateManagedUser(serverKey, dbUser, { droppedAt: null, lastRevokedAt: null, passwordSetAt: null });
        }
        const granted = await store.transition(
          req.id,
          fromStatesOf('granted'),
          'granted',
          { grantedRoles: result.roles, grantedAt: clock.now() },
          (r) => [
            ...(result.userCreated ? [auditOf(this.deps, 'user.created', SYSTEM, { dbUser })(r)] : []),
            auditOf(this.deps, 'grant.granted', SYSTEM, { dbUser, roles: result.roles, expiresAt: r.expiresAt?.toISOString() })(r),
          ],
        );
        return granted ?? (await store.getRequest(req.id)) ?? req;
      });
      if (outcome.status === 'granted') await notify(this.deps, 'granted', () => this.deps.notifier.requestUpdated(outcome));
      return outcome;
    } catch (err) {
      const message = describeError(err);
      this.deps.logger.warn({ requestId, err: message }, 'grant failed');
      const failed = await store.transition(
        requestId,
        fromStatesOf('failed'),
        'failed',
        { lastError: message, endedAt: clock.now() },
        auditOf(this.deps, 'grant.failed', SYSTEM, { error: message }),
      );
      if (failed) {
        await notify(this.deps, 'failed', () => this.deps.notifier.requestUpdated(failed));
        // Whatever part of the grant reached the database must not outlive the failure.
        if (started?.dbUser && isOnServer(failed)) await this.cleanUpFailedGrant(failed);
        return failed;
      }
      throw err;
    }
  }

  /**
   * Ends a live grant now. The requester may end their own; admins anyone's. Granting or already
   * ending grants are taken over; ended ones are reported as they are.
   */
  async revoke(requestId: string, actorSlackId: string): Promise<AccessRequest> {
    const req = await this.mustGet(requestId);
    if (req.requester.slackId !== actorSlackId && !(await this.people.isAdmin(actorSlackId))) {
      throw new NotAllowedError(`Only the requester or a Sesame admin can revoke ${req.id}.`);
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
    const revoking = await this.deps.store.transition(
      req.id,
      fromStatesOf('revoking'),
      'revoking',
      { endReason: 'revoked', endedBy: actorSlackId },
      auditOf(this.deps, 'grant.revoking', await actorOf(this.deps, actorSlackId, req)),
    );
    if (!revoking) return this.mustGet(req.id);
    return this.performRevocation(revoking);
  }

  /**
   * The expiry sweep: ends every grant past its expiry and retries revocations that are due.
   * Returns how many requests it worked on.
   */
  async expireDue(limit = 500): Promise<number> {
    const due = await this.deps.store.listDueForRevocation(this.deps.clock.now(), limit);
    for (const req of due) {
      let revoking: AccessRequest | undefined = req;
      if (req.status === 'granted') {
        revoking = await this.deps.store.transition(
          req.id,
          ['granted'],
          'revoking',
          { endReason: 'expired', endedBy: 'system' },
          auditOf(this.deps, 'grant.revoking', SYSTEM, { reason: 'expired' }),
        );
      }
      if (revoking) await this.performRevocation(revoking);
    }
    return due.length;
  }

  /**
   * Finishes what a crash interrupted: approved requests are granted, `granting` ones granted
   * again (idempotent), approved extensions applied. A grant whose time has passed meanwhile is
   * then ended by the next expiry sweep, which runs at start. Returns how many it finished.
   */
  async resume(): Promise<number> {
    const pending = (await this.deps.store.listRequests({ statuses: UNFINISHED_GRANT_STATUSES })).filter(
      (r) => r.kind === 'access' || !r.grantedAt,
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
    const pending = (await this.deps.store.listRequests({ statuses: ['approved'] })).filter(
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
   * Shows the requester how to connect: mints a new random password (never stored; the database
   * keeps only its hash) or, with `userAuth: iam`, gives the token commands.
   */
  async revealCredentials(requestId: string, actorSlackId: string): Promise<Credentials> {
    const req = await this.mustGet(requestId);
    if (req.requester.slackId !== actorSlackId) {
      throw new NotAllowedError(`Only the person who asked for ${req.id} can see its credentials.`);
    }
    if (!isGranted(req)) {
      throw new ConflictError(`${req.id} is ${req.status}; credentials exist only while access is granted.`);
    }
    const integration = this.integration(req.target.integration);
    const db = this.deps.databases.get(integration.name);
    const info = await db.connectionInfo();
    const database = req.target.database ?? info.database;
    const base = {
      requestId: req.id,
      host: info.host,
      port: info.port,
      database,
      username: req.dbUser,
      sslMode: info.sslMode,
      expiresAt: req.expiresAt,
      ...(integration.customAccessDetails ? { customAccessDetails: integration.customAccessDetails } : {}),
    };
    const uriBase = `postgresql://${encodeURIComponent(req.dbUser)}`;
    const hostPart = `@${info.host}:${info.port}/${encodeURIComponent(database)}?sslmode=${info.sslMode}`;
    if (integration.userAuth === 'iam') {
      // No password exists: the person mints a 15-minute token with their own AWS identity,
      // which needs rds-db:connect on this database user.
      const region = integration.type === 'aws-rds-postgresql' ? integration.region : (info.iam?.region ?? '');
      const iam = iamConnectDetails({
        region,
        accountId: info.iam?.accountId ?? '<account-id>',
        resourceId: info.iam?.resourceId ?? '<resource-id>',
        ...(info.iam?.partition ? { partition: info.iam.partition } : {}),
        ...(info.iam?.tokenHost ? { tokenHost: info.iam.tokenHost, tokenPort: info.iam.tokenPort } : {}),
        host: info.host,
        port: info.port,
        username: req.dbUser,
        database,
        sslMode: info.sslMode,
      });
      await audit(this.deps, 'credentials.revealed', actorSlackId, req, { auth: 'iam' });
      return {
        ...base,
        sslMode: iam.sslMode,
        iamCommands: [iam.tokenCommand, iam.psqlCommand],
        iamPolicy: iam.policyJson,
        uri: `${uriBase}@${info.host}:${info.port}/${encodeURIComponent(database)}?sslmode=${iam.sslMode}`,
      };
    }
    const password = mintPassword((n) => bytes(this.deps, n));
    await this.userLocks.run(userKey(req.serverKey, req.dbUser), () => db.setPassword(req.dbUser, password));
    await this.deps.store.updateManagedUser(req.serverKey, req.dbUser, { passwordSetAt: this.deps.clock.now() });
    await audit(this.deps, 'credentials.revealed', actorSlackId, req, { auth: 'password' });
    return { ...base, password, uri: `${uriBase}:${encodeURIComponent(password)}${hostPart}` };
  }

  /**
   * Applies an approved extension to the grant it extends: the new expiry is the later of the
   * current expiry and now, plus the extension's duration; VALID UNTIL follows.
   */
  async applyExtension(ext: AccessRequest): Promise<AccessRequest> {
    const { store, clock } = this.deps;
    if (ext.status !== 'approved' || !ext.parentId || ext.grantedAt) return ext;
    const parent = await this.mustGet(ext.parentId);
    if (!isGranted(parent)) {
      const failed = await store.transition(ext.id, ['approved'], 'failed', {
        lastError: `${parent.id} is ${parent.status}; only granted access can be extended.`,
        endedAt: clock.now(),
      });
      if (failed) await notify(this.deps, 'failed', () => this.deps.notifier.requestUpdated(failed));
      return failed ?? ext;
    }
    // The extension's expiresAt is fixed when it is approved, so applying it twice changes nothing.
    const wanted =
      ext.expiresAt ??
      new Date(Math.max(parent.expiresAt.getTime(), clock.now().getTime()) + ext.durationMinutes * MINUTE_MS);
    const fixed = ext.expiresAt ? ext : await store.update(ext.id, ['approved'], { expiresAt: wanted });
    const newExpiry = fixed?.expiresAt ?? wanted;
    const extended =
      newExpiry > parent.expiresAt
        ? await store.update(parent.id, ['granted'], { expiresAt: newExpiry, expiryReminderSentAt: null })
        : parent;
    if (!extended) return this.mustGet(ext.id);
    const db = this.deps.databases.get(parent.target.integration);
    await this.userLocks.run(userKey(parent.serverKey, parent.dbUser), async () => {
      await db.grant({
        username: parent.dbUser,
        ownerLabel: parent.requester.email ?? parent.requester.slackId,
        ownerId: parent.requester.slackId,
        target: parent.target,
        permission: parent.permission,
        validUntil: await this.latestExpiry(extended, parent.serverKey, parent.dbUser),
      });
    });
    // An applied extension stays `approved` (it holds no grant of its own); grantedAt marks it applied.
    const done =
      (await store.update(ext.id, ['approved'], { grantedAt: clock.now() }, () =>
        auditOf(this.deps, 'grant.extended', SYSTEM, { extensionId: ext.id, expiresAt: newExpiry.toISOString() })(extended),
      )) ?? ext;
    if (extended !== parent) await notify(this.deps, 'extended', () => this.deps.notifier.requestUpdated(extended));
    return done;
  }

  /**
   * Takes away what one grant gave, keeping what the person's other live grants need; disables
   * login when nothing is left. A failure is recorded and retried with backoff; admins are told
   * after repeated failures. VALID UNTIL keeps new logins out meanwhile.
   */
  async performRevocation(req: AccessRequest): Promise<AccessRequest> {
    const { store, clock } = this.deps;
    const endReason: EndReason = req.endReason ?? 'revoked';
    const finalStatus = endReason === 'expired' ? 'expired' : 'revoked';
    if (!isOnServer(req)) {
      // Nothing reached the database (the crash came before `granting` was recorded fully).
      return (await store.transition(req.id, fromStatesOf(finalStatus), finalStatus, { endedAt: clock.now() })) ?? req;
    }
    try {
      const ended = await this.userLocks.run(userKey(req.serverKey, req.dbUser), async () => {
        // Another sweep or a revoke click may have finished it while this waited for the lock.
        const still = await store.getRequest(req.id);
        if (still?.status !== 'revoking') return undefined;
        const { others, keepRoles, validUntil } = await this.whatOthersNeed(req);
        const db = this.deps.databases.get(req.target.integration);
        const result = await db.revoke({
          username: req.dbUser,
          roles: req.grantedRoles ?? [],
          keepRoles,
          validUntil,
        });
        const now = clock.now();
        const ended = await store.transition(
          req.id,
          fromStatesOf(finalStatus),
          finalStatus,
          { endedAt: now, lastError: null },
          auditOf(this.deps, endReason === 'expired' ? 'grant.expired' : 'grant.revoked', await actorOf(this.deps, req.endedBy ?? 'system', req), {
            dbUser: req.dbUser,
            removedRoles: result.removedRoles,
            terminatedSessions: result.terminatedSessions,
            attempts: req.revokeAttempts + 1,
          }),
        );
        if (ended && others.length === 0) {
          await store.updateManagedUser(req.serverKey, req.dbUser, { lastRevokedAt: now });
        }
        if (ended) {
          await recordLeftovers(this.deps, { integration: req.target.integration, dbUser: req.dbUser, requestId: req.id, removals: result.leftovers }, ended);
        }
        return ended;
      });
      if (!ended) return (await store.getRequest(req.id)) ?? req;
      // Slack and the session logs may be slow: neither holds the person's lock.
      await notify(this.deps, finalStatus, () => this.deps.notifier.requestUpdated(ended));
      await this.countSessions(ended);
      return ended;
    } catch (err) {
      const message = describeError(err);
      const attempts = req.revokeAttempts + 1;
      this.deps.logger.warn({ requestId: req.id, attempts, err: message }, 'revocation failed; will retry');
      const updated = await store.update(
        req.id,
        ['revoking'],
        {
          revokeAttempts: attempts,
          nextAttemptAt: new Date(clock.now().getTime() + revokeBackoffMs(attempts)),
          lastError: message,
        },
        auditOf(this.deps, 'grant.revoke_failed', SYSTEM, { attempts, error: message }),
      );
      if (attempts === REVOKE_ALERT_AFTER_ATTEMPTS || (attempts > REVOKE_ALERT_AFTER_ATTEMPTS && attempts % 10 === 0)) {
        await notify(this.deps, 'revocation failing', () =>
          this.deps.notifier.revocationFailing(updated ?? req, attempts, message),
        );
      }
      return updated ?? req;
    }
  }

  /**
   * For integrations with `audit: true`: counts the ended grant's sessions and statements from
   * the server's logs, records them in the audit trail and posts them in the request's threads.
   * A log that cannot be read is logged; it never holds up the revocation.
   */
  private async countSessions(ended: AccessRequest): Promise<void> {
    if (!this.deps.sessions) return;
    try {
      const counts = await this.deps.sessions.countsFor(ended);
      if (!counts) return;
      await audit(this.deps, 'grant.sessions', 'system', ended, { dbUser: ended.dbUser, ...counts });
      const notifier = this.deps.notifier;
      if (notifier.sessionsCounted) await notify(this.deps, 'session counts', () => notifier.sessionsCounted!(ended, counts));
    } catch (err) {
      this.deps.logger.warn({ requestId: ended.id, err: describeError(err) }, 'session logs could not be counted');
    }
  }

  /** The VALID UNTIL a user needs: the latest expiry of this grant and the person's other ones. */
  private async latestExpiry(req: AccessRequest, serverKey: string, dbUser: string): Promise<Date> {
    const { validUntil } = await this.whatOthersNeed({ ...req, serverKey, dbUser });
    return latestExpiry([req, ...(validUntil ? [{ expiresAt: validUntil }] : [])]) ?? this.deps.clock.now();
  }

  /**
   * What the person's other grants on the same server still need from the database: their roles
   * (never removed) and their latest expiry (the user's VALID UNTIL; null when there are none).
   */
  private async whatOthersNeed(req: Pick<RequestOnServer, 'id' | 'serverKey' | 'dbUser'>) {
    const others = (
      await this.deps.store.listRequests({
        serverKey: req.serverKey,
        dbUser: req.dbUser,
        statuses: REVOCABLE_STATUSES,
      })
    ).filter((o) => o.id !== req.id && o.kind === 'access');
    return {
      others,
      keepRoles: [...new Set(others.flatMap((o) => o.grantedRoles ?? []))],
      validUntil: latestExpiry(others),
    };
  }

  private async cleanUpFailedGrant(failed: RequestOnServer): Promise<void> {
    try {
      const { keepRoles, validUntil } = await this.whatOthersNeed(failed);
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
    const existing = await this.deps.store.getManagedUser(serverKey, dbUser);
    if (!existing || existing.slackId === req.requester.slackId) return;
    throw new ConflictError(
      `The database user name ${dbUser} on ${integration.name} already belongs to another person (${existing.email ?? existing.slackId}), and two people never share a database user. An admin must change the integration's userNameTemplate (now ${integration.userNameTemplate ?? '{email}'}; {email} or {slackId} give every person their own name).`,
    );
  }

  private mustGet(id: string): Promise<AccessRequest> {
    return requireRequest(this.deps, id);
  }
}

/** The key of a person's database user in the per-user locks. */
export function userKey(serverKey: string, dbUser: string): string {
  return `${serverKey}\u0000${dbUser}`;
}
