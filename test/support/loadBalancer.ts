/**
 * A load balancer on loopback in front of replicas of the bot in HTTP mode, as an ALB with a
 * health check would be: each request goes to the next replica in turn, and to the one after it
 * when a replica refuses the connection or answers 503 (not ready), so a dead or starting replica
 * costs no request. A replica that dies while it holds a request answers nothing: the client gets
 * 502, as from an ALB.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoadBalancer {
  /** `http://127.0.0.1:PORT`: Slack's request URL is this with `/slack/events`. */
  url: string;
  /** Which replica took each request (its index in `targets()`), oldest first; -1 when none could. */
  routed: number[];
  stop(): Promise<void>;
}

/** What one replica answered, or why it could not. */
type Attempt = { status: number; headers: Record<string, string>; body: Buffer } | { refused: string };

/** Hop-by-hop headers, which a proxy does not pass on. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host']);

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function passedOn(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && typeof value === 'string') out[name] = value;
  }
  return out;
}

async function attempt(base: string, req: IncomingMessage, body: Buffer): Promise<Attempt> {
  try {
    const res = await fetch(`${base}${req.url ?? '/'}`, {
      method: req.method ?? 'GET',
      headers: passedOn(req.headers),
      ...(body.length > 0 ? { body: new Uint8Array(body) } : {}),
      signal: AbortSignal.timeout(10_000),
    });
    const answer = Buffer.from(await res.arrayBuffer());
    if (res.status === 503) return { refused: `HTTP 503 ${answer.toString('utf8').slice(0, 200)}` };
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.has(name) && name !== 'content-encoding') headers[name] = value;
    });
    return { status: res.status, headers, body: answer };
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    // Refused: nothing listens, so nothing was done; the next replica may take the request.
    if (cause === 'ECONNREFUSED') return { refused: 'ECONNREFUSED' };
    // Anything else (reset, timeout) may have reached the replica: no second try, as an ALB.
    return { status: 502, headers: { 'content-type': 'text/plain' }, body: Buffer.from(`replica failed: ${cause ?? String(err)}`) };
  }
}

/** Starts the load balancer in front of `targets()` (base URLs, asked on every request). */
export async function startLoadBalancer(targets: () => readonly string[]): Promise<LoadBalancer> {
  let turn = 0;
  const routed: number[] = [];
  const forward = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readAll(req);
    const bases = targets();
    const first = turn++;
    const refusals: string[] = [];
    for (let i = 0; i < bases.length; i++) {
      const index = (first + i) % bases.length;
      const result = await attempt(bases[index]!, req, body);
      if ('refused' in result) {
        refusals.push(`${bases[index]}: ${result.refused}`);
        continue;
      }
      routed.push(index);
      res.writeHead(result.status, result.headers).end(result.body);
      return;
    }
    routed.push(-1);
    res.writeHead(503, { 'content-type': 'text/plain' }).end(`no replica took the request: ${refusals.join('; ')}`);
  };
  const server: Server = createServer((req, res) => {
    forward(req, res).catch((err: unknown) => res.writeHead(502).end(String(err)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routed,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
