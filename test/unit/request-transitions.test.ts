import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  canMove,
  ENDING_GRANT_STATUSES,
  fromStatesOf,
  isGranted,
  isOnServer,
  isTerminal,
  LIVE_GRANT_STATUSES,
  reachableFrom,
  REVOCABLE_STATUSES,
  TRANSITIONS,
  UNFINISHED_GRANT_STATUSES,
  type AccessRequest,
  type RequestStatus,
} from '../../src/domain/request.ts';
import { newRequest } from '../support/stateFixtures.ts';

const STATUSES = Object.keys(TRANSITIONS) as RequestStatus[];

/** Every move the services make, as [from, to]: the paths of PRODUCT.md's request lifecycle. */
const MOVES_THE_SERVICES_MAKE: [RequestStatus, RequestStatus][] = [
  ['pending', 'approved'],
  ['pending', 'denied'],
  ['pending', 'cancelled'],
  ['pending', 'timedout'],
  ['approved', 'granting'],
  ['approved', 'failed'],
  ['granting', 'granted'],
  ['granting', 'failed'],
  ['granting', 'revoking'],
  ['granted', 'revoking'],
  ['revoking', 'revoked'],
  ['revoking', 'expired'],
];

describe('request transitions table', () => {
  it('allows every move the services make, and no other', () => {
    for (const [from, to] of MOVES_THE_SERVICES_MAKE) assert.ok(canMove(from, to), `${from} → ${to}`);
    const listed = STATUSES.flatMap((from) => TRANSITIONS[from].map((to) => `${from} → ${to}`)).sort();
    assert.deepEqual(listed, MOVES_THE_SERVICES_MAKE.map(([from, to]) => `${from} → ${to}`).sort());
  });

  it('names in the services only statuses that the table lets them move to', () => {
    // Each `transition(…, 'to'` the services write must be a status some other status leads to.
    const dir = join(import.meta.dirname, '../../src/services');
    let seen = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(dir, file), 'utf8');
      for (const m of text.matchAll(/transition\([^)]*?fromStatesOf\('(\w+)'\),\s*'(\w+)'/g)) {
        assert.equal(m[1], m[2], `${file}: fromStatesOf('${m[1]}') used for a move to '${m[2]}'`);
        assert.ok(fromStatesOf(m[2] as RequestStatus).length > 0, `${file}: nothing moves to ${m[2]}`);
        seen++;
      }
    }
    assert.ok(seen >= 8, `found only ${seen} moves named by the table in src/services`);
  });

  it('lets terminal statuses lead nowhere, and every other status somewhere', () => {
    const terminal = STATUSES.filter(isTerminal).sort();
    assert.deepEqual(terminal, ['cancelled', 'denied', 'expired', 'failed', 'revoked', 'timedout']);
    for (const status of terminal) for (const to of STATUSES) assert.equal(canMove(status, to), false);
  });

  it('reaches an end from every status, and never goes back to pending', () => {
    for (const status of STATUSES) {
      assert.ok(reachableFrom(status).some(isTerminal), `${status} never ends`);
    }
    assert.deepEqual(fromStatesOf('pending'), []);
    assert.deepEqual([...reachableFrom('pending')].sort(), [...STATUSES].sort());
  });

  it('derives the named groups the services and stores use', () => {
    assert.deepEqual(LIVE_GRANT_STATUSES, ['granting', 'granted', 'revoking']);
    assert.deepEqual(ENDING_GRANT_STATUSES, ['revoking', 'revoked', 'expired']);
    assert.deepEqual(REVOCABLE_STATUSES, ['granting', 'granted']);
    assert.deepEqual(UNFINISHED_GRANT_STATUSES, ['approved', 'granting']);
    assert.deepEqual(fromStatesOf('revoked'), ['revoking']);
  });
});

describe('status-narrowed requests', () => {
  const base: AccessRequest = { ...newRequest(), status: 'granted', version: 1, revokeAttempts: 0 };
  const onServer = { ...base, dbUser: 'sesame_alice', serverKey: 'srv-1' };

  it('is on a server only with both its database user and the server', () => {
    assert.equal(isOnServer(onServer), true);
    assert.equal(isOnServer({ ...onServer, dbUser: undefined }), false);
    assert.equal(isOnServer({ ...onServer, serverKey: '' }), false);
  });

  it('is granted only in status granted, on a server, with an expiry', () => {
    const expiresAt = new Date('2026-03-01T13:00:00.000Z');
    assert.equal(isGranted({ ...onServer, expiresAt }), true);
    assert.equal(isGranted(onServer), false);
    assert.equal(isGranted({ ...base, expiresAt }), false);
    assert.equal(isGranted({ ...onServer, expiresAt, status: 'revoking' }), false);
  });
});
