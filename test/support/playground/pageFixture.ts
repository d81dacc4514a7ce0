/**
 * The playground's page served with a sample state and no Sesame behind it: for working on the
 * page and for browser tests of the page alone. The state is built with Sesame's own Block Kit
 * builders; every POST is recorded, and a test can change the state and announce it on the SSE
 * stream as the real server does.
 *
 *   npx tsx test/support/playground/pageFixture.ts [port]   serves it on 127.0.0.1
 */
import { readFile } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { approvalMessage, statusThreadMessage } from '../../../src/adapters/slack/blocks/approvalMessage.ts';
import { submittedReply } from '../../../src/adapters/slack/blocks/commandReplies.ts';
import { credentialsModal } from '../../../src/adapters/slack/blocks/credentialsModal.ts';
import { homeView } from '../../../src/adapters/slack/blocks/homeView.ts';
import { requesterMessage } from '../../../src/adapters/slack/blocks/requesterMessages.ts';
import { requestModal } from '../../../src/adapters/slack/blocks/requestModal.ts';
import type { AccessRequest } from '../../../src/domain/request.ts';
import type { PageMessage, PlaygroundState } from '../../../src/playground/pageApi.ts';

export const PAGE_DIR = resolve(fileURLToPath(new URL('../../../src/playground/page/', import.meta.url)));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

export const SAMPLE_PEOPLE = {
  requester: { id: 'U0ALICE', name: 'Alice Requester', role: 'requester', email: 'alice@example.com' },
  owner: { id: 'U0OWEN', name: 'Owen Owner', role: 'approver', email: 'owen@example.com' },
  dba: { id: 'U0DANA', name: 'Dana DBA', role: 'approver', email: 'dana@example.com' },
  admin: { id: 'U0ADA', name: 'Ada Admin', role: 'admin', email: 'ada@example.com' },
} as const;

const NOW = Date.now();
const BOT = 'U0SESAME';

function request(status: AccessRequest['status'], extra: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id: 'R7K3QX2',
    kind: 'access',
    requester: { slackId: SAMPLE_PEOPLE.requester.id, email: SAMPLE_PEOPLE.requester.email },
    target: { integration: 'sample', database: 'shop', schema: 'public' },
    permission: 'readwrite',
    durationMinutes: 60,
    reason: 'fix the <orders> of *today* & check <@U0OWEN>',
    flowName: 'owner-approved',
    approvalMode: 'any',
    allowSelfApproval: false,
    approverGroups: [{ source: 'owner', reason: 'owner of sample', slackIds: [SAMPLE_PEOPLE.owner.id] }],
    status,
    createdAt: new Date(NOW - 120_000),
    pendingExpiresAt: new Date(NOW + 3_600_000),
    revokeAttempts: 0,
    version: 1,
    ...extra,
  };
}

function message(channel: string, ts: string, content: { text: string; blocks: unknown[] }, replies: PageMessage[] = []): PageMessage {
  return { channel, ts, user: BOT, text: content.text, blocks: content.blocks, edited: false, replies };
}

/** A state mid-flow: the request pending in the channel, granted in Alice's DM, her credentials open. */
export function sampleState(address = '127.0.0.1:0'): PlaygroundState {
  const ts = (offset: number) => `${Math.floor(NOW / 1000) - 100 + offset}.000100`;
  const pending = request('pending');
  const granted = request('granted', {
    decidedBy: SAMPLE_PEOPLE.owner.id,
    decidedAt: new Date(NOW - 60_000),
    dbUser: 'sesame_alice',
    expiresAt: new Date(NOW + 3_600_000),
  });
  const creds = credentialsModal({
    requestId: granted.id,
    host: '127.0.0.1',
    port: 54329,
    database: 'shop',
    username: 'sesame_alice',
    sslMode: 'disable',
    password: 'p&ss<w>rd`x',
    uri: 'postgresql://sesame_alice:p%26ss%3Cw%3Erd%60x@127.0.0.1:54329/shop?sslmode=disable',
    expiresAt: new Date(NOW + 3_600_000),
  });
  const form = requestModal({
    integrations: [
      {
        name: 'sample',
        permissions: ['readonly', 'readwrite'],
        maxDurationMinutes: 480,
        defaultDurationMinutes: 60,
        requireJustification: true,
      },
    ],
  });
  const alice = SAMPLE_PEOPLE.requester.id;
  return {
    banner: { dataDir: '/tmp/sesame-playground-XXXX', address },
    command: '/access',
    botUserId: BOT,
    people: [
      {
        ...SAMPLE_PEOPLE.requester,
        dm: [message(`D${alice}`, ts(2), requesterMessage(granted))],
        ephemeral: [{ channel: `D${alice}`, ts: ts(1), ...submittedReply(pending) }],
        home: { id: 'VHOMEALICE', type: 'home', view: homeView({ mine: [granted], awaiting: [], command: '/access' }) as never },
        modals: [{ id: 'VCREDS', type: 'modal', view: creds as never }],
      },
      {
        ...SAMPLE_PEOPLE.owner,
        dm: [message(`D${SAMPLE_PEOPLE.owner.id}`, ts(1), approvalMessage(pending))],
        ephemeral: [],
        home: null,
        modals: [],
      },
      { ...SAMPLE_PEOPLE.dba, dm: [], ephemeral: [], home: null, modals: [{ id: 'VFORM', type: 'modal', view: form as never }] },
      { ...SAMPLE_PEOPLE.admin, dm: [], ephemeral: [], home: null, modals: [] },
    ],
    approvals: {
      id: 'C0APPROVALS',
      name: 'db-approvals',
      messages: [message('C0APPROVALS', ts(1), approvalMessage(pending), [message('C0APPROVALS', ts(3), statusThreadMessage(granted))])],
    },
    audit: [
      {
        at: new Date(NOW - 120_000).toISOString(),
        action: 'request.created',
        actor: alice,
        requestId: 'R7K3QX2',
        details: { permission: 'readwrite' },
      },
      { at: new Date(NOW - 60_000).toISOString(), action: 'request.approved', actor: SAMPLE_PEOPLE.owner.id, requestId: 'R7K3QX2' },
      {
        at: new Date(NOW - 59_000).toISOString(),
        action: 'grant.applied',
        actor: 'system',
        requestId: 'R7K3QX2',
        details: { dbUser: 'sesame_alice' },
      },
    ],
    database: { host: '127.0.0.1', port: 54329, database: 'shop' },
  };
}

export interface PageFixture {
  url: string;
  state: PlaygroundState;
  /** Every POST, in order: its path (`command`, `action`, …) and JSON body. */
  posts: { path: string; body: any }[];
  /** What a POST to `path` answers, unless set: `{ ok: true }`. */
  answers: Map<string, unknown>;
  /** Tells the page the state changed, as the real server does. */
  announce(): void;
  close(): Promise<void>;
}

export async function startPageFixture(port = 0): Promise<PageFixture> {
  const streams = new Set<ServerResponse>();
  const fixture: Omit<PageFixture, 'url' | 'close'> = {
    state: sampleState(),
    posts: [],
    answers: new Map(),
    announce: () => {
      for (const s of streams) s.write('event: change\ndata: {}\n\n');
    },
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (status: number, type: string, body: string | Buffer) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': hello\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
      return;
    }
    if (url.pathname === '/api/state') return send(200, 'application/json', JSON.stringify(fixture.state));
    if (url.pathname.startsWith('/api/') && req.method === 'POST') {
      let raw = '';
      for await (const chunk of req) raw += chunk;
      const path = url.pathname.slice(5);
      fixture.posts.push({ path, body: JSON.parse(raw || '{}') });
      return send(200, 'application/json', JSON.stringify(fixture.answers.get(path) ?? { ok: true }));
    }
    const name = url.pathname === '/' ? 'index.html' : normalize(url.pathname.slice(1));
    if (name.includes('..') || !TYPES[extname(name)]) return send(404, 'text/plain', 'not found');
    try {
      send(200, TYPES[extname(name)]!, await readFile(join(PAGE_DIR, name)));
    } catch {
      send(404, 'text/plain', 'not found');
    }
  });
  await new Promise<void>((ok) => server.listen(port, '127.0.0.1', ok));
  const { port: bound } = server.address() as AddressInfo;
  fixture.state.banner.address = `127.0.0.1:${bound}`;
  return {
    ...fixture,
    url: `http://127.0.0.1:${bound}/`,
    close: async () => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
    },
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fixture = await startPageFixture(Number(process.argv[2] ?? 0));
  console.log(`page fixture on ${fixture.url}`);
}
