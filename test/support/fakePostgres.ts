/**
 * A server on loopback that speaks just enough of PostgreSQL's v3 protocol to ask a client for
 * its password the way an impostor would: it answers an SSLRequest with 'N' (no TLS) or with
 * TLS under a self-signed certificate for `localhost`, reads the StartupMessage, and asks for
 * the password in clear text (AuthenticationCleartextPassword) or as MD5. It records every byte
 * a client sends after that request; a client that answers gets AuthenticationOk and
 * ReadyForQuery, so that a connection allowed to answer succeeds.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';

export type PasswordRequest = 'cleartext' | 'md5';

export interface FakePostgres {
  port: number;
  /** The CA file that verifies the server's certificate (it is its own CA), with `tls`. */
  caFile?: string;
  /** The salt of the MD5 requests. */
  md5Salt: Buffer;
  /** How many clients reached the password request. */
  requests(): number;
  /** Every byte clients sent after the password request, all connections together. */
  received(): Buffer;
  close(): Promise<void>;
}

export const SSL_REQUEST_CODE = 80877103;

/** A self-signed certificate for `localhost` and its key, made with openssl in `dir`. */
export function selfSignedLocalhost(dir: string): { cert: string; key: string; certFile: string } {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'key.pem',
      '-out',
      'cert.pem',
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost',
    ],
    { cwd: dir, stdio: 'pipe' },
  );
  const certFile = join(dir, 'cert.pem');
  return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8'), certFile };
}

/** A backend message: its type byte, then its length and body. */
export function message(type: string, body: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(body.length + 4);
  return Buffer.concat([Buffer.from(type), length, body]);
}

/** Starts `server` listening on a free port of the loopback interface; resolves with the port. */
export async function listenOnLoopback(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('the server has no port');
  return address.port;
}

export function int32(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(value);
  return b;
}

export async function startFakePostgres(options: { request: PasswordRequest; tls: boolean }): Promise<FakePostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'sesame-fake-pg-'));
  const certificate = options.tls ? selfSignedLocalhost(dir) : undefined;
  const md5Salt = randomBytes(4);
  const received: Buffer[] = [];
  let requests = 0;
  const sockets = new Set<Socket>();

  const passwordRequest = options.request === 'cleartext' ? message('R', int32(3)) : message('R', Buffer.concat([int32(5), md5Salt]));

  function serve(socket: Socket): void {
    let pending = Buffer.alloc(0);
    let asked = false;
    const onData = (chunk: Buffer) => {
      if (asked) {
        received.push(chunk);
        // A password message: let the client in.
        if (chunk[0] === 'p'.charCodeAt(0)) {
          socket.write(Buffer.concat([message('R', int32(0)), message('Z', Buffer.from('I'))]));
        }
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      if (pending.length < 8) return;
      const length = pending.readInt32BE(0);
      if (pending.length < length) return;
      const code = pending.readInt32BE(4);
      const rest = pending.subarray(length);
      pending = Buffer.alloc(0);
      if (code === SSL_REQUEST_CODE) {
        if (!certificate) {
          socket.write('N');
          if (rest.length > 0) onData(rest);
          return;
        }
        socket.off('data', onData);
        socket.write('S');
        const secure = new TLSSocket(socket, { isServer: true, cert: certificate.cert, key: certificate.key });
        secure.on('error', () => undefined);
        sockets.add(secure);
        serve(secure);
        return;
      }
      // The StartupMessage: ask for the password.
      asked = true;
      requests++;
      socket.write(passwordRequest);
      if (rest.length > 0) onData(rest);
    };
    socket.on('data', onData);
  }

  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
    serve(socket);
  });
  const port = await listenOnLoopback(server);

  return {
    port,
    ...(certificate ? { caFile: certificate.certFile } : {}),
    md5Salt,
    requests: () => requests,
    received: () => Buffer.concat(received),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
