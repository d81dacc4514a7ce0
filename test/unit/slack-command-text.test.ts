import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commandUsage, parseCommandText, parseQuotedTarget } from '../../src/adapters/slack/commandText.ts';
import { InputError } from '../../src/domain/errors.ts';

function refused(text: string, pattern: RegExp): void {
  assert.throws(
    () => parseCommandText(text),
    (err: unknown) => {
      assert.ok(err instanceof InputError, `expected an InputError for ${JSON.stringify(text)}, got ${String(err)}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe('the /access command text', () => {
  it('opens the modal when nothing is typed', () => {
    assert.deepEqual(parseCommandText(''), { kind: 'modal' });
    assert.deepEqual(parseCommandText('   '), { kind: 'modal' });
  });

  it('knows help, list, list all, revoke, cancel and extend, in any case', () => {
    assert.deepEqual(parseCommandText('help'), { kind: 'help' });
    assert.deepEqual(parseCommandText('HELP'), { kind: 'help' });
    assert.deepEqual(parseCommandText('list'), { kind: 'list' });
    assert.deepEqual(parseCommandText('list mine'), { kind: 'list', all: false });
    assert.deepEqual(parseCommandText('list all'), { kind: 'list', all: true });
    assert.deepEqual(parseCommandText('revoke r7k3qx2'), { kind: 'revoke', requestId: 'R7K3QX2' });
    assert.deepEqual(parseCommandText('cancel #R7K3QX2'), { kind: 'cancel', requestId: 'R7K3QX2' });
    assert.deepEqual(parseCommandText('extend R7K3QX2 1h30m'), { kind: 'extend', requestId: 'R7K3QX2', durationMinutes: 90 });
  });

  it('parses a request with and without the word request, duration and reason', () => {
    assert.deepEqual(parseCommandText('prod/app readonly'), {
      kind: 'request',
      parts: [{ target: { integration: 'prod', database: 'app' }, permission: 'readonly' }],
    });
    assert.deepEqual(parseCommandText('request prod/app/public/orders readwrite for 2h because  fix  ticket #42'), {
      kind: 'request',
      parts: [{ target: { integration: 'prod', database: 'app', schema: 'public', table: 'orders' }, permission: 'readwrite' }],
      durationMinutes: 120,
      reason: 'fix  ticket #42',
    });
    assert.deepEqual(parseCommandText('prod role:reporting because "quoted" words; kept as typed, even commas'), {
      kind: 'request',
      parts: [{ target: { integration: 'prod' }, permission: 'role:reporting' }],
      reason: '"quoted" words; kept as typed, even commas',
    });
  });

  it('parses several targets separated by commas, bundle names, and break-glass', () => {
    const expected = {
      kind: 'request',
      parts: [
        { target: { integration: 'prod', database: 'app', schema: 'public' }, permission: 'readonly' },
        { target: { integration: 'analytics', database: 'events' }, permission: 'readwrite' },
      ],
      durationMinutes: 120,
      reason: 'INC-42',
    };
    for (const text of [
      'request prod/app/public readonly, analytics/events readwrite for 2h because INC-42',
      'prod/app/public readonly ,analytics/events readwrite for 2h because INC-42',
      'prod/app/public readonly,analytics/events readwrite for 2h because INC-42',
      'prod/app/public readonly , analytics/events readwrite for 2h because INC-42',
    ]) {
      assert.deepEqual(parseCommandText(text), expected, text);
    }
    assert.deepEqual(parseCommandText('request incident-debug for 1h'), {
      kind: 'request',
      parts: [{ bundle: 'incident-debug' }],
      durationMinutes: 60,
    });
    assert.deepEqual(parseCommandText('incident-debug, prod/"a,b" readonly because x'), {
      kind: 'request',
      parts: [{ bundle: 'incident-debug' }, { target: { integration: 'prod', database: 'a,b' }, permission: 'readonly' }],
      reason: 'x',
    });
    assert.deepEqual(parseCommandText('break-glass prod/app readwrite for 1h because INC-7'), {
      kind: 'request',
      parts: [{ target: { integration: 'prod', database: 'app' }, permission: 'readwrite' }],
      durationMinutes: 60,
      reason: 'INC-7',
      breakGlass: true,
    });
    refused('prod/app readonly,', /Each comma needs a target/);
    refused('prod/app readonly,, x/y readonly', /Each comma needs a target/);
    refused(', prod/app readonly', /Each comma needs a target/);
    refused('prod/app readonly, for 1h', /Each comma needs a target/);
    refused('Incident readonly', /not an integration name/);
    refused('prod/app/x, y/z readonly', /which permission you need on prod\/app\/x/);
    refused('break-glass', /needs a target, a permission and a reason/);
  });

  it('parses grant for someone else by mention, member ID or email, and refuses a bare @name', () => {
    const rest = {
      parts: [{ target: { integration: 'prod', database: 'app' }, permission: 'readonly' }],
      durationMinutes: 60,
      reason: 'INC-1',
    };
    assert.deepEqual(parseCommandText('grant <@U0ALICE1|alice> prod/app readonly for 1h because INC-1'), {
      kind: 'grant',
      person: { slackId: 'U0ALICE1' },
      ...rest,
    });
    assert.deepEqual(parseCommandText('grant U0ALICE1 prod/app readonly for 1h because INC-1'), {
      kind: 'grant',
      person: { slackId: 'U0ALICE1' },
      ...rest,
    });
    assert.deepEqual(parseCommandText('GRANT Alice@Example.com prod/app readonly for 1h because INC-1'), {
      kind: 'grant',
      person: { email: 'alice@example.com' },
      ...rest,
    });
    refused('grant @alice prod/app readonly', /as plain text/);
    refused('grant', /needs the person first/);
    refused('grant alice prod/app readonly', /"alice" is not a person/);
    refused('grant U0ALICE1', /needs a person, a target and a permission/);
    refused('grant U0ALICE1 prod/app', /which permission/);
  });

  it('keeps quotes and semicolons inside a double-quoted name, with "" for a quote', () => {
    assert.deepEqual(parseQuotedTarget('prod/app/"Odd;Name"/"say ""hi"""'), {
      integration: 'prod',
      database: 'app',
      schema: 'Odd;Name',
      table: 'say "hi"',
    });
    const parsed = parseCommandText('prod/"my db"/"x; DROP TABLE t" readonly for 1h');
    assert.equal(parsed.kind, 'request');
    assert.deepEqual(parsed.kind === 'request' && parsed.parts, [
      { target: { integration: 'prod', database: 'my db', schema: 'x; DROP TABLE t' }, permission: 'readonly' },
    ]);
    // Curly quotes some clients substitute count as straight ones.
    assert.deepEqual(parseCommandText('prod/\u201cmy db\u201d readonly'), {
      kind: 'request',
      parts: [{ target: { integration: 'prod', database: 'my db' }, permission: 'readonly' }],
    });
  });

  it('refuses semicolons and stray quotes outside quoted names', () => {
    refused('prod/app;DROP ROLE x readonly', /semicolon/);
    refused('prod/app";DROP readonly', /quote/);
    refused('prod/"unclosed readonly', /never closed/);
    refused('prod/"a"b readonly', /after a closing quote/);
  });

  it('refuses every malformed form with what was wrong', () => {
    refused('request', /needs a target and a permission/);
    refused('request   ', /needs a target and a permission/);
    refused('prod/app', /which permission/);
    refused('prod/app superuser', /is not a permission/);
    refused('prod/app readonly for 0m', /longer than zero/);
    refused('prod/app readonly for -5m', /not a duration/);
    refused('prod/app readonly for', /needs a duration/);
    refused('prod/app readonly because', /needs a reason/);
    refused('prod/app readonly please', /did not understand "please"/);
    refused('Prod/app readonly', /not an integration name/);
    refused('prod//app readonly', /empty part/);
    refused('a/b/c/d/e readonly', /at most four/);
    refused(`prod/${'x'.repeat(64)} readonly`, /64 bytes/);
    refused('revoke', /needs a request ID/);
    refused('revoke 12', /not a request ID/);
    refused('revoke R7K3QX2 now', /takes nothing more/);
    refused('extend R7K3QX2', /how much longer/);
    refused('extend R7K3QX2 0m', /longer than zero/);
    refused('list everything', /takes nothing, `mine` or `all`/);
    refused('help me', /takes nothing more/);
  });

  it('takes a 5,000-character reason whole, for the service to refuse by its own rule', () => {
    const parsed = parseCommandText(`prod readonly because ${'x'.repeat(5000)}`);
    assert.equal(parsed.kind === 'request' && parsed.reason?.length, 5000);
  });

  it('shows every form in the usage under the configured command', () => {
    const usage = commandUsage('/sesame').join('\n');
    for (const form of [
      '`/sesame help`',
      '`/sesame list`',
      'revoke <request-id>',
      'extend <request-id> <duration>',
      'cancel <request-id>',
      'because <reason…>',
    ]) {
      assert.ok(usage.includes(form), form);
    }
  });
});
