/**
 * An agent's requests in virtual time (DESIGN.md, "Workload"). Pure: the same workload, endpoint count,
 * virtual minutes and seed give the same requests, byte for byte.
 *
 * Each endpoint e starts at s_e, a seeded instant in [0, startSpreadSeconds): it enrolls at s_e, fetches its
 * config `firstAfterEnrollSeconds` later and then every config interval. Its logger and distributed workers
 * run from seeded phases in [0, interval) after s_e, so an agent's channels, and different agents, do not
 * fire together. Each periodic channel fires at s_e + phase + k·interval for every k with
 * phase + k·interval < virtualMinutes: when the interval divides the window, exactly window / interval
 * times, which is what makes per endpoint-minute counts exact. The last requests therefore fall up to
 * startSpreadSeconds past the window.
 */
import { gzipSync } from 'node:zlib';
import type { AgentRequest, ApiCall, ScheduledInstant } from '../model/index.ts';
import { UsageError } from '../errors.ts';
import { AGENT_API_PATHS, CHANNEL_OF, distributedQueryDue } from './agent-api.ts';
import type { Workload } from './format.ts';
import type { AgentIdentity } from './payloads.ts';
import {
  agentIdentity, distributedWriteBody, enrollBody, nodeKeyBody, resultLogBody, statusLogBody,
} from './payloads.ts';
import { randomStream } from './prng.ts';

/** How many agents, for how long, under which seed. */
export interface ScheduleOptions {
  /** Simulated agents (a positive integer). */
  endpoints: number;
  /** Length of the window each periodic channel covers, in virtual minutes. */
  virtualMinutes: number;
  /** Seed of every timing and payload draw (an integer). */
  seed: number;
}

/** A distributed write follows its read after the query ran: a seeded delay in this range. */
const WRITE_DELAY_MS = { min: 20, max: 500 } as const;
/** `Authorization: NodeKey` appears in osquery 5.23 (AGENT-FACTS.md, "Endpoints"). */
const AUTHORIZATION_SINCE = [5, 23, 0] as const;
/** osquery's `--logger_tls_compress` uses zlib's best compression. */
const LOGGER_GZIP_LEVEL = 9;

function msOf(seconds: number): number {
  return Math.round(seconds * 1000);
}

function sendsAuthorization(version: string): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < AUTHORIZATION_SINCE.length; i += 1) {
    const have = parts[i] ?? 0;
    const need = AUTHORIZATION_SINCE[i] ?? 0;
    if (have !== need) return have > need;
  }
  return true;
}

/** The headers osquery's HTTP client sends, in its order, minus Host and Content-Length (the transport's). */
function headersFor(w: Workload, id: AgentIdentity, api: ApiCall, gzipped: boolean): [string, string][] {
  const headers: [string, string][] = [['Content-Type', 'application/json'], ['Accept', 'application/json']];
  if (w.acceptGzip) headers.push(['Accept-Encoding', 'gzip']);
  if (gzipped) headers.push(['Content-Encoding', 'gzip']);
  headers.push(['User-Agent', `osquery/${w.agentVersion}`]);
  // The node key only exists after enrolling; the enroll request authenticates with its secret instead.
  if (api !== 'enroll' && sendsAuthorization(w.agentVersion)) headers.push(['Authorization', `NodeKey ${id.nodeKey}`]);
  return headers;
}

function request(w: Workload, id: AgentIdentity, api: ApiCall, atVirtualMs: number, payload: object): AgentRequest {
  const json = Buffer.from(JSON.stringify(payload), 'utf8');
  const gzipped = api === 'log' && w.loggerCompress;
  return {
    endpointIndex: id.endpointIndex,
    channel: CHANNEL_OF[api],
    api,
    path: AGENT_API_PATHS[api],
    atVirtualMs,
    headers: headersFor(w, id, api, gzipped),
    body: gzipped ? gzipSync(json, { level: LOGGER_GZIP_LEVEL }) : json,
  };
}

/** Instants phase + k·interval (relative to the agent's start) that fall inside the window. */
function firings(phaseMs: number, intervalMs: number, windowMs: number): number[] {
  const out: number[] = [];
  for (let at = phaseMs; at < windowMs; at += intervalMs) out.push(at);
  return out;
}

function checkOptions(o: ScheduleOptions): void {
  if (!Number.isInteger(o.endpoints) || o.endpoints < 1) throw new UsageError(`endpoints: expected a positive integer, got ${o.endpoints}`);
  if (!Number.isFinite(o.virtualMinutes) || o.virtualMinutes <= 0) {
    throw new UsageError(`virtualMinutes: expected a positive number, got ${o.virtualMinutes}`);
  }
  if (!Number.isSafeInteger(o.seed)) throw new UsageError(`seed: expected an integer, got ${o.seed}`);
}

/** One request of an endpoint before its body is made: `body` makes it (drawing from its seeded stream). */
interface Firing {
  api: ApiCall;
  atMs: number;
  body: () => object;
}

/**
 * One endpoint's requests in the agent's own order (enroll, config, logger, distributed), each with the
 * function that makes its body: the timing draws come from their own stream and never depend on a body, so
 * the instants alone (`scheduleInstants`) are those of the full schedule.
 */
function endpointFirings(w: Workload, seed: number, id: AgentIdentity, windowMs: number): Firing[] {
  const { endpointIndex } = id;
  const timing = randomStream(seed, endpointIndex, 'timing');
  const startMs = Math.floor(timing.next() * msOf(w.startSpreadSeconds));
  const loggerMs = msOf(w.logger.intervalSeconds);
  const loggerPhaseMs = Math.floor(timing.next() * loggerMs);
  const flushesPerStatus = Math.round(msOf(w.logger.statusIntervalSeconds) / loggerMs);
  const statusFlush = Math.floor(timing.next() * flushesPerStatus);
  const distributedMs = msOf(w.distributed.intervalSeconds);
  const distributedPhaseMs = Math.floor(timing.next() * distributedMs);
  const stream = (...name: (string | number)[]) => randomStream(seed, endpointIndex, ...name);

  const out: Firing[] = [{ api: 'enroll', atMs: startMs, body: () => enrollBody(w, id, stream('enroll'), startMs) }];
  for (const at of firings(msOf(w.config.firstAfterEnrollSeconds), msOf(w.config.intervalSeconds), windowMs)) {
    out.push({ api: 'config', atMs: startMs + at, body: () => nodeKeyBody(id) });
  }
  firings(loggerPhaseMs, loggerMs, windowMs).forEach((at, flush) => {
    const atMs = startMs + at;
    out.push({ api: 'log', atMs, body: () => resultLogBody(w, id, stream('result', flush), atMs, flush) });
    // Status lines buffered since the last status post leave on this flush, after its results.
    if (flush % flushesPerStatus === statusFlush) {
      out.push({ api: 'log', atMs, body: () => statusLogBody(w, id, stream('status', flush), atMs) });
    }
  });
  firings(distributedPhaseMs, distributedMs, windowMs).forEach((at, read) => {
    const atMs = startMs + at;
    out.push({ api: 'distributed_read', atMs, body: () => nodeKeyBody(id) });
    if (distributedQueryDue(id.nodeKey, read, w.distributed.queryFraction)) {
      // The write's delay is this stream's first draw; its body continues the same stream.
      const rnd = stream('distributed-write', read);
      const writeAt = atMs + rnd.int(WRITE_DELAY_MS.min, WRITE_DELAY_MS.max);
      out.push({ api: 'distributed_write', atMs: writeAt, body: () => distributedWriteBody(w, id, rnd, writeAt) });
    }
  });
  return out;
}

/** Every agent's items, made by `make` from each firing, in schedule order (see `buildSchedule`). */
function schedule<T extends { atVirtualMs: number; endpointIndex: number }>(w: Workload, o: ScheduleOptions, make: (id: AgentIdentity, f: Firing) => T): T[] {
  checkOptions(o);
  const windowMs = Math.round(o.virtualMinutes * 60_000);
  const all: T[] = [];
  for (let e = 0; e < o.endpoints; e += 1) {
    const id = agentIdentity(o.seed, e);
    for (const f of endpointFirings(w, o.seed, id, windowMs)) all.push(make(id, f));
  }
  // Array.prototype.sort is stable (ES2019), which keeps each endpoint's same-instant order.
  return all.sort((a, b) => a.atVirtualMs - b.atVirtualMs || a.endpointIndex - b.endpointIndex);
}

/**
 * Every request of `endpoints` agents over `virtualMinutes`, sorted by `atVirtualMs`, then `endpointIndex`;
 * requests of one endpoint at the same instant keep the agent's order (enroll, config, result log, status
 * log, distributed read, write). Byte-identical for the same inputs; a different seed changes timings and
 * every seeded value. Memory is about one body (0.1-2 KB) per request.
 * @throws UsageError when `endpoints`, `virtualMinutes` or `seed` is out of range.
 */
export function buildSchedule(w: Workload, o: ScheduleOptions): AgentRequest[] {
  return schedule(w, o, (id, f) => request(w, id, f.api, f.atMs, f.body()));
}

/**
 * The same schedule's instants without bodies: who sends on which channel when, in the same order. What
 * the steady state derives persistent mode's reconnects from, over hours of virtual time, at a few dozen
 * bytes a request instead of a body's kilobyte and its gzip.
 */
export function scheduleInstants(w: Workload, o: ScheduleOptions): ScheduledInstant[] {
  return schedule(w, o, (id, f) => ({ endpointIndex: id.endpointIndex, channel: CHANNEL_OF[f.api], atVirtualMs: f.atMs }));
}

/**
 * Requests per endpoint-minute the schedule implies in steady state, enroll (once per agent) excluded:
 * config + result logs + status logs + distributed reads × (1 + queryFraction). For the default workload
 * 1 + 12 + 1 + 1.1 = 15.1, inside the field report's 12-16 sockets per agent-minute.
 */
export function expectedRequestsPerEndpointMinute(w: Workload): number {
  const perMinute = (seconds: number): number => 60_000 / msOf(seconds);
  return perMinute(w.config.intervalSeconds) + perMinute(w.logger.intervalSeconds) +
    perMinute(w.logger.statusIntervalSeconds) + perMinute(w.distributed.intervalSeconds) * (1 + w.distributed.queryFraction);
}
