import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

const SLACK_MANIFEST_SCHEMA = '/work/shared/data/slack-manifest.schema.1.0.0.json';
const EVENTS_URL = 'https://sesame.example.com/slack/events';

function manifest(): any {
  return parse(readFileSync('manifest.yml', 'utf8'));
}

function validator() {
  // Slack's schema uses a `regex` keyword of its own; Ajv is told what it means instead of
  // ignoring it, and strict mode is off for the rest of its vocabulary (formats are not checked).
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  ajv.addKeyword({
    keyword: 'regex',
    type: 'string',
    schemaType: 'string',
    validate: (pattern: string, data: string) => new RegExp(pattern).test(data),
  });
  return ajv.compile(JSON.parse(readFileSync(SLACK_MANIFEST_SCHEMA, 'utf8')));
}

describe('Slack app manifest', () => {
  it("validates against Slack's manifest schema", () => {
    const validate = validator();
    assert.ok(validate(manifest()), JSON.stringify(validate.errors, null, 2));
  });

  it('is checked by that schema for real', () => {
    const validate = validator();
    const noName = manifest();
    delete noName.display_information.name;
    assert.equal(validate(noName), false);
    const badColour = manifest();
    badColour.display_information.background_color = 'blue';
    assert.equal(validate(badColour), false);
  });

  it('names the app and its bot Sesame, with a Home tab', () => {
    const m = manifest();
    assert.equal(m._metadata.major_version, 1);
    assert.equal(m.display_information.name, 'Sesame');
    assert.equal(m.features.bot_user.display_name, 'Sesame');
    assert.equal(m.features.app_home.home_tab_enabled, true);
  });

  it('answers /access unescaped at the events URL', () => {
    const commands = manifest().features.slash_commands;
    assert.equal(commands.length, 1);
    assert.equal(commands[0].command, '/access');
    assert.equal(commands[0].should_escape, false);
    assert.equal(commands[0].url, EVENTS_URL);
  });

  it('sends interactivity and app_home_opened to the events URL', () => {
    const { settings } = manifest();
    assert.deepEqual(settings.interactivity, { is_enabled: true, request_url: EVENTS_URL });
    assert.equal(settings.event_subscriptions.request_url, EVENTS_URL);
    assert.deepEqual(settings.event_subscriptions.bot_events, ['app_home_opened']);
  });

  it('asks for exactly the bot scopes Sesame uses', () => {
    assert.deepEqual([...manifest().oauth_config.scopes.bot].sort(), [
      'chat:write',
      'commands',
      'im:write',
      'usergroups:read',
      'users:read',
      'users:read.email',
    ]);
  });
});
