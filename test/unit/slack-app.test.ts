import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { webApi } from '@slack/bolt';
import { boltLogger, slackClientOptions, slackTransport, verifyBotToken } from '../../src/adapters/slack/SlackApp.ts';
import { describeSlackError } from '../../src/adapters/slack/slackConnection.ts';
import { ConfigError } from '../../src/domain/errors.ts';
import { healthRoutes, serveRoutes } from '../../src/http/health.ts';
import { createMetrics } from '../../src/http/metrics.ts';
import { InMemoryStateStore } from '../support/InMemoryStateStore.ts';
import { SlackStandIn } from '../../src/playground/slack/SlackStandIn.ts';
import { capturingLogger } from '../support/logs.ts';
import { describeError } from '../../src/logger.ts';

function capture() {
  return capturingLogger();
}

describe('the Slack transport', () => {
  let fake: SlackStandIn;
  before(async () => {
    fake = await SlackStandIn.start();
  });
  after(() => fake.stop());

  it('is Socket Mode with an app token, HTTP with a signing secret, and an error naming both otherwise', () => {
    assert.deepEqual(slackTransport({ SLACK_APP_TOKEN: 'xapp-1', SLACK_SIGNING_SECRET: 's' }), { mode: 'socket', appToken: 'xapp-1' });
    assert.deepEqual(slackTransport({ SLACK_SIGNING_SECRET: 's' }), { mode: 'http', signingSecret: 's' });
    assert.throws(
      () => slackTransport({}),
      (err: unknown) => err instanceof ConfigError && /SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN/.test(err.message),
    );
  });

  it('points the Web API client at SLACK_API_URL and retries rate limits and server errors a few times', () => {
    const { logger } = capture();
    const options = slackClientOptions({ SLACK_API_URL: 'http://127.0.0.1:9/api' }, logger);
    assert.equal(options.slackApiUrl, 'http://127.0.0.1:9/api/');
    assert.ok((options.retryConfig?.retries ?? 0) >= 3 && (options.retryConfig?.retries ?? 0) <= 10);
    assert.ok((options.timeout ?? 0) > 0);
    assert.equal(slackClientOptions({}, logger).slackApiUrl, undefined);
  });

  it('retries a 5xx answer and gets through', async () => {
    const { logger } = capture();
    const client = new webApi.WebClient(fake.botToken, {
      ...slackClientOptions({ SLACK_API_URL: fake.apiUrl }, logger),
      retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 20 },
    });
    fake.failHttp('auth.test', { status: 502, times: 1 });
    const identity = await verifyBotToken(client);
    assert.equal(identity.botUserId, fake.botUserId);
    assert.deepEqual(
      fake
        .calls('auth.test')
        .slice(-2)
        .map((c) => c.status),
      [502, 200],
    );
  });

  it('checks the token with auth.test and says which variable to fix when Slack refuses it', async () => {
    const client = new webApi.WebClient('xoxb-wrong', { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
    await assert.rejects(
      verifyBotToken(client),
      (err: unknown) => err instanceof ConfigError && /SLACK_BOT_TOKEN: Slack refused the bot token \(invalid_auth\)/.test(err.message),
    );
  });

  it("logs Bolt's lines through Sesame's logger, redacted, and drops their debug lines", () => {
    const { logger, lines } = capture();
    const bolt = boltLogger(logger);
    bolt.debug('http request body: {"view":{"password":"hunter2hunter2"}}');
    bolt.warn('token xoxb-1234-abcd refused', { detail: 1 });
    assert.equal(lines.length, 1);
    assert.ok(!lines[0]!.includes('xoxb-1234-abcd'));
    assert.match(lines[0]!, /"component":"slack"/);
    assert.match(lines[0]!, /\{\\"detail\\":1\}/);
  });
});

describe('health, readiness and metrics over HTTP', () => {
  it('answer on their paths, readiness follows the store, and anything else is 404', async () => {
    const { logger } = capture();
    const store = new InMemoryStateStore();
    let storeDown = false;
    const pinging = Object.assign(Object.create(store) as InMemoryStateStore, {
      ping: async () => {
        if (storeDown) throw new Error('database is locked');
      },
    });
    const metrics = createMetrics({ activeGrants: async () => 2 });
    const { server, port } = await serveRoutes(healthRoutes({ store: pinging, metrics, configLoaded: () => true, logger }), 0, '127.0.0.1');
    try {
      const base = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(`${base}/healthz`)).status, 200);
      assert.equal((await fetch(`${base}/readyz`)).status, 200);
      storeDown = true;
      assert.equal((await fetch(`${base}/readyz`)).status, 503);
      assert.equal((await fetch(`${base}/healthz`)).status, 200, 'alive while not ready');
      const scraped = await fetch(`${base}/metrics`);
      assert.match(scraped.headers.get('content-type') ?? '', /text\/plain/);
      assert.match(await scraped.text(), /sesame_active_grants 2/);
      assert.equal((await fetch(`${base}/nope`)).status, 404);
      assert.equal((await fetch(`${base}/healthz`, { method: 'POST' })).status, 404);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is not ready before the config is loaded', async () => {
    const { logger } = capture();
    const routes = healthRoutes({
      store: new InMemoryStateStore(),
      metrics: createMetrics({ activeGrants: async () => 0 }),
      configLoaded: () => false,
      logger,
    });
    const { server, port } = await serveRoutes(routes, 0, '127.0.0.1');
    try {
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 503);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('is not ready until Slack is, and says why', async () => {
    const { logger } = capture();
    let slack: string | undefined = 'Slack not reachable yet (auth.test: no answer from Slack: fetch failed)';
    const routes = healthRoutes({
      store: new InMemoryStateStore(),
      metrics: createMetrics({ activeGrants: async () => 0 }),
      configLoaded: () => true,
      logger,
      slackNotReady: () => slack,
    });
    const { server, port } = await serveRoutes(routes, 0, '127.0.0.1');
    try {
      const first = await fetch(`http://127.0.0.1:${port}/readyz`);
      assert.equal(first.status, 503);
      assert.equal(await first.text(), 'Slack not reachable yet (auth.test: no answer from Slack: fetch failed)\n');
      slack = undefined;
      assert.equal((await fetch(`http://127.0.0.1:${port}/readyz`)).status, 200);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('describing what Slack answered', () => {
  it('names the platform error, the HTTP status or the network cause, never "[object Object]"', () => {
    assert.equal(
      describeSlackError({ code: 'slack_webapi_platform_error', data: { error: 'invalid_auth' } }),
      'Slack answered invalid_auth',
    );
    assert.equal(
      describeSlackError({ code: 'slack_webapi_http_error', statusCode: 503, statusMessage: 'Service Unavailable' }),
      'Slack answered HTTP 503 Service Unavailable',
    );
    const network = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }),
    });
    assert.equal(
      describeSlackError({ code: 'slack_webapi_request_error', original: network }),
      'no answer from Slack: fetch failed: connect ECONNREFUSED 127.0.0.1:9',
    );
    assert.equal(describeError({ type: 'error', target: {} }), 'error');
    assert.equal(describeError({}), 'Object without a message');
  });
});
