/**
 * One client connection: a TCP socket we open ourselves (`net.connect`), wrapped by `tls.connect({ socket })`.
 *
 * Owning the net.Socket is what makes the byte counters trustworthy: TLS writes and reads go straight through
 * its handle, so `bytesWritten`/`bytesRead` count TLS records, exactly the TCP payload the capture sees (and
 * Node keeps the final values after the socket closes). It also gives the TCP-connect timestamp, which a
 * TLSSocket alone does not.
 */

import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { Channel, SocketBytes, TlsVersion } from '../model/index.ts';
import { ResponseParser, type HttpResponse } from './http1.ts';
import { TransportError, type TransportPhase } from './transport-error.ts';

/** How a connection ended: `client` (we closed it), `server` (the server closed or asked to close first),
 * `error` (a reset, a failed handshake, a protocol error or the deadline), `open` (still open). */
export type ClosedBy = 'client' | 'server' | 'error' | 'open';

/** What opening a connection needs. */
export interface ConnectionOptions {
  id: number;
  endpointIndex: number;
  channel: Channel;
  host: string;
  port: number;
  /** Connect to this HTTP proxy and ask it to `CONNECT host:port` before TLS starts. */
  proxy?: { host: string; port: number };
  /** Source address to bind before connecting (the agent's own loopback address); the kernel picks when absent. */
  localAddress?: string;
  servername: string;
  ca: Buffer | string;
  tls: TlsVersion;
  /** The context to handshake with (from `secureContextFor(ca, tls)`); made from `ca` and `tls` when absent. */
  secureContext?: tls.SecureContext;
  /** Set SO_KEEPALIVE (with the system's idle time), as the agent does on reused sockets. */
  keepAlive: boolean;
  /** A session to resume (from an earlier connection's `onSession`). */
  session?: Buffer;
  /** Called with every session (TLS 1.2 session/ticket, TLS 1.3 ticket) the server hands out. */
  onSession?: (session: Buffer) => void;
  /** Receives the NSS key log lines of this connection. */
  keyLog?: NodeJS.WritableStream;
}

/** A response, when its first byte arrived (`performance.now()`), and the raw bytes of the exchange. */
export interface Exchange {
  response: HttpResponse;
  firstByteAt: number;
  doneAt: number;
  /** TCP payload read from the request's write until the response was complete (the response's flight). */
  responseBytes: number;
}

interface Waiter<T> {
  resolve: (value: T) => void;
  reject: (error: TransportError) => void;
}

interface PendingExchange extends Waiter<Exchange> {
  parser: ResponseParser;
  written: boolean;
  firstByteAt: number | null;
  /** Raw bytes read before the request was written. */
  readBefore: number;
}

/** Longest proxy answer head accepted. */
const MAX_PROXY_HEAD_BYTES = 8192;

const SECURE_VERSION: Record<TlsVersion, tls.SecureVersion> = { 'tls1.2': 'TLSv1.2', 'tls1.3': 'TLSv1.3' };

/** The TLS context a client's connections share: the trusted CA, and both ends of the version pinned. */
export function secureContextFor(ca: Buffer | string, version: TlsVersion): tls.SecureContext {
  return tls.createSecureContext({ ca, minVersion: SECURE_VERSION[version], maxVersion: SECURE_VERSION[version] });
}

/** Unix epoch milliseconds with sub-millisecond precision, comparable with capture timestamps. */
export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A TLS connection carrying one request at a time. Failures never throw out of event handlers: they settle
 * the pending handshake or exchange with a {@link TransportError} and destroy the socket.
 */
export class TlsConnection {
  readonly id: number;
  readonly endpointIndex: number;
  readonly channel: Channel;
  /** Epoch ms when the TCP connect started. */
  readonly openedAtMs: number;
  /** Epoch ms when both sockets reported 'close'. */
  closedAtMs: number | null = null;
  closedBy: ClosedBy = 'open';
  /** `performance.now()` when TCP connected / when the TLS handshake finished. */
  tcpConnectedAt: number | null = null;
  secureAt: number | null = null;
  /** `performance.now()` when a proxy answered CONNECT (null without a proxy). */
  proxyConnectedAt: number | null = null;
  /** Local TCP port, known once connected (0 before, or when the connect failed). */
  localPort = 0;
  /** Local address, known once connected ('' before, or when the connect failed). */
  localAddress = '';
  sessionResumed = false;
  /** Requests written on this connection (a request that then failed counts too). */
  requests = 0;

  /** Resolves once both the TLS and the TCP socket reported 'close'. */
  readonly whenClosed: Promise<void>;

  private readonly raw: net.Socket;
  /** Null until TLS starts: at once, or once a proxy answered CONNECT. */
  private socket: tls.TLSSocket | null = null;
  private failure: TransportError | null = null;
  /** The server closed its side (close_notify or FIN) — with allowHalfOpen Node sends nothing back. */
  private peerEnded = false;
  private handshakeWaiter: Waiter<void> | null = null;
  private exchange: PendingExchange | null = null;

  constructor(options: ConnectionOptions) {
    this.id = options.id;
    this.endpointIndex = options.endpointIndex;
    this.channel = options.channel;
    this.openedAtMs = epochMs();

    // allowHalfOpen: a server's FIN must not make Node end our side (it would send close_notify and FIN);
    // the agent does nothing until its next write, then sees the failure. The TLSSocket inherits it.
    const proxy = options.proxy;
    this.raw = net.connect({
      host: proxy?.host ?? options.host,
      port: proxy?.port ?? options.port,
      allowHalfOpen: true,
      ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }),
    });

    let tlsClosed = false;
    let rawClosed = false;
    let resolveClosed = (): void => undefined;
    this.whenClosed = new Promise((resolve) => {
      resolveClosed = resolve;
    });
    const closed = (): void => {
      // Through a proxy the TLS socket may never have been made (the CONNECT failed): the TCP socket decides.
      if ((!tlsClosed && this.socket !== null) || !rawClosed) return;
      this.closedAtMs = epochMs();
      resolveClosed();
    };
    this.raw.once('close', () => {
      rawClosed = true;
      if (this.socket === null) this.onClose();
      closed();
    });
    this.raw.once('connect', () => {
      this.tcpConnectedAt = performance.now();
      this.localPort = this.raw.localPort ?? 0;
      this.localAddress = this.raw.localAddress ?? '';
      if (options.keepAlive) this.raw.setKeepAlive(true);
    });
    // A reset that hits an idle, established connection is the server closing it; anything else is an error.
    const onError = (error: Error): void =>
      this.fail(this.describe(error), this.secureAt !== null && this.exchange === null ? 'server' : 'error');
    this.raw.on('error', onError);

    const startTls = (): void => {
      const socket = tls.connect({
        socket: this.raw,
        servername: options.servername,
        // One context per client: made per connection from `ca`, it parses the CA and builds a trust store
        // every time, which at a fleet's rate cost the client more CPU than the handshake itself.
        secureContext: options.secureContext ?? secureContextFor(options.ca, options.tls),
        ...(options.session === undefined ? {} : { session: options.session }),
      });
      this.socket = socket;
      socket.once('close', () => {
        tlsClosed = true;
        this.onClose();
        closed();
      });
      const keyLog = options.keyLog;
      if (keyLog !== undefined) socket.on('keylog', (line: Buffer) => keyLog.write(line));
      const onSession = options.onSession;
      if (onSession !== undefined) socket.on('session', (session: Buffer) => onSession(session));
      socket.once('secureConnect', () => {
        this.secureAt = performance.now();
        this.sessionResumed = socket.isSessionReused();
        const waiter = this.handshakeWaiter;
        this.handshakeWaiter = null;
        waiter?.resolve();
      });
      socket.on('data', (chunk: Buffer) => this.onData(chunk));
      socket.on('end', () => this.onEnd());
      socket.on('error', onError);
    };
    if (proxy === undefined) startTls();
    else this.raw.once('connect', () => this.tunnel(options.host, options.port, startTls));
  }

  /**
   * The agent's proxy step (`--proxy_hostname`, AGENT-FACTS.md): `CONNECT host:port HTTP/1.1` on the new TCP
   * connection, and TLS only once the proxy answered 2xx; any other answer fails the connection.
   */
  private tunnel(host: string, port: number, then: () => void): void {
    const target = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.raw.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_PROXY_HEAD_BYTES) this.fail(new TransportError('connect', `connection ${this.id}: proxy answer head over ${MAX_PROXY_HEAD_BYTES} bytes`), 'error');
        return;
      }
      this.raw.off('data', onData);
      this.raw.pause();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head.subarray(0, head.indexOf('\r\n')).toString('latin1'));
      if (status === null || !status[1]!.startsWith('2') || end + 4 !== head.length) {
        const line = head.subarray(0, Math.max(0, head.indexOf('\r\n'))).toString('latin1');
        this.fail(new TransportError('connect', `connection ${this.id}: the proxy refused CONNECT ${target}: ${JSON.stringify(line)}`), 'error');
        return;
      }
      this.proxyConnectedAt = performance.now();
      then();
    };
    this.raw.on('data', onData);
  }

  /** Raw TCP payload bytes so far (final once closed). */
  get bytes(): SocketBytes {
    return { up: this.raw.bytesWritten, down: this.raw.bytesRead };
  }

  /** Resolves when the TLS handshake is done; rejects with the failure otherwise. */
  handshake(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.secureAt !== null) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.handshakeWaiter = { resolve, reject };
    });
  }

  /**
   * Writes one serialized request and reads its response. On a connection the server already closed the
   * bytes still go out (as the agent's write does) and the read then fails with EOF.
   */
  request(bytes: Buffer): Promise<Exchange> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.exchange !== null) {
      return Promise.reject(new TransportError('protocol', `connection ${this.id} already has a request in flight`));
    }
    this.requests += 1;
    return new Promise((resolve, reject) => {
      const exchange: PendingExchange = {
        parser: new ResponseParser(),
        written: false,
        firstByteAt: null,
        readBefore: this.raw.bytesRead,
        resolve,
        reject,
      };
      this.exchange = exchange;
      this.socket!.write(bytes, (error) => {
        if (error) {
          this.fail(this.describe(error, 'write'), 'error');
          return;
        }
        exchange.written = true;
        if (this.peerEnded && this.exchange === exchange) this.settleAtEof(exchange);
      });
    });
  }

  /**
   * Closes the agent's way: no TLS close_notify, the TCP connection is shut down. `tlsSocket.end()` would
   * send close_notify (24 bytes on TLS 1.3, 31 on TLS 1.2, measured); `destroy()` closes the descriptor, so
   * the kernel sends a FIN, like osquery's `shutdown(both)` + `close()` in `Client::closeSocket`.
   */
  close(reason: 'client' | 'server'): Promise<void> {
    if (this.closedBy === 'open') this.closedBy = this.peerEnded ? 'server' : reason;
    (this.socket ?? this.raw).destroy();
    return this.whenClosed;
  }

  /** Fails the pending work with `error` (the deadline, a protocol error) and destroys the socket. */
  abort(error: TransportError): void {
    this.fail(error, 'error');
  }

  private onData(chunk: Buffer): void {
    const exchange = this.exchange;
    if (exchange === null) {
      this.fail(new TransportError('protocol', `server sent ${chunk.length} bytes while no request was pending`), 'error');
      return;
    }
    exchange.firstByteAt ??= performance.now();
    let response: HttpResponse | null;
    try {
      response = exchange.parser.push(chunk);
    } catch (error) {
      this.fail(asTransportError(error, 'protocol'), 'error');
      return;
    }
    if (response !== null) this.settle(exchange, response);
  }

  private onEnd(): void {
    this.peerEnded = true;
    const exchange = this.exchange;
    if (exchange?.written === true) this.settleAtEof(exchange);
  }

  private settleAtEof(exchange: PendingExchange): void {
    let response: HttpResponse;
    try {
      response = exchange.parser.end();
    } catch (error) {
      this.fail(asTransportError(error, 'read'), 'server');
      return;
    }
    this.settle(exchange, response);
  }

  private settle(exchange: PendingExchange, response: HttpResponse): void {
    this.exchange = null;
    const doneAt = performance.now();
    exchange.resolve({ response, firstByteAt: exchange.firstByteAt ?? doneAt, doneAt, responseBytes: this.raw.bytesRead - exchange.readBefore });
  }

  private onClose(): void {
    if (this.closedBy === 'open') this.closedBy = this.failure !== null ? 'error' : 'server';
    this.fail(new TransportError(this.phase(), `connection ${this.id} closed`), 'error');
  }

  /** Records the first failure, settles whatever waits, destroys the socket. */
  private fail(error: TransportError, closedBy: 'server' | 'error'): void {
    if (this.failure === null) {
      this.failure = error;
      if (this.closedBy === 'open') this.closedBy = this.peerEnded ? 'server' : closedBy;
    }
    const failure = this.failure;
    const handshake = this.handshakeWaiter;
    const exchange = this.exchange;
    this.handshakeWaiter = null;
    this.exchange = null;
    handshake?.reject(failure);
    exchange?.reject(failure);
    const socket = this.socket ?? this.raw;
    if (!socket.destroyed) socket.destroy();
  }

  private phase(): TransportPhase {
    if (this.tcpConnectedAt === null) return 'connect';
    if (this.secureAt === null) return 'handshake';
    return this.exchange !== null && !this.exchange.written ? 'write' : 'read';
  }

  private describe(error: Error, phase: TransportPhase = this.phase()): TransportError {
    const code = (error as NodeJS.ErrnoException).code;
    const what = code === undefined ? error.message : `${code}: ${error.message}`;
    return new TransportError(phase, `connection ${this.id} (${phase}): ${what}`, { cause: error });
  }
}

/** Keeps a TransportError; wraps anything else (a bug) so the request still fails as data. */
export function asTransportError(error: unknown, phase: TransportPhase): TransportError {
  if (error instanceof TransportError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new TransportError(phase, message, { cause: error });
}
