/**
 * RDS's IAM database authentication, in front of a test cluster. It takes TLS connections only
 * (a certificate for `localhost`, its own CA), asks for the password in clear text as RDS does
 * for IAM users, and lets a login through only with an IAM auth token that holds now: signed
 * with the test's secret key, for the instance's endpoint and region, for the user signing in,
 * not expired. Any such token works for its whole lifetime, however many were minted since. A
 * login it refuses gets what RDS answers, `PAM authentication failed` (28P01).
 *
 * A login let through goes on to the cluster over TLS, signed in there with the user's own
 * password (which the cluster must ask for in clear text: pg_hba `password`); from then on the
 * gate passes every byte both ways.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as tcpConnect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, TLSSocket } from 'node:tls';
import { int32, listenOnLoopback, message, selfSignedLocalhost, SSL_REQUEST_CODE } from '../fakePostgres.ts';
import { parseRdsAuthToken, verifyRdsAuthToken } from './sigv4.ts';

export interface RdsIamGateOptions {
  /** The cluster behind the gate. */
  upstream: { host: string; port: number };
  /** The endpoint RDS reports, which a token must be signed for. */
  endpoint: { host: string; port: number };
  region: string;
  secretAccessKey: string;
  /** Each database user's password on the cluster. */
  passwords: Record<string, string>;
}

export interface RdsIamLogin {
  user: string;
  tls: boolean;
  accepted: boolean;
}

export interface RdsIamGate {
  port: number;
  /** The CA file that verifies the gate's certificate (for `localhost`). */
  caFile: string;
  /** Every login attempt so far, in order. */
  logins(): RdsIamLogin[];
  close(): Promise<void>;
}

/** Reads exact byte counts from a stream until released. */
function reader(stream: Duplex) {
  let buffered = Buffer.alloc(0);
  let ended = false;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    wake?.();
  };
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  return {
    async take(n: number): Promise<Buffer> {
      while (buffered.length < n) {
        if (ended) throw new Error('the connection closed');
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      const out = buffered.subarray(0, n);
      buffered = buffered.subarray(n);
      return out;
    },
    /** A length-prefixed message; `typed` when a type byte comes first. */
    async takeMessage(typed: boolean): Promise<{ type: string; body: Buffer; raw: Buffer }> {
      const type = typed ? (await this.take(1)).toString() : '';
      const length = await this.take(4);
      const body = await this.take(length.readInt32BE(0) - 4);
      return { type, body, raw: Buffer.concat([Buffer.from(type), length, body]) };
    },
    /** Stops reading (without pausing: the stream may be handed to TLS); returns what was not taken. */
    release(): Buffer {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      return buffered;
    },
  };
}

function fatal(code: string, text: string): Buffer {
  const field = (name: string, value: string) => Buffer.from(`${name}${value}\0`);
  return message('E', Buffer.concat([field('S', 'FATAL'), field('V', 'FATAL'), field('C', code), field('M', text), Buffer.from([0])]));
}

/** The parameters of a StartupMessage body (after the protocol version). */
function startupParameters(body: Buffer): Map<string, string> {
  const parts = body.subarray(4).toString().split('\0');
  const params = new Map<string, string>();
  for (let i = 0; i + 1 < parts.length && parts[i]; i += 2) params.set(parts[i]!, parts[i + 1]!);
  return params;
}

/** `20260601T090000Z` as milliseconds since the epoch. */
function amzDateMs(amzDate: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

export async function startRdsIamGate(options: RdsIamGateOptions): Promise<RdsIamGate> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-rds-iam-'));
  const certificate = selfSignedLocalhost(dir);
  const logins: RdsIamLogin[] = [];
  const sockets = new Set<Socket>();
  const track = <S extends Socket>(socket: S): S => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    return socket;
  };

  function tokenHolds(token: string, user: string): boolean {
    try {
      const t = parseRdsAuthToken(token);
      const expires = amzDateMs(t.amzDate) + t.expiresSeconds * 1000;
      return (
        verifyRdsAuthToken(token, options.secretAccessKey) &&
        t.action === 'connect' &&
        t.user === user &&
        t.hostname === options.endpoint.host &&
        t.port === options.endpoint.port &&
        t.scope.region === options.region &&
        t.scope.service === 'rds-db' &&
        Date.now() < expires
      );
    } catch {
      return false;
    }
  }

  /** Signs in to the cluster as `user`, over TLS; resolves with the socket once the password is sent. */
  async function openUpstream(startup: Buffer, user: string): Promise<{ socket: TLSSocket; early: Buffer }> {
    const plain = track(tcpConnect(options.upstream.port, options.upstream.host));
    const plainReader = reader(plain);
    plain.write(Buffer.concat([int32(8), int32(SSL_REQUEST_CODE)]));
    if ((await plainReader.take(1)).toString() !== 'S') throw new Error('the cluster refused TLS');
    plainReader.release();
    const secure = track(tlsConnect({ socket: plain, rejectUnauthorized: false }));
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    const secureReader = reader(secure);
    secure.write(startup);
    const request = await secureReader.takeMessage(true);
    if (request.type !== 'R' || request.body.readInt32BE(0) !== 3) {
      throw new Error(`the cluster did not ask ${user}'s password in clear text (pg_hba "password")`);
    }
    secure.write(message('p', Buffer.from(`${options.passwords[user] ?? ''}\0`)));
    const early = secureReader.release();
    secure.pause();
    return { socket: secure, early };
  }

  async function serve(socket: Socket): Promise<void> {
    const plainReader = reader(socket);
    const first = await plainReader.takeMessage(false);
    if (first.body.readInt32BE(0) !== SSL_REQUEST_CODE) {
      const user = startupParameters(first.body).get('user') ?? '';
      logins.push({ user, tls: false, accepted: false });
      socket.end(fatal('28000', `IAM authentication for user "${user}" requires SSL`));
      return;
    }
    plainReader.release();
    socket.write('S');
    const client = track(new TLSSocket(socket, { isServer: true, cert: certificate.cert, key: certificate.key }));
    const clientReader = reader(client);
    const startup = (await clientReader.takeMessage(false)).raw;
    const user = startupParameters(startup.subarray(4)).get('user') ?? '';
    client.write(message('R', int32(3)));
    const answer = await clientReader.takeMessage(true);
    const token = answer.body.subarray(0, Math.max(0, answer.body.indexOf(0))).toString();
    const accepted = answer.type === 'p' && tokenHolds(token, user);
    logins.push({ user, tls: true, accepted });
    if (!accepted) {
      client.end(fatal('28P01', `PAM authentication failed for user "${user}"`));
      return;
    }
    const upstream = await openUpstream(startup, user);
    const fromClient = clientReader.release();
    client.pause();
    if (upstream.early.length > 0) client.write(upstream.early);
    if (fromClient.length > 0) upstream.socket.write(fromClient);
    upstream.socket.pipe(client);
    client.pipe(upstream.socket);
    upstream.socket.on('close', () => client.destroy());
    client.on('close', () => upstream.socket.destroy());
  }

  const server = createServer((socket) => {
    track(socket);
    serve(socket).catch(() => socket.destroy());
  });
  const port = await listenOnLoopback(server);

  return {
    port,
    caFile: certificate.certFile,
    logins: () => logins.map((l) => ({ ...l })),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
