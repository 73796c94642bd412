/**
 * A TLS server for the transport tests that counts what it sees on its raw TCP sockets, so the client's own
 * counters are checked against numbers the client did not produce. TCP sockets come from a net.Server and are
 * handed to a tls.Server (one SecureContext, so ticket keys and resumption work across connections). A tiny
 * HTTP/1.1 responder answers each request; it never sends close_notify after the client's FIN (nginx does the
 * same: `no_send_shutdown` once it read EOF), so both sides' byte counts can match exactly.
 */

import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';
import { constants } from 'node:crypto';

export interface ReceivedRequest {
  connectionIndex: number;
  /** The request exactly as decrypted: head and body. */
  raw: Buffer;
  path: string;
  /** Arrived after the server had closed the connection for idleness (it is not answered). */
  late: boolean;
}

export interface Reply {
  status?: number;
  body?: Buffer | string;
  chunked?: boolean;
  connectionClose?: boolean;
}

/** What the responder does with a request: answer it (now or later), or never answer (deadline tests). */
export type Responder = (request: ReceivedRequest) => Reply | 'hang' | Promise<Reply>;

export interface ServerConnection {
  index: number;
  remotePort: number;
  rawBytesRead: number;
  rawBytesWritten: number;
  sessionReused: boolean | null;
  requests: number;
  idleClosed: boolean;
  closed: boolean;
}

export interface TestServer {
  port: number;
  connections: ServerConnection[];
  requests: ReceivedRequest[];
  /** NSS key log lines as the server's OpenSSL wrote them. */
  keyLog: string[];
  /** Resolves when every connection accepted so far is closed on the server side. */
  allClosed(): Promise<void>;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  key: Buffer | string;
  cert: Buffer | string;
  version: tls.SecureVersion;
  respond?: Responder;
  /** Close a connection (close_notify + FIN) after it sat idle this long after a response. */
  idleTimeoutMs?: number;
  /** TLS 1.2: no tickets; resume by session id from a server-side cache instead. */
  sessionIdOnly?: boolean;
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const respond = options.respond ?? (() => ({ body: '{"node_invalid":false}' }));
  const connections: ServerConnection[] = [];
  const requests: ReceivedRequest[] = [];
  const keyLog: string[] = [];
  const closings: Promise<unknown>[] = [];

  const tlsServer = tls.createServer({
    key: options.key,
    cert: options.cert,
    minVersion: options.version,
    maxVersion: options.version,
    ...(options.sessionIdOnly === true ? { secureOptions: constants.SSL_OP_NO_TICKET } : {}),
  });
  if (options.sessionIdOnly === true) {
    const cache = new Map<string, Buffer>();
    tlsServer.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      cache.set(id.toString('hex'), data);
      done();
    });
    tlsServer.on('resumeSession', (id: Buffer, done: (error: Error | null, data: Buffer | null) => void) => {
      done(null, cache.get(id.toString('hex')) ?? null);
    });
  }
  tlsServer.on('keylog', (line: Buffer) => keyLog.push(line.toString('latin1')));
  tlsServer.on('tlsClientError', () => undefined);

  /** Raw-socket records by client port, to find a TLSSocket's record on 'secureConnection'. */
  const rawSockets = new Map<number, ServerConnection>();
  const rawServer = net.createServer({ allowHalfOpen: true }, (raw) => {
    const record: ServerConnection = {
      index: connections.length,
      remotePort: raw.remotePort ?? 0,
      rawBytesRead: 0,
      rawBytesWritten: 0,
      sessionReused: null,
      requests: 0,
      idleClosed: false,
      closed: false,
    };
    connections.push(record);
    closings.push(
      once(raw, 'close').then(() => {
        record.rawBytesRead = raw.bytesRead;
        record.rawBytesWritten = raw.bytesWritten;
        record.closed = true;
      }),
    );
    raw.on('error', () => undefined);
    rawSockets.set(raw.remotePort ?? 0, record);
    tlsServer.emit('connection', raw);
  });

  tlsServer.on('secureConnection', (socket: tls.TLSSocket) => {
    const record = rawSockets.get(socket.remotePort ?? 0);
    if (record === undefined) throw new Error(`test server: no raw socket for port ${socket.remotePort}`);
    record.sessionReused = socket.isSessionReused();
    let buffered = Buffer.alloc(0);
    let idleTimer: NodeJS.Timeout | undefined;
    socket.on('error', () => undefined);
    socket.on('end', () => socket.destroy());
    socket.on('close', () => clearTimeout(idleTimer));
    const answer = (reply: Reply): void => {
      if (socket.destroyed) return;
      socket.write(serializeReply(reply));
      if (reply.connectionClose === true) {
        socket.end();
      } else if (options.idleTimeoutMs !== undefined) {
        idleTimer = setTimeout(() => {
          record.idleClosed = true;
          // Half-close (close_notify + FIN) and keep reading: a late request is counted, never answered.
          socket.end();
        }, options.idleTimeoutMs);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(idleTimer);
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const head = buffered.subarray(0, headEnd).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? '0');
        if (buffered.length < headEnd + 4 + length) return;
        const raw = buffered.subarray(0, headEnd + 4 + length);
        buffered = buffered.subarray(raw.length);
        const request: ReceivedRequest = {
          connectionIndex: record.index,
          raw,
          path: head.split(' ')[1] ?? '',
          late: record.idleClosed,
        };
        requests.push(request);
        record.requests += 1;
        if (request.late) continue;
        const reply = respond(request);
        if (reply === 'hang') continue;
        void Promise.resolve(reply).then(answer);
      }
    });
  });

  rawServer.listen(0, '127.0.0.1');
  await once(rawServer, 'listening');
  const address = rawServer.address() as net.AddressInfo;

  return {
    port: address.port,
    connections,
    requests,
    keyLog,
    allClosed: async () => {
      await Promise.all(closings);
    },
    stop: async () => {
      await Promise.all(closings);
      if (!rawServer.listening) return;
      rawServer.close();
      await once(rawServer, 'close');
    },
  };
}

function serializeReply(reply: Reply): Buffer {
  const body = Buffer.from(reply.body ?? '');
  const status = reply.status ?? 200;
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Status'}`, 'Content-Type: application/json'];
  if (reply.connectionClose === true) lines.push('Connection: close');
  if (reply.chunked === true) {
    lines.push('Transfer-Encoding: chunked');
    const half = Math.floor(body.length / 2);
    const chunks = [body.subarray(0, half), body.subarray(half)].filter((c) => c.length > 0);
    const framed = chunks.flatMap((c) => [Buffer.from(`${c.length.toString(16)};ext=1\r\n`), c, Buffer.from('\r\n')]);
    return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), ...framed, Buffer.from('0\r\nX-Trailer: 1\r\n\r\n')]);
  }
  lines.push(`Content-Length: ${body.length}`);
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]);
}
