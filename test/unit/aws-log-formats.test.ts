import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandTagOf } from '../../src/adapters/aws/logFormats/commandTag.ts';
import { logTime } from '../../src/adapters/aws/logFormats/logTime.ts';
import { detectLogFormat, parseRdsPostgresLog, type SessionEvent, type SkippedLines } from '../../src/adapters/aws/sessionLog.ts';

const MANAGED = ['alice@example.com'];
const SECRET = 'hunter2-very-secret';

/** An event of alice's backend 4242, as {@link brief} shows it. */
const alice = (at: string, kind: string, session: string, tag?: string, statement?: string) => [
  at,
  kind,
  'alice@example.com',
  'appdb',
  4242,
  session,
  tag,
  statement,
];

function brief(events: SessionEvent[]) {
  return events.map((e) => [e.at.toISOString(), e.kind, e.user, e.database, e.pid, e.sessionId, e.commandTag, e.statement]);
}

const prefix = (time: string, pid: number, who = 'alice@example.com@appdb') => `2026-06-01 ${time} UTC:10.0.1.23(51234):${who}:[${pid}]:`;

/** stderr with log_connections and log_statement = all, extended protocol and a slow query. */
const STDERR = [
  `${prefix('09:00:05', 4242, '[unknown]@[unknown]')}LOG:  connection received: host=10.0.1.23 port=51234`,
  `${prefix('09:00:06', 4242)}LOG:  connection authorized: user=alice@example.com database=appdb`,
  `${prefix('09:00:07', 4242)}LOG:  statement: select o.id`,
  '\tfrom orders o',
  '\twhere o.id = 1;',
  `${prefix('09:00:08', 4242)}LOG:  execute <unnamed>: UPDATE orders SET note = $1 WHERE id = $2`,
  `${prefix('09:00:08', 4242)}DETAIL:  parameters: $1 = '${SECRET}', $2 = '1'`,
  `${prefix('09:00:09', 4242)}LOG:  execute S_1: insert into t values ($1)`,
  `${prefix('09:00:10', 4242)}LOG:  statement: ALTER ROLE "alice@example.com" PASSWORD '${SECRET}'`,
  `${prefix('09:00:11', 4242)}LOG:  duration: 1.234 ms  parse <unnamed>: select 2`,
  `${prefix('09:00:11', 4242)}LOG:  duration: 0.050 ms`,
  `${prefix('09:00:12', 77)}LOG:  duration: 2001.234 ms  statement: with x as (select 1) delete from t`,
  `${prefix('09:00:13', 4300, 'bob@appdb')}LOG:  statement: select 'not ours'`,
  `${prefix('09:00:14', 4242)}ERROR:  relation "nope" does not exist`,
  `${prefix('09:00:14', 4242)}STATEMENT:  select * from nope`,
  '',
].join('\n');

describe('log formats RDS writes, statement by statement', { timeout: 20_000 }, () => {
  describe('stderr', () => {
    it('reads log_statement lines (simple, extended, slow) of managed users, with session ids and command tags', () => {
      const events = parseRdsPostgresLog(STDERR, { managedUsers: MANAGED, source: 'db/error/postgresql.log.2026-06-01-09' });
      const session = '6a1d4a15.1092';
      assert.deepEqual(brief(events), [
        alice('2026-06-01T09:00:06.000Z', 'connect', session),
        alice('2026-06-01T09:00:07.000Z', 'statement', session, 'SELECT', 'select o.id\nfrom orders o\nwhere o.id = 1;'),
        alice('2026-06-01T09:00:08.000Z', 'statement', session, 'UPDATE', 'UPDATE orders SET note = $1 WHERE id = $2'),
        alice('2026-06-01T09:00:09.000Z', 'statement', session, 'INSERT', 'insert into t values ($1)'),
        alice('2026-06-01T09:00:10.000Z', 'statement', session, 'ALTER ROLE', 'ALTER ROLE "alice@example.com" PASSWORD \'[REDACTED]\''),
        [
          '2026-06-01T09:00:12.000Z',
          'statement',
          'alice@example.com',
          'appdb',
          77,
          'pid:77',
          'DELETE',
          'with x as (select 1) delete from t',
        ],
      ]);
      assert.ok(!JSON.stringify(events).includes(SECRET), 'neither bind parameters nor passwords are kept');
    });

    it('makes the session id from "connection authorized" when the received line is missing, per session of a reused PID', () => {
      const text = [
        `${prefix('09:00:00', 4100)}LOG:  connection authorized: user=alice@example.com database=appdb`,
        `${prefix('09:00:01', 4100)}LOG:  statement: select 1`,
        `${prefix('09:00:02', 4100)}LOG:  disconnection: session time: 0:00:02.000`,
        `${prefix('09:00:05', 4100)}LOG:  connection authorized: user=alice@example.com database=appdb`,
        `${prefix('09:00:06', 4100)}LOG:  statement: select 2`,
      ].join('\n');
      const ids = parseRdsPostgresLog(text, { managedUsers: MANAGED }).map((e) => `${e.kind}:${e.sessionId}`);
      assert.deepEqual(ids, [
        'connect:6a1d4a10.1004',
        'statement:6a1d4a10.1004',
        'disconnect:6a1d4a10.1004',
        'connect:6a1d4a15.1004',
        'statement:6a1d4a15.1004',
      ]);
    });

    it('counts a statement logged by both log_statement and pgaudit once, and keeps the pgaudit one', () => {
      const audit = (time: string, id: number, sql: string) =>
        `${prefix(time, 9)}LOG:  AUDIT: SESSION,${id},1,READ,SELECT,TABLE,public.t,${sql},<not logged>`;
      const text = [
        `${prefix('10:00:00', 9)}LOG:  statement: select * from t`,
        audit('10:00:00', 1, 'select * from t'),
        audit('10:00:00', 1, 'select * from t'),
        `${prefix('10:00:01', 9)}LOG:  statement: select * from t`,
        audit('10:00:01', 2, 'select * from t'),
        `${prefix('10:00:02', 9)}LOG:  statement: select * from u`,
        `${prefix('10:00:03', 9)}LOG:  statement: show search_path`,
      ].join('\n');
      const events = parseRdsPostgresLog(text, { managedUsers: MANAGED, source: 'f' });
      assert.deepEqual(
        events.map((e) => `${e.at.toISOString().slice(11, 19)} ${e.commandTag} ${e.statement} ${e.id}`),
        [
          `10:00:00 SELECT select * from t f@${text.indexOf('\n') + 1}`,
          `10:00:01 SELECT select * from t f@${text.indexOf(audit('10:00:01', 2, 'select * from t'))}`,
          `10:00:02 SELECT select * from u f@${text.indexOf('10:00:02') - 11}`,
          `10:00:03 SHOW show search_path f@${text.indexOf('10:00:03') - 11}`,
        ],
      );
    });
  });

  describe('csvlog', () => {
    const row = (time: string, user: string, pid: number, session: string, ps: string, message: string) =>
      `2026-06-01 ${time} CEST,"${user}","appdb",${pid},"10.0.1.23:51234",${session},1,"${ps}",2026-06-01 11:00:05 CEST,3/7,0,LOG,00000,"${message}",,,,,,,,,"psql","client backend",,0`;
    const CSV = [
      row(
        '11:00:05.120',
        'alice@example.com',
        4242,
        '6650f1a5.1092',
        'authentication',
        'connection authorized: user=alice@example.com database=appdb',
      ),
      row(
        '11:00:06.500',
        'alice@example.com',
        4242,
        '6650f1a5.1092',
        'idle',
        'statement: select o.id\nfrom orders o\nwhere o.note = ""é""',
      ),
      row('11:00:07.000', 'alice@example.com', 4242, '6650f1a5.1092', 'SELECT', 'duration: 1.5 ms  statement: select 2'),
      row(
        '11:00:08.000',
        'alice@example.com',
        4242,
        '6650f1a5.1092',
        'ALTER ROLE',
        `AUDIT: SESSION,1,1,ROLE,ALTER ROLE,,,ALTER ROLE x PASSWORD '${SECRET}',<not logged>`,
      ),
      row('11:00:09.000', 'bob', 4300, '6650f1a6.10cc', 'idle', 'statement: select 1'),
      '',
    ].join('\n');
    const source = 'db/error/postgresql.log.2026-06-01-09.csv';

    it('reads records in PostgreSQL column order, quoted fields across lines, for managed users only', () => {
      const events = parseRdsPostgresLog(CSV, { managedUsers: [...MANAGED, 'carol'], source });
      const session = '6650f1a5.1092';
      assert.deepEqual(brief(events), [
        alice('2026-06-01T09:00:05.120Z', 'connect', session),
        alice('2026-06-01T09:00:06.500Z', 'statement', session, 'SELECT', 'select o.id\nfrom orders o\nwhere o.note = "é"'),
        alice('2026-06-01T09:00:07.000Z', 'statement', session, 'SELECT', 'select 2'),
        alice('2026-06-01T09:00:08.000Z', 'statement', session, 'ALTER ROLE', "ALTER ROLE x PASSWORD '[REDACTED]'"),
      ]);
      assert.ok(!JSON.stringify(events).includes(SECRET));
    });

    it('names events by the byte offset of their record, the same however the file is cut', () => {
      const whole = parseRdsPostgresLog(CSV, { managedUsers: MANAGED, source });
      const third = CSV.indexOf('2026-06-01 11:00:07.000');
      assert.equal(whole[2]!.id, `${source}@${Buffer.byteLength(CSV.slice(0, third))}`);
      const head = CSV.slice(0, third);
      const parts = [
        ...parseRdsPostgresLog(head, { managedUsers: MANAGED, source }),
        ...parseRdsPostgresLog(CSV.slice(third), { managedUsers: MANAGED, source, offset: Buffer.byteLength(head) }),
      ];
      assert.deepEqual(parts, whole);
      assert.deepEqual(
        parseRdsPostgresLog(CSV, { managedUsers: MANAGED, source: 'db/f' }),
        whole.map((e) => ({ ...e, id: e.id.replace(source, 'db/f') })),
      );
    });
  });

  describe('jsonlog', () => {
    const line = (fields: Record<string, unknown>) =>
      JSON.stringify({
        timestamp: '2026-06-01 11:00:05.123 CEST',
        dbname: 'appdb',
        pid: 4242,
        session_id: '6650f1a5.1092',
        error_severity: 'LOG',
        ...fields,
      });
    const JSONLOG = [
      line({ user: 'alice@example.com', ps: 'authentication', message: 'connection authorized: user=alice@example.com database=appdb' }),
      line({ user: 'alice@example.com', ps: 'idle', message: 'statement: create table t (a int)\n  -- two lines' }),
      line({ user: 'alice@example.com', ps: 'idle', message: `statement: alter user alice password '${SECRET}'` }),
      line({
        user: 'alice@example.com',
        ps: 'INSERT',
        message: 'AUDIT: SESSION,1,1,WRITE,INSERT,TABLE,public.t,insert into t values (1),<not logged>',
      }),
      line({ user: 'bob', ps: 'idle', message: 'statement: select 1' }),
      'not json',
    ].join('\n');
    const source = 'db/error/postgresql.log.2026-06-01-09.json';

    it('reads the keys of JSON-format log output for managed users only', () => {
      const events = parseRdsPostgresLog(JSONLOG, { managedUsers: MANAGED, source });
      const at = '2026-06-01T09:00:05.123Z';
      const session = '6650f1a5.1092';
      assert.deepEqual(brief(events), [
        alice(at, 'connect', session),
        alice(at, 'statement', session, 'CREATE TABLE', 'create table t (a int)\n  -- two lines'),
        alice(at, 'statement', session, 'ALTER ROLE', "alter user alice password '[REDACTED]'"),
        alice(at, 'statement', session, 'INSERT', 'insert into t values (1)'),
      ]);
      assert.ok(!JSON.stringify(events).includes(SECRET));
      const second = JSONLOG.indexOf('\n') + 1;
      assert.equal(events[1]!.id, `${source}@${second}`);
      assert.deepEqual(parseRdsPostgresLog(JSONLOG, { managedUsers: MANAGED, source }), events);
    });

    it('tells the format by the file name, or else by the first line', () => {
      assert.equal(detectLogFormat('', 'db/error/postgresql.log.2026-06-01-09.csv'), 'csvlog');
      assert.equal(detectLogFormat('', 'db/error/postgresql.log.2026-06-01-09.json'), 'jsonlog');
      assert.equal(detectLogFormat(JSONLOG), 'jsonlog');
      assert.equal(detectLogFormat('2026-06-01 11:00:05.120 CEST,"alice","appdb",1,'), 'csvlog');
      assert.equal(detectLogFormat(STDERR, 'db/error/postgresql.log.2026-06-01-09'), 'stderr');
      assert.equal(parseRdsPostgresLog(JSONLOG, { managedUsers: MANAGED }).length, 4);
    });
  });

  describe('time zones as log_timezone writes them', () => {
    const at = (date: string, time: string, zone: string, timeZone?: string) => logTime(date, time, zone, timeZone)?.toISOString();

    it('maps abbreviations, numeric offsets and UTC to the right instant', () => {
      assert.equal(at('2026-06-01', '11:00:05', 'CEST'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-01-15', '11:00:05', 'CET'), '2026-01-15T10:00:05.000Z');
      assert.equal(at('2026-06-01', '05:00:05', 'EDT'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-06-01', '14:30:05', '+05:30'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-06-01', '14:30:05', '+0530'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-06-01', '06:00:05', '-03'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-06-01', '09:00:05.250', 'UTC'), '2026-06-01T09:00:05.250Z');
      assert.equal(at('2026-06-01', '18:00:05', 'JST'), '2026-06-01T09:00:05.000Z');
      // MSK stands for a zone in PostgreSQL's set: its offset at that date.
      assert.equal(at('2026-06-01', '12:00:05', 'MSK'), '2026-06-01T09:00:05.000Z');
    });

    it('lets the server time zone decide ambiguous and unknown abbreviations', () => {
      assert.equal(
        at('2026-06-01', '11:00:05', 'IST'),
        '2026-06-01T09:00:05.000Z',
        'Israel Standard Time, as PostgreSQL reads it by default',
      );
      assert.equal(at('2026-06-01', '14:30:05', 'IST', 'Asia/Kolkata'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-06-01', '10:00:05', 'IST', 'Europe/Dublin'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-06-01', '11:00:05', 'CEST', 'America/New_York'), '2026-06-01T09:00:05.000Z', 'a known one stays');
      assert.equal(at('2026-06-01', '11:00:05', 'XYZT'), undefined);
      assert.equal(at('2026-06-01', '11:00:05', 'XYZT', 'Europe/Paris'), '2026-06-01T09:00:05.000Z');
      assert.equal(at('2026-06-01', '11:00:05', 'XYZT', 'Not/AZone'), undefined);
    });

    it('reads CEST lines of every format, and skips and counts lines of an unknown zone', () => {
      const cest = STDERR.replaceAll(' UTC:', ' CEST:').replace('09:00:07 CEST', '09:00:07 XYZT');
      const skipped: SkippedLines = { unknownTimeZone: 0 };
      const events = parseRdsPostgresLog(cest, { managedUsers: MANAGED, skipped });
      assert.equal(events[0]!.at.toISOString(), '2026-06-01T07:00:06.000Z');
      assert.equal(events[0]!.sessionId, `${(Date.parse('2026-06-01T07:00:05Z') / 1000).toString(16)}.1092`);
      assert.equal(events.length, 5);
      assert.equal(skipped.unknownTimeZone, 1);
      const json = JSON.stringify({
        timestamp: '2026-06-01 11:00:05.123 QQQ',
        user: 'alice@example.com',
        pid: 1,
        message: 'statement: select 1',
      });
      const csv =
        '2026-06-01 11:00:05.123 QQQ,"alice@example.com","appdb",1,,1.1,1,"idle",,,0,LOG,00000,"statement: select 1",,,,,,,,,,,,0';
      parseRdsPostgresLog(json, { managedUsers: MANAGED, skipped, source: 'x.json' });
      parseRdsPostgresLog(csv, { managedUsers: MANAGED, skipped, source: 'x.csv' });
      assert.equal(skipped.unknownTimeZone, 3);
      assert.equal(
        parseRdsPostgresLog(csv, { managedUsers: MANAGED, timeZone: 'UTC', source: 'x.csv' })[0]!.at.toISOString(),
        '2026-06-01T11:00:05.123Z',
      );
    });
  });

  describe('command tags read from statements', () => {
    it('names commands as PostgreSQL tags them', () => {
      const cases: [string, string | undefined][] = [
        ['select 1', 'SELECT'],
        ['  /* hi */ -- there\n (SELECT 1)', 'SELECT'],
        ['values (1)', 'SELECT'],
        ['insert into t values (1)', 'INSERT'],
        ['WITH a AS (SELECT 1) UPDATE t SET x = 1', 'UPDATE'],
        ['with a as (select 1) select * from a', 'SELECT'],
        ['create unique index i on t (a)', 'CREATE INDEX'],
        ['CREATE OR REPLACE FUNCTION f() RETURNS int AS $$ select 1 $$ LANGUAGE sql', 'CREATE FUNCTION'],
        ['create temp table t as select 1', 'CREATE TABLE AS'],
        ['create table if not exists t (a int)', 'CREATE TABLE'],
        ['drop table t', 'DROP TABLE'],
        ['create materialized view v as select 1', 'CREATE MATERIALIZED VIEW'],
        ['alter user bob password $1', 'ALTER ROLE'],
        ['create group g', 'CREATE ROLE'],
        ['drop owned by bob', 'DROP OWNED'],
        ['grant select on t to bob', 'GRANT'],
        ['set role bob', 'SET'],
        ['begin', 'BEGIN'],
        ['start transaction read only', 'START TRANSACTION'],
        ['end', 'COMMIT'],
        ['abort', 'ROLLBACK'],
        ['copy t to stdout', 'COPY'],
        ['truncate t', 'TRUNCATE TABLE'],
        ['discard all', 'DISCARD ALL'],
        ['prepare transaction $$x$$', 'PREPARE TRANSACTION'],
        ['frobnicate the thing', 'FROBNICATE'],
        ['   ', undefined],
      ];
      assert.deepEqual(
        cases.map(([sql]) => [sql, commandTagOf(sql)]),
        cases,
      );
    });
  });
});
