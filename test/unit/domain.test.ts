import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatMinutes, parseDurationMinutes } from '../../src/domain/duration.ts';
import { InputError } from '../../src/domain/errors.ts';
import { approvalsComplete, assignApprovers } from '../../src/domain/approvals.ts';
import { justificationProblem } from '../../src/domain/flows.ts';
import { chooseFlow } from '../../src/domain/flows.ts';
import { validateIdentifier } from '../../src/domain/identifiers.ts';
import { quoteIdent } from '../../src/adapters/postgres/statements.ts';
import { parsePermission } from '../../src/domain/permission.ts';
import { parsePrincipal } from '../../src/domain/principal.ts';
import { newRequestId, normalizeRequestId, REQUEST_ID_RE } from '../../src/domain/request.ts';
import { formatTarget, parseTarget, targetScope } from '../../src/domain/target.ts';
import { databaseUserName } from '../../src/domain/username.ts';
import { testConfig } from '../support/services.ts';

const inputError = (re: RegExp) => (e: unknown) => e instanceof InputError && re.test(e.message);

describe('durations', () => {
  it('reads the forms people write', () => {
    assert.equal(parseDurationMinutes('15m'), 15);
    assert.equal(parseDurationMinutes('2h'), 120);
    assert.equal(parseDurationMinutes('1d'), 1440);
    assert.equal(parseDurationMinutes('1h30m'), 90);
    assert.equal(parseDurationMinutes(' 1W '), 7 * 1440);
  });
  it('refuses zero, negative and malformed durations with the accepted forms', () => {
    for (const bad of ['0m', '0h0m', '-1h', 'abc', '', '1.5h', '30m1h', '1h 30m', '10s']) {
      assert.throws(() => parseDurationMinutes(bad), inputError(/15m, 2h, 1d or 1h30m|longer than zero/), bad);
    }
  });
  it('formats minutes back', () => {
    assert.equal(formatMinutes(90), '1h30m');
    assert.equal(formatMinutes(1440 + 5), '1d5m');
    assert.equal(formatMinutes(0), '0m');
  });
});

describe('targets', () => {
  it('parses every scope', () => {
    assert.deepEqual(parseTarget('prod'), { integration: 'prod' });
    assert.deepEqual(parseTarget('prod/app/public/orders'), { integration: 'prod', database: 'app', schema: 'public', table: 'orders' });
    assert.equal(targetScope(parseTarget('prod/app')), 'database');
    assert.equal(targetScope(parseTarget('prod/app/public')), 'schema');
    assert.equal(formatTarget(parseTarget('prod/app/public/orders')), 'prod/app/public/orders');
  });
  it('keeps quotes, semicolons and unicode as parts of names, to be quoted', () => {
    const t = parseTarget('prod/app/we"ird; drop table x;--/Überstunden_表');
    assert.equal(t.schema, 'we"ird; drop table x;--');
    assert.equal(t.table, 'Überstunden_表');
    assert.equal(quoteIdent(t.schema!), '"we""ird; drop table x;--"');
  });
  it('refuses malformed targets with the way to write one', () => {
    assert.throws(() => parseTarget(''), inputError(/No target given/));
    assert.throws(() => parseTarget('a/b/c/d/e'), inputError(/at most four/));
    assert.throws(() => parseTarget('prod//public'), inputError(/empty part/));
    assert.throws(() => parseTarget('Prod;drop'), inputError(/not an integration name/));
    assert.throws(() => parseTarget(`prod/${'é'.repeat(32)}`), inputError(/64 bytes long; PostgreSQL names are at most 63/));
    assert.throws(() => parseTarget('prod/app/x\u0000y'), inputError(/control characters/));
  });
  it('accepts names of exactly 63 bytes', () => {
    assert.equal(validateIdentifier('a'.repeat(63), 'table').length, 63);
  });
});

describe('permissions and principals', () => {
  it('parses permissions', () => {
    assert.equal(parsePermission('readonly'), 'readonly');
    assert.equal(parsePermission('role:reporting'), 'role:reporting');
    assert.throws(() => parsePermission('superuser'), inputError(/readonly, readwrite, admin or role:<name>/));
    assert.throws(() => parsePermission('role:'), inputError(/empty/));
  });
  it('parses principals', () => {
    assert.deepEqual(parsePrincipal('U0BOB'), { kind: 'user', slackId: 'U0BOB' });
    assert.deepEqual(parsePrincipal('Ops@Example.com'), { kind: 'email', email: 'ops@example.com' });
    assert.deepEqual(parsePrincipal('@Platform'), { kind: 'group', handle: 'platform' });
    assert.deepEqual(parsePrincipal('*'), { kind: 'everyone' });
    assert.equal(parsePrincipal('bob'), undefined);
  });
});

describe('database user names', () => {
  it('is the email by default, lowercased', () => {
    assert.equal(databaseUserName({ slackId: 'U1', email: 'Alice.Smith@Example.com' }), 'alice.smith@example.com');
    assert.equal(databaseUserName({ slackId: 'U1A', email: 'a@b.co' }, 'jit_{emailLocal}_{slackId}'), 'jit_a_u1a');
  });
  it('stays within 63 bytes and keeps long names apart', () => {
    const a = databaseUserName({ slackId: 'U1', email: `${'ü'.repeat(40)}-one@example.com` });
    const b = databaseUserName({ slackId: 'U1', email: `${'ü'.repeat(40)}-two@example.com` });
    assert.ok(Buffer.byteLength(a) <= 63 && Buffer.byteLength(b) <= 63);
    assert.notEqual(a, b);
    assert.doesNotThrow(() => validateIdentifier(a, 'user'));
  });
  it('needs an email for email templates', () => {
    assert.throws(() => databaseUserName({ slackId: 'U1' }), inputError(/users:read.email/));
  });
});

describe('request IDs', () => {
  it('are short, unambiguous and read back however typed', () => {
    let n = 0;
    const id = newRequestId((len) => Uint8Array.from({ length: len }, () => n++ * 37));
    assert.match(id, REQUEST_ID_RE);
    assert.equal(normalizeRequestId(`#${id.toLowerCase()}`), id);
    assert.equal(normalizeRequestId('R0O1IL0'), undefined);
  });
});

describe('flows', () => {
  const flows = testConfig().accessFlows;
  const everyone = () => true;
  it('chooses the flow with the fewest approvers, wherever it stands, and applies its default duration', () => {
    const input = { target: { integration: 'local', database: 'appdb', schema: 'public' }, permission: 'readonly' as const };
    for (const order of [flows, [...flows].reverse()]) {
      const c = chooseFlow(order, input, everyone);
      assert.ok(c.ok);
      assert.equal(c.flow.name, 'auto-read');
      assert.equal(c.durationMinutes, 60);
    }
  });
  it('breaks a tie in approvers by config order', () => {
    const input = { target: { integration: 'local', database: 'appdb' }, permission: 'readonly' as const, durationMinutes: 30 };
    const a = { ...flows[1]!, name: 'first' };
    const b = { ...flows[1]!, name: 'second' };
    const first = chooseFlow([a, b], input, everyone);
    const second = chooseFlow([b, a], input, everyone);
    assert.ok(first.ok && second.ok);
    assert.equal(first.flow.name, 'first');
    assert.equal(second.flow.name, 'second');
  });
  it('does not offer a whole server under a flow narrowed to databases', () => {
    const c = chooseFlow(flows, { target: { integration: 'local' }, permission: 'readonly', durationMinutes: 600 }, everyone);
    assert.ok(!c.ok);
    // owner-approved covers the server but allows 4h, auto-read is narrowed to appdb/public.
    assert.equal(c.reason, 'too_long');
    assert.match(c.message, /at most 4h/);
  });
  it('refuses permissions no flow offers', () => {
    const c = chooseFlow(flows, { target: { integration: 'local' }, permission: 'role:nope' }, everyone);
    assert.ok(!c.ok && c.reason === 'no_flow');
  });
  it('counts approvals per mode', () => {
    const groups = [{ slackIds: ['A', 'B'] }, { slackIds: ['C'] }];
    assert.equal(approvalsComplete(groups, 'any', ['B']), true);
    assert.equal(approvalsComplete(groups, 'all', ['B']), false);
    assert.equal(approvalsComplete(groups, 'all', ['B', 'C']), true);
    assert.equal(approvalsComplete([], 'all', []), true);
  });
  it('a quorum counts different approvers of the request, in either mode', () => {
    const groups = [{ slackIds: ['A', 'B'] }, { slackIds: ['C'] }];
    assert.equal(approvalsComplete(groups, 'any', ['B'], 2), false);
    assert.equal(approvalsComplete(groups, 'any', ['B', 'B'], 2), false, 'one person counts once');
    assert.equal(approvalsComplete(groups, 'any', ['B', 'Z'], 2), false, 'someone who is no approver does not count');
    assert.equal(approvalsComplete(groups, 'any', ['A', 'B'], 2), true);
    assert.equal(approvalsComplete(groups, 'all', ['A', 'B'], 2), false, 'all still needs each entry');
    assert.equal(approvalsComplete(groups, 'all', ['A', 'C'], 3), false);
    assert.equal(approvalsComplete(groups, 'all', ['A', 'B', 'C'], 3), true);
  });
  it("says what a flow's reason rule wants, with the hint's example", () => {
    const flow = { name: 'ticketed', justification: { pattern: '^[A-Z]+-[0-9]+', hint: 'a ticket key like OPS-123' } };
    assert.equal(justificationProblem(flow, 'OPS-1 broken'), undefined);
    assert.equal(
      justificationProblem(flow, 'broken OPS-1'),
      'Flow ticketed needs a reason with a ticket key like OPS-123: add it after "because", e.g. "because OPS-123 …".',
    );
    assert.match(
      justificationProblem({ name: 'f', justification: { pattern: 'INC\\d+' } }, 'x') ?? '',
      /text matching \/INC\\d\+\/: .*because <ticket>/,
    );
    assert.equal(justificationProblem({ name: 'free' }, 'anything'), undefined);
  });
  it('with all, counts a person in two entries once: each entry needs a different approver', () => {
    const dbaAndSecurity = [{ slackIds: ['CAROL', 'DAN'] }, { slackIds: ['CAROL', 'SAM'] }];
    assert.equal(approvalsComplete(dbaAndSecurity, 'all', ['CAROL']), false);
    assert.equal(approvalsComplete(dbaAndSecurity, 'all', ['CAROL', 'DAN']), true, 'Dan for the first, Carol for the second');
    assert.equal(approvalsComplete(dbaAndSecurity, 'all', ['CAROL', 'SAM']), true, 'Carol for the first, Sam for the second');
    assert.equal(approvalsComplete(dbaAndSecurity, 'any', ['CAROL']), true);
    // Taking the first fit in order would give A to the first entry and leave the second empty.
    assert.equal(approvalsComplete([{ slackIds: ['A', 'B'] }, { slackIds: ['A'] }], 'all', ['A', 'B']), true);
    assert.equal(
      approvalsComplete([{ slackIds: ['A', 'B'] }, { slackIds: ['A', 'B'] }, { slackIds: ['A', 'B', 'C'] }], 'all', ['A', 'B']),
      false,
    );
  });
  it('assigns a different person to each entry where possible, moving people to free one up', () => {
    assert.deepEqual(assignApprovers([['A', 'B'], ['A']]), ['B', 'A']);
    assert.deepEqual(assignApprovers([['A'], ['A'], ['B']]), ['A', undefined, 'B']);
    assert.deepEqual(assignApprovers([['A', 'B', 'C'], ['A', 'B'], ['A']]), ['C', 'B', 'A']);
    assert.deepEqual(assignApprovers([[], ['A']]), [undefined, 'A']);
    assert.deepEqual(assignApprovers([]), []);
  });
});
