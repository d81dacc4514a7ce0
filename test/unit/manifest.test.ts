import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

/** Slack's schema, kept in the repository with its licence (test/support/slack/vendor/). */
const SLACK_MANIFEST_SCHEMA = new URL('../support/slack/vendor/slack-manifest.schema.1.0.0.json', import.meta.url);
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

  it('sends interactivity, options of external selects and app_home_opened to the events URL', () => {
    const { settings } = manifest();
    assert.deepEqual(settings.interactivity, { is_enabled: true, request_url: EVENTS_URL, message_menu_options_url: EVENTS_URL });
    assert.equal(settings.event_subscriptions.request_url, EVENTS_URL);
    assert.deepEqual(settings.event_subscriptions.bot_events, ['app_home_opened']);
  });

  it('can be switched to Socket Mode, which needs no public URL', () => {
    const { settings } = manifest();
    assert.equal(settings.socket_mode_enabled, false);
    const validate = validator();
    const socket = manifest();
    socket.settings.socket_mode_enabled = true;
    assert.ok(validate(socket), JSON.stringify(validate.errors));
  });

  it('has the Home tab event the App Home listener needs', () => {
    const m = manifest();
    assert.equal(m.features.app_home.home_tab_enabled, true);
    assert.ok(m.settings.event_subscriptions.bot_events.includes('app_home_opened'));
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

  it('asks for a scope for every Web API method the Slack edge calls, and for none it does not', () => {
    // The scope each method needs (Slack's method reference); views.* and auth.test need none.
    const SCOPE_OF: Record<string, string | null> = {
      'auth.test': null,
      'chat.postMessage': 'chat:write',
      'chat.update': 'chat:write',
      'conversations.open': 'im:write',
      'users.info': 'users:read',
      'users.lookupByEmail': 'users:read.email',
      'usergroups.list': 'usergroups:read',
      'usergroups.users.list': 'usergroups:read',
      'views.open': null,
      'views.update': null,
      'views.publish': null,
    };
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
    const source = files('src/adapters/slack')
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    const called = new Set([...source.matchAll(/client\.((?:[a-z]+\.)+[a-zA-Z]+)\(/g)].map((m) => m[1]!));
    assert.ok(called.has('chat.postMessage') && called.has('users.lookupByEmail'), [...called].join(', '));
    const unknown = [...called].filter((m) => !(m in SCOPE_OF));
    assert.deepEqual(unknown, [], 'a method the edge calls has no known scope here');
    const needed = new Set([...called].map((m) => SCOPE_OF[m]).filter((s): s is string => s !== null));
    // The slash command needs `commands`; users.info gives profile emails only with users:read.email.
    needed.add('commands');
    assert.deepEqual([...manifest().oauth_config.scopes.bot].sort(), [...needed].sort());
  });
});
