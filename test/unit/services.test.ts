import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, InputError, NotAllowedError } from '../../src/domain/errors.ts';
import { REVOKE_ALERT_AFTER_ATTEMPTS, revokeBackoffMs } from '../../src/services/RevocationService.ts';
import { serviceWorld, testConfig, type ServiceWorld } from '../support/services.ts';
import { sesameJobs } from '../../src/jobs/jobs.ts';
import type { AccessRequestInput } from '../../src/services/requestInputs.ts';

const HOUR = 3_600_000;
const MIN = 60_000;

async function autoGrant(w: ServiceWorld, who = 'U0ALICE', durationMinutes = 60) {
  return w.services.requests.requestAccess({
    requesterSlackId: who,
    target: { integration: 'local', database: 'appdb', schema: 'public' },
    permission: 'readonly',
    durationMinutes,
    reason: 'debugging',
  });
}

/** Alice asks for admin on appdb of the local integration for an hour; `over` changes any of that. */
function askForAppdb(w: ServiceWorld, over: Partial<AccessRequestInput> = {}) {
  return w.services.requests.requestAccess({
    requesterSlackId: 'U0ALICE',
    target: { integration: 'local', database: 'appdb' },
    permission: 'admin',
    durationMinutes: 60,
    reason: 'r',
    ...over,
  });
}

async function approvedGrant(w: ServiceWorld, permission: 'readwrite' | 'admin' = 'readwrite', table?: string) {
  const req = await w.services.requests.requestAccess({
    requesterSlackId: 'U0ALICE',
    target: { integration: 'local', database: 'appdb', schema: 'sales', ...(table ? { table } : {}) },
    permission,
    durationMinutes: 120,
    reason: 'fix the invoice job',
  });
  return w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' });
}

describe('requesting access', () => {
  it('grants at once when the flow needs no approver, with VALID UNTIL at the expiry', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    assert.equal(req.status, 'granted');
    assert.equal(req.flowName, 'auto-read');
    assert.equal(req.dbUser, 'alice@example.com');
    assert.equal(req.expiresAt?.getTime(), w.clock.now().getTime() + HOUR);
    const user = w.local.users.get('alice@example.com');
    assert.ok(user?.canLogin);
    assert.deepEqual(user.validUntil, req.expiresAt);
    assert.deepEqual([...user.roles], req.grantedRoles);
    const actions = (await w.store.listAudit(new Date(0))).map((e) => e.action);
    assert.deepEqual(actions, ['request.created', 'grant.started', 'user.created', 'grant.granted']);
  });

  it('picks the flow with the fewest approvers when several match', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    // owner-approved matches too, but auto-read has no approver at all.
    assert.equal(req.flowName, 'auto-read');
  });

  it('waits for an owner, refuses other clickers and the requester, then grants once', async () => {
    const w = serviceWorld();
    const req = await w.services.requests.requestAccess({
      requesterSlackId: 'U0ALICE',
      target: { integration: 'local', database: 'appdb', schema: 'sales' },
      permission: 'readwrite',
      durationMinutes: 30,
      reason: 'fix data',
    });
    assert.equal(req.status, 'pending');
    assert.deepEqual(req.approverGroups[0]?.slackIds, ['U0BOB']);
    assert.deepEqual(w.notifier.statusesOf(req.id), ['approvalRequested:pending']);

    await assert.rejects(
      w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0CAROL', decision: 'approve' }),
      (e: unknown) => e instanceof NotAllowedError && /not an approver/.test(e.message),
    );
    await assert.rejects(w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0ALICE', decision: 'approve' }), NotAllowedError);
    assert.equal((await w.store.getRequest(req.id))?.status, 'pending');
    assert.equal(w.local.calls.length, 0);

    const granted = await w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' });
    assert.equal(granted.status, 'granted');
    assert.equal(granted.decidedBy, 'U0BOB');
  });

  it('turns two racing approvals into exactly one grant', async () => {
    const config = testConfig();
    config.integrations[0]!.owners.integration = ['U0BOB', 'U0CAROL'];
    const w = serviceWorld(config);
    const req = await askForAppdb(w, { permission: 'readonly', durationMinutes: 30, reason: 'race' });
    const results = await Promise.allSettled([
      w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' }),
      w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0CAROL', decision: 'approve' }),
    ]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    assert.ok(rejected.reason instanceof ConflictError);
    assert.equal(w.local.calls.filter((c) => c.startsWith('grant')).length, 1);
    assert.equal((await w.store.getRequest(req.id))?.status, 'granted');
  });

  it('needs one approval from each approver with approvalMode all', async () => {
    const w = serviceWorld();
    const req = await w.services.requests.requestAccess({
      requesterSlackId: 'U0DAVE',
      target: { integration: 'other' },
      permission: 'admin',
      durationMinutes: 30,
      reason: 'incident 42',
    });
    assert.equal(req.flowName, 'two-party');
    const half = await w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' });
    assert.equal(half.status, 'pending');
    await assert.rejects(w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' }), ConflictError);
    const full = await w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0CAROL', decision: 'approve' });
    assert.equal(full.status, 'granted');
  });

  it('with approvalMode all, counts a person in two approver entries once', async () => {
    const config = testConfig({
      accessFlows: [
        {
          name: 'guarded',
          requestors: ['*'],
          permissions: ['admin'],
          maxDuration: '1h',
          approvers: ['@dba', '@security'],
          approvalMode: 'all',
        },
      ],
    });
    const w = serviceWorld(config);
    w.directory.groups.dba = ['U0CAROL', 'U0BOB'];
    w.directory.groups.security = ['U0CAROL', 'U0DAVE'];
    const ask = () => askForAppdb(w, { durationMinutes: 30, reason: 'incident 7' });
    const first = await ask();
    const carolOnly = await w.services.requests.decide({ requestId: first.id, actorSlackId: 'U0CAROL', decision: 'approve' });
    assert.equal(carolOnly.status, 'pending', 'Carol stands for one entry, not both');
    assert.equal(w.local.calls.length, 0);
    // Bob is in @dba only: Carol then stands for @security.
    assert.equal((await w.services.requests.decide({ requestId: first.id, actorSlackId: 'U0BOB', decision: 'approve' })).status, 'granted');
    // Dave is in @security only: Carol then stands for @dba.
    const second = await ask();
    await w.services.requests.decide({ requestId: second.id, actorSlackId: 'U0CAROL', decision: 'approve' });
    assert.equal(
      (await w.services.requests.decide({ requestId: second.id, actorSlackId: 'U0DAVE', decision: 'approve' })).status,
      'granted',
    );
    // Entries that name one person between them can never be completed: refused at once.
    w.directory.groups.security = ['U0CAROL'];
    w.directory.groups.dba = ['U0CAROL'];
    await assert.rejects(
      ask(),
      (e: unknown) => e instanceof NotAllowedError && /needs a different person to approve for each of @dba, @security/.test(e.message),
    );
  });

  it('decides who may approve when the click arrives, from the groups and emails as they are then', async () => {
    const config = testConfig({
      accessFlows: [
        { name: 'dba-approved', requestors: ['*'], permissions: ['readwrite'], maxDuration: '1h', approvers: ['@dba', 'dave@example.com'] },
      ],
    });
    const w = serviceWorld(config);
    w.directory.groups.dba = ['U0BOB', 'U0CAROL'];
    const ask = () => askForAppdb(w, { permission: 'readwrite', durationMinutes: 30 });
    const req = await ask();
    assert.deepEqual(
      req.approverGroups.map((g) => g.slackIds),
      [['U0BOB', 'U0CAROL'], ['U0DAVE']],
    );
    // Carol leaves @dba, and dave@example.com now belongs to another Slack account.
    w.directory.groups.dba = ['U0BOB'];
    w.directory.people.U0DAVE = 'dave@old.example.com';
    w.directory.people.U0ADMIN = 'dave@example.com';
    for (const actorSlackId of ['U0CAROL', 'U0DAVE']) {
      await assert.rejects(
        w.services.requests.decide({ requestId: req.id, actorSlackId, decision: 'approve' }),
        (e: unknown) => e instanceof NotAllowedError && /no longer/.test(e.message),
        actorSlackId,
      );
      await assert.rejects(w.services.requests.mayDecide(req.id, actorSlackId), NotAllowedError, 'nor may they deny');
    }
    assert.equal((await w.store.getRequest(req.id))?.status, 'pending');
    assert.deepEqual(await w.store.listApprovals(req.id), []);
    assert.equal(w.local.calls.length, 0);
    // Whoever is in the entries now may decide.
    assert.equal((await w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0ADMIN', decision: 'approve' })).status, 'granted');
    const next = await ask();
    assert.equal((await w.services.requests.decide({ requestId: next.id, actorSlackId: 'U0BOB', decision: 'approve' })).status, 'granted');
  });

  it('refuses a request past slack.maxPendingPerPerson, extensions included, and changes nothing', async () => {
    const w = serviceWorld(testConfig({ slack: { admins: ['U0ADMIN'], maxPendingPerPerson: 2 } }));
    const ask = (requesterSlackId = 'U0ALICE') => askForAppdb(w, { requesterSlackId });
    const granted = await approvedGrant(w, 'readwrite');
    const first = await ask();
    const second = await ask();
    const before = {
      requests: (await w.store.listRequests({})).length,
      audit: (await w.store.listAudit(new Date(0))).length,
      told: w.notifier.events.length,
    };
    const refused = (e: unknown) =>
      e instanceof ConflictError &&
      /You already have 2 requests waiting for approval, the most one person may have at once/.test(e.message) &&
      e.message.includes(first.id) &&
      e.message.includes(second.id) &&
      /\/access cancel <request-id>/.test(e.message);
    await assert.rejects(ask(), refused);
    await assert.rejects(w.services.requests.extend(granted.id, 'U0ALICE', 30), refused, 'an extension is a request too');
    assert.deepEqual(
      {
        requests: (await w.store.listRequests({})).length,
        audit: (await w.store.listAudit(new Date(0))).length,
        told: w.notifier.events.length,
      },
      before,
      'no request stored, nothing audited, no approver told',
    );
    // Requests that wait for nobody, and other people's requests, are not held back.
    assert.equal((await autoGrant(w)).status, 'granted');
    assert.equal((await ask('U0CAROL')).status, 'pending');
    await w.services.requests.cancel(first.id, 'U0ALICE');
    assert.equal((await w.services.requests.extend(granted.id, 'U0ALICE', 30)).status, 'pending');
    await assert.rejects(ask(), ConflictError);
  });

  it('holds each person to the cap even when their requests arrive at once', async () => {
    const w = serviceWorld(testConfig({ slack: { admins: ['U0ADMIN'], maxPendingPerPerson: 3 } }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => askForAppdb(w)));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
    assert.equal((await w.store.listRequests({ statuses: ['pending'] })).length, 3);
    assert.equal(w.notifier.events.filter((e) => e.kind === 'approvalRequested').length, 3);
  });

  it('offers a flow only to its requestors (user groups resolved through the directory)', async () => {
    const w = serviceWorld();
    await assert.rejects(
      w.services.requests.requestAccess({
        requesterSlackId: 'U0CAROL', // not in @sre
        target: { integration: 'other' },
        permission: 'admin',
        durationMinutes: 30,
        reason: 'x',
      }),
      (e: unknown) => e instanceof NotAllowedError && /No access flow lets you request admin on other/.test(e.message),
    );
  });

  it('denies with a reason, which the requester is told', async () => {
    const w = serviceWorld();
    const req = await askForAppdb(w, { reason: 'want it' });
    await assert.rejects(w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'deny' }), InputError);
    const denied = await w.services.requests.decide({
      requestId: req.id,
      actorSlackId: 'U0BOB',
      decision: 'deny',
      comment: 'use readonly',
    });
    assert.equal(denied.status, 'denied');
    assert.equal(denied.denyReason, 'use readonly');
    assert.deepEqual(w.notifier.statusesOf(req.id), ['approvalRequested:pending', 'requestUpdated:denied']);
    await assert.rejects(w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' }), ConflictError);
  });

  it('refuses bad input with a message that says what to do, and creates nothing', async () => {
    const w = serviceWorld();
    const base = {
      requesterSlackId: 'U0ALICE',
      target: { integration: 'local', database: 'appdb' },
      permission: 'readonly' as const,
      reason: 'r',
    };
    const cases: [Parameters<typeof w.services.requests.requestAccess>[0], RegExp][] = [
      [{ ...base, durationMinutes: 5 * 60 }, /at most 4h/],
      [{ ...base, target: { integration: 'nope' } }, /no integration named "nope". Known integrations: local, other/],
      [{ ...base, durationMinutes: 60, reason: '  ' }, /Give a reason/],
      [{ ...base, durationMinutes: 60, reason: 'x'.repeat(1001) }, /at most 1000 characters/],
      [{ ...base, durationMinutes: 60, permission: 'role:superuser' }, /does not offer the role "superuser"/],
      [{ ...base, durationMinutes: 60, target: { integration: 'local', database: 'a'.repeat(64) } }, /at most 63 bytes/],
    ];
    for (const [input, message] of cases) {
      await assert.rejects(w.services.requests.requestAccess(input), (e: unknown) => e instanceof InputError && message.test(e.message));
    }
    assert.deepEqual(await w.store.listRequests({}), []);
    assert.deepEqual(await w.store.listAudit(new Date(0)), []);
    assert.equal(w.local.calls.length, 0);
  });

  it('lets the requester cancel a pending request, and nobody else but admins', async () => {
    const w = serviceWorld();
    const req = await askForAppdb(w);
    await assert.rejects(w.services.requests.cancel(req.id, 'U0BOB'), NotAllowedError);
    assert.equal((await w.services.requests.cancel(req.id, 'U0ALICE')).status, 'cancelled');
  });
});

describe('ending access', () => {
  it('expires a grant at its expiry: roles removed, login disabled, requester told', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    w.clock.advance(HOUR - 1);
    assert.equal(await w.services.revocations.expireDue(), 0);
    w.clock.advance(1);
    assert.equal(await w.services.revocations.expireDue(), 1);
    const ended = await w.store.getRequest(req.id);
    assert.equal(ended?.status, 'expired');
    const user = w.local.users.get('alice@example.com')!;
    assert.equal(user.roles.size, 0);
    assert.equal(user.canLogin, false);
    assert.ok(w.notifier.statusesOf(req.id).includes('requestUpdated:expired'));
    assert.equal(
      (await w.store.getManagedUser('local.example:5432', 'alice@example.com'))?.lastRevokedAt?.getTime(),
      w.clock.now().getTime(),
    );
  });

  it('keeps what the same person’s other grants give (reference counting across integrations)', async () => {
    const w = serviceWorld();
    const short = await autoGrant(w, 'U0ALICE', 30);
    const long = await approvedGrant(w, 'readwrite');
    assert.equal(long.status, 'granted');
    const user = w.local.users.get('alice@example.com')!;
    assert.equal(user.roles.size, 2);
    assert.deepEqual(user.validUntil, long.expiresAt);
    w.clock.advance(31 * MIN);
    await w.services.revocations.expireDue();
    assert.equal((await w.store.getRequest(short.id))?.status, 'expired');
    assert.deepEqual([...user.roles], long.grantedRoles);
    assert.equal(user.canLogin, true);
    assert.deepEqual(user.validUntil, long.expiresAt);
  });

  it('lets the requester or an admin revoke early, nobody else', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    await assert.rejects(w.services.revocations.revoke(req.id, 'U0BOB'), NotAllowedError);
    const revoked = await w.services.revocations.revoke(req.id, 'U0ADMIN');
    assert.equal(revoked.status, 'revoked');
    assert.equal(revoked.endedBy, 'U0ADMIN');
    assert.equal(w.local.users.get('alice@example.com')?.canLogin, false);
    // Revoking again is not an error: it is already done.
    assert.equal((await w.services.revocations.revoke(req.id, 'U0ALICE')).status, 'revoked');
  });

  it("lets the request's approvers revoke, as their groups resolve now; the audit names who did", async () => {
    const config = testConfig();
    config.accessFlows[1]!.approvers = ['@dba'];
    const w = serviceWorld(config);
    w.directory.groups.dba = ['U0BOB', 'U0CAROL'];
    const req = await approvedGrant(w);
    assert.equal(req.status, 'granted');
    await assert.rejects(
      w.services.revocations.revoke(req.id, 'U0DAVE'),
      (e: unknown) => e instanceof NotAllowedError && /requester, an approver of .* or a Sesame admin/.test(e.message),
    );
    // Carol has left @dba since the request was made: she no longer may.
    w.directory.groups.dba = ['U0BOB'];
    await assert.rejects(w.services.revocations.revoke(req.id, 'U0CAROL'), NotAllowedError);
    assert.equal((await w.store.getRequest(req.id))?.status, 'granted');
    assert.equal(w.local.users.get('alice@example.com')?.canLogin, true);
    const revoked = await w.services.revocations.revoke(req.id, 'U0BOB');
    assert.deepEqual([revoked.status, revoked.endedBy], ['revoked', 'U0BOB']);
    assert.equal(w.local.users.get('alice@example.com')?.canLogin, false);
    const audit = (await w.store.listAudit(new Date(0))).filter((e) => e.requestId === req.id);
    for (const action of ['grant.revoking', 'grant.revoked']) {
      assert.equal(audit.find((e) => e.action === action)?.actor, 'U0BOB', action);
    }
  });

  it('records each thing a revocation removed from what the person left behind, and tells the admins', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    const trigger = {
      database: 'appdb',
      role: 'alice@example.com',
      what: 'planted trigger' as const,
      object: 'trigger grab on sales.deals',
      definition: 'CREATE TRIGGER grab BEFORE INSERT ON sales.deals FOR EACH ROW EXECUTE FUNCTION sales.grab()',
      sql: ['DROP TRIGGER grab ON sales.deals'],
    };
    const handedOut = {
      ...trigger,
      what: 'privilege handed out' as const,
      object: 'table public.copy',
      grantee: 'PUBLIC',
      definition: undefined,
    };
    w.local.leftovers.set('alice@example.com', [trigger, handedOut]);
    await w.services.revocations.revoke(req.id, 'U0ALICE');
    const events = (await w.store.listAudit(new Date(0))).filter((e) => e.action === 'leftover.removed');
    assert.equal(events.length, 2);
    assert.equal(events[0]?.requestId, req.id);
    assert.equal(events[0]?.details?.definition, trigger.definition);
    assert.equal(events[1]?.details?.grantee, 'PUBLIC');
    assert.deepEqual(
      w.notifier.leftoverReports.map((r) => [r.requestId, r.removals.length]),
      [[req.id, 2]],
    );
  });

  it('reconciliation sweeps a user who may have left something behind, even with nothing else to correct', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    await w.services.revocations.revoke(req.id, 'U0ALICE');
    w.local.leftovers.set('alice@example.com', [
      {
        database: 'appdb',
        role: 'alice@example.com',
        what: 'direct privilege',
        object: 'table sales.leads',
        privileges: ['SELECT'],
        sql: [],
      },
    ]);
    const report = await w.services.maintenance.reconcile();
    assert.equal(report.leftoversRemoved, 1);
    assert.ok(w.local.calls.includes('removeLeftovers alice@example.com'));
    assert.equal((await w.store.listAudit(new Date(0))).filter((e) => e.action === 'leftover.removed').length, 1);
  });

  it('retries a revocation with backoff while the server is down and tells admins after repeated failures', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    w.local.down = true;
    w.clock.advance(HOUR);
    for (let attempt = 1; attempt <= REVOKE_ALERT_AFTER_ATTEMPTS; attempt++) {
      await w.services.revocations.expireDue();
      const r = await w.store.getRequest(req.id);
      assert.equal(r?.status, 'revoking');
      assert.equal(r?.revokeAttempts, attempt);
      assert.match(r?.lastError ?? '', /cannot be reached/);
      assert.equal(r?.nextAttemptAt?.getTime(), w.clock.now().getTime() + revokeBackoffMs(attempt));
      // Not due again before the backoff has passed.
      assert.equal(await w.services.revocations.expireDue(), 0);
      w.clock.advance(revokeBackoffMs(attempt));
    }
    assert.equal(w.notifier.events.filter((e) => e.kind === 'revocationFailing').length, 1);
    w.local.down = false;
    await w.services.revocations.expireDue();
    assert.equal((await w.store.getRequest(req.id))?.status, 'expired');
    assert.equal(w.local.users.get('alice@example.com')?.canLogin, false);
  });

  it('revokes once when the expiry sweep finds a revocation another call is still working on', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    w.clock.advance(HOUR);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const revoke = w.local.revoke.bind(w.local);
    w.local.revoke = async (input) => {
      await gate;
      return revoke(input);
    };
    const clicked = w.services.revocations.revoke(req.id, 'U0ALICE');
    while ((await w.store.getRequest(req.id))?.status !== 'revoking') await new Promise((r) => setImmediate(r));
    // The sweep sees a `revoking` request with no retry time: due, as far as it can tell.
    const swept = w.services.revocations.expireDue();
    release();
    await Promise.all([clicked, swept]);
    assert.equal(w.local.calls.filter((c) => c.startsWith('revoke')).length, 1);
    const ends = (await w.store.listAudit(new Date(0))).filter((e) => e.action === 'grant.revoked' || e.action === 'grant.expired');
    assert.equal(ends.length, 1);
  });

  it('never lets a failing notifier block a grant or a revocation', async () => {
    const w = serviceWorld();
    w.notifier.failing = true;
    const req = await autoGrant(w);
    assert.equal(req.status, 'granted');
    assert.equal((await w.services.revocations.revoke(req.id, 'U0ALICE')).status, 'revoked');
  });
});

describe('crash recovery', () => {
  it('finishes a grant whose intent was recorded before a crash', async () => {
    const w = serviceWorld();
    const req = await approvedGrantIntentOnly(w);
    await w.services.grants.resume();
    const after = await w.store.getRequest(req.id);
    assert.equal(after?.status, 'granted');
    assert.equal(w.local.users.get('alice@example.com')?.canLogin, true);
  });

  it('grants an interrupted grant whose time has passed, and the start-up sweep ends it', async () => {
    const w = serviceWorld();
    const req = await approvedGrantIntentOnly(w);
    w.clock.advance(3 * HOUR);
    assert.equal(await w.services.grants.resume(), 1);
    assert.equal((await w.store.getRequest(req.id))?.status, 'granted');
    assert.equal(await w.services.revocations.expireDue(), 1, 'the sweep that runs at start ends it');
    assert.equal((await w.store.getRequest(req.id))?.status, 'expired');
    assert.equal(w.local.users.get('alice@example.com')?.canLogin, false);
  });

  it('reconciliation takes away managed access that no live grant stands behind', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    // Left behind by a lost state store or a hand edit: a role and a login with no grant.
    w.local.users.set('ghost@example.com', { managed: true, canLogin: true, validUntil: null, roles: new Set(['sesame_readonly_x']) });
    w.local.users.get('alice@example.com')!.roles.add('reporting');
    w.local.users.set('postgres', { managed: false, canLogin: true, validUntil: null, roles: new Set(['sesame_readonly_x']) });
    const report = await w.services.maintenance.reconcile();
    assert.equal(report.integrations, 1, 'two integrations on one server are reconciled once');
    assert.equal(report.usersCorrected, 2);
    assert.equal(w.local.users.get('ghost@example.com')?.canLogin, false);
    assert.equal(w.local.users.get('ghost@example.com')?.roles.size, 0);
    assert.deepEqual([...w.local.users.get('alice@example.com')!.roles], req.grantedRoles);
    assert.equal(w.local.users.get('postgres')?.roles.size, 1, 'an unmanaged role is never touched');
  });
});

async function approvedGrantIntentOnly(w: ServiceWorld) {
  const req = await askForAppdb(w, { permission: 'readonly' });
  await w.store.transition(req.id, ['pending'], 'approved', { decidedBy: 'U0BOB' });
  await w.store.transition(req.id, ['approved'], 'granting', {
    serverKey: 'local.example:5432',
    dbUser: 'alice@example.com',
    expiresAt: new Date(w.clock.now().getTime() + HOUR),
  });
  return req;
}

describe('extending, reminding, timing out', () => {
  it('extends a grant after approval: expiry and VALID UNTIL move, the reminder can fire again', async () => {
    const w = serviceWorld();
    const req = await approvedGrant(w, 'readwrite');
    await assert.rejects(w.services.requests.extend(req.id, 'U0BOB', 60), NotAllowedError);
    await assert.rejects(w.services.requests.extend(req.id, 'U0ALICE', 10 * 60), /at most 4h/);
    w.clock.advance(115 * MIN);
    assert.equal(await w.services.maintenance.remindExpiring(), 1);
    assert.equal(await w.services.maintenance.remindExpiring(), 0, 'one reminder per expiry');
    const ext = await w.services.requests.extend(req.id, 'U0ALICE', 60);
    assert.equal(ext.kind, 'extension');
    assert.equal(ext.status, 'pending');
    await assert.rejects(w.services.requests.extend(req.id, 'U0ALICE', 60), ConflictError);
    await w.services.requests.decide({ requestId: ext.id, actorSlackId: 'U0BOB', decision: 'approve' });
    const parent = await w.store.getRequest(req.id);
    assert.equal(parent?.expiresAt?.getTime(), req.expiresAt!.getTime() + HOUR);
    assert.deepEqual(w.local.users.get('alice@example.com')?.validUntil, parent?.expiresAt);
    assert.equal(parent?.expiryReminderSentAt, undefined);
    w.clock.advance(10 * MIN);
    assert.equal(await w.services.revocations.expireDue(), 0, 'not expired at the old expiry');
  });

  it('times out pending requests after the flow’s pendingTtl', async () => {
    const w = serviceWorld();
    const req = await askForAppdb(w);
    w.clock.advance(24 * HOUR - 1);
    assert.equal(await w.services.maintenance.timeOutPending(), 0);
    w.clock.advance(1);
    assert.equal(await w.services.maintenance.timeOutPending(), 1);
    assert.equal((await w.store.getRequest(req.id))?.status, 'timedout');
  });
});

describe('credentials', () => {
  it('reveals a fresh password to the requester only, and never stores or audits it', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    await assert.rejects(w.services.credentials.revealCredentials(req.id, 'U0BOB'), NotAllowedError);
    const creds = await w.services.credentials.revealCredentials(req.id, 'U0ALICE');
    assert.ok(creds.password && creds.password.length === 24);
    assert.equal(w.local.users.get('alice@example.com')?.password, creds.password);
    assert.equal(creds.uri, `postgresql://alice%40example.com:${creds.password}@local.example:5432/appdb?sslmode=require`);
    const again = await w.services.credentials.revealCredentials(req.id, 'U0ALICE');
    assert.notEqual(again.password, creds.password);
    const stored = JSON.stringify([await w.store.listRequests({}), await w.store.listManagedUsers(), await w.store.listAudit(new Date(0))]);
    assert.ok(!stored.includes(creds.password!) && !stored.includes(again.password!));
  });

  it('rotates old passwords, but never during a live grant', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    await w.services.credentials.revealCredentials(req.id, 'U0ALICE');
    const before = w.local.users.get('alice@example.com')!.password;
    w.clock.advance(31 * 24 * HOUR);
    // The grant expired long ago but the sweep has not run: it still counts as live.
    assert.equal(await w.services.maintenance.rotateCredentials(), 0);
    await w.services.revocations.expireDue();
    assert.equal(await w.services.maintenance.rotateCredentials(), 1);
    assert.notEqual(w.local.users.get('alice@example.com')!.password, before);
    assert.equal(await w.services.maintenance.rotateCredentials(), 0, 'just rotated');
  });

  it('drops users long after their last grant, unless another integration on the server still grants them', async () => {
    const w = serviceWorld();
    const first = await autoGrant(w);
    await w.services.revocations.revoke(first.id, 'U0ALICE');
    const viaOther = await w.services.requests.requestAccess({
      requesterSlackId: 'U0ALICE',
      target: { integration: 'other', database: 'otherdb' },
      permission: 'readonly',
      durationMinutes: 60,
      reason: 'r',
    });
    await w.services.requests.decide({ requestId: viaOther.id, actorSlackId: 'U0CAROL', decision: 'approve' });
    w.clock.advance(8 * 24 * HOUR);
    assert.equal(await w.services.maintenance.cleanUpUsers(), 0, 'still granted through other');
    assert.ok(w.local.users.has('alice@example.com'));
    await w.services.revocations.expireDue();
    w.clock.advance(8 * 24 * HOUR);
    assert.equal(await w.services.maintenance.cleanUpUsers(), 1);
    assert.ok(!w.local.users.has('alice@example.com'));
    const again = await autoGrant(w);
    assert.equal(again.status, 'granted', 'a dropped user is created again on the next grant');
    assert.equal((await w.store.getManagedUser('local.example:5432', 'alice@example.com'))?.droppedAt, undefined);
  });

  it('with userCleanupDays: 0 drops a user at the next expire pass, once, and records what was kept', async () => {
    const config = testConfig();
    config.integrations[0] = { ...config.integrations[0]!, userCleanupDays: 0 };
    const w = serviceWorld(config);
    const req = await autoGrant(w);
    const expire = sesameJobs(config.schedule, w.services).find((j) => j.id === 'expire')!;
    await expire.run();
    assert.ok(w.local.users.has('alice@example.com'), 'a live grant keeps the user');
    await w.services.revocations.revoke(req.id, 'U0ALICE');
    await expire.run();
    assert.ok(!w.local.users.has('alice@example.com'), 'dropped at the first pass after the revocation');
    const dropped = (await w.store.listAudit(new Date(0))).filter((e) => e.action === 'user.dropped');
    assert.equal(dropped.length, 1);
    assert.deepEqual(dropped[0]?.details?.keptObjects, []);
    await expire.run();
    assert.equal(w.local.calls.filter((c) => c.startsWith('dropUser')).length, 1, 'a dropped user is not dropped again');
    assert.equal(await w.services.maintenance.rotateCredentials(), 0, 'nor rotated');
  });
});

describe('what a person is offered', () => {
  it('lists the approvals waiting for a person, not those they decided or their own', async () => {
    const w = serviceWorld();
    const mine = await askForAppdb(w, { requesterSlackId: 'U0BOB' }).catch((e: unknown) => e);
    assert.ok(mine instanceof NotAllowedError, 'Bob is the only owner of local, so nobody but him could approve his own request');
    const alice = await askForAppdb(w);
    const dave = await w.services.requests.requestAccess({
      requesterSlackId: 'U0DAVE',
      target: { integration: 'other' },
      permission: 'admin',
      durationMinutes: 30,
      reason: 'r',
    });
    assert.deepEqual((await w.services.requests.awaitingApproval('U0BOB')).map((r) => r.id).sort(), [alice.id, dave.id].sort());
    assert.deepEqual(
      (await w.services.requests.awaitingApproval('U0CAROL')).map((r) => r.id),
      [dave.id],
    );
    await w.services.requests.decide({ requestId: dave.id, actorSlackId: 'U0BOB', decision: 'approve' });
    assert.deepEqual(
      (await w.services.requests.awaitingApproval('U0BOB')).map((r) => r.id),
      [alice.id],
    );
    assert.deepEqual(await w.services.requests.awaitingApproval('U0ALICE'), []);
  });

  it('finds the approvals waiting for a person with a bounded number of store queries', async () => {
    const w = serviceWorld();
    const calls: string[] = [];
    const store = w.store as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(w.store))) {
      const method = store[name];
      if (name === 'constructor' || typeof method !== 'function') continue;
      store[name] = (...args: unknown[]) => {
        calls.push(name);
        return (method as (...a: unknown[]) => unknown).apply(w.store, args);
      };
    }
    const queriesFor = async (slackId: string) => {
      calls.length = 0;
      const waiting = await w.services.requests.awaitingApproval(slackId);
      return { waiting: waiting.length, queries: calls.length };
    };
    const ask = (requesterSlackId: string) => askForAppdb(w, { requesterSlackId });
    const one = await ask('U0ALICE');
    const few = await queriesFor('U0BOB');
    for (const who of ['U0ALICE', 'U0CAROL', 'U0DAVE', 'U0ADMIN']) for (let i = 0; i < 5; i++) await ask(who);
    await w.services.requests.decide({ requestId: one.id, actorSlackId: 'U0BOB', decision: 'deny', comment: 'no' });
    const many = await queriesFor('U0BOB');
    assert.deepEqual([few.waiting, many.waiting], [1, 20]);
    assert.equal(many.queries, few.queries, 'as many queries for 20 waiting requests as for one');
    assert.ok(many.queries <= 2, `${many.queries} queries`);
  });

  it('offers per integration only what the person’s flows allow', async () => {
    const w = serviceWorld();
    const carol = await w.services.requests.requestOptions('U0CAROL');
    assert.deepEqual(
      carol.integrations.map((i) => i.name),
      ['local', 'other'],
    );
    const local = carol.integrations[0]!;
    assert.deepEqual(local.permissions.sort(), ['admin', 'readonly', 'readwrite', 'role:reporting']);
    assert.equal(local.maxDurationMinutes, 8 * 60);
    assert.deepEqual(carol.integrations[1]!.permissions.sort(), ['admin', 'readonly', 'readwrite'], 'other has no grantable role');
    const dave = await w.services.requests.requestOptions('U0DAVE');
    assert.equal(dave.integrations.find((i) => i.name === 'other')?.maxDurationMinutes, 4 * 60);
  });

  it('narrows the catalog to the targets of the person’s flows', async () => {
    const w = serviceWorld();
    w.other.catalog = { otherdb: { public: ['notes'] }, secretdb: { public: ['keys'] } };
    assert.deepEqual(await w.services.catalog.databases('U0CAROL', 'local'), ['appdb']);
    assert.deepEqual(await w.services.catalog.databases('U0CAROL', 'other'), ['otherdb'], 'owner-approved covers otherdb only');
    assert.deepEqual(await w.services.catalog.databases('U0DAVE', 'other'), ['otherdb', 'secretdb'], 'two-party covers all of other');
    assert.deepEqual(await w.services.catalog.schemas('U0CAROL', 'other', 'secretdb'), []);
    assert.deepEqual(await w.services.catalog.tables('U0CAROL', 'local', 'appdb', 'public', 'ORD'), ['orders']);
    assert.deepEqual(await w.services.catalog.databases('U0CAROL', 'nope'), []);
  });
});

describe('the audit trail', () => {
  it('names who acted by Slack ID and email, for requesters and approvers alike', async () => {
    const w = serviceWorld();
    const req = await approvedGrant(w, 'readwrite');
    await w.services.credentials.revealCredentials(req.id, 'U0ALICE');
    await w.services.revocations.revoke(req.id, 'U0ADMIN');
    const events = await w.store.listAudit(new Date(0));
    const by = (action: string) => events.find((e) => e.action === action);
    assert.deepEqual([by('request.created')?.actor, by('request.created')?.actorEmail], ['U0ALICE', 'alice@example.com']);
    assert.deepEqual([by('request.approved')?.actor, by('request.approved')?.actorEmail], ['U0BOB', 'bob@example.com']);
    assert.deepEqual([by('credentials.revealed')?.actor, by('credentials.revealed')?.actorEmail], ['U0ALICE', 'alice@example.com']);
    assert.deepEqual([by('grant.revoked')?.actor, by('grant.revoked')?.actorEmail], ['U0ADMIN', 'admin@example.com']);
    assert.equal(by('grant.granted')?.actor, 'system');
    assert.equal(by('grant.granted')?.details?.requesterEmail, 'alice@example.com');
  });
});

describe('listing requests', () => {
  it('shows people their own, admins everyone’s, and refuses everyone’s to others', async () => {
    const w = serviceWorld();
    const alice = await autoGrant(w, 'U0ALICE');
    const carol = await autoGrant(w, 'U0CAROL');
    assert.deepEqual(
      (await w.services.requests.list('U0ALICE')).map((r) => r.id),
      [alice.id],
    );
    assert.deepEqual((await w.services.requests.list('U0ADMIN', { all: true })).map((r) => r.id).sort(), [alice.id, carol.id].sort());
    await assert.rejects(
      w.services.requests.list('U0ALICE', { all: true }),
      (e: unknown) => e instanceof NotAllowedError && /Only Sesame admins/.test(e.message),
    );
    // What /access list shows: everyone's to admins unless they ask for their own, one's own to others.
    assert.equal((await w.services.requests.listForCommand('U0ADMIN')).requests.length, 2);
    assert.deepEqual(await w.services.requests.listForCommand('U0ADMIN', false), { all: false, requests: [] });
    assert.deepEqual(
      (await w.services.requests.listForCommand('U0ALICE')).requests.map((r) => r.id),
      [alice.id],
    );
  });
});

describe('IAM database login', () => {
  it('gives the token and psql commands and the exact IAM policy, and sets no password', async () => {
    const config = testConfig({
      integrations: [
        {
          name: 'local',
          type: 'aws-rds-postgresql',
          region: 'eu-west-1',
          instanceId: 'ledger',
          database: 'appdb',
          username: 'sesame_connector',
          authType: 'iam',
          userAuth: 'iam',
          sslMode: 'verify-full',
          owners: { integration: ['U0BOB'] },
          grantableRoles: ['reporting'],
        },
      ],
      accessFlows: [{ name: 'auto', requestors: ['*'], permissions: ['readonly'], maxDuration: '1h', approvers: [] }],
    });
    const w = serviceWorld(config);
    w.local.connectionInfo = async () => ({
      host: 'ledger.abc.eu-west-1.rds.amazonaws.com',
      port: 5432,
      database: 'appdb',
      sslMode: 'verify-full',
      iam: { region: 'eu-west-1', accountId: '123456789012', resourceId: 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ', partition: 'aws' },
    });
    const req = await askForAppdb(w, { permission: 'readonly', durationMinutes: 30 });
    const creds = await w.services.credentials.revealCredentials(req.id, 'U0ALICE');
    assert.equal(creds.password, undefined);
    assert.equal(w.local.users.get('alice@example.com')?.password, undefined);
    assert.match(
      creds.iamCommands![0]!,
      /^aws rds generate-db-auth-token --hostname ledger\.abc\.eu-west-1\.rds\.amazonaws\.com --port 5432 --region eu-west-1 --username alice@example\.com/,
    );
    assert.match(creds.iamCommands![1]!, /^psql /);
    assert.ok(creds.iamPolicy!.includes('arn:aws:rds-db:eu-west-1:123456789012:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXYZ/alice@example.com'));
    assert.ok(creds.iamPolicy!.includes('rds-db:connect'));
  });
});

describe('promises of the product contract', () => {
  it('a grant that fails ends as failed, is audited, and tells the requester what happened', async () => {
    const w = serviceWorld();
    // A role with the person's name that Sesame did not create.
    w.local.users.set('alice@example.com', { managed: false, canLogin: true, validUntil: null, roles: new Set() });
    const req = await autoGrant(w);
    assert.equal(req.status, 'failed');
    assert.match(req.lastError ?? '', /Sesame did not create/);
    assert.ok((await w.store.listAudit(new Date(0))).some((e) => e.action === 'grant.failed' && e.requestId === req.id));
    assert.ok(w.notifier.statusesOf(req.id).includes('requestUpdated:failed'));
    assert.equal(w.local.users.get('alice@example.com')?.managed, false, 'the unmanaged role is left alone');
  });

  it('routes `owner` to the tag’s owner, and to the integration owners when the tag names nobody', async () => {
    const owners = new Map<string, string | undefined>([['local', 'carol@example.com']]);
    const config = testConfig({
      accessFlows: [{ name: 'owned', requestors: ['*'], permissions: ['readonly'], maxDuration: '1h', approvers: ['owner'] }],
    });
    const w = serviceWorld(config, { owners: { ownerOf: async (t) => owners.get(t.integration) } });
    const ask = () => askForAppdb(w, { permission: 'readonly', durationMinutes: 30 });
    const tagged = await ask();
    assert.deepEqual(
      tagged.approverGroups.map((g) => g.slackIds),
      [['U0CAROL']],
    );
    owners.set('local', 'nobody@example.com');
    const fallback = await ask();
    assert.deepEqual(
      fallback.approverGroups.map((g) => [g.slackIds, g.reason]),
      [[['U0BOB'], 'owner of integration local']],
    );
  });

  it('honours allowSelfApproval, requireJustification: false, and approvers named by email and @group', async () => {
    const config = testConfig({
      accessFlows: [
        {
          name: 'self',
          requestors: ['alice@example.com'],
          permissions: ['readonly'],
          maxDuration: '1h',
          approvers: ['@sre', 'bob@example.com'],
          approvalMode: 'all',
          allowSelfApproval: true,
          requireJustification: false,
        },
      ],
    });
    const w = serviceWorld(config);
    const req = await w.services.requests.requestAccess({
      requesterSlackId: 'U0ALICE',
      target: { integration: 'local', database: 'appdb' },
      permission: 'readonly',
      durationMinutes: 30,
    });
    assert.equal(req.reason, '');
    assert.deepEqual(
      req.approverGroups.map((g) => g.slackIds),
      [['U0DAVE', 'U0ALICE'], ['U0BOB']],
    );
    assert.equal((await w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0ALICE', decision: 'approve' })).status, 'pending');
    assert.equal((await w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' })).status, 'granted');
  });

  it('times out each pending request after its own flow’s pendingTtl, not before', async () => {
    const flow = { requestors: ['*'], permissions: ['readonly'], maxDuration: '1h', approvers: ['U0BOB'] };
    const config = testConfig({
      accessFlows: [
        { ...flow, name: 'quick', targets: [{ integration: 'local' }], pendingTtl: '1h' },
        { ...flow, name: 'patient', targets: [{ integration: 'other' }], pendingTtl: '3h' },
      ],
    });
    const w = serviceWorld(config);
    const ask = (integration: string) =>
      w.services.requests.requestAccess({
        requesterSlackId: 'U0ALICE',
        target: { integration },
        permission: 'readonly',
        durationMinutes: 30,
        reason: 'r',
      });
    const quick = await ask('local');
    const patient = await ask('other');
    const status = async (id: string) => (await w.store.getRequest(id))?.status;
    w.clock.advance(HOUR - 1);
    assert.equal(await w.services.maintenance.timeOutPending(), 0);
    assert.equal(await status(quick.id), 'pending');
    w.clock.advance(1);
    assert.equal(await w.services.maintenance.timeOutPending(), 1);
    assert.equal(await status(quick.id), 'timedout', 'quick waits 1h');
    w.clock.advance(HOUR);
    assert.equal(await w.services.maintenance.timeOutPending(), 0);
    assert.equal(await status(patient.id), 'pending', 'patient waits 3h, so not at 2h');
    w.clock.advance(HOUR);
    assert.equal(await w.services.maintenance.timeOutPending(), 1);
    assert.equal(await status(patient.id), 'timedout');
  });

  it('refuses the requester who is also a named approver when self-approval is off; another approver then decides', async () => {
    const config = testConfig({
      accessFlows: [{ name: 'peers', requestors: ['*'], permissions: ['readwrite'], maxDuration: '1h', approvers: ['U0ALICE', 'U0BOB'] }],
    });
    const w = serviceWorld(config);
    const req = await askForAppdb(w, { permission: 'readwrite', durationMinutes: 30 });
    assert.equal(req.allowSelfApproval, false);
    await assert.rejects(
      w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0ALICE', decision: 'approve' }),
      (e: unknown) => e instanceof NotAllowedError && /cannot decide on your own request; another approver has to/.test(e.message),
    );
    assert.equal((await w.store.getRequest(req.id))?.status, 'pending');
    assert.deepEqual(await w.store.listApprovals(req.id), []);
    assert.equal(w.local.calls.length, 0);
    assert.deepEqual(w.notifier.statusesOf(req.id), ['approvalRequested:pending']);
    const granted = await w.services.requests.decide({ requestId: req.id, actorSlackId: 'U0BOB', decision: 'approve' });
    assert.equal(granted.status, 'granted');
    assert.equal(granted.decidedBy, 'U0BOB');
  });

  it('reminds the requester ten minutes before expiry, not earlier', async () => {
    const w = serviceWorld();
    const req = await autoGrant(w);
    w.clock.set(new Date(req.expiresAt!.getTime() - 10 * MIN - 1));
    assert.equal(await w.services.maintenance.remindExpiring(), 0);
    w.clock.advance(1);
    assert.equal(await w.services.maintenance.remindExpiring(), 1);
  });

  it('audits denials, cancellations, time-outs and extensions with who did them', async () => {
    const w = serviceWorld();
    const ask = () => askForAppdb(w);
    const denied = await ask();
    await w.services.requests.decide({ requestId: denied.id, actorSlackId: 'U0BOB', decision: 'deny', comment: 'no' });
    const cancelled = await ask();
    await w.services.requests.cancel(cancelled.id, 'U0ALICE');
    const timedOut = await ask();
    w.clock.advance(25 * HOUR);
    await w.services.maintenance.timeOutPending();
    const granted = await approvedGrant(w, 'readwrite');
    const ext = await w.services.requests.extend(granted.id, 'U0ALICE', 30);
    await w.services.requests.decide({ requestId: ext.id, actorSlackId: 'U0BOB', decision: 'approve' });
    const events = await w.store.listAudit(new Date(0));
    const find = (action: string, requestId: string) => events.find((e) => e.action === action && e.requestId === requestId);
    assert.deepEqual([find('request.denied', denied.id)?.actor, find('request.denied', denied.id)?.details?.reason], ['U0BOB', 'no']);
    assert.equal(find('request.cancelled', cancelled.id)?.actorEmail, 'alice@example.com');
    assert.equal(find('request.timedout', timedOut.id)?.actor, 'system');
    assert.equal(find('grant.extended', granted.id)?.details?.extensionId, ext.id);
  });

  it('declares the schedule of the config, and the expire job ends what is due and reconciles', async () => {
    const w = serviceWorld();
    const jobs = sesameJobs(w.config.schedule, w.services);
    assert.deepEqual(
      jobs.map((j) => [j.id, j.cron, Boolean(j.runAtStart)]),
      [
        ['expire', '*/15 * * * * *', true],
        ['remind', '0 * * * * *', true],
        ['rotate', '0 0 3 * * *', false],
        ['cleanup', '0 30 3 * * *', false],
      ],
    );
    const req = await autoGrant(w);
    w.local.users.set('ghost@example.com', { managed: true, canLogin: true, validUntil: null, roles: new Set() });
    w.clock.advance(HOUR);
    await jobs.find((j) => j.id === 'expire')!.run();
    assert.equal((await w.store.getRequest(req.id))?.status, 'expired');
    assert.equal(w.local.users.get('ghost@example.com')?.canLogin, false);
  });
});
