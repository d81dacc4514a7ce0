/**
 * Session log ingestion from RDS with the real SDK client against the fake AWS: files listed
 * since a watermark, downloaded in several portions (looping on AdditionalDataPending), read on
 * from where the last call stopped, each event once, across a cluster's members.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AwsClients } from '../../src/adapters/aws/AwsClients.ts';
import { RdsLogIngestor } from '../../src/adapters/aws/RdsLogIngestor.ts';
import { RdsResolver } from '../../src/adapters/aws/RdsResolver.ts';
import type { SessionEvent } from '../../src/adapters/aws/sessionLog.ts';
import { sessionCountsByGrant } from '../support/sessionCounts.ts';
import { FakeAws } from '../support/aws/FakeAws.ts';
import { awsClientConfig } from '../support/aws/awsEnv.ts';
import { rdsIntegration } from '../support/aws/rdsIntegration.ts';
import { ManualClock } from '../support/fakes.ts';

process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const US = 'us-east-1';
const ALICE = 'alice@example.com';
const CURRENT = 'error/postgresql.log.2026-06-01-09';
const OLDER = 'error/postgresql.log.2026-06-01-08';

/** One log line as RDS writes it, prefix `%t:%r:%u@%d:[%p]:`. */
function line(time: string, user: string, pid: number, message: string, database = 'appdb'): string {
  return `2026-06-01 ${time} UTC:10.0.0.7(5${pid}):${user}@${database}:[${pid}]:LOG:  ${message}\n`;
}
const connect = (time: string, user: string, pid: number, database = 'appdb') =>
  line(
    time,
    user,
    pid,
    `connection authorized: user=${user} database=${database} SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)`,
    database,
  );
const audit = (time: string, user: string, pid: number, id: number, statement: string) =>
  line(time, user, pid, `AUDIT: SESSION,${id},1,READ,SELECT,TABLE,public.orders,${statement},<not logged>`);
const disconnect = (time: string, user: string, pid: number) =>
  line(time, user, pid, `disconnection: session time: 0:00:15.012 user=${user} database=appdb host=10.0.0.7 port=5${pid}`);

const audited = (overrides: Record<string, unknown>) =>
  rdsIntegration({ name: 'audited', database: 'appdb', password: 'unused-here', audit: true, ...overrides });

function brief(events: SessionEvent[]): string[] {
  return events.map((e) => `${e.at.toISOString().slice(11, 19)} ${e.kind} ${e.user}@${e.database}${e.statement ? ` ${e.statement}` : ''}`);
}

const GRANT = { id: 'R1', dbUser: ALICE, grantedAt: new Date('2026-06-01T09:00:00Z'), expiresAt: new Date('2026-06-01T10:00:00Z') };

describe('RdsLogIngestor', () => {
  const clock = new ManualClock(new Date('2026-06-01T09:30:00Z'));
  let fake: FakeAws;
  let clients: AwsClients;
  let resolver: RdsResolver;
  const integration = audited({ instanceId: 'audited' });
  const firstRun: SessionEvent[] = [];

  before(async () => {
    // Three lines a portion at most, so a file takes several DownloadDBLogFilePortion calls.
    fake = await FakeAws.start({ clock, logPortionLines: 3 });
    const { endpoint, credentials } = awsClientConfig(fake);
    clients = new AwsClients({ endpoint, credentials, maxAttempts: 1 });
    resolver = new RdsResolver({ clients, clock });
    fake.addInstance({ region: US, id: 'audited' });
    fake.addLogFile(US, 'audited', OLDER, connect('08:30:00', ALICE, 90), { lastWritten: new Date('2026-06-01T08:59:59Z') });
    fake.addLogFile(
      US,
      'audited',
      CURRENT,
      [
        line('09:00:04', '[unknown]', 100, 'connection received: host=10.0.0.7 port=5100').replace(
          '[unknown]@appdb',
          '[unknown]@[unknown]',
        ),
        connect('09:00:05', ALICE, 100),
        // pgaudit quotes a statement with a newline; PostgreSQL continues the message on tab-led
        // lines, here across the boundary of the first portion.
        audit('09:00:07', ALICE, 100, 1, '"select id,\n\tamount from orders\n\twhere id = 1"'),
        audit('09:00:08', ALICE, 100, 2, 'select * from orders'),
        connect('09:00:09', 'bob', 101),
        disconnect('09:00:20', ALICE, 100),
      ].join(''),
      { lastWritten: new Date('2026-06-01T09:20:00Z') },
    );
  });
  after(async () => {
    clients.destroy();
    await fake.stop();
  });

  it('reads every file in portions until no more data is pending, and returns the managed users’ events', async () => {
    const ingestor = new RdsLogIngestor({ clients, resolver });
    const { events, errors } = await ingestor.ingest(integration, { managedUsers: [ALICE] });
    assert.deepEqual(errors, []);
    assert.deepEqual(brief(events), [
      '08:30:00 connect alice@example.com@appdb',
      '09:00:05 connect alice@example.com@appdb',
      '09:00:07 statement alice@example.com@appdb select id,\namount from orders\nwhere id = 1',
      '09:00:08 statement alice@example.com@appdb select * from orders',
      '09:00:20 disconnect alice@example.com@appdb',
    ]);
    const downloads = fake.calls('DownloadDBLogFilePortion').filter((c) => c.params.LogFileName === CURRENT);
    assert.equal(downloads.length, 3, '8 lines in portions of 3');
    assert.equal(downloads[0]!.params.Marker, '0');
    assert.deepEqual(Object.fromEntries(sessionCountsByGrant(events, [GRANT])), { R1: { sessions: 1, statements: 2 } });
    firstRun.push(...events);

    // Later: the file grows. Only what is new is read, from the marker where the last read stopped.
    clock.advance(60_000);
    fake.clearCalls();
    fake.appendLogFile(US, 'audited', CURRENT, connect('09:31:00', ALICE, 102) + audit('09:31:01', ALICE, 102, 1, 'select 1'));
    const next = await ingestor.ingest(integration, { managedUsers: [ALICE] });
    assert.deepEqual(brief(next.events), [
      '09:31:00 connect alice@example.com@appdb',
      '09:31:01 statement alice@example.com@appdb select 1',
    ]);
    assert.deepEqual(
      fake.calls('DownloadDBLogFilePortion').map((c) => c.params.LogFileName),
      [CURRENT],
    );
    assert.equal(fake.calls('DescribeDBLogFiles')[0]!.params.FileLastWritten, String(Date.parse('2026-06-01T09:20:00Z')));
    firstRun.push(...next.events);

    // Nothing new: nothing is downloaded and nothing returned.
    fake.clearCalls();
    assert.deepEqual((await ingestor.ingest(integration, { managedUsers: [ALICE] })).events, []);
    assert.deepEqual(fake.calls('DownloadDBLogFilePortion'), []);
  });

  it('gives the same events the same ids when a file is read again, so counting stays right', async () => {
    const again = await new RdsLogIngestor({ clients, resolver }).ingest(integration, { managedUsers: [ALICE] });
    assert.deepEqual(
      again.events.map((e) => e.id),
      firstRun.map((e) => e.id),
    );
    assert.deepEqual(Object.fromEntries(sessionCountsByGrant([...firstRun, ...again.events], [GRANT])), {
      R1: { sessions: 2, statements: 3 },
    });
  });

  it('reads a file again from where it stood when its download failed, each event once', async () => {
    const ingestor = new RdsLogIngestor({ clients, resolver });
    await ingestor.ingest(integration, { managedUsers: [ALICE] });
    clock.advance(60_000);
    fake.appendLogFile(US, 'audited', CURRENT, [4, 5, 6, 7].map((n) => audit(`09:32:0${n}`, ALICE, 102, n, `select ${n}`)).join(''));
    fake.fail('DownloadDBLogFilePortion', 'AccessDenied', 403, { times: 1 });
    const failed = await ingestor.ingest(integration, { managedUsers: [ALICE] });
    assert.deepEqual(failed.events, []);
    assert.equal(failed.errors.length, 1);
    assert.match(failed.errors[0]!, /may not download the log file error\/postgresql\.log\.2026-06-01-09 of audited/);
    assert.match(failed.errors[0]!, /rds:DownloadDBLogFilePortion/);
    const retried = await ingestor.ingest(integration, { managedUsers: [ALICE] });
    assert.deepEqual(retried.errors, []);
    assert.deepEqual(
      retried.events.map((e) => e.statement),
      ['select 4', 'select 5', 'select 6', 'select 7'],
    );
    assert.deepEqual((await ingestor.ingest(integration, { managedUsers: [ALICE] })).events, []);
  });

  it('starts at `since` on the first run, leaving older files unread', async () => {
    fake.clearCalls();
    const { events } = await new RdsLogIngestor({ clients, resolver }).ingest(integration, {
      managedUsers: [ALICE],
      since: new Date('2026-06-01T09:00:00Z'),
    });
    assert.ok(events.every((e) => e.at >= new Date('2026-06-01T09:00:00Z')));
    assert.ok(!fake.calls('DownloadDBLogFilePortion').some((c) => c.params.LogFileName === OLDER));
  });

  it('reads the logs of every member instance of an Aurora cluster', async () => {
    fake.addCluster({ region: US, id: 'orders' });
    fake.addInstance({ region: US, id: 'orders-1', clusterId: 'orders' });
    fake.addInstance({ region: US, id: 'orders-2', clusterId: 'orders' });
    fake.addLogFile(US, 'orders-1', CURRENT, connect('09:10:00', ALICE, 200, 'orders'));
    fake.addLogFile(US, 'orders-2', CURRENT, connect('09:05:00', ALICE, 300, 'orders') + connect('09:06:00', 'bob', 301, 'orders'));
    const { events, errors } = await new RdsLogIngestor({ clients, resolver }).ingest(audited({ name: 'orders', clusterId: 'orders' }), {
      managedUsers: [ALICE],
    });
    assert.deepEqual(errors, []);
    assert.deepEqual(
      events.map((e) => [e.at.toISOString().slice(11, 19), e.id.split('/')[0]]),
      [
        ['09:05:00', 'orders-2'],
        ['09:10:00', 'orders-1'],
      ],
    );
  });
  it('leaves the current file’s last record for the next read, so a statement cut between reads is read whole, once, across a restart', async () => {
    fake.addInstance({ region: US, id: 'live' });
    const stored = new Map<string, string>();
    const marks = async (key: string) => stored.get(key);
    const read = async () => {
      // A new ingestor each time: what it knows comes from the stored marks, as after a restart.
      const result = await new RdsLogIngestor({ clients, resolver, clock }).ingest(audited({ name: 'live', instanceId: 'live' }), {
        managedUsers: [ALICE],
        marks,
      });
      for (const [key, value] of Object.entries(result.marks)) stored.set(key, value);
      assert.deepEqual(result.errors, []);
      return result.events;
    };
    const LIVE = 'error/postgresql.log.live';
    fake.addLogFile(
      US,
      'live',
      LIVE,
      connect('09:29:00', ALICE, 400) + line('09:29:01', ALICE, 400, 'AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,"select id,'),
      {
        lastWritten: clock.now(),
      },
    );
    assert.deepEqual(brief(await read()), ['09:29:00 connect alice@example.com@appdb'], 'the unfinished statement waits');
    assert.ok(![...stored.values()].some((v) => v.includes('select')), 'no log text is kept with the marks');
    fake.appendLogFile(
      US,
      'live',
      LIVE,
      '\tamount from orders"\n'.replace('"\n', '",<not logged>\n') + audit('09:29:05', ALICE, 400, 2, 'select 2'),
    );
    assert.deepEqual(brief(await read()), ['09:29:01 statement alice@example.com@appdb select id,\namount from orders']);
    assert.deepEqual(brief(await read()), [], 'nothing read twice');
    clock.advance(3 * 60 * 60_000); // the file is rotated: its last record is whole
    fake.addLogFile(US, 'live', 'error/postgresql.log.next', connect('12:30:00', 'bob', 401), { lastWritten: clock.now() });
    assert.deepEqual(brief(await read()), ['09:29:05 statement alice@example.com@appdb select 2']);
  });
  it('reads the csvlog file and leaves its stderr twin alone, so each entry counts once', async () => {
    fake.addInstance({ region: US, id: 'twins' });
    const stamp = '2026-06-01 09:10:00.123 UTC';
    const csv = `${stamp},"${ALICE}","appdb",4500,"10.0.0.7:5450",6650f1a5.1194,1,"authentication",${stamp},,0,LOG,00000,"connection authorized: user=${ALICE} database=appdb",,,,,,,,,"","client backend",,0\n`;
    fake.addLogFile(US, 'twins', 'error/postgresql.log.2026-06-01-09', connect('09:10:00', ALICE, 4500), {
      lastWritten: new Date('2026-06-01T09:10:00Z'),
    });
    fake.addLogFile(US, 'twins', 'error/postgresql.log.2026-06-01-09.csv', csv, { lastWritten: new Date('2026-06-01T09:10:00Z') });
    const { events, errors } = await new RdsLogIngestor({ clients, resolver, clock }).ingest(
      audited({ name: 'twins', instanceId: 'twins' }),
      {
        managedUsers: [ALICE],
      },
    );
    assert.deepEqual(errors, []);
    assert.deepEqual(
      events.map((e) => [e.kind, e.id.split('@')[0]]),
      [['connect', 'twins/error/postgresql.log.2026-06-01-09.csv']],
    );
  });
});
