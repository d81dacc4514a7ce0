/**
 * The server side of a WebSocket (RFC 6455), as much of it as the stand-in's Socket Mode
 * needs: the opening handshake on an HTTP upgrade, text messages both ways (the client's frames
 * masked, fragmented messages joined), pings answered with pongs, and the closing handshake.
 * No extension is negotiated, so a client's permessage-deflate offer is declined by omission.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

/** RFC 6455 §1.3: the key's accept value is SHA-1 of the key and this GUID, in base64. */
const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

const OPCODE = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa } as const;

/** Close codes of RFC 6455 §7.4.1 this side sends or reports. */
export const CLOSE_CODE = { normal: 1000, goingAway: 1001, protocolError: 1002, noStatus: 1005, abnormal: 1006 } as const;

/** How long a close this side started waits for the client's close frame before dropping the TCP connection. */
const CLOSE_HANDSHAKE_MS = 1000;

export interface WebSocketHandlers {
  /** A whole text message from the client. */
  message(text: string): void;
  /** The connection ended: with the client's close code, or 1006 when the TCP connection just went. */
  closed(code: number, reason: string): void;
}

/** Refuses an upgrade with an HTTP status, as a server does before the handshake. */
export function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Completes the opening handshake of an `upgrade` request, or refuses it with 400 when it is not
 * a version 13 WebSocket handshake (and returns undefined).
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  handlers: WebSocketHandlers,
): ServerWebSocket | undefined {
  const key = req.headers['sec-websocket-key'];
  const valid =
    req.method === 'GET' &&
    req.headers.upgrade?.toLowerCase() === 'websocket' &&
    /\bupgrade\b/i.test(req.headers.connection ?? '') &&
    req.headers['sec-websocket-version'] === '13' &&
    typeof key === 'string' &&
    Buffer.from(key, 'base64').length === 16;
  if (!valid) {
    refuseUpgrade(socket, 400, 'Bad Request');
    return undefined;
  }
  const accept = createHash('sha1').update(`${key}${HANDSHAKE_GUID}`).digest('base64');
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
  return new ServerWebSocket(socket, head, handlers);
}

/** One accepted connection. */
export class ServerWebSocket {
  private state: 'open' | 'closing' | 'closed' = 'open';
  private pending: Buffer;
  private fragments: Buffer[] = [];
  private fragmentedOpcode: number | undefined;
  private closeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
    private readonly handlers: WebSocketHandlers,
  ) {
    this.pending = Buffer.from(head);
    socket.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      this.readFrames();
    });
    socket.on('error', () => socket.destroy());
    // The HTTP server keeps connections half-open; a client gone without a close frame is gone.
    socket.on('end', () => socket.end());
    socket.on('close', () => this.finish(CLOSE_CODE.abnormal, ''));
    if (this.pending.length > 0) this.readFrames();
  }

  /** Whether messages can still be sent. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** Sends a text message. */
  send(text: string): void {
    if (this.state !== 'open') throw new Error(`the WebSocket is ${this.state}`);
    this.socket.write(frame(OPCODE.text, Buffer.from(text, 'utf8')));
  }

  /** Starts the closing handshake; the TCP connection ends when the client answers, or after a second. */
  close(code: number = CLOSE_CODE.normal, reason = ''): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.socket.write(frame(OPCODE.close, closePayload(code, reason)));
    this.closeTimer = setTimeout(() => this.socket.destroy(), CLOSE_HANDSHAKE_MS);
  }

  /** Drops the TCP connection without a closing handshake, as a network failure would. */
  terminate(): void {
    this.socket.destroy();
  }

  private readFrames(): void {
    for (;;) {
      const buf = this.pending;
      if (buf.length < 2) return;
      const fin = (buf[0]! & 0x80) !== 0;
      const opcode = buf[0]! & 0x0f;
      const masked = (buf[1]! & 0x80) !== 0;
      let length = buf[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (buf.length < 4) return;
        length = buf.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (buf.length < 10) return;
        length = Number(buf.readBigUInt64BE(2));
        offset = 10;
      }
      if (!masked) {
        // RFC 6455 §5.1: a server closes the connection on an unmasked client frame.
        this.protocolError('client frames must be masked');
        return;
      }
      if (buf.length < offset + 4 + length) return;
      const mask = buf.subarray(offset, offset + 4);
      const payload = Buffer.from(buf.subarray(offset + 4, offset + 4 + length));
      for (let i = 0; i < payload.length; i += 1) payload[i]! ^= mask[i % 4]!;
      this.pending = buf.subarray(offset + 4 + length);
      this.onFrame(fin, opcode, payload);
      if (this.state === 'closed') return;
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    switch (opcode) {
      case OPCODE.ping:
        if (this.state === 'open') this.socket.write(frame(OPCODE.pong, payload));
        return;
      case OPCODE.pong:
        return;
      case OPCODE.close: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : CLOSE_CODE.noStatus;
        const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
        // Answer a close the client started; one this side started is complete now.
        if (this.state === 'open')
          this.socket.write(frame(OPCODE.close, closePayload(code === CLOSE_CODE.noStatus ? CLOSE_CODE.normal : code, '')));
        this.socket.end();
        this.finish(code, reason);
        return;
      }
      case OPCODE.text:
      case OPCODE.binary:
      case OPCODE.continuation: {
        if (opcode !== OPCODE.continuation) this.fragmentedOpcode = opcode;
        this.fragments.push(payload);
        if (!fin) return;
        const whole = Buffer.concat(this.fragments);
        const kind = this.fragmentedOpcode;
        this.fragments = [];
        this.fragmentedOpcode = undefined;
        // Slack's Socket Mode speaks JSON text; a binary message is ignored as its clients ignore one.
        if (kind === OPCODE.text && this.state === 'open') this.handlers.message(whole.toString('utf8'));
        return;
      }
      default:
        this.protocolError(`unknown opcode ${opcode}`);
    }
  }

  private protocolError(reason: string): void {
    this.close(CLOSE_CODE.protocolError, reason);
  }

  private finish(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.closeTimer);
    this.handlers.closed(code, reason);
  }
}

/** A server frame: final, unmasked. */
function frame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, length])
      : length < 0x10000
        ? Buffer.from([0x80 | opcode, 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 127]), bigEndian64(length)]);
  return Buffer.concat([header, payload]);
}

function bigEndian64(value: number): Buffer {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64BE(BigInt(value));
  return buf;
}

function closePayload(code: number, reason: string): Buffer {
  const buf = Buffer.alloc(2);
  buf.writeUInt16BE(code);
  return Buffer.concat([buf, Buffer.from(reason, 'utf8')]);
}
