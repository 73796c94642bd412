/**
 * A deliberately small HTTP/1.1-over-TLS client for the server tests: one explicit TLS socket per
 * connection, so a test sees exactly when a connection is reused, resumed or closed by the server.
 */
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import tls from 'node:tls';
import { gunzipSync } from 'node:zlib';
import type { TlsVersion } from '../../bench/model/index.ts';

export interface Response {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface Connection {
  socket: tls.TLSSocket;
  /** The session to offer on a later connection, once the server sent one (TLS 1.3: after a response). */
  session(): Buffer | undefined;
  /** Sends one POST and reads its response (Content-Length or chunked). */
  post(path: string, body: Buffer | string, headers?: Record<string, string>): Promise<Response>;
  /** Resolves when the server closes the connection (FIN or reset). */
  closed: Promise<void>;
  close(): void;
}

export async function rootCa(certDir: string): Promise<Buffer> {
  return readFile(`${certDir}/root.pem`);
}

const VERSION: Record<TlsVersion, tls.SecureVersion> = { 'tls1.2': 'TLSv1.2', 'tls1.3': 'TLSv1.3' };

export async function connect(
  port: number,
  ca: Buffer,
  o: { tls: TlsVersion; session?: Buffer },
): Promise<Connection> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    servername: 'localhost',
    ca,
    minVersion: VERSION[o.tls],
    maxVersion: VERSION[o.tls],
    ...(o.session === undefined ? {} : { session: o.session }),
  });
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => {
    session = s;
  });
  const closed = new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
  });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');

  let buffered = Buffer.alloc(0);
  let waiter: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    waiter?.();
  });
  socket.on('end', () => waiter?.());
  const more = async (): Promise<void> => {
    if (socket.readableEnded) throw new Error('connection closed by the server before the response ended');
    await new Promise<void>((resolve) => {
      waiter = resolve;
    });
    waiter = undefined;
  };
  const take = async (n: number): Promise<Buffer> => {
    while (buffered.length < n) await more();
    const out = buffered.subarray(0, n);
    buffered = buffered.subarray(n);
    return out;
  };
  const line = async (): Promise<string> => {
    let at: number;
    while ((at = buffered.indexOf('\r\n')) === -1) await more();
    return (await take(at + 2)).subarray(0, at).toString('latin1');
  };

  return {
    socket,
    session: () => session,
    closed,
    close: () => socket.destroy(),
    async post(path, body, headers = {}) {
      const payload = typeof body === 'string' ? Buffer.from(body) : body;
      const head = [`POST ${path} HTTP/1.1`, `Host: localhost:${port}`, 'Content-Type: application/json',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), `Content-Length: ${payload.length}`, '', ''];
      socket.write(Buffer.concat([Buffer.from(head.join('\r\n')), payload]));
      const status = Number((await line()).split(' ')[1]);
      const responseHeaders: Record<string, string> = {};
      for (let h = await line(); h !== ''; h = await line()) {
        const colon = h.indexOf(':');
        responseHeaders[h.slice(0, colon).toLowerCase()] = h.slice(colon + 1).trim();
      }
      let raw: Buffer;
      if (responseHeaders['transfer-encoding'] === 'chunked') {
        const parts: Buffer[] = [];
        for (let size = parseInt(await line(), 16); size > 0; size = parseInt(await line(), 16)) {
          parts.push(await take(size));
          await take(2);
        }
        await take(2);
        raw = Buffer.concat(parts);
      } else {
        raw = await take(Number(responseHeaders['content-length'] ?? 0));
      }
      return { status, headers: responseHeaders, body: responseHeaders['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw };
    },
  };
}

/** One request on a new connection, then closes it; returns the response and the connection's session. */
export async function oneShot(
  port: number,
  ca: Buffer,
  o: { tls: TlsVersion; session?: Buffer },
  path = '/api/v1/osquery/config',
): Promise<{ response: Response; reused: boolean; session: Buffer | undefined }> {
  const c = await connect(port, ca, o);
  const response = await c.post(path, '{"node_key":"test"}');
  const reused = c.socket.isSessionReused();
  // TLS 1.3 tickets arrive after the handshake; a response read after them means they were processed.
  const session = c.session();
  c.close();
  await c.closed;
  return { response, reused, session };
}
