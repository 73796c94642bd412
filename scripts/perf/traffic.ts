/**
 * The traffic behind the perf capture: an HTTPS server and a TLS client load on 127.0.0.1 that open tens of
 * thousands of connections, mixed TLS 1.2 and 1.3, most carrying one request (a new connection per request,
 * the fleet this tool audits) and some kept alive for several. The requests are the agent's own mix
 * (../shared/AGENT-FACTS.md): log posts answered by a short acknowledgement, and now and then the ~11 KB
 * config; sizes are drawn from a seed.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { randomStream, type Random } from '../../bench/workload/prng.ts';

/**
 * The chain the server presents. RSA rather than ECDSA: the client is the bottleneck, and it verifies the RSA
 * chain's signatures far faster than the ECDSA chain's P-384 ones (measured on 2 cores under tcpdump, client
 * in a child process: about 400 connections/s with rsa2048 against 250 with ecdsa-p256).
 */
const CERT_DIR = join(import.meta.dirname, '../../fixtures/certs/rsa2048');
const HOST = '127.0.0.1';
/** The leaf names `localhost`; the client checks the chain against the test root. */
const SERVER_NAME = 'localhost';

/** Names the mix below; bumped when it changes, so a capture of an older mix is not reused (perf-analyze's cache). */
export const TRAFFIC_VERSION = 'agent-mix-1';

/**
 * Share of connections kept alive for several requests; the rest carry one request each, as an agent that
 * does not reuse its connections sends them. A fresh connection is about 8 KB on the wire, most of it the
 * handshake, so a 200 MB capture holds tens of thousands of connections.
 */
const KEPT_ALIVE_SHARE = 0.05;
const KEPT_ALIVE_REQUESTS = { min: 2, max: 6 } as const;
const TLS13_SHARE = 0.5;
/** One config fetch per this many requests: the field report's agents fetched it once a minute and posted logs 10-15 times. */
const REQUESTS_PER_CONFIG = 14;
/** The config request is `{node_key}`; the config, ~11 KB in the field report, is sent whole every time. */
const CONFIG_REQUEST_BYTES = { min: 60, max: 120 } as const;
const CONFIG_RESPONSE_BYTES = { min: 10 * 1024, max: 12 * 1024 } as const;
/** A log post carries up to 1024 result or status lines; its answer is `{"node_invalid":false}` or so. */
const LOG_REQUEST_BYTES = { min: 300, max: 8 * 1024 } as const;
const LOG_RESPONSE_BYTES = { min: 20, max: 60 } as const;
/** A connection that makes no progress for this long is a failure, not a hang. */
const CONNECTION_TIMEOUT_MS = 10_000;
/** Failed connections tolerated before the load gives up: a few resets under load are noise, more are a bug. */
const MAX_FAILURE_SHARE = 0.01;
const MIN_TOLERATED_FAILURES = 20;

/** Filler for bodies: printable, so a capture opened in Wireshark reads as JSON-ish text where decrypted. */
const FILLER_UNIT = '{"k":"v","n":12345,"t":"osquery"},';
const FILLER = Buffer.from(FILLER_UNIT.repeat(Math.ceil(Math.max(CONFIG_RESPONSE_BYTES.max, LOG_REQUEST_BYTES.max) / FILLER_UNIT.length)));

/** What the client load did. */
export interface TrafficCounts {
  connections: number;
  requests: number;
  tls12Connections: number;
  tls13Connections: number;
  keptAliveConnections: number;
  failedConnections: number;
  /** The first failure's message, to show when connections fail. */
  firstFailure: string | null;
}

/** The running HTTPS server. */
export interface TrafficServer {
  port: number;
  close(): Promise<void>;
}

/** Reads the fixture chain the client trusts. */
export function trustedRootPem(): Buffer {
  return readFileSync(join(CERT_DIR, 'root.pem'));
}

/**
 * Starts the HTTPS server on 127.0.0.1 and an ephemeral port: `POST /r/N` reads the body and answers N bytes.
 * It accepts TLS 1.2 and 1.3; the client picks the version per connection.
 */
export function startTrafficServer(): Promise<TrafficServer> {
  const server: Server = createServer(
    {
      cert: readFileSync(join(CERT_DIR, 'chain.pem')),
      key: readFileSync(join(CERT_DIR, 'leaf.key')),
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.3',
    },
    (req: IncomingMessage, res: ServerResponse) => {
      const match = /^\/r\/(\d+)$/.exec(req.url ?? '');
      const bytes = match === null ? 0 : Math.min(Number(match[1]), FILLER.length);
      req.resume();
      req.on('end', () => {
        res.writeHead(match === null ? 404 : 200, { 'content-type': 'application/json', 'content-length': bytes });
        res.end(FILLER.subarray(0, bytes));
      });
    },
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** One connection's plan, drawn from a worker's seeded stream. */
interface ConnectionPlan {
  version: 'TLSv1.2' | 'TLSv1.3';
  exchanges: { requestBodyBytes: number; responseBodyBytes: number }[];
}

/**
 * Between min and max, log-scaled with the uniform draw raised to `skew`: 1 is log-uniform, larger values
 * make small sizes commoner (most log posts carry a few lines, now and then a query's many results).
 */
function logScaled(random: Random, range: { min: number; max: number }, skew: number): number {
  return Math.round(range.min * (range.max / range.min) ** (random.next() ** skew));
}

/** One request: a config fetch, or (mostly) a log post. */
function drawExchange(random: Random): ConnectionPlan['exchanges'][number] {
  const between = (range: { min: number; max: number }) => random.int(range.min, range.max);
  if (random.next() < 1 / REQUESTS_PER_CONFIG) {
    return { requestBodyBytes: between(CONFIG_REQUEST_BYTES), responseBodyBytes: between(CONFIG_RESPONSE_BYTES) };
  }
  return { requestBodyBytes: logScaled(random, LOG_REQUEST_BYTES, 2), responseBodyBytes: between(LOG_RESPONSE_BYTES) };
}

function drawPlan(random: Random): ConnectionPlan {
  const version = random.next() < TLS13_SHARE ? 'TLSv1.3' : 'TLSv1.2';
  const count = random.next() < KEPT_ALIVE_SHARE ? random.int(KEPT_ALIVE_REQUESTS.min, KEPT_ALIVE_REQUESTS.max) : 1;
  return { version, exchanges: Array.from({ length: count }, () => drawExchange(random)) };
}

/** One client context per version, made once: without it every connect() builds a context and parses the root again. */
type ClientContexts = Record<ConnectionPlan['version'], SecureContext>;

function clientContexts(ca: Buffer): ClientContexts {
  return {
    'TLSv1.2': createSecureContext({ ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }),
    'TLSv1.3': createSecureContext({ ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }),
  };
}

/** The end of an HTTP/1.1 response head. */
const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * Runs one connection: the handshake, then each exchange in turn (the last one says `Connection: close`, so
 * the server closes first and the TIME_WAIT sockets stay on its side instead of using up client ports).
 * Resolves once the socket is closed.
 */
function runConnection(port: number, contexts: ClientContexts, plan: ConnectionPlan): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: HOST, port, servername: SERVER_NAME, secureContext: contexts[plan.version] });
    let next = 0;
    let pending: Buffer = Buffer.alloc(0);
    let bodyLeft: number | null = null;
    let answered = 0;
    const sendNext = (): void => {
      const exchange = plan.exchanges[next];
      if (exchange === undefined) return;
      const last = next === plan.exchanges.length - 1;
      next += 1;
      const head =
        `POST /r/${exchange.responseBodyBytes} HTTP/1.1\r\nHost: ${SERVER_NAME}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${exchange.requestBodyBytes}\r\n` +
        (last ? 'Connection: close\r\n' : '') +
        '\r\n';
      socket.write(Buffer.concat([Buffer.from(head), FILLER.subarray(0, exchange.requestBodyBytes)]));
    };
    socket.setTimeout(CONNECTION_TIMEOUT_MS, () => socket.destroy(new Error(`no progress for ${CONNECTION_TIMEOUT_MS / 1000} s`)));
    socket.once('secureConnect', sendNext);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      for (;;) {
        if (bodyLeft === null) {
          const end = pending.indexOf(HEAD_END);
          if (end < 0) return;
          const head = pending.subarray(0, end).toString('latin1');
          const length = /\r\ncontent-length: *(\d+)/i.exec(head);
          if (!head.startsWith('HTTP/1.1 200') || length === null) {
            socket.destroy(new Error(`unexpected response: ${head.split('\r\n')[0] ?? ''}`));
            return;
          }
          bodyLeft = Number(length[1]);
          pending = pending.subarray(end + HEAD_END.length);
        }
        const taken = Math.min(bodyLeft, pending.length);
        bodyLeft -= taken;
        pending = pending.subarray(taken);
        if (bodyLeft > 0) return;
        bodyLeft = null;
        answered += 1;
        sendNext();
      }
    });
    socket.once('error', reject);
    socket.once('close', () => {
      if (answered === plan.exchanges.length) resolve();
      else reject(new Error(`closed after ${answered} of ${plan.exchanges.length} responses`));
    });
  });
}

/**
 * Runs `concurrency` workers, each opening connection after connection from its own seeded stream (so the
 * sizes do not depend on scheduling), until `stop` fires; in-flight connections then finish.
 * Throws when more than 1% of connections fail.
 */
export async function runTrafficClients(
  options: { port: number; ca: Buffer; seed: number; concurrency: number },
  stop: AbortSignal,
): Promise<TrafficCounts> {
  const counts: TrafficCounts = {
    connections: 0,
    requests: 0,
    tls12Connections: 0,
    tls13Connections: 0,
    keptAliveConnections: 0,
    failedConnections: 0,
    firstFailure: null,
  };
  // A worker that gives up halts the others too, so the error surfaces without waiting for `stop`.
  const halt = new AbortController();
  const contexts = clientContexts(options.ca);
  stop.addEventListener('abort', () => halt.abort(), { once: true });
  const worker = async (index: number): Promise<void> => {
    const random = randomStream(options.seed, 'perf-traffic', index);
    while (!halt.signal.aborted) {
      const plan = drawPlan(random);
      counts.connections += 1;
      try {
        await runConnection(options.port, contexts, plan);
      } catch (error) {
        counts.failedConnections += 1;
        counts.firstFailure ??= error instanceof Error ? error.message : String(error);
        if (counts.failedConnections > Math.max(MIN_TOLERATED_FAILURES, counts.connections * MAX_FAILURE_SHARE)) {
          halt.abort();
          throw new Error(`${counts.failedConnections} of ${counts.connections} connections failed; first: ${counts.firstFailure}`, { cause: error });
        }
        continue;
      }
      counts.requests += plan.exchanges.length;
      if (plan.version === 'TLSv1.3') counts.tls13Connections += 1;
      else counts.tls12Connections += 1;
      if (plan.exchanges.length > 1) counts.keptAliveConnections += 1;
    }
  };
  const outcomes = await Promise.allSettled(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
  return counts;
}
