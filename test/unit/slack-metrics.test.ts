import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createMetrics, observeAuditTrail, REQUEST_OUTCOMES } from '../../src/http/metrics.ts';
import { SESAME_JOB_IDS } from '../../src/jobs/jobs.ts';
import { InMemoryStateStore } from '../support/InMemoryStateStore.ts';
import { newRequest, T0 } from '../support/stateFixtures.ts';
import type { AccessRequest } from '../../src/domain/request.ts';
import type { AuditEvent } from '../../src/ports/StateStore.ts';

function metricValue(body: string, line: RegExp): number | undefined {
  const found = body.split('\n').find((l) => line.test(l));
  return found ? Number(found.split(' ').at(-1)) : undefined;
}

describe('metrics', () => {
  it('show every known series at zero before the first event, so dashboards and alerts work from the start', async () => {
    const { body } = await createMetrics({ activeGrants: async () => 0 }).render();
    for (const outcome of REQUEST_OUTCOMES) {
      assert.equal(metricValue(body, new RegExp(`^sesame_requests_total\\{outcome="${outcome}"\\}`)), 0, outcome);
    }
    assert.equal(metricValue(body, /^sesame_revocation_failures_total /), 0);
    for (const job of SESAME_JOB_IDS) {
      for (const outcome of ['ok', 'error']) {
        assert.equal(
          metricValue(body, new RegExp(`^sesame_job_duration_seconds_count\\{job="${job}",outcome="${outcome}"\\}`)),
          0,
          `${job} ${outcome}`,
        );
      }
    }
    assert.deepEqual([...REQUEST_OUTCOMES].sort(), [
      'approved',
      'cancelled',
      'created',
      'denied',
      'expired',
      'extended',
      'failed',
      'granted',
      'revoked',
      'timedout',
    ]);
  });

  it('count request outcomes and revocation failures from the audit trail as it is written', async () => {
    const metrics = createMetrics({ activeGrants: async () => 3 });
    const store = observeAuditTrail(new InMemoryStateStore(), (e) => metrics.observeAudit(e));
    for (const action of [
      'request.created',
      'request.created',
      'grant.granted',
      'grant.revoke_failed',
      'grant.revoke_failed',
      'grant.expired',
    ] as const) {
      await store.appendAudit({ at: T0, action, actor: 'system' });
    }
    await store.appendAudit({ at: T0, action: 'request.approved', actor: 'U0BOB', details: { complete: false } });
    await store.appendAudit({ at: T0, action: 'request.approved', actor: 'U0CAROL', details: { complete: true } });
    const { body, contentType } = await metrics.render();
    assert.match(contentType, /text\/plain/);
    assert.equal(metricValue(body, /^sesame_requests_total\{outcome="created"\}/), 2);
    assert.equal(metricValue(body, /^sesame_requests_total\{outcome="granted"\}/), 1);
    assert.equal(metricValue(body, /^sesame_requests_total\{outcome="expired"\}/), 1);
    assert.equal(metricValue(body, /^sesame_requests_total\{outcome="approved"\}/), 1, 'a partial approval is not an outcome');
    assert.equal(metricValue(body, /^sesame_revocation_failures_total/), 2);
    assert.equal(metricValue(body, /^sesame_active_grants/), 3);
    // The store underneath still got every event.
    assert.equal((await store.listAudit(T0)).length, 8);
  });

  it('count the events written together with state changes, and only those that were written', async () => {
    const metrics = createMetrics({ activeGrants: async () => 0 });
    const store = observeAuditTrail(new InMemoryStateStore(), (e) => metrics.observeAudit(e));
    const event =
      (action: AuditEvent['action']) =>
      (r: AccessRequest): AuditEvent => ({ at: T0, action, actor: 'system', requestId: r.id });
    const created = await store.createRequest(newRequest(), 'pending', event('request.created'));
    await store.transition(created.id, ['pending'], 'approved', {}, event('request.approved'));
    await store.transition(created.id, ['pending'], 'denied', {}, event('request.denied')); // not pending any more: nothing written
    await store.transition(created.id, ['approved'], 'granting', {});
    await store.transition(created.id, ['granting'], 'granted', {}, (r) => [event('user.created')(r), event('grant.granted')(r)]);
    await store.update(created.id, ['granted'], { lastError: 'x' }, event('grant.revoke_failed'));
    const { body } = await metrics.render();
    assert.equal(metricValue(body, /^sesame_requests_total\{outcome="created"\}/), 1);
    assert.equal(metricValue(body, /^sesame_requests_total\{outcome="granted"\}/), 1);
    assert.equal(metricValue(body, /^sesame_requests_total\{outcome="denied"\}/), 0, 'nothing was denied');
    assert.equal(metricValue(body, /^sesame_revocation_failures_total/), 1);
    assert.equal((await store.listAudit(T0)).length, 5);
  });

  it('reads active grants at each scrape and times jobs by id', async () => {
    let active = 0;
    const metrics = createMetrics({ activeGrants: async () => active });
    metrics.observeJob('expire', 'ok', 250);
    metrics.observeJob('expire', 'skipped', 0);
    active = 5;
    const { body } = await metrics.render();
    assert.equal(metricValue(body, /^sesame_active_grants/), 5);
    assert.equal(metricValue(body, /^sesame_job_duration_seconds_count\{job="expire",outcome="ok"\}/), 1);
    assert.equal(metricValue(body, /^sesame_job_duration_seconds_sum\{job="expire",outcome="ok"\}/), 0.25);
    assert.equal(metricValue(body, /^sesame_job_duration_seconds_count\{job="expire",outcome="skipped"\}/), undefined);
  });
});
