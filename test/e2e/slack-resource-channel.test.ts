/**
 * An integration's own approval channel, end to end through the Bolt app, the Slack stand-in and
 * a real PostgreSQL: `owners.channel` takes the approval requests (beside slack.approvalChannel
 * with `alsoApprovalChannel`), an approval clicked there grants, and the person logs in.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { showCredentials, waitForRequest } from '../support/slack/e2eSteps.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { APPROVAL_CHANNEL, DBA_CHANNEL, PEOPLE, startE2eWorld, waitForDm, type E2eWorld } from '../support/slack/botHarness.ts';

const { alice, bob } = PEOPLE;
const version = pgVersions()[0]!;

const FLOWS = `  - name: write-by-owner
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}] }]
    permissions: [readwrite]
    maxDuration: 2h
    approvers: [integration-owner]`;

for (const also of [false, true]) {
  describe(`an integration's own approval channel${also ? ', beside the approval channel' : ''} (PostgreSQL ${version})`, {
    timeout: 180_000,
  }, () => {
    let cluster: TestCluster;
    let world: E2eWorld;

    before(async () => {
      cluster = await startCluster(version);
      await cluster.completeConnectorSetup();
      const owners = `{ integration: [${bob.id}], channel: ${DBA_CHANNEL}${also ? ', alsoApprovalChannel: true' : ''} }`;
      world = await startE2eWorld(cluster, { accessFlows: FLOWS, owners });
    });
    after(async () => {
      await world?.stop();
      await cluster?.stop();
    });

    it(`posts the request in the integration's channel${also ? ' and in the approval channel' : ', not in the approval channel'}; an approval there grants`, async () => {
      await world.driver.slashCommand({ userId: alice.id, text: `local/${APP.database} readwrite for 1h because fix the ledger` });
      const id = await waitForRequest(world, 'fix the ledger');
      await world.bot.notifier.drain();
      const posts = (channel: string) => world.fake.messages(channel).filter((m) => m.text.includes(`Access request ${id}`));
      assert.equal(posts(DBA_CHANNEL).length, 1);
      assert.equal(posts(APPROVAL_CHANNEL).length, also ? 1 : 0);
      assert.equal(world.fake.dmMessages(bob.id).filter((m) => m.text.includes(id)).length, 1, 'the owner is still asked by DM');
      const refs = await world.bot.sesame.store.listNotifications(id);
      assert.deepEqual(
        refs
          .filter((r) => r.audience === 'channel')
          .map((r) => r.channel)
          .sort(),
        (also ? [APPROVAL_CHANNEL, DBA_CHANNEL] : [DBA_CHANNEL]).sort(),
        'remembered, so every copy is updated',
      );

      await world.driver.clickButton(posts(DBA_CHANNEL)[0]!, `sesame.approve:${id}`, bob.id);
      const dm = await waitForDm(world.fake, alice.id, new RegExp(`Access granted.*${id}`), 'the granted DM');
      const { uri } = await showCredentials(world, dm, id, alice.id);
      const login = new pg.Client({ connectionString: uri });
      await login.connect();
      try {
        await login.query('INSERT INTO public.customers (name) VALUES ($1)', ['written under the grant']);
      } finally {
        await login.end();
      }
      await world.bot.notifier.drain();
      assert.match(JSON.stringify(posts(DBA_CHANNEL)[0]!.blocks), /Approved by/);
    });
  });
}
