import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { explainError, explainWithUsage } from '../../src/adapters/slack/errorText.ts';
import { blockForRequestError } from '../../src/adapters/slack/listeners/views/onRequestSubmitted.ts';
import { parseDurationMinutes } from '../../src/domain/duration.ts';
import { parsePermission } from '../../src/domain/permission.ts';
import { parseTarget } from '../../src/domain/target.ts';

import {
  ConflictError,
  ConnectorSetupError,
  InputError,
  NotAllowedError,
  NotFoundError,
  TargetUnavailableError,
  type RequestField as RequestFieldName,
} from '../../src/domain/errors.ts';
import { registerSecret } from '../../src/logger.ts';

function fieldOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (err) {
    return err instanceof InputError ? err.field : 'not an InputError';
  }
  return 'no error';
}

describe('errors in words for a person', () => {
  it("shows Sesame's own errors as they are written, each with a sign of its kind", () => {
    assert.match(explainError(new InputError('Give a reason.')).text, /^:warning: Give a reason\.$/);
    assert.match(explainError(new NotAllowedError('You are not an approver of R2345678.')).text, /^:no_entry: You are not an approver/);
    assert.match(explainError(new NotFoundError('There is no request R2345678.')).text, /^:mag: /);
    assert.match(explainError(new ConflictError('R2345678 was already approved by <@U0BOB>; nothing was changed.')).text, /<@U0BOB>/);
  });

  it('tells database and set-up failures in general words, keeping their details for the admins', () => {
    const unreachable = new TargetUnavailableError(
      'Sesame cannot connect to prod (db.internal:5432, user "sesame_connector", sslMode require): ECONNREFUSED.',
    );
    const setup = new ConnectorSetupError('The connector sesame_connector lacks a role.', ['GRANT app_owner TO sesame_connector;']);
    for (const err of [unreachable, setup]) {
      const explained = explainError(err);
      for (const internal of ['db.internal', 'sesame_connector', 'sslMode', 'ECONNREFUSED', 'GRANT']) {
        assert.ok(!explained.text.includes(internal), `${err.name} showed ${internal}`);
      }
      assert.match(explained.text, /Sesame's admins were told/);
      assert.equal(explained.forAdmins, err.message);
      assert.equal(explained.unexpected, false);
    }
    assert.match(explainError(unreachable).text, /try again in a few minutes/);
    assert.match(explainError(setup).text, /until an admin finishes setting it up/);
    assert.equal(explainError(new ConflictError('Already approved.')).forAdmins, undefined);
  });

  it('never shows the text of an unexpected error, which may hold internals', () => {
    const explained = explainError(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2hunter2'));
    assert.equal(explained.unexpected, true);
    assert.ok(!explained.text.includes('ECONNREFUSED') && !explained.text.includes('hunter2'));
    assert.match(explained.text, /nothing was changed/);
  });

  it('removes registered secrets and neutralises broadcasts quoted from input, keeping user mentions', () => {
    registerSecret('s3cr3t-value-xyz');
    const text = explainError(new InputError('"<!channel> s3cr3t-value-xyz" is not a permission; ask <@U0BOB> & co.')).text;
    assert.ok(!text.includes('s3cr3t-value-xyz'));
    assert.ok(!text.includes('<!channel>') && text.includes('&lt;!channel&gt;'));
    assert.ok(text.includes('<@U0BOB>') && text.includes('&amp; co'));
  });

  it('adds the usage to errors about what was typed only', () => {
    const usage = ['`/access help`', '`/access list`'];
    assert.match(
      explainWithUsage(new InputError('Bad duration.'), usage).text,
      /Bad duration\.\n\n\*Usage\*\n• `\/access help`\n• `\/access list`/,
    );
    assert.match(explainWithUsage(new NotAllowedError('No flow offers that.'), usage).text, /Usage/);
    assert.ok(!explainWithUsage(new ConflictError('Already approved.'), usage).text.includes('Usage'));
    assert.ok(!explainWithUsage(new Error('boom'), usage).text.includes('Usage'));
  });

  it('puts a refused request on the form block it is about', () => {
    const blockOf = (f: string) => `${f}@local`;
    const field = (f: RequestFieldName) => new InputError('whatever the words', { field: f });
    assert.equal(blockForRequestError(field('duration'), blockOf), 'duration@local');
    assert.equal(blockForRequestError(field('reason'), blockOf), 'reason@local');
    assert.equal(blockForRequestError(field('integration'), blockOf), 'integration');
    assert.equal(blockForRequestError(field('table'), blockOf), 'table@local');
    assert.equal(blockForRequestError(field('schema'), blockOf), 'schema@local');
    assert.equal(
      blockForRequestError(new NotAllowedError('No access flow lets you request admin on local/appdb.'), blockOf),
      'permission@local',
    );
    // The services and the domain name the field of their input errors.
    assert.equal(
      fieldOf(() => parseDurationMinutes('0m')),
      'duration',
    );
    assert.equal(
      fieldOf(() => parseTarget(`local/${'x'.repeat(64)}`)),
      'database',
    );
    assert.equal(
      fieldOf(() => parseTarget(`local/app/s/${'x'.repeat(64)}`)),
      'table',
    );
    assert.equal(
      fieldOf(() => parsePermission('superuser')),
      'permission',
    );
  });
});
