/**
 * The embedded agent-API server's process: `node <bundle>/agent-server.js --options
 * <json>`, started by `startAgentServer()` with an IPC channel. Running apart from the client lets its CPU
 * time be measured alone (process.cpuUsage() of this process only).
 *
 * IPC: sends `{type:'listening', port}` once bound, answers `stats` and `reset`, stops on `close`, and exits
 * at once when the channel closes (the parent died). A startup failure is one `agent-server: <message>` line
 * on stderr (synchronous for a pipe on Linux, so it is never lost) and exit code 2 (bad input: files, port)
 * or 1.
 */
import { constants as cryptoConstants } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ApiCall } from '../model/index.ts';
import { InputError } from '../errors.ts';
import { apiCallForPath, distributedQueryDue } from '../workload/agent-api.ts';
import { RESPONSE_GZIP_LEVEL, loadResponseBodies, type ResponseBody, type ResponseName } from './api-bodies.ts';
import { DEFAULT_MAX_REQUESTS_PER_CONNECTION, emptyRequestCounts, type AgentServerOptions, type AgentServerStats, type ChildMessage, type ParentMessage } from './protocol.ts';

/** nginx's `keepalive_requests` default since 1.19.10. */
/** After `close`, how long in-flight requests get before every connection is cut. */
const CLOSE_GRACE_MS = 2000;
/** TLS 1.2 session-ID cache bound; the oldest entry goes first. */
const SESSION_CACHE_ENTRIES = 20_000;

function send(message: ChildMessage): void {
  process.send?.(message);
}

function fail(kind: 'input' | 'runtime', message: string): never {
  process.stderr.write(`agent-server: ${message}\n`);
  process.exit(kind === 'input' ? 2 : 1);
}

function jsonBody(value: unknown): ResponseBody {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  return { json, gzip: gzipSync(json, { level: RESPONSE_GZIP_LEVEL }) };
}

function parseOptions(argv: string[]): AgentServerOptions {
  const at = argv.indexOf('--options');
  const raw = at === -1 ? undefined : argv[at + 1];
  if (raw === undefined) fail('input', 'missing --options <json> (start this file through startAgentServer())');
  try {
    return JSON.parse(raw) as AgentServerOptions;
  } catch (error) {
    return fail('input', `--options: not valid JSON (${(error as Error).message})`);
  }
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new InputError(`${file}: cannot read the ${what} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
}

/** Per-connection and per-request counters, reset together. */
class Counters {
  requests = emptyRequestCounts();
  notFound = 0;
  badRequests = 0;
  connections = 0;
  handshakes = { full: 0, resumed: 0 };
  cpuBase = process.cpuUsage();

  snapshot(): AgentServerStats {
    const cpu = process.cpuUsage(this.cpuBase);
    return {
      requests: { ...this.requests },
      notFound: this.notFound,
      badRequests: this.badRequests,
      cpuUserMs: cpu.user / 1000,
      cpuSystemMs: cpu.system / 1000,
      connections: this.connections,
      handshakes: { ...this.handshakes },
    };
  }
}

async function main(): Promise<void> {
  if (process.send === undefined) fail('input', 'no IPC channel: start this file through startAgentServer()');
  const o = parseOptions(process.argv);
  const version = o.tls === 'tls1.3' ? 'TLSv1.3' : 'TLSv1.2';
  let cert: Buffer;
  let key: Buffer;
  let bodies: Record<ResponseName, ResponseBody>;
  try {
    cert = await readPem(o.chainFile ?? path.join(o.certDir, 'chain.pem'), 'certificate chain');
    key = await readPem(o.keyFile ?? path.join(o.certDir, 'leaf.key'), 'private key');
    bodies = await loadResponseBodies(o.apiDir, o.configResponseBytes);
  } catch (error) {
    return fail(error instanceof InputError ? 'input' : 'runtime', (error as Error).message);
  }

  const counters = new Counters();
  const readsByNodeKey = new Map<string, number>();
  const queryFraction = o.distributedQueryFraction ?? 0;

  const server = https.createServer({
    cert,
    key,
    minVersion: version,
    maxVersion: version,
    // SSL_OP_NO_TICKET: no stateless tickets (TLS 1.2) and no resumable PSK tickets (TLS 1.3).
    secureOptions: o.sessionTickets ? 0 : cryptoConstants.SSL_OP_NO_TICKET,
  });
  server.keepAliveTimeout = o.idleTimeoutMs;
  // Counted here rather than with server.maxRequestsPerSocket, which only marks the last response
  // `Connection: close` and leaves the socket open; nginx closes it, and so do we.
  const maxRequests = o.maxRequestsPerConnection ?? DEFAULT_MAX_REQUESTS_PER_CONNECTION;
  const requestsOnSocket = new WeakMap<object, number>();

  if (o.sessionCache) {
    // Node disables OpenSSL's internal cache; these events are the server-side session-ID cache.
    const cache = new Map<string, Buffer>();
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      if (cache.size >= SESSION_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
      cache.set(id.toString('hex'), data);
      done();
    });
    server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
      done(null, cache.get(id.toString('hex')) ?? null);
    });
  }

  server.on('connection', () => {
    counters.connections += 1;
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    if (socket.isSessionReused()) counters.handshakes.resumed += 1;
    else counters.handshakes.full += 1;
    // When the client closes first, nginx closes its side without a TLS close_notify (ngx_ssl_recv marks
    // the connection no_send_shutdown on EOF), so the client's socket goes cleanly to TIME_WAIT. Node's HTTP
    // server would end() the TLS socket and send a close_notify the client never reads (it has already
    // closed), answered by an RST: no TIME_WAIT, and 24 bytes on the wire nginx never sends. Destroying the
    // socket first closes TCP only; this listener must run before the HTTP server's own 'end' handler.
    socket.prependListener('end', () => socket.destroy());
  });

  const respond = (req: IncomingMessage, res: ServerResponse, status: number, body: ResponseBody): void => {
    const gzip = /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const bytes = gzip ? body.gzip : body.json;
    const headers: Record<string, string | number> = { 'Content-Type': 'application/json', 'Content-Length': bytes.length };
    if (gzip) headers['Content-Encoding'] = 'gzip';
    const served = (requestsOnSocket.get(req.socket) ?? 0) + 1;
    requestsOnSocket.set(req.socket, served);
    // An explicit `Connection: close` makes Node end the connection once this response is written.
    if (served >= maxRequests) headers['Connection'] = 'close';
    res.writeHead(status, headers);
    res.end(bytes);
  };

  const answer = (api: ApiCall, payload: Record<string, unknown>): ResponseBody => {
    if (api !== 'distributed_read') return bodies[api];
    const nodeKey = typeof payload['node_key'] === 'string' ? payload['node_key'] : '';
    const readIndex = readsByNodeKey.get(nodeKey) ?? 0;
    readsByNodeKey.set(nodeKey, readIndex + 1);
    return distributedQueryDue(nodeKey, readIndex, queryFraction) ? bodies.distributed_read_query : bodies.distributed_read;
  };

  const notFound = jsonBody({ error: 'not found' });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const api = req.method === 'POST' ? apiCallForPath(req.url ?? '') : null;
      if (api === null) {
        counters.notFound += 1;
        respond(req, res, 404, notFound);
        return;
      }
      let payload: Record<string, unknown>;
      try {
        const raw = Buffer.concat(chunks);
        const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        payload = JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        counters.badRequests += 1;
        respond(req, res, 400, jsonBody({ error: `bad request body: ${(error as Error).message}` }));
        return;
      }
      counters.requests[api] += 1;
      respond(req, res, 200, answer(api, payload));
    });
  });

  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    server.close(() => process.exit(0));
    server.closeIdleConnections();
    setTimeout(() => {
      server.closeAllConnections();
    }, CLOSE_GRACE_MS).unref();
  };

  process.on('message', (message: ParentMessage) => {
    switch (message.type) {
      case 'stats':
        send({ type: 'stats', id: message.id, stats: counters.snapshot() });
        break;
      case 'reset':
        Object.assign(counters, new Counters());
        send({ type: 'reset', id: message.id });
        break;
      case 'close':
        shutdown();
        break;
    }
  });
  // The parent died or closed the channel: nobody can read results or stop us any more.
  process.on('disconnect', () => process.exit(0));

  server.on('error', (error: NodeJS.ErrnoException) => {
    const where = `${o.host ?? '127.0.0.1'}:${o.port ?? 0}`;
    fail(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? 'input' : 'runtime', `cannot listen on ${where} (${error.code ?? error.message})`);
  });
  server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => {
    const address = server.address();
    if (address === null || typeof address === 'string') fail('runtime', 'listening socket has no port');
    counters.cpuBase = process.cpuUsage();
    send({ type: 'listening', port: address.port });
  });
}

main().catch((error: unknown) => fail('runtime', error instanceof Error ? (error.stack ?? error.message) : String(error)));
