/**
 * Where the state file is: `state.sqlite` relative to the config file, or `$SESAME_STATE`
 * (relative to the working directory) whatever the file says, as the Docker image sets it.
 */
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';

describe('the state file path', () => {
  it('is state.sqlite, relative to the config file, without $SESAME_STATE', () => {
    assert.equal(parseConfigText('{}\n', {}, '/etc/sesame/sesame.yml').state.sqlite, '/etc/sesame/data/sesame.db');
    assert.equal(
      parseConfigText('state: { sqlite: s.db }\n', { SESAME_STATE: '' }, '/etc/sesame/sesame.yml').state.sqlite,
      '/etc/sesame/s.db',
    );
  });

  it('is $SESAME_STATE when set, whatever state.sqlite says', () => {
    const env = { SESAME_STATE: '/var/lib/sesame/sesame.db' };
    assert.equal(parseConfigText('{}\n', env, '/etc/sesame/sesame.yml').state.sqlite, '/var/lib/sesame/sesame.db');
    assert.equal(
      parseConfigText('state: { sqlite: ./data/sesame.db }\n', env, '/etc/sesame/sesame.yml').state.sqlite,
      '/var/lib/sesame/sesame.db',
    );
  });

  it('reads a relative $SESAME_STATE against the working directory', () => {
    assert.equal(parseConfigText('{}\n', { SESAME_STATE: 'state/s.db' }, '/etc/sesame/sesame.yml').state.sqlite, resolve('state/s.db'));
  });
});
