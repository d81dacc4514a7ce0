/**
 * Requests for several targets and bundles, end to end through the Bolt app, the Slack stand-in
 * and a real PostgreSQL: each part goes to its own flow's approvers and is granted when its own
 * approval comes, the requester follows every part in one DM that updates, revoke and extend act
 * on one part or on the whole, and the person's logins prove what each part gives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { APP, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { pollUntil } from '../support/poll.ts';
import { commandReply, showCredentials } from '../support/slack/e2eSteps.ts';
import { PEOPLE, startE2eWorld, type E2eWorld } from '../support/slack/botHarness.ts';

const { alice, bob, carol, dave } = PEOPLE;
const version = pgVersions()[0]!;

const FLOWS = `  - name: read-now
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}], schemas: [public] }]
    permissions: [readonly]
    maxDuration: 8h
    approvers: []
  - name: app-write-by-bob
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.database}] }]
    permissions: [readwrite]
    maxDuration: 2h
    approvers: [${bob.id}]
  - name: other-read-by-carol
    requestors: ["*"]
    targets: [{ integration: local, databases: [${APP.otherDatabase}] }]
    permissions: [readonly]
    maxDuration: 2h
    approvers: [${carol.id}]`;

const BUNDLES = `bundles:
  - name: incident-debug
    description: Read the app and the notes while on call
    parts:
      - { target: local/${APP.database}/public, permission: readonly }
      - { target: local/${APP.otherDatabase}, permission: readonly }`;

describe(`requests for several targets and bundles (PostgreSQL ${version})`, { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let world: E2eWorld;
  const store = () => world.bot.sesame.store;
  /** The requester's DMs from Sesame about the request `groupId` (top-level messages only). */
  const partsDms = (userId: string, groupId: string) =>
    world.fake.dmMessages(userId).filter((m) => m.text.includes(`Your request ${groupId}`));
  const requestCount = async () => (await store().listRequests({})).length;

  async function login(uri: string, database: string) {
    const client = new pg.Client({ connectionString: uri.replace(/\/[^/?]+(\?|$)/, `/${database}$1`) });
    client.on('error', () => undefined);
    await client.connect();
    return client;
  }

  async function canRun(uri: string, database: string, sql: string): Promise<boolean | string> {
    let client: pg.Client | undefined;
    try {
      client = await login(uri, database);
      await client.query(sql);
      return true;
    } catch (err) {
      return (err as Error).message;
    } finally {
      await client?.end().catch(() => undefined);
    }
  }

  const command = (userId: string, text: string) => commandReply(world, userId, text);

  before(async () => {
    cluster = await startCluster(version);
    await cluster.completeConnectorSetup();
    world = await startE2eWorld(cluster, { accessFlows: FLOWS, extraConfig: BUNDLES });
  });
  after(async () => {
    await world?.stop();
    await cluster?.stop();
  });

  let groupId: string;
  let uri: string;

  it('routes each part to its own approvers and shows the requester one DM with every part', async () => {
    const reply = await command(
      alice.id,
      `request local/${APP.database}/public readwrite, local/${APP.otherDatabase} readonly for 1h because INC-42`,
    );
    const parts = await pollUntil(async () => {
      const found = (await store().listRequests({})).filter((r) => r.reason === 'INC-42');
      return found.length === 2 ? found : undefined;
    }, 'both parts');
    groupId = parts[0]!.groupId!;
    assert.match(groupId, /^R[2-9A-HJ-NP-Z]{6}$/);
    assert.deepEqual(parts.map((p) => p.id).sort(), [`${groupId}.1`, `${groupId}.2`]);
    assert.match(reply, new RegExp(`Request .?${groupId}.? has 2 parts`));
    const app = parts.find((p) => p.id === `${groupId}.1`)!;
    const other = parts.find((p) => p.id === `${groupId}.2`)!;
    assert.equal(app.flowName, 'app-write-by-bob');
    assert.equal(other.flowName, 'other-read-by-carol');
    assert.deepEqual([app.status, other.status], ['pending', 'pending']);

    await world.bot.notifier.drain();
    const asked = (userId: string, id: string) => world.fake.dmMessages(userId).some((m) => m.text.includes(`Access request ${id}`));
    assert.ok(asked(bob.id, app.id) && !asked(bob.id, other.id), 'Bob is asked for the app part only');
    assert.ok(asked(carol.id, other.id) && !asked(carol.id, app.id), 'Carol is asked for the other part only');
    assert.equal(partsDms(alice.id, groupId).length, 1, 'one DM for the whole request');
    const dm = JSON.stringify(partsDms(alice.id, groupId)[0]!.blocks);
    assert.match(dm, new RegExp(`${app.id}.*waiting for approval.*${other.id}.*waiting for approval`));
  });

  it('grants each part when its own approval comes; the login shows exactly what each part gives', async () => {
    const bobsCopy = world.fake.dmMessages(bob.id).find((m) => m.text.includes(`Access request ${groupId}.1`))!;
    await world.driver.clickButton(bobsCopy, `sesame.approve:${groupId}.1`, bob.id);
    await pollUntil(async () => (await store().getRequest(`${groupId}.1`))?.status === 'granted' || undefined, 'the app part granted');
    await world.bot.notifier.drain();
    const dm = () => partsDms(alice.id, groupId)[0]!;
    assert.equal(partsDms(alice.id, groupId).length, 1, 'still one DM, updated');
    assert.match(JSON.stringify(dm().blocks), new RegExp(`${groupId}\\.1.*granted.*${groupId}\\.2.*waiting for approval`));
    assert.ok(
      dm().replies.some((r) => r.text.includes(`${groupId}.1`) && /granted/.test(r.text)),
      'the grant is also said in the thread',
    );

    ({ uri } = await showCredentials(world, dm(), `${groupId}.1`, alice.id));
    assert.equal(await canRun(uri, APP.database, "INSERT INTO public.customers (name) VALUES ('part one')"), true);
    assert.match(String(await canRun(uri, APP.otherDatabase, 'SELECT * FROM public.notes')), /permission denied/);

    const carolsCopy = world.fake.dmMessages(carol.id).find((m) => m.text.includes(`Access request ${groupId}.2`))!;
    await world.driver.clickButton(carolsCopy, `sesame.approve:${groupId}.2`, carol.id);
    await pollUntil(async () => (await store().getRequest(`${groupId}.2`))?.status === 'granted' || undefined, 'the other part granted');
    await world.bot.notifier.drain();
    assert.equal(await canRun(uri, APP.otherDatabase, 'SELECT * FROM public.notes'), true, 'one user, both parts');
    assert.match(String(await canRun(uri, APP.otherDatabase, "INSERT INTO public.notes (body) VALUES ('x')")), /permission denied/);
  });

  it('extends the whole request (one extension per granted part, each to its own approvers)', async () => {
    const reply = await command(alice.id, `extend ${groupId} 30m`);
    assert.match(reply, /sent for approval/);
    const extensions = await pollUntil(async () => {
      const found = await store().listRequests({ statuses: ['pending'] });
      const mine = found.filter((r) => r.kind === 'extension' && r.parentId?.startsWith(groupId));
      return mine.length === 2 ? mine : undefined;
    }, 'an extension per part');
    assert.deepEqual(extensions.map((e) => e.parentId).sort(), [`${groupId}.1`, `${groupId}.2`]);
    assert.deepEqual(
      extensions.map((e) => e.flowName).sort(),
      ['app-write-by-bob', 'other-read-by-carol'],
      'each under its part’s own flow',
    );
    for (const e of extensions) await command(alice.id, `cancel ${e.id}`);
  });

  it('revokes one part, then the whole; each login proves it', async () => {
    const one = await command(alice.id, `revoke ${groupId}.2`);
    assert.match(one, new RegExp(`${groupId}\\.2.*revoked`));
    assert.equal((await store().getRequest(`${groupId}.1`))?.status, 'granted', 'the other part stays');
    assert.match(String(await canRun(uri, APP.otherDatabase, 'SELECT * FROM public.notes')), /permission denied/);
    assert.equal(await canRun(uri, APP.database, 'SELECT count(*) FROM public.customers'), true);

    const all = await command(alice.id, `revoke ${groupId}`);
    assert.match(all, new RegExp(`${groupId}\\.1.*revoked`));
    assert.notEqual(await canRun(uri, APP.database, 'SELECT 1'), true, 'no login once every part is revoked');
    await world.bot.notifier.drain();
    const dm = JSON.stringify(partsDms(alice.id, groupId)[0]!.blocks);
    assert.match(dm, new RegExp(`${groupId}\\.1.*revoked.*${groupId}\\.2.*revoked`));
    assert.match(dm, new RegExp(`sesame.requestAgain:${groupId}\\.1`), 'each ended part offers Request again');

    const again = await command(alice.id, `revoke ${groupId}`);
    assert.match(again, /No part of .* holds access to revoke/);
  });

  it('asks for a bundle by name: each part checked against the flows, granted or routed on its own', async () => {
    const help = await command(dave.id, 'help');
    assert.match(help, /incident-debug/);
    const reply = await command(dave.id, 'request incident-debug for 30m because INC-43');
    assert.match(reply, /has 2 parts/);
    const parts = (await store().listRequests({})).filter((r) => r.reason === 'INC-43');
    const byDb = (db: string) => parts.find((p) => p.target.database === db)!;
    assert.equal(byDb(APP.database).status, 'granted', 'read-now needs no approval');
    assert.equal(byDb(APP.otherDatabase).status, 'pending', 'the other part waits for Carol');
    await world.bot.notifier.drain();
    const dm = partsDms(dave.id, byDb(APP.database).groupId!)[0]!;
    const { uri: daves } = await showCredentials(world, dm, byDb(APP.database).id, dave.id);
    assert.equal(await canRun(daves, APP.database, 'SELECT count(*) FROM public.orders'), true);
    assert.match(String(await canRun(daves, APP.database, "INSERT INTO public.customers (name) VALUES ('no')")), /permission denied/);
    assert.match(String(await canRun(daves, APP.otherDatabase, 'SELECT * FROM public.notes')), /permission denied/);
    await command(dave.id, `revoke ${byDb(APP.database).groupId}`);
    await command(dave.id, `cancel ${byDb(APP.database).groupId}`);
  });

  it('ends each part at its own expiry: the other part keeps its access', async () => {
    await command(dave.id, `request local/${APP.database}/public readonly, local/${APP.otherDatabase} readonly for 30m because INC-44`);
    const parts = await pollUntil(async () => {
      const found = (await store().listRequests({})).filter((r) => r.reason === 'INC-44');
      return found.length === 2 ? found : undefined;
    }, 'both parts');
    const app = parts.find((p) => p.target.database === APP.database)!;
    const other = parts.find((p) => p.target.database === APP.otherDatabase)!;
    await world.bot.notifier.drain();
    const carolsCopy = world.fake.dmMessages(carol.id).find((m) => m.text.includes(`Access request ${other.id}`))!;
    await world.driver.clickButton(carolsCopy, `sesame.approve:${other.id}`, carol.id);
    await pollUntil(async () => ((await store().getRequest(other.id))?.status === 'granted' ? true : undefined), 'the other part granted');

    const now = world.bot.sesame.clock.now().getTime();
    assert.ok(await store().update(app.id, ['granted'], { expiresAt: new Date(now - 1000) }));
    await world.bot.sesame.services.revocations.expireDue();
    assert.equal((await store().getRequest(app.id))?.status, 'expired');
    assert.equal((await store().getRequest(other.id))?.status, 'granted', 'the other part lasts');
    await world.bot.notifier.drain();
    const dm = partsDms(dave.id, app.groupId!)[0]!;
    const { uri: daves } = await showCredentials(world, dm, other.id, dave.id);
    assert.equal(await canRun(daves, APP.otherDatabase, 'SELECT * FROM public.notes'), true);
    assert.match(String(await canRun(daves, APP.database, 'SELECT count(*) FROM public.orders')), /permission denied/);
    await command(dave.id, `revoke ${app.groupId}`);
  });

  it('takes several rows and a bundle in the request form', async () => {
    const views = world.fake.views(carol.id).length;
    await world.driver.slashCommand({ userId: carol.id, text: '' });
    const modal = await world.fake.waitFor(() => world.fake.views(carol.id)[views], 'the request form', 10_000);
    const text = JSON.stringify(modal.view);
    assert.match(text, /More targets/);
    assert.match(text, /incident-debug/, 'the bundle is offered');
    const submitted = await world.driver.submitView(modal, {
      'sesame.request.integration': 'local',
      'sesame.request.database': APP.database,
      'sesame.request.schema': 'public',
      'sesame.request.table': null,
      permission: 'readonly',
      more: `local/${APP.database} readwrite`,
      bundle: null,
      duration: '20m',
      reason: 'form rows',
    });
    assert.deepEqual(submitted.problems, []);
    assert.equal(submitted.json, undefined, 'the modal closes');
    const parts = await pollUntil(async () => {
      const found = (await store().listRequests({})).filter((r) => r.reason === 'form rows');
      return found.length === 2 ? found : undefined;
    }, 'two parts from the form');
    assert.deepEqual(parts.map((p) => p.status).sort(), ['granted', 'pending']);
    await command(carol.id, `revoke ${parts[0]!.groupId}`);
    await command(carol.id, `cancel ${parts[0]!.groupId}`);

    const bad = await world.driver.submitView(modal, {
      'sesame.request.integration': 'local',
      permission: 'readonly',
      more: `local/${APP.database} readwrite for 1h`,
      duration: '20m',
      reason: 'form rows again',
    });
    assert.match(JSON.stringify(bad.json), /Line 1: a duration or a reason goes in its own field/);
  });

  it('refuses bad input whole, naming what to fix, and records nothing', async () => {
    const before = await requestCount();
    const cases: [string, RegExp][] = [
      [
        `request local/${APP.database}/public readonly, local/${APP.database} admin for 1h because x`,
        new RegExp(`local/${APP.database} admin: No access flow lets you request admin`),
      ],
      [`request local/${APP.database}/public readonly, local/${APP.database}/public readonly because x`, /is asked for twice/],
      ['request no-such-bundle for 1h because x', /There is no bundle named "no-such-bundle" \(bundles: incident-debug\)/],
      ['request local for 1h because x', /Say which permission you need on local/],
      [`request ${Array.from({ length: 11 }, (_, i) => `local/db${i} readonly`).join(', ')} because x`, /at most 10 targets/],
      [
        `request local/${APP.database}/public readonly, local/${APP.otherDatabase} readwrite because x`,
        new RegExp(`local/${APP.otherDatabase} readwrite: No access flow`),
      ],
      ['request local/appdb readonly, , local/x readonly', /Each comma needs a target/],
    ];
    for (const [text, expected] of cases) {
      assert.match(await command(alice.id, text), expected, text);
    }
    assert.equal(await requestCount(), before, 'nothing was recorded');
  });
});
