/**
 * Request again: the request modal filled in from a request that ended, drawn from the
 * person's options today, and the service that gives the old request to its requester only.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { types } from '@slack/bolt';
import { requestAgainModal } from '../../src/adapters/slack/blocks/requestAgainModal.ts';
import { requestBlockId } from '../../src/adapters/slack/blocks/requestModal.ts';
import { requesterMessage } from '../../src/adapters/slack/blocks/requesterMessages.ts';
import { NotAllowedError, NotFoundError } from '../../src/domain/errors.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import { validateView } from '../../src/playground/slack/blockKitRules.ts';
import { RequestAgainService } from '../../src/services/RequestAgainService.ts';
import type { RequestOptions } from '../../src/services/requestInputs.ts';
import { newRequest } from '../support/stateFixtures.ts';

const OPTIONS: RequestOptions = {
  integrations: [
    { name: 'other', permissions: ['admin'], maxDurationMinutes: 60, defaultDurationMinutes: 30, requireJustification: false },
    {
      name: 'prod',
      permissions: ['readonly', 'readwrite'],
      maxDurationMinutes: 480,
      defaultDurationMinutes: 60,
      requireJustification: true,
    },
  ],
};

function ended(overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    ...newRequest({ target: { integration: 'prod', database: 'app', schema: 'public', table: 'orders' }, permission: 'readwrite' }),
    durationMinutes: 90,
    status: 'expired',
    revokeAttempts: 0,
    version: 3,
    ...overrides,
  };
}

/** The element of the modal's input block for `field` on `integration`. */
function element(view: types.ModalView, field: string, integration = 'prod'): Record<string, unknown> {
  const block = view.blocks.find(
    (b) => b.block_id === (field === 'integration' ? 'integration' : requestBlockId(field as 'table', integration)),
  );
  assert.ok(block && 'element' in block, `no block for ${field}`);
  return block.element as unknown as Record<string, unknown>;
}

const picked = (view: types.ModalView, field: string, integration?: string) =>
  (element(view, field, integration).initial_option as { value: string } | undefined)?.value;

describe('the request modal filled in again', { timeout: 10_000 }, () => {
  it('holds the old integration, database, schema, table, permission and duration, and no reason', () => {
    const view = requestAgainModal(OPTIONS, ended());
    assert.deepEqual(validateView(view), []);
    assert.equal(view.private_metadata, 'prod');
    assert.deepEqual(
      ['integration', 'database', 'schema', 'table', 'permission'].map((f) => picked(view, f)),
      ['prod', 'app', 'public', 'orders', 'readwrite'],
    );
    // In the format the catalog pickers load: the name as the text and the value.
    assert.deepEqual(element(view, 'table').initial_option, { text: { type: 'plain_text', text: 'orders', emoji: true }, value: 'orders' });
    assert.equal(element(view, 'duration').initial_value, '1h30m');
    assert.equal(element(view, 'reason').initial_value, undefined);
  });

  it('leaves empty what the old request did not narrow', () => {
    const view = requestAgainModal(OPTIONS, ended({ target: { integration: 'prod', database: 'app' } }));
    assert.equal(picked(view, 'database'), 'app');
    assert.equal(picked(view, 'schema'), undefined);
    assert.equal(picked(view, 'table'), undefined);
  });

  it('does not choose a permission the person may no longer ask for', () => {
    const view = requestAgainModal(OPTIONS, ended({ permission: 'admin' }));
    assert.equal(picked(view, 'permission'), undefined);
    assert.equal(picked(view, 'database'), 'app');
  });

  it('is the usual form when the old integration is no longer offered to the person', () => {
    const view = requestAgainModal(OPTIONS, ended({ target: { integration: 'gone', database: 'app' } }));
    assert.equal(view.private_metadata, 'other');
    assert.equal(picked(view, 'database', 'other'), undefined);
    assert.equal(element(view, 'duration', 'other').initial_value, '30m');
  });
});

describe('the Request again button', { timeout: 10_000 }, () => {
  it('is on the DM of a grant that ended, and not on that of an extension', () => {
    const expired = ended();
    assert.ok(JSON.stringify(requesterMessage(expired).blocks).includes(`"sesame.requestAgain:${expired.id}"`));
    const extension = ended({ kind: 'extension', parentId: expired.id, status: 'denied' });
    assert.ok(!JSON.stringify(requesterMessage(extension).blocks).includes('sesame.requestAgain'));
  });
});

describe('the request again service', { timeout: 10_000 }, () => {
  const old = ended({ requester: { slackId: 'U0ALICE', email: 'alice@example.com' } });
  const service = new RequestAgainService({
    requests: { getRequest: async (id) => (id === old.id ? old : undefined) },
    options: { requestOptions: async (slackId) => (slackId === 'U0ALICE' ? OPTIONS : { integrations: [] }) },
  });

  it('gives the requester their old request and their options today', async () => {
    assert.deepEqual(await service.start(old.id, 'U0ALICE'), { previous: old, options: OPTIONS });
  });

  it('refuses anyone else, and a request that does not exist', async () => {
    await assert.rejects(
      service.start(old.id, 'U0BOB'),
      (err) => err instanceof NotAllowedError && /Only the person who asked/.test(err.message),
    );
    await assert.rejects(service.start('RZZZZZZ', 'U0ALICE'), NotFoundError);
  });
});
