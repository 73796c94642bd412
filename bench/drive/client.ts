/**
 * The agent's client side in the three modes of DESIGN.md "Modes", one object per scenario run.
 *
 * Agent behaviour modelled here (osquery/remote/http_client.cpp and transports/tls.cpp, see AGENT-FACTS.md):
 * - one client per worker thread, so requests of one (endpoint, channel) run one at a time, and different
 *   channels run concurrently;
 * - a failed attempt (refused, handshake, write or read error, early EOF) closes the socket and is retried
 *   once on a new connection (`Client::sendHTTPRequest`); a timed-out request is not retried;
 * - one deadline covers the whole request, retry included (the timer is armed once per request);
 * - after the response, the socket is closed when the server said `Connection: close`, and always in
 *   `fresh` mode (no keep-alive); `resumed` mode closes too, it differs from `fresh` only by resumption.
 */

import { performance } from 'node:perf_hooks';
import type { AgentRequest, Channel, Mode, RequestOutcome, SocketBytes, TlsVersion } from '../model/index.ts';
import type tls from 'node:tls';
import { TlsConnection, asTransportError, secureContextFor, type ClosedBy } from './connection.ts';
import { hostHeaderValue, serializeRequest } from './http1.ts';
import { TransportError } from './transport-error.ts';

/** The agent's per-request timeout: `options.timeout(16)` in `TLSTransport::getOptions`. */
export const DEFAULT_REQUEST_DEADLINE_MS = 16_000;

/** How to reach the server and which transport to run. */
export interface TransportOptions {
  mode: Mode;
  /** Address to connect to (e.g. `127.0.0.1`). */
  host: string;
  port: number;
  /** SNI, certificate name to verify, and the Host header's name (the agent's `--tls_hostname`). */
  servername: string;
  /** CA certificate(s) the server's chain must verify against. */
  ca: Buffer | string;
  tls: TlsVersion;
  /** `persistent` only: drop a channel's client this long after its first request; 0 = never. */
  sessionTimeoutMs: number;
  /** Every new connection goes through this HTTP CONNECT proxy first (the agent's `--proxy_hostname`). */
  proxy?: { host: string; port: number };
  /** Each agent's source address, bound before connect (`agentAddress`); the kernel picks when absent. */
  sourceAddress?: (endpointIndex: number) => string;
  /** Covers connect, handshake, write and read of one request, its retry included. Default 16000. */
  requestDeadlineMs?: number;
  /** Receives NSS key log lines for every connection (Wireshark's `tls.keylog_file` format). */
  keyLog?: NodeJS.WritableStream;
  /** Milliseconds on a monotonic clock for the session timeout; defaults to `performance.now()`. The runner
   * may pass a virtual clock instead. */
  clock?: () => number;
}

/** One TCP connection the client opened, for reports and for reconciling with the capture. */
export interface ConnectionRecord {
  /** 0-based, in order of opening; the `connectionId` of outcomes. */
  id: number;
  endpointIndex: number;
  channel: Channel;
  /** Client TCP port (0 when the TCP connect never completed). */
  localPort: number;
  /** Client address ('' when the TCP connect never completed): an agent's own with per-agent addresses. */
  localAddress: string;
  /** Unix epoch milliseconds (sub-ms precision), comparable with capture timestamps. */
  openedAtMs: number;
  closedAtMs: number | null;
  /** Raw TCP payload bytes of this socket: TLS records, not plaintext. */
  bytes: SocketBytes;
  sessionResumed: boolean;
  /** Requests written on it, failed ones included. */
  requests: number;
  closedBy: ClosedBy;
}

/** A worker thread's client in `persistent` mode (osquery's thread_local `tl_client`). */
interface ChannelClient {
  connection: TlsConnection | null;
  /** `clock()` of the first request, then of each reset (`last_time_reseted`). */
  resetAtMs: number;
}

/**
 * Sends an agent's requests in one of the three modes, and keeps every connection's record and raw byte
 * counters. {@link send} never rejects: a failed request is an outcome.
 */
export class AgentClient {
  private readonly options: TransportOptions;
  private readonly deadlineMs: number;
  private readonly clock: () => number;
  private readonly hostHeader: string;
  /** Connections not yet closed. A closed one is dropped for its record: a fleet in `fresh` opens tens of
   * thousands, and keeping their sockets (each TLSSocket with its buffers) grew the client to 1.8 GB at 1000
   * agents, its garbage collector then stalling handshakes past the request deadline. */
  private readonly live = new Set<TlsConnection>();
  /** Records of the closed connections, in order of closing. */
  private readonly closedRecords: ConnectionRecord[] = [];
  private openedCount = 0;
  /** The last queued request of each (endpoint, channel): the next one waits for it. */
  private readonly tails = new Map<string, Promise<RequestOutcome>>();
  private readonly channelClients = new Map<string, ChannelClient>();
  /** `resumed` mode: the newest session per endpoint (one server per client object). */
  private readonly sessions = new Map<number, Buffer>();
  private closed = false;
  private readonly secureContext: tls.SecureContext;

  constructor(options: TransportOptions) {
    this.options = options;
    this.deadlineMs = options.requestDeadlineMs ?? DEFAULT_REQUEST_DEADLINE_MS;
    this.clock = options.clock ?? (() => performance.now());
    this.hostHeader = hostHeaderValue(options.servername, options.port);
    this.secureContext = secureContextFor(options.ca, options.tls);
  }

  /** Sends one request after the previous request of its (endpoint, channel) finished. */
  send(req: AgentRequest): Promise<RequestOutcome> {
    const key = channelKey(req);
    const previous = this.tails.get(key);
    const outcome = previous === undefined ? this.run(req) : previous.then(() => this.run(req));
    this.tails.set(key, outcome);
    return outcome;
  }

  /** Waits for queued requests, then closes every open connection the agent's way and waits until closed. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.tails.values());
    // One connection per turn of the event loop: a server's bytes that reach an idle connection while it is
    // being closed (nginx's close_notify when its keep-alive timeout fires) are read and counted first.
    // Closing thousands in one synchronous sweep left them unread in the kernel, captured but never in the
    // socket counters, and the reconciliation failed by those bytes (62 of 4.2 MB at 1000 agents).
    const closing: Promise<void>[] = [];
    for (const connection of [...this.live]) {
      if (connection.closedAtMs === null) await new Promise<void>((resolve) => setImmediate(resolve));
      closing.push(connection.close('client'));
    }
    await Promise.all(closing);
  }

  /**
   * Stops at once (Ctrl-C): requests in flight fail, every connection is destroyed, nothing waits for the
   * request deadline. Resolves when every socket has closed.
   */
  async abort(reason: string): Promise<void> {
    this.closed = true;
    const error = new TransportError('aborted', reason);
    const open = [...this.live];
    for (const connection of open) connection.abort(error);
    await Promise.all(open.map((connection) => connection.close('client')));
  }

  /** Every connection opened so far, in order of opening. */
  connections(): ConnectionRecord[] {
    return [...this.closedRecords, ...[...this.live].map(recordOf)].sort((a, b) => a.id - b.id);
  }

  /** Raw TCP payload bytes summed over every socket ever opened, closed ones included. */
  socketBytes(): SocketBytes {
    const total: SocketBytes = { up: 0, down: 0 };
    for (const record of this.connections()) {
      total.up += record.bytes.up;
      total.down += record.bytes.down;
    }
    return total;
  }

  private async run(request: AgentRequest): Promise<RequestOutcome> {
    if (this.closed) return { state: 'failed', request, error: 'client already closed', connectionId: null };
    const startedAt = performance.now();
    let current: TlsConnection | null = null;
    // A holder, not a `let`: the timer callback sets it, and TypeScript does not track closures' writes.
    const deadline: { error: TransportError | null } = { error: null };
    const timer = setTimeout(() => {
      deadline.error = new TransportError('deadline', `request deadline of ${this.deadlineMs} ms exceeded`);
      current?.abort(deadline.error);
    }, this.deadlineMs);
    try {
      const bytes = serializeRequest(request, this.hostHeader);
      const { existing, dropAfter } = this.checkOut(request);
      for (let attempt = 0; attempt < 2; attempt += 1) {
        if (deadline.error !== null) break;
        const reused = attempt === 0 ? existing : null;
        const connection = reused ?? this.open(request);
        current = connection;
        const before = reused === null ? { up: 0, down: 0 } : connection.bytes;
        try {
          if (reused === null) await connection.handshake();
          const exchange = await connection.request(bytes);
          const phases = {
            tcpConnectMs: reused === null ? since(startedAt, connection.tcpConnectedAt) : null,
            tlsHandshakeMs: reused === null ? since(startedAt, connection.secureAt) : null,
            firstByteMs: exchange.firstByteAt - startedAt,
            totalMs: exchange.doneAt - startedAt,
          };
          if (exchange.response.closeAfter) {
            await this.retire(request, connection, 'server');
          } else if (this.options.mode !== 'persistent' || dropAfter) {
            await this.retire(request, connection, 'client');
          }
          const after = connection.bytes;
          return {
            state: 'ok',
            request,
            status: exchange.response.status,
            responseBodyBytes: exchange.response.body.length,
            socketBytes: { up: after.up - before.up, down: after.down - before.down },
            responseFlightBytes: exchange.responseBytes,
            connectionId: connection.id,
            newConnection: reused === null,
            sessionResumed: connection.sessionResumed,
            retried: attempt > 0,
            phases,
          };
        } catch (error) {
          const failure = deadline.error ?? asTransportError(error, 'read');
          connection.abort(failure);
          this.forget(request, connection);
          if (attempt > 0 || deadline.error !== null) {
            return { state: 'failed', request, error: failure.message, connectionId: connection.id };
          }
        }
      }
      const failure = deadline.error ?? new TransportError('deadline', 'request not attempted');
      return { state: 'failed', request, error: failure.message, connectionId: current?.id ?? null };
    } catch (error) {
      // serializeRequest and anything unexpected: still an outcome, so the run keeps its other requests.
      const failure = asTransportError(error, 'protocol');
      return { state: 'failed', request, error: failure.message, connectionId: current?.id ?? null };
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * `persistent`: the channel's connection, if any, and whether the session timeout expired. As in
   * osquery's `getClient()`, the request that finds the timeout expired still runs on the old client, which
   * is dropped (its socket closed) right after; the clock restarts at that request, and the next request
   * opens a new connection.
   */
  private checkOut(request: AgentRequest): { existing: TlsConnection | null; dropAfter: boolean } {
    if (this.options.mode !== 'persistent') return { existing: null, dropAfter: false };
    const now = this.clock();
    const key = channelKey(request);
    let client = this.channelClients.get(key);
    if (client === undefined) {
      client = { connection: null, resetAtMs: now };
      this.channelClients.set(key, client);
    }
    const timeoutMs = this.options.sessionTimeoutMs;
    const dropAfter = timeoutMs > 0 && now - client.resetAtMs > timeoutMs;
    if (dropAfter) client.resetAtMs = now;
    // Like asio's `is_open()`, only a socket the client itself closed counts as gone: a server close is
    // discovered by writing to it.
    return { existing: client.connection, dropAfter };
  }

  private open(request: AgentRequest): TlsConnection {
    const { mode, host, port, servername, ca, tls, keyLog } = this.options;
    const endpointIndex = request.endpointIndex;
    const session = mode === 'resumed' ? this.sessions.get(endpointIndex) : undefined;
    const connection = new TlsConnection({
      id: this.openedCount++,
      endpointIndex,
      channel: request.channel,
      host,
      port,
      ...(this.options.sourceAddress === undefined ? {} : { localAddress: this.options.sourceAddress(endpointIndex) }),
      ...(this.options.proxy === undefined ? {} : { proxy: this.options.proxy }),
      servername,
      ca,
      tls,
      secureContext: this.secureContext,
      keepAlive: mode === 'persistent',
      ...(session === undefined ? {} : { session }),
      ...(mode === 'resumed' ? { onSession: (s: Buffer) => this.sessions.set(endpointIndex, s) } : {}),
      ...(keyLog === undefined ? {} : { keyLog }),
    });
    this.live.add(connection);
    // Registered first, this runs before whoever awaits the close: by then the record has replaced it.
    void connection.whenClosed.then(() => {
      this.live.delete(connection);
      this.closedRecords.push(recordOf(connection));
    });
    const client = this.channelClients.get(channelKey(request));
    if (client !== undefined) client.connection = connection;
    return connection;
  }

  /** Closes a connection after its response and stops the channel from reusing it. */
  private async retire(request: AgentRequest, connection: TlsConnection, reason: 'client' | 'server'): Promise<void> {
    this.forget(request, connection);
    await connection.close(reason);
  }

  private forget(request: AgentRequest, connection: TlsConnection): void {
    const client = this.channelClients.get(channelKey(request));
    if (client?.connection === connection) client.connection = null;
  }
}

/** A connection's record: its counters are final once it closed (Node keeps a closed socket's counts). */
function recordOf(c: TlsConnection): ConnectionRecord {
  return {
    id: c.id,
    endpointIndex: c.endpointIndex,
    channel: c.channel,
    localPort: c.localPort,
    localAddress: c.localAddress,
    openedAtMs: c.openedAtMs,
    closedAtMs: c.closedAtMs,
    bytes: c.bytes,
    sessionResumed: c.sessionResumed,
    requests: c.requests,
    closedBy: c.closedBy,
  };
}

function channelKey(request: AgentRequest): string {
  return `${request.endpointIndex}/${request.channel}`;
}

function since(startedAt: number, at: number | null): number | null {
  return at === null ? null : at - startedAt;
}
