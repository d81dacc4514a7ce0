/**
 * The playground's own HTTP server, on loopback only: the page (src/playground/page) at `/`,
 * `GET /api/state`, the `GET /api/events` stream of `change` events, `POST /api/sql`, and the
 * other `POST /api/*` requests handed to the page routes, which turn them into what Slack sends
 * the bot. Bodies are JSON only and small; anything else is a 400 that says what is wrong.
 * Requests naming another host (a DNS rebinding page) are refused.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlaygroundState } from './pageApi.ts';
import type { PageAnswer } from './slack/pageRoutes.ts';
import { parseSqlBody, type SqlResult } from './sql.ts';
import type { SqlBody } from './pageApi.ts';

export const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
export const MAX_BODY_BYTES = 64 * 1024;
const HEARTBEAT_MS = 15_000;
const CHANGE_DEBOUNCE_MS = 50;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** What the server serves once the playground has started. */
export interface PlaygroundApi {
  state(): Promise<PlaygroundState>;
  /** The page routes: `/api/command`, `/api/action`, … */
  handle(path: string, body: unknown): Promise<PageAnswer>;
  sql(body: SqlBody): Promise<SqlResult>;
  onChange(listener: () => void): () => void;
}

export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(
      `port ${port} on ${host} is already in use by another program. Choose another port, e.g. PORT=${port + 1} npm start (or PORT=${port + 1} npm run playground).`,
    );
    this.name = 'PortInUseError';
  }
}

export interface PlaygroundServer {
  port: number;
  /** Starts answering the API (until then it answers 503). */
  attach(api: PlaygroundApi): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

function sendJson(res: ServerResponse, status: number, body: Json | PlaygroundState): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' }).end(JSON.stringify(body));
}

const fail = (res: ServerResponse, status: number, error: string) => sendJson(res, status, { ok: false, error });

class BadRequest extends Error {}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new BadRequest('the body must be JSON (Content-Type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new BadRequest(`the body is larger than ${MAX_BODY_BYTES / 1024} KiB`);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new BadRequest('the body is not valid JSON');
  }
}

function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = (req.headers.host ?? '').toLowerCase();
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(host);
}

async function servePage(path: string, res: ServerResponse): Promise<void> {
  const name = path === '/' ? 'index.html' : path.slice(1);
  if (!/^[\w-]+(\.[\w-]+)*$/.test(name) || !CONTENT_TYPES[extname(name)]) return fail(res, 404, 'not found');
  try {
    const body = await readFile(`${PAGE_DIR}${name}`);
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(name)]!, 'Cache-Control': 'no-cache' }).end(body);
  } catch {
    fail(res, 404, 'not found');
  }
}

/** The SSE stream: one `change` event per burst of changes, and a heartbeat comment. */
class ChangeStream {
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | undefined;
  private readonly heartbeat = setInterval(() => this.write(': heartbeat\n\n'), HEARTBEAT_MS).unref();

  add(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  changed(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.write('event: change\ndata: {}\n\n');
    }, CHANGE_DEBOUNCE_MS);
  }

  private write(text: string): void {
    for (const res of this.clients) res.write(text);
  }

  close(): void {
    clearInterval(this.heartbeat);
    clearTimeout(this.timer);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

async function route(req: IncomingMessage, res: ServerResponse, api: PlaygroundApi | undefined, events: ChangeStream): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  if (req.method === 'GET' && !path.startsWith('/api/')) return servePage(path, res);
  if (!path.startsWith('/api/')) return fail(res, 405, `${req.method} is not served here`);
  if (!api) return fail(res, 503, 'the playground is still starting; try again in a moment');
  if (req.method === 'GET' && path === '/api/state') return sendJson(res, 200, await api.state());
  if (req.method === 'GET' && path === '/api/events') return events.add(res);
  if (req.method !== 'POST') return fail(res, 405, `${req.method} ${path} is not served`);
  const body = await readJson(req);
  if (path === '/api/sql') {
    const parsed = parseSqlBody(body);
    if (typeof parsed === 'string') return fail(res, 400, parsed);
    const answer = await api.sql(parsed);
    return sendJson(res, answer.ok ? 200 : 400, answer as unknown as Json);
  }
  const answer = await api.handle(path, body);
  sendJson(res, answer.status, answer.json);
}

/** Listens on host:port; a port in use is a PortInUseError. */
export async function listenPlaygroundServer(host: string, port: number, onError: (err: unknown) => void): Promise<PlaygroundServer> {
  let api: PlaygroundApi | undefined;
  let unsubscribe: (() => void) | undefined;
  const events = new ChangeStream();
  let boundPort = port;
  const server: Server = createServer((req, res) => {
    if (!hostAllowed(req, boundPort))
      return fail(res, 403, 'the playground answers only requests addressed to 127.0.0.1, localhost or [::1]');
    route(req, res, api, events).catch((err: unknown) => {
      if (err instanceof BadRequest) return fail(res, 400, err.message);
      onError(err);
      if (!res.headersSent) fail(res, 500, 'the playground failed to answer; see its log');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUseError(host, port) : err));
    server.listen(port, host, () => resolve());
  });
  boundPort = (server.address() as AddressInfo).port;
  return {
    port: boundPort,
    attach(next) {
      api = next;
      unsubscribe = next.onChange(() => events.changed());
    },
    async close() {
      unsubscribe?.();
      events.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port given on the command line or in $PORT: `fallback` when empty, else a whole number from 0 (any free port) to 65535. */
export function portArgument(raw: string | undefined, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`the port must be a number from 0 to 65535, not ${JSON.stringify(raw)}`);
  }
  return port;
}
