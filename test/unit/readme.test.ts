import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfigText } from '../../src/config/load.ts';
import { parseCommandText } from '../../src/adapters/slack/commandText.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('the README', () => {
  it('shows a first config that Sesame accepts', () => {
    const block = /### 3\. The config[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    assert.ok(block, 'the first config is in the README');
    const config = parseConfigText(block, { APP_CONNECTOR_PASSWORD: 'a-long-connector-password' });
    assert.equal(config.integrations[0]?.name, 'app');
    assert.equal(config.accessFlows[0]?.approvers[0], 'integration-owner');
  });

  it('shows a one-line request that the command understands', () => {
    const line = /`\/access (app\/[^`]+)`/.exec(readme)?.[1];
    assert.ok(line, 'the one-line request is in the README');
    const parsed = parseCommandText(line);
    assert.equal(parsed.kind, 'request');
  });
});
