/**
 * The Slack part of the playground page's API, end to end: what the page posts goes through
 * createPageRoutes to the real Bolt app (signed HTTP), and what the app does shows in the page's
 * state; requests a person could not make in Slack are refused with 400 and reach no app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PagePerson, PageView } from '../../src/playground/pageApi.ts';
import { createPageRoutes, type PageRoutes } from '../../src/playground/slack/pageRoutes.ts';
import { pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { APPROVAL_CHANNEL, PEOPLE, startE2eWorld, type E2eWorld } from '../support/slack/botHarness.ts';

const version = pgVersions()[0]!;
const alice = PEOPLE.alice.id;

describe(`the playground page's Slack routes (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let world: E2eWorld;
  let routes: PageRoutes;
  let changes = 0;

  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster);
    routes = createPageRoutes({
      standIn: world.fake,
      driver: world.driver,
      people: [
        { id: alice, name: 'alice', role: 'requester', email: PEOPLE.alice.email },
        { id: PEOPLE.bob.id, name: 'bob', role: 'approver', email: PEOPLE.bob.email },
      ],
      approvalsChannel: { id: APPROVAL_CHANNEL, name: 'db-approvals' },
      command: '/access',
    });
    routes.onChange(() => {
      changes += 1;
    });
  });
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });

  const person = (id: string): PagePerson => routes.state().people.find((p) => p.id === id)!;
  const waitForState = <T>(probe: () => T | undefined, what: string) => world.fake.waitFor(probe, what, 10_000);

  it('sends a slash command to the bot and shows its answer in the state, with a change notice', async () => {
    const before = changes;
    const answer = await routes.handle('/api/command', { user: alice, text: 'help' });
    assert.deepEqual(answer, { status: 200, json: { ok: true } });
    const reply = await waitForState(() => person(alice).ephemeral.at(-1), 'the answer to help');
    assert.match(`${reply.text} ${JSON.stringify(reply.blocks)}`, /\/access/);
    assert.ok(changes > before, 'the change listener fired');
    const state = routes.state();
    assert.equal(state.command, '/access');
    assert.equal(state.botUserId, world.fake.botUserId);
    assert.equal(state.approvals.id, APPROVAL_CHANNEL);
  });

  it('refuses a click on a button the person cannot see, sending nothing to the bot', async () => {
    const sent = world.fake.calls().length;
    const unknownUser = await routes.handle('/api/command', { user: 'U0NOBODY', text: 'help' });
    assert.equal(unknownUser.status, 400);
    assert.match(String((unknownUser.json as { error: string }).error), /unknown user U0NOBODY/);
    const [ephemeral] = person(alice).ephemeral;
    const click = await routes.handle('/api/action', {
      user: alice,
      surface: { kind: 'ephemeral', channel: ephemeral!.channel, ts: ephemeral!.ts },
      actionId: 'sesame.approve:not-shown',
    });
    assert.equal(click.status, 400);
    assert.match(String((click.json as { error: string }).error), /no element sesame\.approve:not-shown/);
    const elsewhere = await routes.handle('/api/action', {
      user: alice,
      surface: { kind: 'view', viewId: 'V99999999' },
      actionId: 'anything',
    });
    assert.equal(elsewhere.status, 400);
    const badPath = await routes.handle('/api/nothing', {});
    assert.equal(badPath.status, 404);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(world.fake.calls().length, sent, 'the bot was sent nothing, so it called Slack for nothing');
  });

  it('opens the request modal, shows the errors the bot answers a submission with, and closes it on success', async () => {
    assert.equal((await routes.handle('/api/command', { user: alice, text: '' })).status, 200);
    const modal: PageView = await waitForState(
      () => person(alice).modals.find((m) => m.view.callback_id === 'sesame.request'),
      'the request modal in the state',
    );
    const options = await routes.handle('/api/options', {
      user: alice,
      viewId: modal.id,
      actionId: 'sesame.request.database',
      blockId: 'any',
      query: '',
      values: {},
    });
    assert.equal(options.status, 200, JSON.stringify(options.json));
    assert.deepEqual(
      (options.json as unknown as { options: { value: string }[] }).options.map((o) => o.value),
      ['appdb'],
    );
    const values = {
      a: { 'sesame.request.integration': 'local', 'sesame.request.database': 'appdb', 'sesame.request.schema': 'public' },
      b: { 'sesame.request.table': null, permission: 'readonly', duration: '9h', reason: 'look at the orders' },
    };
    const refused = await routes.handle('/api/submit', { user: alice, viewId: modal.id, values });
    assert.equal(refused.status, 200, JSON.stringify(refused.json));
    const shown = person(alice).modals.find((m) => m.id === modal.id);
    assert.match(JSON.stringify(shown?.errors), /longer than allowed/);
    const badValue = await routes.handle('/api/submit', {
      user: alice,
      viewId: modal.id,
      values: { b: { 'no.such.input': 'x' } },
    });
    assert.equal(badValue.status, 400);
    const accepted = await routes.handle('/api/submit', {
      user: alice,
      viewId: modal.id,
      values: { ...values, b: { ...values.b, duration: '30m' } },
    });
    assert.equal(accepted.status, 200, JSON.stringify(accepted.json));
    assert.equal(
      person(alice).modals.find((m) => m.id === modal.id),
      undefined,
    );
    const granted = await waitForState(() => person(alice).dm.find((m) => /Access granted/.test(m.text)), 'the granted DM');
    assert.equal(granted.user, world.fake.botUserId);
  });

  it('opens the Home tab when the person opens it', async () => {
    assert.equal((await routes.handle('/api/home', { user: alice })).status, 200);
    const home = await waitForState(() => person(alice).home ?? undefined, 'the Home tab');
    assert.equal(home.type, 'home');
  });
});
