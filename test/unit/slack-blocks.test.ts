/**
 * The Block Kit builders against Slack's documented limits, with ordinary and with maximal
 * content: 1,000-character reasons, 63-byte names in every part of a target, 400 characters of
 * access details, hundreds of approvers. A message Slack would reject fails here.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { approvalMessage, statusThreadMessage } from '../../src/adapters/slack/blocks/approvalMessage.ts';
import { helpMessage, listMessage, noticeReply, submittedReply } from '../../src/adapters/slack/blocks/commandReplies.ts';
import { iamConnectDetails } from '../../src/domain/iamConnect.ts';
import { credentialsModal } from '../../src/adapters/slack/blocks/credentialsModal.ts';
import { denyModal } from '../../src/adapters/slack/blocks/denyModal.ts';
import { extendModal } from '../../src/adapters/slack/blocks/extendModal.ts';
import { homeView } from '../../src/adapters/slack/blocks/homeView.ts';
import { readRequestForm, requestBlockId, requestModal } from '../../src/adapters/slack/blocks/requestModal.ts';
import { expiringSoonMessage, extendedMessage, requesterMessage } from '../../src/adapters/slack/blocks/requesterMessages.ts';
import { escapeWithin, slackDate, truncate } from '../../src/adapters/slack/blocks/text.ts';
import type { AccessRequest, RequestStatus } from '../../src/domain/request.ts';
import type { RequestOptions } from '../../src/services/requestInputs.ts';
import { validateMessage, validateView } from '../../src/playground/slack/blockKitRules.ts';
import { at, MINUTE, newRequest, nextId, T0 } from '../support/stateFixtures.ts';

const NAME_63 = 'n'.repeat(63);
/** 63 bytes of two-byte characters. */
const NAME_63_BYTES = `${'é'.repeat(31)}x`;
const REASON_1000 = '<!channel> & '.repeat(77).slice(0, 1000);
const DETAILS_400 = 'Connect through the VPN <https://vpn.example> & use bastion; '.repeat(7).slice(0, 400);
const ALL_STATUSES: RequestStatus[] = [
  'pending',
  'approved',
  'granting',
  'granted',
  'revoking',
  'revoked',
  'expired',
  'denied',
  'cancelled',
  'timedout',
  'failed',
];

function request(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return { ...newRequest(), status: 'pending', revokeAttempts: 0, version: 1, ...overrides };
}

/** A request with every field at its longest. */
function maximal(status: RequestStatus): AccessRequest {
  const many = Array.from({ length: 300 }, (_, i) => `U${String(i).padStart(9, '0')}`);
  return request({
    status,
    requester: { slackId: 'U0ALICE', email: `${'a'.repeat(60)}@example.com` },
    target: { integration: 'i'.repeat(63), database: NAME_63, schema: NAME_63_BYTES, table: `${'t'.repeat(60)}";x` },
    permission: `role:${'r'.repeat(63)}`,
    durationMinutes: 7 * 24 * 60 + 59,
    reason: REASON_1000,
    flowName: 'f'.repeat(200),
    approverGroups: Array.from({ length: 30 }, (_, g) => ({
      source: `@group-${g}`,
      reason: `member of @group-${g} ${'why '.repeat(20)}`,
      slackIds: many,
    })),
    decidedBy: 'U0BOB',
    decidedAt: at(5 * MINUTE),
    denyReason: REASON_1000,
    dbUser: 'd'.repeat(63),
    grantedAt: at(6 * MINUTE),
    expiresAt: at(66 * MINUTE),
    endedAt: at(70 * MINUTE),
    endedBy: 'U0ADMIN',
    lastError: `permission denied ${'x'.repeat(3000)}`,
  });
}

function assertMessage(message: { text: string; blocks: unknown[] }, label: string): void {
  assert.deepEqual(validateMessage(message), [], `${label}: ${JSON.stringify(validateMessage(message))}`);
}

function assertView(view: unknown, label: string): void {
  assert.deepEqual(validateView(view), [], label);
}

function textOf(value: unknown): string {
  return JSON.stringify(value);
}

function buttonIds(message: { blocks: unknown[] }): string[] {
  return (message.blocks as { type: string; elements?: { type: string; action_id: string }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .map((e) => e.action_id);
}

describe('the approval message', () => {
  it('shows requester, target, permission, duration, reason, why, the ID and both buttons', () => {
    const req = request({
      requester: { slackId: 'U0ALICE', email: 'alice@example.com' },
      target: { integration: 'prod', database: 'app' },
    });
    const message = approvalMessage(req);
    assertMessage(message, 'pending');
    const text = textOf(message);
    for (const part of [
      '<@U0ALICE>',
      'alice@example.com',
      '`prod/app`',
      '`readonly`',
      '1h',
      'investigate a slow query',
      'member of @dba',
      '<@U0BOB>',
      req.id,
    ]) {
      assert.ok(text.includes(part), part);
    }
    assert.deepEqual(buttonIds(message), [`sesame.approve:${req.id}`, `sesame.deny:${req.id}`]);
    // Buttons carry the request ID and nothing else.
    assert.ok(!text.includes('"value":"U0'));
  });

  it('escapes what people wrote, so a reason cannot ping the channel', () => {
    const text = textOf(approvalMessage(request({ reason: '<!channel> look <https://evil|here> & now' })));
    assert.ok(!text.includes('<!channel>'));
    assert.ok(text.includes('&lt;!channel&gt;'));
    assert.ok(text.includes('&amp; now'));
  });

  it('fits Slack with every field at its longest, in every status', () => {
    for (const status of ALL_STATUSES) {
      const req = maximal(status);
      const approvals = req.approverGroups[0]!.slackIds.slice(0, 40).map((id) => ({
        requestId: req.id,
        approverId: id,
        decision: 'approve' as const,
        at: T0,
      }));
      assertMessage(approvalMessage(req, approvals), `approval ${status}`);
      assertMessage(statusThreadMessage(req, approvals), `thread ${status}`);
    }
  });

  it('says "and N more" instead of naming hundreds of approvers', () => {
    const text = textOf(approvalMessage(maximal('pending')));
    assert.match(text, /and 285 more/);
    assert.match(text, /more groups/);
  });

  it('once decided, shows who decided and when, without Approve and Deny; Revoke only while granted', () => {
    const approved = request({ status: 'granted', decidedBy: 'U0BOB', decidedAt: at(MINUTE), expiresAt: at(61 * MINUTE) });
    const message = approvalMessage(approved);
    assert.deepEqual(buttonIds(message), [`sesame.revoke:${approved.id}`]);
    assert.match(JSON.stringify(message.blocks), /"confirm":\{"type":"plain_text","text":"Revoke"/);
    for (const status of ['revoked', 'expired'] as const) {
      assert.deepEqual(buttonIds(approvalMessage({ ...approved, status })), [], status);
    }
    assert.ok(textOf(message).includes('Approved by <@U0BOB>'));
    assert.ok(textOf(message).includes(slackDate(at(MINUTE)).replaceAll('"', '\\"')));
    const denied = approvalMessage(request({ status: 'denied', decidedBy: 'U0CAROL', decidedAt: at(MINUTE), denyReason: 'not today' }));
    assert.deepEqual(buttonIds(denied), []);
    assert.match(textOf(denied), /Denied by <@U0CAROL>.*not today/);
  });

  it('keeps the buttons while partly approved, and says by whom', () => {
    const req = request({ approvalMode: 'all' });
    const message = approvalMessage(req, [{ requestId: req.id, approverId: 'U0BOB', decision: 'approve', at: T0 }]);
    assert.equal(buttonIds(message).length, 2);
    assert.match(textOf(message), /Approved so far by <@U0BOB>/);
    assert.match(
      textOf(statusThreadMessage(req, [{ requestId: req.id, approverId: 'U0BOB', decision: 'approve', at: T0 }])),
      /still waits/,
    );
  });

  it('posts each status in the thread with what matters for it', () => {
    assert.match(textOf(statusThreadMessage(request({ status: 'granted', expiresAt: at(HOUR()) }))), /granted until <!date\^/);
    assert.match(
      textOf(statusThreadMessage(request({ status: 'denied', decidedBy: 'U0BOB', denyReason: 'nope' }))),
      /denied by <@U0BOB>: nope/,
    );
    const failed = textOf(
      statusThreadMessage(request({ status: 'failed', lastError: 'cannot connect to db.internal:5432 as sesame_connector' })),
    );
    assert.match(failed, /failed\. Sesame's admins were told what went wrong/);
    assert.ok(!failed.includes('db.internal') && !failed.includes('sesame_connector'), 'the error is for the admins');
    assert.match(textOf(statusThreadMessage(request({ status: 'revoked', endedBy: 'U0ADMIN' }))), /revoked by <@U0ADMIN>/);
    assert.match(textOf(statusThreadMessage(request({ status: 'timedout' }))), /timed out/);
  });
});

function HOUR(): number {
  return 60 * MINUTE;
}

describe("the requester's messages", () => {
  it('on grant: target, permission, expiry as a date token, access details and three buttons', () => {
    const req = request({
      status: 'granted',
      target: { integration: 'prod', database: 'app' },
      expiresAt: at(HOUR()),
      dbUser: 'alice@example.com',
    });
    const message = requesterMessage(req, { customAccessDetails: 'Use the VPN.' });
    assertMessage(message, 'granted');
    const text = textOf(message);
    assert.ok(
      text.includes(`<!date^${Math.floor(at(HOUR()).getTime() / 1000)}^{date_short_pretty} at {time}|${at(HOUR()).toISOString()}>`),
    );
    assert.ok(text.includes('Use the VPN.'));
    assert.deepEqual(buttonIds(message), [`sesame.credentials:${req.id}`, `sesame.extend:${req.id}`, `sesame.revoke:${req.id}`]);
    const revoke = (message.blocks.at(-1) as { elements: { confirm?: unknown }[] }).elements[2]!;
    assert.ok(revoke.confirm, 'Revoke asks for confirmation');
  });

  it('fits Slack in every status with maximal content, and has buttons only where they act', () => {
    for (const status of ALL_STATUSES) {
      const message = requesterMessage(maximal(status), { customAccessDetails: DETAILS_400 });
      assertMessage(message, `requester ${status}`);
      const buttons = buttonIds(message);
      if (status === 'granted') assert.equal(buttons.length, 3);
      else if (status === 'pending')
        assert.deepEqual(
          buttons.map((b) => b.split(':')[0]),
          ['sesame.cancel'],
        );
      else if (['expired', 'revoked', 'denied', 'timedout', 'failed'].includes(status))
        assert.deepEqual(
          buttons.map((b) => b.split(':')[0]),
          ['sesame.requestAgain'],
          status,
        );
      else assert.deepEqual(buttons, [], status);
    }
    assertMessage(expiringSoonMessage(maximal('granted')), 'expiring');
    assertMessage(extendedMessage(maximal('granted')), 'extended');
  });

  it('tells a denial with its reason, a failure without its details (the admins get those), and a timeout', () => {
    assert.match(
      textOf(requesterMessage(request({ status: 'denied', decidedBy: 'U0BOB', denyReason: 'use staging' }))),
      /denied by <@U0BOB>: use staging/,
    );
    const failed = textOf(
      requesterMessage(request({ status: 'failed', lastError: 'cannot connect to db.internal:5432 as sesame_connector' })),
    );
    assert.match(failed, /could not be granted\. Sesame's admins were told what went wrong; nothing is left granted/);
    assert.ok(!failed.includes('db.internal') && !failed.includes('sesame_connector'));
    assert.match(textOf(requesterMessage(request({ status: 'timedout' }))), /timed out/);
    assert.match(textOf(requesterMessage(request({ status: 'expired', endedAt: at(HOUR()) }))), /expired/);
  });

  it('reminds before expiry with Extend', () => {
    const req = request({ status: 'granted', expiresAt: at(HOUR()) });
    assert.deepEqual(buttonIds(expiringSoonMessage(req)), [`sesame.extend:${req.id}`]);
  });
});

const OPTIONS: RequestOptions = {
  integrations: [
    {
      name: 'local',
      permissions: ['readonly', 'readwrite'],
      maxDurationMinutes: 480,
      defaultDurationMinutes: 60,
      requireJustification: true,
    },
    { name: 'other', permissions: ['admin'], maxDurationMinutes: 60, defaultDurationMinutes: 30, requireJustification: false },
  ],
};

describe('the request modal', () => {
  it('offers the integrations, catalog pickers loaded as one types, permissions, duration and reason', () => {
    const view = requestModal(OPTIONS);
    assertView(view, 'request modal');
    const text = textOf(view);
    assert.ok(text.includes('"external_select"'));
    assert.ok(text.includes('"min_query_length":0'));
    assert.ok(text.includes('"initial_value":"1h"'));
    assert.ok(text.includes('"max_length":1000'));
    assert.ok(!text.includes('"admin"'), 'permissions are those of the chosen integration');
    const other = textOf(requestModal(OPTIONS, 'other'));
    assert.ok(other.includes('"admin"') && !other.includes('"readwrite"'));
    assert.ok(other.includes('"initial_value":"30m"'));
  });

  it('fits Slack with a hundred and more integrations with long names and many permissions', () => {
    const integrations = Array.from({ length: 150 }, (_, i) => ({
      name: `${String(i).padStart(3, '0')}${'x'.repeat(60)}`,
      permissions: [
        'readonly' as const,
        ...Array.from({ length: 120 }, (_, r) => `role:${String(r).padStart(3, '0')}${'r'.repeat(60)}` as const),
      ],
      maxDurationMinutes: 10_080,
      defaultDurationMinutes: 60,
      requireJustification: true,
    }));
    assertView(requestModal({ integrations }), 'many integrations');
    assertView(requestModal({ integrations: [] }), 'nothing to offer');
  });

  it('reads what was filled in, whatever integration the block IDs name', () => {
    const form = readRequestForm({
      integration: { 'sesame.request.integration': { type: 'static_select', selected_option: { value: 'local' } } },
      [requestBlockId('database', 'local')]: {
        'sesame.request.database': { type: 'external_select', selected_option: { value: 'appdb' } },
      },
      [requestBlockId('schema', 'local')]: { 'sesame.request.schema': { type: 'external_select', selected_option: null } },
      [requestBlockId('permission', 'local')]: { permission: { type: 'static_select', selected_option: { value: 'readonly' } } },
      [requestBlockId('duration', 'local')]: { duration: { type: 'plain_text_input', value: '2h' } },
      [requestBlockId('reason', 'local')]: { reason: { type: 'plain_text_input', value: 'look' } },
    });
    assert.deepEqual(form, { integration: 'local', database: 'appdb', permission: 'readonly', duration: '2h', reason: 'look' });
  });
});

describe('the other modals and the Home tab', () => {
  it('credentials: host, port, database, user, password and the URI; or the IAM commands', () => {
    const creds = {
      requestId: nextId(),
      host: 'db.example.com',
      port: 5432,
      database: 'appdb',
      username: 'alice@example.com',
      sslMode: 'require',
      password: 'Secret-Pass-123',
      uri: 'postgresql://alice%40example.com:Secret-Pass-123@db.example.com:5432/appdb?sslmode=require',
      expiresAt: at(HOUR()),
      customAccessDetails: DETAILS_400,
    };
    const view = credentialsModal(creds);
    assertView(view, 'credentials');
    for (const part of ['db.example.com', '5432', 'appdb', 'alice@example.com', 'Secret-Pass-123', creds.uri])
      assert.ok(textOf(view).includes(part), part);
    const longHost = 'h'.repeat(253);
    const details = iamConnectDetails({
      region: 'ap-southeast-2',
      accountId: '123456789012',
      resourceId: 'cluster-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
      host: longHost,
      port: 5432,
      username: 'u'.repeat(63),
      database: NAME_63_BYTES,
      sslMode: 'verify-full',
    });
    const iam = credentialsModal({
      ...creds,
      host: longHost,
      database: NAME_63_BYTES,
      username: 'u'.repeat(63),
      password: undefined,
      uri: `postgresql://${'u'.repeat(63)}@${longHost}:5432/${encodeURIComponent(NAME_63_BYTES)}?sslmode=verify-full`,
      iamCommands: [details.tokenCommand, details.psqlCommand],
      iamPolicy: details.policyJson,
    });
    assertView(iam, 'iam credentials');
    assert.ok(textOf(iam).includes('generate-db-auth-token'));
    assert.ok(textOf(iam).includes('rds-db:connect') && textOf(iam).includes(details.resourceArn));
    assert.ok(!textOf(iam).includes('Password'));
  });

  it('deny and extend carry the request ID in private_metadata and fit Slack', () => {
    const req = maximal('pending');
    for (const view of [denyModal(req.id, req), denyModal(req.id), extendModal(req.id, req), extendModal(req.id)]) {
      assertView(view, view.callback_id ?? '');
      assert.equal(view.private_metadata, req.id);
    }
  });

  it('Home: grants with buttons, pending requests, approvals waiting, within 100 blocks however many', () => {
    const grants = Array.from({ length: 40 }, () => maximal('granted'));
    const pending = Array.from({ length: 40 }, () => maximal('pending'));
    const view = homeView({ mine: [...grants, ...pending], awaiting: pending, command: '/access', notice: REASON_1000 });
    assertView(view, 'home');
    assert.match(textOf(view), /and 26 more/);
    const small = homeView({
      mine: [request({ status: 'granted', expiresAt: at(HOUR()) }), request()],
      awaiting: [request({ requester: { slackId: 'U0CAROL' } })],
      command: '/access',
    });
    const text = textOf(small);
    for (const id of ['sesame.credentials:', 'sesame.cancel:', 'sesame.approve:', 'sesame.deny:']) assert.ok(text.includes(id), id);
    assertView(homeView({ mine: [], awaiting: [], command: '/access' }), 'empty home');
  });
});

describe('command replies', () => {
  it('help shows the usage and what the person can request; list shows IDs and statuses', () => {
    const help = helpMessage('/access', OPTIONS);
    assertMessage(help, 'help');
    assert.match(textOf(help), /`local`: `readonly`, `readwrite` · up to 8h/);
    const reqs = Array.from({ length: 200 }, (_, i) => maximal(ALL_STATUSES[i % ALL_STATUSES.length]!));
    assertMessage(listMessage(reqs, { all: true, command: '/access' }), 'long list');
    const one = request();
    assert.ok(textOf(listMessage([one], { all: false, command: '/access' })).includes(one.id));
    assertMessage(listMessage([], { all: false, command: '/access' }), 'empty list');
    for (const status of ALL_STATUSES) assertMessage(submittedReply(maximal(status)), `submitted ${status}`);
    assertMessage(noticeReply('x'.repeat(10_000)), 'long notice');
  });
});

describe('text helpers', () => {
  it('cut with an ellipsis and never split an escaped entity', () => {
    assert.equal(truncate('abcdef', 4), 'abc…');
    assert.equal(truncate('abc', 4), 'abc');
    const escaped = escapeWithin('<'.repeat(100), 22);
    assert.equal(escaped, `${'&lt;'.repeat(5)}…`);
    assert.ok(escaped.length <= 22);
  });
});
