import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig, parseConfigText } from '../../src/config/load.ts';
import { configHash } from '../../src/app.ts';
import { configProblems as problems } from '../support/configProblems.ts';

describe('config: state.postgres', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-config-state-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes a PostgreSQL URI, with ${ENV} for its password, TLS keys beside it and no SQLite file', () => {
    const config = parseConfigText(
      'state:\n  postgres: postgres://sesame:${STATE_DB_PASSWORD}@db.internal:5433/sesame\n  sslMode: verify-ca\n',
      { STATE_DB_PASSWORD: 's3cret%2Fpw' },
    );
    assert.deepEqual(config.state, { postgres: 'postgres://sesame:s3cret%2Fpw@db.internal:5433/sesame', sslMode: 'verify-ca' });
  });

  it('without either key, the SQLite file is the default store', () => {
    assert.deepEqual(parseConfigText('slack: {}\n', {}).state, { sqlite: './data/sesame.db' });
  });

  it('both stores set: one clear error that says to keep one', () => {
    const found = problems('state:\n  sqlite: ./data/sesame.db\n  postgres: postgres://sesame@db/sesame\n');
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0]!, /^state\.postgres.*state\.sqlite are both set: Sesame keeps its state in exactly one store/);
  });

  it('a bad URI: says what is wrong, without repeating the URI or its password', () => {
    const cases: [string, RegExp][] = [
      ['not a uri Secret-Pass-1', /must be a URI like postgres:\/\/user:password@host:5432\/database/],
      ['mysql://u:Secret-Pass-2@db/sesame', /must start with postgres:\/\/ or postgresql:\/\//],
      ['postgres://u:Secret-Pass-3@db', /must name one database/],
      ['postgres://u:Secret-Pass-4@db/sesame?sslmode=disable', /write TLS settings as state\.sslMode/],
    ];
    for (const [uri, message] of cases) {
      const found = problems(`state:\n  postgres: "${uri}"\n`);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, message);
      assert.match(found[0]!, /^state\.postgres/);
      assert.doesNotMatch(found.join('\n'), /Secret-Pass/);
    }
  });

  it('allow and prefer are refused for the state database, which keeps one kind of connection', () => {
    const found = problems('state:\n  postgres: postgres://sesame@db/sesame\n  sslMode: prefer\n');
    assert.equal(found.length, 1, found.join('\n'));
    assert.match(found[0]!, /^state\.sslMode/);
  });

  it('$SESAME_STATE names a file, so it does not apply to a PostgreSQL state; sslRootCert is relative to the config', () => {
    const file = join(dir, 'sesame.yml');
    writeFileSync(file, 'state:\n  postgres: postgres://sesame@db/sesame\n  sslRootCert: ca.pem\n');
    const config = loadConfig(file, { SESAME_STATE: '/var/lib/sesame/sesame.db' });
    assert.deepEqual(config.state, { postgres: 'postgres://sesame@db/sesame', sslRootCert: join(dir, 'ca.pem') });
  });
});

describe('the config hash replicas compare', () => {
  const text = (password: string, state: string, maxDuration = '2h') => `
state: { postgres: "${state}" }
integrations:
  - { name: local, type: postgresql, host: db, database: app, username: c, password: ${password} }
accessFlows:
  - { name: read, requestors: ["*"], permissions: [readonly], maxDuration: ${maxDuration} }
`;
  const hash = (password: string, state = 'postgres://s:one@state/sesame', maxDuration?: string) =>
    configHash(parseConfigText(text(password, state, maxDuration), {}));

  it('is the same for the same config, whatever the passwords and the state URI', () => {
    assert.equal(hash('first-secret'), hash('second-secret'), "a password's rotation reaches replicas one by one");
    assert.equal(hash('first-secret', 'postgres://s:one@state/sesame'), hash('first-secret', 'postgres://s:two@state-2/sesame'));
    assert.match(hash('first-secret'), /^[0-9a-f]{16}$/);
  });

  it('differs when anything else differs, and holds no secret', () => {
    assert.notEqual(hash('first-secret'), hash('first-secret', undefined, '4h'));
    assert.ok(!hash('first-secret').includes('first-secret'));
  });
});
