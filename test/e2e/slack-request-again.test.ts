/**
 * Request again, end to end: the real Bolt app over signed HTTP, the Slack stand-in and a real
 * PostgreSQL. A grant ends; its DM has *Request again*; the click opens the request modal filled
 * in with the old target, permission and duration; submitting it grants again and the requester
 * logs in. Someone else clicking the button is refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import type { StandInView } from '../../src/playground/slack/SlackStandIn.ts';
import { APP, pgVersions } from '../support/postgres.ts';
import { PEOPLE, e2eSuiteHooks, waitForDm, type E2eWorld } from '../support/slack/botHarness.ts';
import { ephemeralAt, showCredentials, waitForRequest } from '../support/slack/e2eSteps.ts';

const HOUR = 3_600_000;
const alice = PEOPLE.alice.id;
const bob = PEOPLE.bob.id;
const version = pgVersions()[0]!;

type Element = { action_id?: string; initial_option?: { value: string }; initial_value?: string };

/** What each input of a modal starts with, by action ID, as the person would submit it untouched. */
function initialValues(view: StandInView): Record<string, string | null> {
  const values: Record<string, string | null> = {};
  for (const block of view.view.blocks as { type: string; element?: Element }[]) {
    if (block.type !== 'input' || !block.element?.action_id) continue;
    values[block.element.action_id] = block.element.initial_option?.value ?? block.element.initial_value ?? null;
  }
  return values;
}

describe(`Request again from the DM of a grant that ended (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let world: E2eWorld;

  e2eSuiteHooks(version, (started) => ({ world } = started));

  const store = () => world.bot.sesame.store;
  const requestModals = (userId: string) => world.fake.views(userId).filter((v) => v.view.callback_id === 'sesame.request');
  let expiredId: string;

  it('puts Request again on the DM of an expired grant', async () => {
    const reason = 'first look at the orders';
    await world.driver.slashCommand({ userId: alice, text: `local/${APP.database}/public/orders readonly for 45m because ${reason}` });
    expiredId = await waitForRequest(world, reason);
    await waitForDm(world.fake, alice, new RegExp(`Access granted.*${expiredId}`), 'the granted DM');
    world.clock.advance(2 * HOUR);
    await world.bot.sesame.scheduler.runNow('expire');
    assert.equal((await store().getRequest(expiredId))?.status, 'expired');
    const dm = await waitForDm(world.fake, alice, new RegExp(`${expiredId} expired`), 'the expiry DM');
    assert.ok(JSON.stringify(dm.blocks).includes(`"sesame.requestAgain:${expiredId}"`));
  });

  it('refuses someone else clicking it, privately, and opens nothing for them', async () => {
    const dm = await waitForDm(world.fake, alice, new RegExp(`${expiredId} expired`), 'the expiry DM');
    const answers = world.fake.ephemerals(bob).length;
    const ack = await world.driver.clickButton(dm, `sesame.requestAgain:${expiredId}`, bob);
    assert.equal(ack.status, 200);
    assert.match(await ephemeralAt(world, bob, answers), new RegExp(`Only the person who asked for ${expiredId} can request it again`));
    assert.deepEqual(requestModals(bob), []);
  });

  it('opens the request modal with the old target, permission and duration; submitted, it grants again and the login works', async () => {
    const dm = await waitForDm(world.fake, alice, new RegExp(`${expiredId} expired`), 'the expiry DM');
    const opened = requestModals(alice).length;
    const ack = await world.driver.clickButton(dm, `sesame.requestAgain:${expiredId}`, alice);
    assert.equal(ack.status, 200);
    assert.ok(ack.ms < 3000, `acknowledged in ${ack.ms} ms`);
    const modal = await world.fake.waitFor(() => requestModals(alice)[opened], 'the request modal filled in again', 10_000);
    const initial = initialValues(modal);
    assert.deepEqual(initial, {
      'sesame.request.integration': 'local',
      'sesame.request.database': APP.database,
      'sesame.request.schema': 'public',
      'sesame.request.table': 'orders',
      permission: 'readonly',
      more: null,
      duration: '45m',
      reason: null,
    });
    // The table picker's initial option is one the picker itself loads for this form.
    const tables = await world.driver.blockSuggestion({
      userId: alice,
      actionId: 'sesame.request.table',
      value: 'ord',
      view: modal,
      values: initial,
    });
    const table = (modal.view.blocks as { element?: Element }[]).find((b) => b.element?.action_id === 'sesame.request.table')!.element!;
    assert.ok((tables.options as { options: unknown[] }).options.some((o) => JSON.stringify(o) === JSON.stringify(table.initial_option)));

    const submitted = await world.driver.submitView(modal, { ...initial, reason: 'second look at the orders' });
    assert.equal(submitted.status, 200);
    assert.deepEqual(submitted.problems, []);
    assert.equal(submitted.json, undefined, 'the modal closes');
    const again = (await store().getRequest(await waitForRequest(world, 'second look at the orders')))!;
    assert.notEqual(again.id, expiredId);
    assert.equal(again.status, 'granted');
    assert.deepEqual(again.target, { integration: 'local', database: APP.database, schema: 'public', table: 'orders' });
    assert.equal(again.permission, 'readonly');
    assert.equal(again.durationMinutes, 45);

    const granted = await waitForDm(world.fake, alice, new RegExp(`Access granted.*${again.id}`), 'the granted DM');
    const { uri } = await showCredentials(world, granted, again.id, alice);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    try {
      assert.equal((await session.query('SELECT count(*)::int AS n FROM public.orders')).rows[0].n, 3);
    } finally {
      await session.end();
    }
  });

  it('puts Request again on the DM of a revoked grant too', async () => {
    const again = (await store().listRequests({})).find((r) => r.reason === 'second look at the orders')!;
    await world.driver.slashCommand({ userId: alice, text: `revoke ${again.id}` });
    const dm = await waitForDm(world.fake, alice, new RegExp(`${again.id} revoked`), 'the revocation DM');
    assert.ok(JSON.stringify(dm.blocks).includes(`"sesame.requestAgain:${again.id}"`));
  });
});
