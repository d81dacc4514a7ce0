import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { csvFields, MAX_STATEMENT_LENGTH, parseRdsPostgresLog, type SessionEvent } from '../../src/adapters/aws/sessionLog.ts';
import { attributeSessionEvents } from '../../src/domain/sessionAttribution.ts';
import { sessionCountsByGrant } from '../support/sessionCounts.ts';

/** A log as RDS for PostgreSQL writes it with its default log_line_prefix `%t:%r:%u@%d:[%p]:`. */
const LOG = [
  '2026-06-01 09:00:05 UTC:10.0.1.23(51234):[unknown]@[unknown]:[4242]:LOG:  connection received: host=10.0.1.23 port=51234',
  '2026-06-01 09:00:05 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:LOG:  connection authenticated: identity="alice@example.com" method=scram-sha-256 (/rdsdbdata/config/pg_hba.conf:13)',
  '2026-06-01 09:00:05 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:LOG:  connection authorized: user=alice@example.com database=appdb application_name=psql SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)',
  '2026-06-01 09:00:07 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:LOG:  AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.orders,select * from orders where id = 1;,<not logged>',
  '2026-06-01 09:00:09 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:LOG:  AUDIT: SESSION,2,1,READ,SELECT,TABLE,public.orders,"select o.id, c.name',
  '\tfrom orders o join customers c on c.id = o.customer_id',
  '\twhere c.name = \'Ada\' and o.note = ""x""",<not logged>',
  '2026-06-01 09:00:09 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:LOG:  AUDIT: SESSION,2,1,READ,SELECT,TABLE,public.customers,<previously logged>,<previously logged>',
  '2026-06-01 09:00:12 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:LOG:  AUDIT: SESSION,3,1,ROLE,ALTER ROLE,,,ALTER ROLE "alice@example.com" PASSWORD \'hunter2-very-secret\',<not logged>',
  '2026-06-01 09:00:13 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:ERROR:  relation "nope" does not exist at character 15',
  '2026-06-01 09:00:13 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:STATEMENT:  select * from nope;',
  '2026-06-01 09:00:20 UTC:10.0.1.23(51234):alice@example.com@appdb:[4242]:LOG:  disconnection: session time: 0:00:15.012 user=alice@example.com database=appdb host=10.0.1.23 port=51234',
  '2026-06-01 09:00:21 UTC::@:[561]:LOG:  checkpoint starting: time',
  '2026-06-01 09:00:22 UTC:10.0.1.9(40000):bob@appdb:[4300]:LOG:  connection authorized: user=bob database=appdb',
  '2026-06-01 09:00:23 UTC:[local]:sesame_connector@postgres:[4301]:LOG:  connection authorized: user=sesame_connector database=postgres',
  '2026-06-01 09:00:24 UTC:2001:db8::7(5432):carol@shop@otherdb:[4400]:LOG:  connection authorized: user=carol@shop database=otherdb\r',
  '2026-06-01 11:00:25 +02:10.0.1.23(51300):alice@example.com@appdb:[4500]:LOG:  connection authorized: user=alice@example.com database=appdb',
  'a line that is not an RDS log entry at all',
  '\tand a continuation that belongs to nothing we read',
  '',
].join('\n');

const MANAGED = ['alice@example.com', 'carol', 'carol@shop'];

function brief(events: SessionEvent[]) {
  return events.map((e) => [e.at.toISOString(), e.kind, e.user, e.database, e.pid, e.statement]);
}

describe('parseRdsPostgresLog', { timeout: 10_000 }, () => {
  it('reads connections, disconnections and pgaudit statements of managed users, and nothing else', () => {
    const events = parseRdsPostgresLog(LOG, { managedUsers: MANAGED, source: 'prod-db-1/error/postgresql.log.2026-06-01-09' });
    assert.deepEqual(brief(events), [
      ['2026-06-01T09:00:05.000Z', 'connect', 'alice@example.com', 'appdb', 4242, undefined],
      ['2026-06-01T09:00:07.000Z', 'statement', 'alice@example.com', 'appdb', 4242, 'select * from orders where id = 1;'],
      [
        '2026-06-01T09:00:09.000Z',
        'statement',
        'alice@example.com',
        'appdb',
        4242,
        'select o.id, c.name\nfrom orders o join customers c on c.id = o.customer_id\nwhere c.name = \'Ada\' and o.note = "x"',
      ],
      [
        '2026-06-01T09:00:12.000Z',
        'statement',
        'alice@example.com',
        'appdb',
        4242,
        'ALTER ROLE "alice@example.com" PASSWORD \'[REDACTED]\'',
      ],
      ['2026-06-01T09:00:20.000Z', 'disconnect', 'alice@example.com', 'appdb', 4242, undefined],
      ['2026-06-01T09:00:24.000Z', 'connect', 'carol@shop', 'otherdb', 4400, undefined],
      ['2026-06-01T09:00:25.000Z', 'connect', 'alice@example.com', 'appdb', 4500, undefined],
    ]);
  });

  it('never keeps a password literal, even one the generic redactor would miss', () => {
    const events = parseRdsPostgresLog(LOG, { managedUsers: MANAGED });
    assert.ok(!JSON.stringify(events).includes('hunter2-very-secret'));
  });

  it('names each event by its source and byte offset, the same however the file is cut', () => {
    const source = 'db/postgresql.log';
    const whole = parseRdsPostgresLog(LOG, { managedUsers: MANAGED, source });
    assert.equal(whole[0]!.id, `${source}@${Buffer.byteLength(LOG.split('\n').slice(0, 2).join('\n')) + 1}`);
    assert.equal(new Set(whole.map((e) => e.id)).size, whole.length);
    // Cut after the disconnection line: the second part, parsed from its offset, has the same ids.
    const cut = LOG.indexOf('2026-06-01 09:00:21');
    const head = LOG.slice(0, cut);
    const tail = LOG.slice(cut);
    const parts = [
      ...parseRdsPostgresLog(head, { managedUsers: MANAGED, source }),
      ...parseRdsPostgresLog(tail, { managedUsers: MANAGED, source, offset: Buffer.byteLength(head) }),
    ];
    assert.deepEqual(parts, whole);
  });

  it('counts a statement once per backend even when pgaudit logs it per relation, and again in a new session', () => {
    const line = (pid: number, id: number, object: string) =>
      `2026-06-01 10:00:00 UTC:10.0.0.1(1):alice@example.com@appdb:[${pid}]:LOG:  AUDIT: SESSION,${id},1,READ,SELECT,TABLE,${object},select 1,<not logged>`;
    const connect = (pid: number) =>
      `2026-06-01 10:00:00 UTC:10.0.0.1(1):alice@example.com@appdb:[${pid}]:LOG:  connection authorized: user=alice@example.com database=appdb`;
    const text = [
      connect(1),
      line(1, 1, 'a'),
      line(1, 1, 'b'),
      line(1, 2, 'a'),
      connect(2),
      line(2, 1, 'a'),
      connect(1),
      line(1, 1, 'a'),
    ].join('\n');
    const kinds = parseRdsPostgresLog(text, { managedUsers: ['alice@example.com'] }).map((e) => `${e.kind}:${e.pid}`);
    assert.deepEqual(kinds, ['connect:1', 'statement:1', 'statement:1', 'connect:2', 'statement:2', 'connect:1', 'statement:1']);
  });

  it('keeps statements short and finds nothing without managed users', () => {
    const long = `select '${'x'.repeat(5000)}'`;
    const text = `2026-06-01 10:00:00 UTC:10.0.0.1(1):alice@example.com@appdb:[9]:LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,${long},<not logged>`;
    const [event] = parseRdsPostgresLog(text, { managedUsers: ['alice@example.com'] });
    assert.equal(event!.statement!.length, MAX_STATEMENT_LENGTH);
    assert.ok(event!.statement!.endsWith('…'));
    assert.deepEqual(parseRdsPostgresLog(LOG, { managedUsers: [] }), []);
  });
});

describe('csvFields', { timeout: 10_000 }, () => {
  it('splits pgaudit records with quoted fields, doubled quotes and empty fields', () => {
    assert.deepEqual(csvFields('SESSION,1,1,READ,SELECT,,,"select a, ""b"" from t",<none>'), [
      'SESSION',
      '1',
      '1',
      'READ',
      'SELECT',
      '',
      '',
      'select a, "b" from t',
      '<none>',
    ]);
  });
});

describe('attributing session events to grants', { timeout: 10_000 }, () => {
  const at = (time: string) => new Date(`2026-06-01T${time}Z`);
  let n = 0;
  const event = (time: string, kind: SessionEvent['kind'], user = 'alice'): SessionEvent => ({
    id: `log@${++n}`,
    at: at(time),
    user,
    database: 'appdb',
    kind,
    pid: 1,
    sessionId: 'pid:1',
  });
  const grants = [
    // Granted part way through 09:00:00; log times are whole seconds.
    { id: 'R1', dbUser: 'alice', grantedAt: new Date('2026-06-01T09:00:00.400Z'), expiresAt: at('10:00:00'), endedAt: at('09:30:00') },
    { id: 'R2', dbUser: 'alice', grantedAt: at('09:45:00'), expiresAt: at('10:45:00') },
    { id: 'R3', dbUser: 'bob', grantedAt: at('09:00:00'), expiresAt: at('09:10:00') },
    // Overlaps R2: the most recent grant gets the events.
    { id: 'R4', dbUser: 'alice', grantedAt: at('10:00:00'), expiresAt: at('10:15:00') },
    { id: 'pending', dbUser: 'alice' },
  ];

  it('gives each event to the grant of its user live at that time, and keeps the rest apart', () => {
    const events = [
      event('08:59:59', 'connect'),
      event('09:00:00', 'connect'),
      event('09:00:01', 'statement'),
      event('09:30:00', 'statement'),
      event('09:30:01', 'statement'),
      event('09:50:00', 'connect'),
      event('10:05:00', 'connect'),
      event('10:05:01', 'statement'),
      event('09:05:00', 'connect', 'bob'),
      event('09:05:00', 'connect', 'carol'),
    ];
    const { byGrant, unattributed } = attributeSessionEvents(events, grants);
    assert.deepEqual(Object.fromEntries([...byGrant].map(([id, list]) => [id, list.map((e) => e.at.toISOString().slice(11, 19))])), {
      R1: ['09:00:00', '09:00:01', '09:30:00'],
      R2: ['09:50:00'],
      R4: ['10:05:00', '10:05:01'],
      R3: ['09:05:00'],
    });
    assert.deepEqual(
      unattributed.map((e) => `${e.user} ${e.at.toISOString().slice(11, 19)}`),
      ['alice 08:59:59', 'alice 09:30:01', 'carol 09:05:00'],
    );
  });

  it('counts sessions and statements per grant, each event once however often it was read', () => {
    const events = [
      event('09:01:00', 'connect'),
      event('09:01:01', 'statement'),
      event('09:01:02', 'statement'),
      event('09:02:00', 'disconnect'),
    ];
    const counts = sessionCountsByGrant([...events, ...events], grants);
    assert.deepEqual(Object.fromEntries(counts), { R1: { sessions: 1, statements: 2 } });
  });
});
