import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describeError, type Logger } from '../logger.ts';
import type { StateStore } from '../ports/StateStore.ts';
import type { SesameMetrics } from './metrics.ts';

/** A GET route Sesame serves beside Slack's endpoint (Bolt's custom route shape). */
export interface HttpRoute {
  path: string;
  method: string;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

export interface HealthDeps {
  /** Answers when the state store can be used. */
  store: Pick<StateStore, 'ping'>;
  metrics: Pick<SesameMetrics, 'render'>;
  /** True once the config is loaded and validated (it always is once Sesame is built). */
  configLoaded: () => boolean;
  /**
   * Undefined once Slack is reachable (the bot token verified; in Socket Mode, the socket open);
   * otherwise why not, as /readyz says it. Always ready when absent.
   */
  slackNotReady?: () => string | undefined;
  logger: Logger;
}

/**
 * GET /healthz (the process answers), GET /readyz (Slack is reachable, the state store answers
 * and the config is loaded; 503 with the reason otherwise) and GET /metrics (Prometheus text), PRODUCT.md §2.
 */
export function healthRoutes(deps: HealthDeps): HttpRoute[] {
  const reply = (res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
    res.end(body);
  };
  return [
    { path: '/healthz', method: 'GET', handler: (_req, res) => reply(res, 200, 'ok\n') },
    {
      path: '/readyz',
      method: 'GET',
      handler: (_req, res) => {
        if (!deps.configLoaded()) return reply(res, 503, 'config not loaded\n');
        const slack = deps.slackNotReady?.();
        if (slack) return reply(res, 503, `${slack}\n`);
        deps.store.ping().then(
          () => reply(res, 200, 'ready\n'),
          (err) => {
            deps.logger.warn({ err: describeError(err) }, 'readiness check failed: state store');
            reply(res, 503, 'state store unreachable\n');
          },
        );
      },
    },
    {
      path: '/metrics',
      method: 'GET',
      handler: (_req, res) => {
        deps.metrics.render().then(
          ({ contentType, body }) => reply(res, 200, body, contentType),
          (err) => {
            deps.logger.warn({ err: describeError(err) }, 'metrics failed');
            reply(res, 500, 'metrics failed\n');
          },
        );
      },
    },
  ];
}

/**
 * A plain HTTP server for the routes, started before anything else so that they answer during
 * start-up. Anything else goes to `fallback` when it gives a handler (Slack's, in HTTP mode),
 * and is 404 otherwise.
 */
export async function serveRoutes(
  routes: readonly HttpRoute[],
  port: number,
  host?: string,
  fallback: () => RequestListener | undefined = () => undefined,
): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.path === path && r.method === req.method);
    if (route) return route.handler(req, res);
    const other = fallback();
    if (other) return other(req, res);
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
