import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  logger: Logger;
}

/**
 * GET /healthz (the process answers), GET /readyz (the state store answers and the config is
 * loaded; 503 otherwise) and GET /metrics (Prometheus text), PRODUCT.md §2.
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
 * A plain HTTP server for the routes, used in Socket Mode where Bolt listens on no port of its
 * own. Anything else is 404.
 */
export async function serveRoutes(routes: readonly HttpRoute[], port: number, host?: string): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const route = routes.find((r) => r.path === path && r.method === req.method);
    if (route) return route.handler(req, res);
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
