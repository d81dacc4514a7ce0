/**
 * The `expire` schedule on its own, end to end: the real Bolt app over signed HTTP, the fake
 * Slack, a real PostgreSQL, and the expire job on a cron that fires every second. Nothing in the
 * test runs the sweep: once the bot's clock passes the grant's expiry, the next tick ends it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { AccessRequest } from '../../src/domain/request.ts';
import { pollUntil } from '../support/poll.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { PEOPLE, startE2eWorld, type E2eWorld } from '../support/slack/botHarness.ts';

const HOUR = 3_600_000;
const alice = PEOPLE.alice.id;
const version = pgVersions()[0]!;

describe(`the expire schedule fires by itself (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let world: E2eWorld;

  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster, { schedule: { expire: '* * * * * *' } });
  });
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });

  /** The request once `done` holds for it; the bot's own schedule is what changes it. */
  async function waitForRequest(reason: string, done: (r: AccessRequest) => boolean, what: string): Promise<AccessRequest> {
    let found: AccessRequest | undefined;
    return pollUntil(
      async () => {
        found = (await world.bot.sesame.store.listRequests({})).find((r) => r.reason === reason);
        return found && done(found) ? found : undefined;
      },
      () => `${what}; the request is ${found?.status ?? 'missing'}`,
      { timeoutMs: 20_000, intervalMs: 100 },
    );
  }

  it('ends a grant at the first tick after its expiry: the login is refused and the requester is told', async () => {
    const ack = await world.driver.slashCommand({
      userId: alice,
      text: `local/${APP.database}/public readonly for 1h because the schedule ends it`,
    });
    assert.equal(ack.status, 200);
    const grant = await waitForRequest('the schedule ends it', (r) => r.status === 'granted', 'the grant');
    await world.fake.waitFor(() => world.fake.dmMessages(alice).find((m) => m.text.includes(grant.id)), 'the granted DM', 10_000);
    const { uri } = await world.bot.sesame.services.credentials.revealCredentials(grant.id, alice);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    assert.equal((await session.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n, 3);

    // A few ticks before the expiry change nothing.
    await sleep(2500);
    assert.equal((await world.bot.sesame.store.getRequest(grant.id))?.status, 'granted');

    world.clock.advance(HOUR + 1000);
    const ended = await waitForRequest('the schedule ends it', (r) => r.status === 'expired', 'the expire job');
    assert.equal(ended.endedBy, 'system');
    await assert.rejects(session.query('SELECT 1'), 'the open session was ended');
    await session.end().catch(() => undefined);
    const login = new pg.Client({ connectionString: uri });
    login.on('error', () => undefined);
    await assert.rejects(login.connect(), /not permitted to log in|password authentication failed/);
    await login.end().catch(() => undefined);
    await world.fake.waitFor(
      () => world.fake.dmMessages(alice).find((m) => new RegExp(`${grant.id} expired`).test(m.text)),
      'the expiry DM',
      10_000,
    );
  });
});
