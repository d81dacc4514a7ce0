/**
 * Expiry at the moment itself, end to end: the real Bolt app over signed HTTP, the fake Slack, a
 * real PostgreSQL, and an `expire` schedule that never fires. Only the deadline timer can end the
 * grant: its expiry is moved a few seconds ahead in the state store, the bot's clock passes it, and
 * the open session ends and the login is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AccessRequest } from '../../src/domain/request.ts';
import { pollUntil } from '../support/poll.ts';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { PEOPLE, startE2eWorld, type E2eWorld } from '../support/slack/botHarness.ts';

const alice = PEOPLE.alice.id;
const version = pgVersions()[0]!;

describe(`the deadline timer ends a grant at its expiry (PostgreSQL ${version})`, { timeout: 180_000 }, () => {
  let cluster: TestCluster;
  let world: E2eWorld;

  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster, { schedule: { expire: '0 0 1 1 *' } });
  });
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });

  async function waitForRequest(reason: string, done: (r: AccessRequest) => boolean, what: string): Promise<AccessRequest> {
    let found: AccessRequest | undefined;
    return pollUntil(
      async () => {
        found = (await world.bot.sesame.store.listRequests({})).find((r) => r.reason === reason);
        return found && done(found) ? found : undefined;
      },
      () => `${what}; the request is ${found?.status ?? 'missing'}`,
      { timeoutMs: 60_000, intervalMs: 100 },
    );
  }

  it('ends the open session and refuses a new login after the expiry, with the expire schedule never firing', async () => {
    const ack = await world.driver.slashCommand({
      userId: alice,
      text: `local/${APP.database}/public readonly for 1h because the timer ends it`,
    });
    assert.equal(ack.status, 200);
    const grant = await waitForRequest('the timer ends it', (r) => r.status === 'granted', 'the grant');
    const { uri } = await world.bot.sesame.services.credentials.revealCredentials(grant.id, alice);
    const session = new pg.Client({ connectionString: uri });
    session.on('error', () => undefined);
    await session.connect();
    assert.equal((await session.query('SELECT count(*)::int AS n FROM public.customers')).rows[0].n, 3);

    // As a short grant would: the expiry a few seconds from now, written in the state store.
    const expiresAt = new Date(world.bot.sesame.clock.now().getTime() + 3000);
    assert.ok(await world.bot.sesame.store.update(grant.id, ['granted'], { expiresAt }));
    // The harness's clock stands still until moved: the seconds pass.
    world.clock.advance(3000);
    const ended = await waitForRequest('the timer ends it', (r) => r.status === 'expired', 'the deadline timer');
    assert.equal(ended.endedBy, 'system');
    assert.ok(ended.endedAt!.getTime() >= expiresAt.getTime(), 'not before the expiry');
    assert.ok(ended.endedAt!.getTime() - expiresAt.getTime() < 1000, 'within a second of the expiry');
    await assert.rejects(session.query('SELECT 1'), 'the open session was ended');
    await session.end().catch(() => undefined);
    const login = new pg.Client({ connectionString: uri });
    login.on('error', () => undefined);
    await assert.rejects(login.connect(), /not permitted to log in|password authentication failed/);
    await login.end().catch(() => undefined);
  });
});
