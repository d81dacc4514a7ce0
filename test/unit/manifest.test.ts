import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { parse } from 'yaml';

/** Slack's schema, kept in the repository with its licence (test/support/slack/vendor/). */
const SLACK_MANIFEST_SCHEMA = new URL('../support/slack/vendor/slack-manifest.schema.1.0.0.json', import.meta.url);
const EVENTS_URL = 'https://sesame.example.com/slack/events';

/** manifest.yml is the Socket Mode app, which works as written; manifest.http.yml the HTTP one. */
const FILES = { socket: 'manifest.yml', http: 'manifest.http.yml' } as const;

function manifest(file: string = FILES.socket): any {
  return parse(readFileSync(file, 'utf8'));
}

/** Every string value anywhere in the manifest whose key names a URL. */
function urlsIn(value: unknown, key = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => urlsIn(v, key));
  if (typeof value === 'object' && value !== null) return Object.entries(value).flatMap(([k, v]) => urlsIn(v, k));
  return typeof value === 'string' && /url/i.test(key) ? [value] : [];
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
  for (const [kind, file] of Object.entries(FILES)) {
    it(`${file} (${kind}) validates against Slack's manifest schema`, () => {
      const validate = validator();
      assert.ok(validate(manifest(file)), JSON.stringify(validate.errors, null, 2));
    });

    it(`${file} names the app and its bot Sesame, with a Home tab and its events (the Home tab opened, a person deactivated)`, () => {
      const m = manifest(file);
      assert.equal(m._metadata.major_version, 1);
      assert.equal(m.display_information.name, 'Sesame');
      assert.equal(m.features.bot_user.display_name, 'Sesame');
      assert.equal(m.features.app_home.home_tab_enabled, true);
      assert.deepEqual(m.settings.event_subscriptions.bot_events, ['app_home_opened', 'user_change']);
      // user_change is sent to apps with users:read.
      assert.ok(m.oauth_config.scopes.bot.includes('users:read'));
      assert.equal(m.settings.interactivity.is_enabled, true);
    });

    it(`${file} answers /access unescaped`, () => {
      const commands = manifest(file).features.slash_commands;
      assert.equal(commands.length, 1);
      assert.equal(commands[0].command, '/access');
      assert.equal(commands[0].should_escape, false);
    });
  }

  it('is checked by that schema for real', () => {
    const validate = validator();
    const noName = manifest();
    delete noName.display_information.name;
    assert.equal(validate(noName), false);
    const badColour = manifest();
    badColour.display_information.background_color = 'blue';
    assert.equal(validate(badColour), false);
  });

  it('manifest.yml is Socket Mode and works as written: no URL to fill in', () => {
    const m = manifest(FILES.socket);
    assert.equal(m.settings.socket_mode_enabled, true);
    assert.deepEqual(urlsIn(m), []);
  });

  it('manifest.http.yml sends the command, interactivity, options of external selects and events to the events URL', () => {
    const m = manifest(FILES.http);
    assert.equal(m.settings.socket_mode_enabled, false);
    assert.equal(m.features.slash_commands[0].url, EVENTS_URL);
    assert.deepEqual(m.settings.interactivity, { is_enabled: true, request_url: EVENTS_URL, message_menu_options_url: EVENTS_URL });
    assert.equal(m.settings.event_subscriptions.request_url, EVENTS_URL);
    assert.deepEqual(urlsIn(m).sort(), [EVENTS_URL, EVENTS_URL, EVENTS_URL, EVENTS_URL]);
  });

  it('the two files differ only in the transport: the same app, scopes and command otherwise', () => {
    const socket = manifest(FILES.socket);
    const http = manifest(FILES.http);
    delete http.features.slash_commands[0].url;
    delete http.settings.event_subscriptions.request_url;
    http.settings.interactivity = { is_enabled: true };
    http.settings.socket_mode_enabled = true;
    assert.deepEqual(http, socket);
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
