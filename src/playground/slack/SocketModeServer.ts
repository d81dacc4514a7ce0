/**
 * Slack's Socket Mode, on SlackStandIn's server: `apps.connections.open` (called with the app-level
 * token) hands out a single-use `ws://…/link/?ticket=…` URL; connecting to it gets Slack's
 * `hello`; then the driver pushes envelopes the way Slack does, and the app acknowledges each by
 * sending its `envelope_id` back (with a response `payload` where the envelope
 * `accepts_response_payload`). Acks are recorded with their latency. `disconnect` asks the
 * client to reconnect, as Slack does before recycling a connection.
 *
 * An app may hold several connections at once (Slack allows ten per app, one per replica of an app
 * that runs several): as Slack does, each envelope goes to exactly one of the open connections,
 * here each in turn.
 *
 * Unlike Slack, an envelope that is not acknowledged is not retried: `send` rejects after its
 * timeout instead, so a missing ack fails the sender.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { acceptWebSocket, CLOSE_CODE, refuseUpgrade, type ServerWebSocket } from './webSocket.ts';

/** The kinds of envelope Slack sends over Socket Mode. */
export type SocketEnvelopeType = 'slash_commands' | 'interactive' | 'events_api';

/** An envelope as it goes over the socket. */
export interface SocketEnvelope {
  envelope_id: string;
  type: SocketEnvelopeType;
  payload: Record<string, unknown>;
  accepts_response_payload: boolean;
  /** Events API envelopes only: how often Slack retried this event, and why. */
  retry_attempt?: number;
  retry_reason?: string;
}

/** What the app sent back for an envelope, and how long after the envelope went out. */
export interface SocketAck {
  envelope_id: string;
  /** The response payload, when the app sent one (Bolt sends `{}` for a bare ack). */
  payload?: Record<string, unknown>;
  /** Milliseconds from sending the envelope to receiving its ack (Slack allows 3,000). */
  ms: number;
  /** The envelope acknowledged; undefined for an ack of an envelope this server never sent. */
  envelope?: SocketEnvelope;
  /** The connection the ack came on. */
  connectionId: number;
}

/** One WebSocket connection of the app. */
export interface SocketConnection {
  id: number;
  /** Whether it is open and has been greeted with `hello`. */
  open: boolean;
  /** The close code, once closed (1000 for a normal close, 1006 for a dropped connection). */
  closeCode?: number;
  /** `disconnect` messages sent on it. */
  disconnects: string[];
}

/** Why Slack asks a client to reconnect (`disconnect.reason`). */
export type DisconnectReason = 'refresh_requested' | 'warning' | 'link_disabled';

export interface SendEnvelopeOptions {
  /** Whether the app may answer with a payload; Slack's default for the kind when left out. */
  acceptsResponsePayload?: boolean;
  /** The connection to send on; by default the open connections take envelopes in turn. */
  connectionId?: number;
  /** Rejects when no ack arrives within this long. */
  timeoutMs?: number;
}

interface Hooks {
  appId: string;
  /** `ws://host:port`, where the stand-in's server listens. */
  wsBase: string;
  /** Re-runs SlackStandIn's waiters; called on every socket event. */
  notify(): void;
  waitFor<T>(probe: () => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
}

interface Live {
  record: SocketConnection;
  socket: ServerWebSocket;
}

interface Outstanding {
  envelope: SocketEnvelope;
  connectionId: number;
  sentAt: number;
  resolve(ack: SocketAck): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Slack: a ticket is good for one connection, shortly after apps.connections.open. */
const TICKET_TTL_MS = 30_000;
const DEBUG_INFO = { host: 'applink-fake-1', build_number: 1, approximate_connection_time: 18060 };

/** Whether Slack lets the app answer an envelope of this kind with a payload. */
function acceptsResponsePayload(type: SocketEnvelopeType, payload: Record<string, unknown>): boolean {
  if (type === 'slash_commands') return true;
  // Of interactions, only a modal submission and an options request are answered in the ack.
  return type === 'interactive' && (payload.type === 'view_submission' || payload.type === 'block_suggestion');
}

export class SocketModeServer {
  private readonly tickets = new Map<string, number>();
  private readonly live = new Map<number, Live>();
  private readonly records: SocketConnection[] = [];
  private readonly sent: SocketEnvelope[] = [];
  private readonly received: SocketAck[] = [];
  private readonly outstanding = new Map<string, Outstanding>();
  private nextConnectionId = 1;
  /** How many envelopes went out on a connection of the stand-in's choosing: whose turn is next. */
  private turns = 0;

  constructor(private readonly hooks: Hooks) {}

  // ---- what the drivers read ----------------------------------------------------------------

  /** Every connection the app made, oldest first. */
  connections(): SocketConnection[] {
    return [...this.records];
  }

  /** The newest open connection, if any. */
  openConnection(): SocketConnection | undefined {
    return this.records.filter((c) => c.open).at(-1);
  }

  /** Envelopes sent, oldest first. */
  envelopes(): SocketEnvelope[] {
    return [...this.sent];
  }

  /** Acks received, in the order they came. */
  acks(): SocketAck[] {
    return [...this.received];
  }

  /** Resolves with an open connection newer than `afterId` (any open one by default). */
  waitForConnection({ afterId = 0, timeoutMs = 10_000 }: { afterId?: number; timeoutMs?: number } = {}): Promise<SocketConnection> {
    return this.hooks.waitFor(
      () => this.records.find((c) => c.open && c.id > afterId),
      afterId ? `a Socket Mode connection after #${afterId}` : 'a Socket Mode connection',
      timeoutMs,
    );
  }

  // ---- what Slack does -----------------------------------------------------------------------

  /** The URL apps.connections.open answers: good for one connection, within 30 seconds. */
  issueUrl(): string {
    const ticket = randomBytes(16).toString('hex');
    this.tickets.set(ticket, performance.now());
    return `${this.hooks.wsBase}/link/?ticket=${ticket}&app_id=${this.hooks.appId}`;
  }

  /**
   * Sends an envelope and resolves with the app's ack. Rejects when no connection is open, when
   * the connection closes first, or after `timeoutMs` (10 s) without one.
   */
  send(type: SocketEnvelopeType, payload: Record<string, unknown>, options: SendEnvelopeOptions = {}): Promise<SocketAck> {
    const target = this.liveConnection(options.connectionId ?? this.nextInTurn());
    const envelope: SocketEnvelope = {
      envelope_id: randomUUID(),
      type,
      payload,
      accepts_response_payload: options.acceptsResponsePayload ?? acceptsResponsePayload(type, payload),
      ...(type === 'events_api' ? { retry_attempt: 0, retry_reason: '' } : {}),
    };
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<SocketAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.outstanding.delete(envelope.envelope_id);
        reject(new Error(`no ack for ${type} envelope ${envelope.envelope_id} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.outstanding.set(envelope.envelope_id, {
        envelope,
        connectionId: target.record.id,
        sentAt: performance.now(),
        resolve,
        reject,
        timer,
      });
      this.sent.push(envelope);
      target.socket.send(JSON.stringify(envelope));
    });
  }

  /**
   * Sends Slack's `disconnect` message, which tells the client to open a new connection (for
   * `refresh_requested` and `warning`) or that Socket Mode was turned off (`link_disabled`).
   * Returns the connection it went to.
   */
  disconnect(reason: DisconnectReason = 'refresh_requested', connectionId?: number): SocketConnection {
    const target = this.liveConnection(connectionId);
    target.record.disconnects.push(reason);
    target.socket.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: DEBUG_INFO.host } }));
    return target.record;
  }

  /** Drops a connection without a closing handshake, as a network failure would. */
  drop(connectionId?: number): SocketConnection {
    const target = this.liveConnection(connectionId);
    target.socket.terminate();
    return target.record;
  }

  /** Sends every connection a close frame (1001, going away) and drops it, for when the stand-in stops. */
  closeAll(): void {
    for (const { socket } of this.live.values()) {
      socket.close(CLOSE_CODE.goingAway);
      socket.terminate();
    }
  }

  // ---- the WebSocket -------------------------------------------------------------------------

  /** Handles an HTTP upgrade to `/link/?ticket=…`; refuses unknown, used and expired tickets with 401. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', this.hooks.wsBase.replace(/^ws/, 'http'));
    if (url.pathname !== '/link/' && url.pathname !== '/link') return refuseUpgrade(socket, 404, 'Not Found');
    const ticket = url.searchParams.get('ticket') ?? '';
    const issuedAt = this.tickets.get(ticket);
    this.tickets.delete(ticket);
    if (issuedAt === undefined || performance.now() - issuedAt > TICKET_TTL_MS) return refuseUpgrade(socket, 401, 'Unauthorized');

    const record: SocketConnection = { id: this.nextConnectionId++, open: false, disconnects: [] };
    const ws = acceptWebSocket(req, socket, head, {
      message: (text) => this.onMessage(record, text),
      closed: (code) => this.onClosed(record, code),
    });
    if (!ws) return;
    this.records.push(record);
    this.live.set(record.id, { record, socket: ws });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.live.size,
        debug_info: DEBUG_INFO,
        connection_info: { app_id: this.hooks.appId },
      }),
    );
    record.open = true;
    this.hooks.notify();
  }

  /** The open connection whose turn it is to take an envelope, oldest first; undefined when none is open. */
  private nextInTurn(): number | undefined {
    const open = this.records.filter((c) => c.open && this.live.get(c.id)?.socket.isOpen);
    if (open.length === 0) return undefined;
    return open[this.turns++ % open.length]!.id;
  }

  private liveConnection(connectionId: number | undefined): Live {
    const id = connectionId ?? this.openConnection()?.id;
    const live = id === undefined ? undefined : this.live.get(id);
    if (!live?.socket.isOpen) {
      throw new Error(id === undefined ? 'the app has no open Socket Mode connection' : `Socket Mode connection #${id} is not open`);
    }
    return live;
  }

  private onMessage(record: SocketConnection, text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || typeof (message as { envelope_id?: unknown }).envelope_id !== 'string') return;
    const { envelope_id: envelopeId, payload } = message as { envelope_id: string; payload?: Record<string, unknown> };
    const waiting = this.outstanding.get(envelopeId);
    this.outstanding.delete(envelopeId);
    const ack: SocketAck = {
      envelope_id: envelopeId,
      ...(payload !== undefined ? { payload } : {}),
      ms: waiting ? performance.now() - waiting.sentAt : 0,
      ...(waiting ? { envelope: waiting.envelope } : {}),
      connectionId: record.id,
    };
    this.received.push(ack);
    if (waiting) {
      clearTimeout(waiting.timer);
      waiting.resolve(ack);
    }
    this.hooks.notify();
  }

  private onClosed(record: SocketConnection, code: number): void {
    record.open = false;
    record.closeCode = code;
    this.live.delete(record.id);
    for (const [id, waiting] of this.outstanding) {
      if (waiting.connectionId !== record.id) continue;
      this.outstanding.delete(id);
      clearTimeout(waiting.timer);
      waiting.reject(new Error(`Socket Mode connection #${record.id} closed (${code}) before envelope ${id} was acknowledged`));
    }
    this.hooks.notify();
  }
}
