/**
 * Sesame on AWS, end to end: a config with only `discovery:` and access flows; the real bot
 * (Bolt over HTTP, SQLite, the PostgreSQL engine) with the real AWS SDK clients pointed at the
 * fake AWS through the standard endpoint variables, and the fake Slack. The discovered instance
 * is a real PostgreSQL; its owner comes from its tag, its session log from RDS's log API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runCli } from '../../src/cli.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { runBot, type RunningBot } from '../../src/main.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { useAwsEnv } from '../support/aws/awsEnv.ts';
import { ManualClock } from '../support/fakes.ts';
import { pollUntil } from '../support/poll.ts';
import { APP, RDS_LOG_FLAGS, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';
import { assertDenied, rowsOf } from '../support/postgresTarget.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { SignedAppDriver } from '../../src/playground/slack/SignedAppDriver.ts';

const US = 'us-east-1';
const SIGNING_SECRET = 'aws-e2e-signing-secret-0123456789';
const NEVER = '0 0 1 1 *';
const version = pgVersions().at(-1)!;
const alice = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' };
const owner = { id: 'U0LEDGER', name: 'ledger', email: 'ledger-team@example.com' };
const dba = { id: 'U0DBA', name: 'dba', email: 'dba@example.com' };

function configText(dir: string): string {
  return `
state: { sqlite: ${join(dir, 'sesame.db')} }
schedule: { expire: "${NEVER}", remind: "${NEVER}", rotate: "${NEVER}", cleanup: "${NEVER}", discover: "${NEVER}" }
discovery:
  - type: aws-rds
    regions: [${US}]
    secretTagKey: sesame-secret
    defaults:
      database: ${APP.database}
      sslMode: disable
      audit: true
      owners: { integration: ["@dba"], resourceTagKey: owner }
accessFlows:
  - name: owner-approved
    requestors: ["*"]
    permissions: [readonly]
    maxDuration: 4h
    approvers: [owner]
`;
}

function logLine(at: Date, user: string, text: string): string {
  const stamp = at
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
  return `${stamp}:10.0.1.23(51234):${user}@${APP.database}:[4242]:LOG:  ${text}`;
}

describe(`Sesame on AWS with discovery only, PostgreSQL ${version}`, () => {
  let cluster: TestCluster;
  let aws: FakeAws;
  let slack: SlackStandIn;
  let bot: RunningBot;
  let driver: SignedAppDriver;
  let restoreEnv: () => void;
  let dir: string;
  const clock = new ManualClock(new Date());
  let requestId: string;
  let session: pg.Client;

  before(async () => {
    [cluster, aws, slack] = await Promise.all([
      startCluster(version, { postgresFlags: [...RDS_LOG_FLAGS] }),
      FakeAws.start(),
      SlackStandIn.start({ users: [alice, owner, dba], usergroups: [{ id: 'S0DBA', handle: 'dba', members: [dba.id] }] }),
    ]);
    await cluster.completeConnectorSetup();
    restoreEnv = useAwsEnv(aws, US);
    dir = mkdtempSync(join(tmpdir(), 'sesame-aws-e2e-'));
    const secret = aws.putSecret(US, 'sesame/ledger', { username: APP.connector, password: cluster.connector.password });
    aws.addInstance({
      region: US,
      id: 'Ledger-DB',
      endpoint: '127.0.0.1',
      port: cluster.port,
      tags: { 'sesame-secret': secret.arn, owner: owner.email },
    });
    aws.addInstance({ region: US, id: 'untagged-db', endpoint: '127.0.0.1', port: cluster.port });
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
    };
    delete env.SLACK_APP_TOKEN;
    bot = await runBot(env, createLogger({ level: 'silent' }), {
      config: parseConfigText(configText(dir), env),
      clock,
      port: 0,
      host: '127.0.0.1',
    });
    driver = new SignedAppDriver({ url: `http://127.0.0.1:${bot.port}/slack/events`, signingSecret: SIGNING_SECRET, standIn: slack });
  });
  after(async () => {
    await session?.end().catch(() => undefined);
    await bot?.close();
    restoreEnv?.();
    await Promise.all([cluster?.stop(), aws?.stop(), slack?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('finds the tagged instance at start and routes a request on it to the owner its tag names', async () => {
    assert.deepEqual(
      bot.sesame.integrations.list().map((i) => i.name),
      ['ledger-db'],
    );
    await driver.slashCommand({ userId: alice.id, text: `ledger-db/${APP.database}/public readonly for 1h because reconcile the ledger` });
    const [req] = await waitFor(async () => {
      const pending = await bot.sesame.store.listRequests({ statuses: ['pending'] });
      return pending.length ? pending : undefined;
    }, 'the pending request');
    requestId = req!.id;
    assert.deepEqual(
      req!.approverGroups.map((g) => [g.slackIds, g.reason]),
      [[[owner.id], `owner of ledger-db (${owner.email})`]],
    );
    const dm = await slack.waitFor(
      () => slack.dmMessages(owner.id).find((m) => m.text.includes(requestId)),
      'the owner’s approval DM',
      10_000,
    );
    assert.equal(slack.dmMessages(dba.id).length, 0, 'the integration owners are only the fallback');
    await driver.clickButton(dm, `sesame.approve:${requestId}`, owner.id);
    await waitFor(async () => (await bot.sesame.store.getRequest(requestId))?.status === 'granted' || undefined, 'the grant');
  });

  it('grants on the discovered server: the person logs in with the revealed credentials', async () => {
    const creds = await bot.sesame.services.credentials.revealCredentials(requestId, alice.id);
    assert.match((await bot.sesame.store.getRequest(requestId))!.serverKey!, /^rds:us-east-1:db-/);
    session = new pg.Client({ connectionString: creds.uri });
    session.on('error', () => undefined);
    await session.connect();
    await rowsOf(session, 'SELECT count(*) FROM public.orders');
    await assertDenied(session, 'DELETE FROM public.orders');
  });

  it('on revocation ends the session, and counts its sessions and statements from the RDS log', async () => {
    const grantedAt = (await bot.sesame.store.getRequest(requestId))!.grantedAt!;
    const user = alice.email;
    aws.addLogFile(
      US,
      'Ledger-DB',
      'error/postgresql.log.2026-06-01-09',
      `${[
        logLine(new Date(grantedAt.getTime() + 60_000), user, `connection authorized: user=${user} database=${APP.database}`),
        logLine(
          new Date(grantedAt.getTime() + 61_000),
          user,
          'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,select count(*) from orders;,<not logged>',
        ),
        logLine(
          new Date(grantedAt.getTime() + 62_000),
          user,
          'AUDIT: SESSION,2,1,READ,SELECT,TABLE,public.orders,select * from orders;,<not logged>',
        ),
        logLine(new Date(grantedAt.getTime() + 63_000), 'someone_else', 'connection authorized: user=someone_else database=appdb'),
      ].join('\n')}\n`,
    );
    clock.advance(5 * 60_000); // Alice worked for five minutes
    await driver.slashCommand({ userId: alice.id, text: `revoke ${requestId}` });
    await waitFor(async () => (await bot.sesame.store.getRequest(requestId))?.status === 'revoked' || undefined, 'the revocation');
    await assert.rejects(session.query('SELECT 1'));
    const counted = await waitFor(
      async () => (await bot.sesame.store.listAudit(new Date(0))).find((e) => e.action === 'grant.sessions' && e.requestId === requestId),
      'the grant.sessions audit entry',
    );
    assert.equal(counted.details?.sessions, 1);
    assert.equal(counted.details?.statements, 2);
    const dm = slack.dmMessages(owner.id).find((m) => m.text.includes(requestId))!;
    await slack.waitFor(
      () => dm.replies.find((r) => r.text.includes('1 session and 2 audited statements')),
      'the counts in the thread',
      10_000,
    );
  });

  it('marks an instance that disappears unavailable: new requests are refused, its history stays', async () => {
    aws.removeInstance(US, 'Ledger-DB');
    const changes = await bot.sesame.discover();
    assert.deepEqual(changes?.missing, ['ledger-db']);
    const before = slack.ephemerals(alice.id).length;
    await driver.slashCommand({ userId: alice.id, text: `ledger-db/${APP.database}/public readonly for 1h because again` });
    const reply = await slack.waitFor(() => slack.ephemerals(alice.id)[before], 'the refusal', 10_000);
    assert.match(reply.text, /no longer found in AWS/);
    assert.equal((await bot.sesame.store.listRequests({ statuses: ['pending'] })).length, 0);
    assert.ok(await bot.sesame.store.getRequest(requestId), 'the ended request stays listed');
  });

  it('refuses to start when the config names an RDS instance that does not exist, with its path', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_API_URL: slack.apiUrl,
    };
    delete env.SLACK_APP_TOKEN;
    const text = `
state: { sqlite: ${join(dir, 'missing.db')} }
integrations:
  - { name: gone, type: aws-rds-postgresql, region: ${US}, instanceId: no-such-db, database: app, username: ${APP.connector},
      secretArn: "arn:aws:secretsmanager:${US}:123456789012:secret:sesame-AbCdEf" }
`;
    await assert.rejects(
      runBot(env, createLogger({ level: 'silent' }), { config: parseConfigText(text, env), clock, port: 0, host: '127.0.0.1' }),
      (err: Error) => /integrations\[0\]\.instanceId/.test(err.message) && /no-such-db/.test(err.message),
    );
  });

  it('sesame check runs discovery and reports the AWS side of each integration', async () => {
    aws.addInstance({
      region: US,
      id: 'Ledger-DB',
      endpoint: '127.0.0.1',
      port: cluster.port,
      tags: {
        'sesame-secret': aws.putSecret(US, 'sesame/ledger', { username: APP.connector, password: cluster.connector.password }).arn,
        owner: owner.email,
      },
    });
    const configPath = join(dir, 'check.yml');
    writeFileSync(configPath, configText(dir).replace('sesame.db', 'check.db'));
    const out: string[] = [];
    const code = await runCli(['check'], {
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: { ...process.env, SESAME_CONFIG: configPath },
      logger: createLogger({ level: 'silent' }),
    });
    const text = out.join('\n');
    assert.match(text, /Discovery found: ledger-db/);
    assert.match(text, /ledger-db/);
    assert.ok(!text.includes(cluster.connector.password), 'the secret never appears');
    assert.equal(code, 0, text);
  });
});

/** Waits for what the bot does on its own time, up to 15 s. */
function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  return pollUntil(probe, what, { timeoutMs: 15_000 });
}
