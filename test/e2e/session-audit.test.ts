/**
 * Session audit, end to end: a real PostgreSQL that logs as RDS does (its prefix, logins, and
 * times in a named zone), its log served through the fake RDS log API, the real bot on AWS
 * clients. A grant's user gets statement logging set at grant time; the person runs known
 * statements; the grant ends; `sesame audit --request R` has exactly those statements (and no
 * other user's), the thread shows the counts and the first statements, and a restart of Sesame
 * in between neither duplicates nor drops a line.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runCli } from '../../src/cli.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logger.ts';
import { runBot, type RunningBot } from '../../src/main.ts';
import { SignedAppDriver } from '../../src/playground/slack/SignedAppDriver.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { useAwsEnv } from '../support/aws/awsEnv.ts';
import { pollUntil } from '../support/poll.ts';
import { APP, RDS_LOG_FLAGS, pgVersions, startCluster, type TestCluster } from '../support/postgres.ts';

const US = 'us-east-1';
const SIGNING_SECRET = 'session-audit-signing-secret-0123';
const NEVER = '0 0 1 1 *';
const LOG_FILE = 'error/postgresql.log.current';
const BYSTANDER_PASSWORD = 'bystander-password-1234';
const version = pgVersions().at(-1)!;
const alice = { id: 'U0ALICE', name: 'alice', email: 'alice@example.com' };
const owner = { id: 'U0LEDGER', name: 'ledger', email: 'ledger-team@example.com' };

describe(`session audit from RDS logs (PostgreSQL ${version})`, { timeout: 240_000 }, () => {
  let cluster: TestCluster;
  let aws: FakeAws;
  let slack: SlackStandIn;
  let bot: RunningBot | undefined;
  let driver: SignedAppDriver;
  let restoreEnv: () => void;
  let dir: string;
  let configFile: string;
  let env: NodeJS.ProcessEnv;
  let requestId: string;
  let uri: string;
  let shipped = 0;

  const config = () => `
state: { sqlite: ${join(dir, 'sesame.db')} }
schedule: { expire: "${NEVER}", remind: "${NEVER}", rotate: "${NEVER}", cleanup: "${NEVER}", discover: "${NEVER}" }
discovery:
  - type: aws-rds
    regions: [${US}]
    secretTagKey: sesame-secret
    defaults: { database: ${APP.database}, sslMode: disable, audit: true, owners: { integration: [${owner.id}], resourceTagKey: owner } }
audit: { sink: { file: ${join(dir, 'audit.jsonl')} } }
accessFlows:
  - name: owner-approved
    requestors: ["*"]
    permissions: [readonly]
    maxDuration: 4h
    approvers: [owner]
`;

  /** What the server logged since the last call, appended to the instance's log file as RDS would serve it. */
  function shipLogs(): void {
    const text = cluster.serverLog();
    const whole = text.slice(0, text.lastIndexOf('\n') + 1);
    aws.appendLogFile(US, 'Ledger-DB', LOG_FILE, whole.slice(shipped));
    shipped = whole.length;
  }

  async function startBot(): Promise<void> {
    bot = await runBot(env, createLogger({ level: 'silent' }), { config: parseConfigText(config(), env), port: 0, host: '127.0.0.1' });
    driver = new SignedAppDriver({ url: `http://127.0.0.1:${bot.port}/slack/events`, signingSecret: SIGNING_SECRET, standIn: slack });
  }

  async function run(user: { uri: string }, statements: string[]): Promise<void> {
    const client = new pg.Client({ connectionString: user.uri });
    client.on('error', () => undefined);
    await client.connect();
    try {
      for (const sql of statements) await client.query(sql);
    } finally {
      await client.end();
    }
  }

  async function audit(...args: string[]): Promise<Record<string, unknown>[]> {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (l: string) => out.push(l),
      err: (l: string) => err.push(l),
      env: { ...env, SESAME_CONFIG: configFile },
      logger: createLogger({ level: 'silent' }),
    };
    assert.equal(await runCli(['audit', '--since', '2000-01-01', ...args], io), 0, err.join('\n'));
    return out.map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  before(async () => {
    [cluster, aws, slack] = await Promise.all([
      startCluster(version, { postgresFlags: [...RDS_LOG_FLAGS, '-c', 'log_timezone=Europe/Paris'] }),
      FakeAws.start(),
      SlackStandIn.start({ users: [alice, owner] }),
    ]);
    await cluster.completeConnectorSetup();
    // What an RDS admin grants for per-user statement logging (PostgreSQL 15+).
    await cluster.query(`GRANT SET ON PARAMETER log_statement TO ${APP.connector}`);
    // Another login whose statements are logged too: they must never be taken for the person's.
    await cluster.query(
      `CREATE ROLE bystander LOGIN PASSWORD '${BYSTANDER_PASSWORD}'; ALTER ROLE bystander SET log_statement = 'all'; GRANT CONNECT ON DATABASE ${APP.database} TO bystander`,
    );
    restoreEnv = useAwsEnv(aws, US);
    dir = mkdtempSync(join(tmpdir(), 'sesame-session-audit-'));
    const secret = aws.putSecret(US, 'sesame/ledger', { username: APP.connector, password: cluster.connector.password });
    aws.addInstance({
      region: US,
      id: 'Ledger-DB',
      endpoint: '127.0.0.1',
      port: cluster.port,
      tags: { 'sesame-secret': secret.arn, owner: owner.email },
    });
    aws.addLogFile(US, 'Ledger-DB', LOG_FILE, '');
    env = { ...process.env, SLACK_BOT_TOKEN: slack.botToken, SLACK_SIGNING_SECRET: SIGNING_SECRET, SLACK_API_URL: slack.apiUrl };
    delete env.SLACK_APP_TOKEN;
    configFile = join(dir, 'sesame.yml');
    writeFileSync(configFile, config());
    await startBot();
  });
  after(async () => {
    await bot?.close();
    restoreEnv?.();
    await Promise.all([cluster?.stop(), aws?.stop(), slack?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('grants with statement logging set on the person’s user', async () => {
    await driver.slashCommand({ userId: alice.id, text: `ledger-db/${APP.database}/public readonly for 1h because audit me` });
    const req = await pollUntil(async () => (await bot!.sesame.store.listRequests({ statuses: ['pending'] }))[0], 'the request');
    requestId = req.id;
    const dm = await slack.waitFor(() => slack.dmMessages(owner.id).find((m) => m.text.includes(requestId)), 'the approval DM', 10_000);
    await driver.clickButton(dm, `sesame.approve:${requestId}`, owner.id);
    const granted = await pollUntil(async () => {
      const r = await bot!.sesame.store.getRequest(requestId);
      return r?.status === 'granted' ? r : undefined;
    }, 'the grant');
    const settings = await cluster.query<{ rolconfig: string[] | null }>('SELECT rolconfig FROM pg_roles WHERE rolname = $1', [
      granted.dbUser,
    ]);
    assert.deepEqual(settings[0]?.rolconfig, ['log_statement=all']);
    uri = (await bot!.sesame.services.credentials.revealCredentials(requestId, alice.id)).uri;
  });

  it('stores what the person ran, once, across a restart of Sesame in between', async () => {
    await run({ uri }, [
      'SELECT count(*) FROM public.orders /* audit-1 */',
      "SELECT name FROM public.customers WHERE name = 'Ada' /* audit-2 */",
    ]);
    await run({ uri: `postgres://bystander:${BYSTANDER_PASSWORD}@127.0.0.1:${cluster.port}/${APP.database}` }, [
      "SELECT 'other-user' AS marker",
    ]);
    shipLogs();
    assert.match(cluster.serverLog(), /bystander@appdb:\[\d+\]:LOG: {2}statement: SELECT 'other-user'/, 'the other user is in the log');
    assert.match(cluster.serverLog(), / CET:|CEST:/, 'times in a named zone');
    const first = await bot!.sesame.services.sessionAudit!.ingest('ledger-db');
    assert.ok(first >= 3, `a login and two statements stored (${first})`);

    await bot!.close();
    bot = undefined;
    await startBot();
    assert.equal(await bot!.sesame.services.sessionAudit!.ingest('ledger-db'), 0, 'nothing read twice after the restart');
    await run({ uri }, ['SELECT 42 AS answer /* audit-3 */']);
    shipLogs();
  });

  it('at the end of the grant, the export has exactly those statements, and the thread the counts and the first statements', async () => {
    await driver.slashCommand({ userId: alice.id, text: `revoke ${requestId}` });
    await pollUntil(
      async () => ((await bot!.sesame.store.getRequest(requestId))?.status === 'revoked' ? true : undefined),
      'the revocation',
    );
    const counted = await pollUntil(
      async () => (await bot!.sesame.store.listAudit(new Date(0))).find((e) => e.action === 'grant.sessions' && e.requestId === requestId),
      'the counts',
    );
    assert.equal(counted.details?.statements, 3);
    assert.equal(counted.details?.sessions, 2);

    const lines = await audit('--request', requestId);
    const statements = lines.filter((l) => l.type === 'session' && l.kind === 'statement');
    assert.deepEqual(
      statements.map((s) => /audit-\d/.exec(String(s.statement))?.[0]),
      ['audit-1', 'audit-2', 'audit-3'],
    );
    for (const s of statements) {
      assert.equal(s.requestId, requestId);
      assert.equal(s.requester, alice.id);
      assert.equal(s.database, APP.database);
      assert.equal(s.commandTag, 'SELECT');
    }
    assert.equal(lines.filter((l) => l.type === 'session' && l.kind === 'connect').length, 2);
    assert.ok(lines.some((l) => l.type === 'audit' && l.action === 'grant.granted'));
    const everything = JSON.stringify(await audit());
    assert.ok(!everything.includes('other-user'), 'no other user’s statement');
    assert.ok(!everything.includes(cluster.connector.password), 'no secret');
    assert.deepEqual(await audit('--person', 'nobody@example.com'), []);
    assert.equal((await audit('--person', alice.email)).filter((l) => l.kind === 'statement').length, 3);

    // The sink has them too, each once, in order, across the restart.
    const streamed = await pollUntil(async () => {
      const text = existsSync(join(dir, 'audit.jsonl')) ? readFileSync(join(dir, 'audit.jsonl'), 'utf8') : '';
      const items = text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .filter((l) => l.type === 'session' && l.requestId === requestId && l.kind === 'statement');
      return items.length >= 3 ? items : undefined;
    }, 'the statements in the sink');
    assert.deepEqual(
      streamed.map((s) => /audit-\d/.exec(String(s.statement))?.[0]),
      ['audit-1', 'audit-2', 'audit-3'],
    );
    assert.ok(!readFileSync(join(dir, 'audit.jsonl'), 'utf8').includes('other-user'), 'no other user’s statement in the sink');

    const dm = slack.dmMessages(owner.id).find((m) => m.text.includes(requestId))!;
    const thread = await slack.waitFor(
      () => dm.replies.find((r) => r.text.includes('2 sessions and 3 audited statements')),
      'the counts in the thread',
      10_000,
    );
    const shown = JSON.stringify(thread.blocks);
    assert.match(shown, /audit-1[\s\S]*audit-2[\s\S]*audit-3/);
    assert.match(shown, new RegExp(`audit --since \\d{4}-\\d{2}-\\d{2} --request ${requestId}`));
  });
});
