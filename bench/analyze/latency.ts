/**
 * Latency statistics of request outcomes (per API call, and over every call pooled) and the round-trip
 * model each measurement is set against.
 */
import type {
  ApiCall,
  ApiLatency,
  LatencyObservation,
  LatencyPhases,
  LatencySummary,
  MeasuredScenario,
  RequestOutcome,
  RoundTripModel,
  ScenarioSpec,
} from '../model/index.ts';

type Ok = Extract<RequestOutcome, { state: 'ok' }>;

/** The p-th percentile (0..100) of sorted samples, linearly interpolated between closest ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/**
 * The two-sided 95% critical value of Student's t with `df` degrees of freedom (one when `df` is 0), by the
 * Cornish-Fisher expansion of the t quantile around the normal one (Abramowitz & Stegun 26.7.5): within
 * 1e-3 of the exact value from 3 degrees of freedom up, exact to the table's digits below.
 */
export function tCritical95(df: number): number {
  // Exact values for the few degrees of freedom where the expansion is poor.
  const small = [12.706204736, 4.302652730, 3.182446305];
  const d = Math.max(1, df);
  if (d <= small.length) return small[d - 1]!;
  const z = 1.959963984540054;
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  const z9 = z ** 9;
  return (
    z +
    (z3 + z) / (4 * d) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * d ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * d ** 3) +
    (79 * z9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * d ** 4)
  );
}

/**
 * Mean, sample standard deviation, percentiles and the 95% margin of error of the mean of a sample; null for
 * an empty one. The same definitions as tinybench's statistics (test/analyze/latency.test.ts holds them
 * equal), with p90 besides.
 */
export function summarize(samples: readonly number[]): LatencySummary | null {
  const n = samples.length;
  if (n === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  // Welford's running mean and sum of squared deviations.
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < n; i++) {
    const x = sorted[i]!;
    const delta = x - mean;
    mean += delta / (i + 1);
    m2 += delta * (x - mean);
  }
  const sd = n > 1 ? Math.sqrt(m2 / (n - 1)) : 0;
  return {
    samples: n,
    meanMs: mean,
    sdMs: sd,
    p50Ms: percentile(sorted, 50),
    p75Ms: percentile(sorted, 75),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    marginOfErrorMs: n > 1 ? (sd / Math.sqrt(n)) * tCritical95(n - 1) : 0,
  };
}

/** Every successful outcome per API call, in the order given. */
function okByApi(outcomes: readonly RequestOutcome[]): Map<ApiCall, Ok[]> {
  const byApi = new Map<ApiCall, Ok[]>();
  for (const o of outcomes) {
    if (o.state !== 'ok') continue;
    const list = byApi.get(o.request.api) ?? [];
    list.push(o);
    byApi.set(o.request.api, list);
  }
  return byApi;
}

/**
 * Latency per API call from the latency phase, each with its round-trip model. `reference` is the same
 * configuration's loopback scenario (its p50s are the server's time on this machine), when the run has one.
 */
export function latencyByApi(
  spec: ScenarioSpec,
  observations: readonly LatencyObservation[],
  reference: MeasuredScenario | null,
): Partial<Record<ApiCall, ApiLatency>> {
  const result: Partial<Record<ApiCall, ApiLatency>> = {};
  for (const [api, list] of okByApi(observations.flatMap((o) => o.outcomes))) {
    const pick = (f: (o: Ok) => number | null) => list.map(f).filter((x): x is number => x !== null);
    const total = summarize(pick((o) => o.phases.totalMs))!;
    const upBytes = percentile(pick((o) => o.socketBytes.up).sort((a, b) => a - b), 50);
    const downBytes = percentile(pick((o) => o.socketBytes.down).sort((a, b) => a - b), 50);
    const responseFlightBytes = percentile(pick((o) => o.responseFlightBytes).sort((a, b) => a - b), 50);
    const model = roundTripModel(spec, {
      newConnection: list.some((o) => o.newConnection),
      resumed: list.some((o) => o.sessionResumed),
      upBytes,
      downBytes,
      responseFlightBytes,
      serverTimeMs: spec.link === null ? null : (reference?.latency[api]?.total.p50Ms ?? null),
    });
    result[api] = {
      total,
      totalSamplesMs: pick((o) => Math.round(o.phases.totalMs * 100) / 100).sort((a, b) => a - b),
      tcpConnect: summarize(pick((o) => o.phases.tcpConnectMs)),
      tlsHandshake: summarize(pick((o) => o.phases.tlsHandshakeMs)),
      firstByte: summarize(pick((o) => o.phases.firstByteMs))!,
      transfer: summarize(pick((o) => o.phases.totalMs - o.phases.firstByteMs))!,
      upBytes,
      downBytes,
      model,
      modelRatio: model.ms > 0 ? total.p50Ms / model.ms : null,
    };
  }
  return result;
}

/**
 * The mean request's phases over every successful latency-phase request (all API calls), and the round-trip
 * model averaged over the same requests (each request weighted by its API call's model). Null when none
 * succeeded.
 */
export function latencyPhases(outcomes: readonly RequestOutcome[], byApi: Partial<Record<ApiCall, ApiLatency>>): LatencyPhases | null {
  const ok = outcomes.filter((o): o is Ok => o.state === 'ok');
  if (ok.length === 0) return null;
  const mean = (f: (o: Ok) => number) => ok.reduce((sum, o) => sum + f(o), 0) / ok.length;
  // Phase timestamps are cumulative from the request's start; a reused connection has no connect or handshake.
  const connected = (o: Ok) => o.phases.tcpConnectMs ?? 0;
  const secured = (o: Ok) => o.phases.tlsHandshakeMs ?? connected(o);
  const phases = {
    tcpConnectMs: mean(connected),
    tlsHandshakeMs: mean((o) => secured(o) - connected(o)),
    waitMs: mean((o) => o.phases.firstByteMs - secured(o)),
    transferMs: mean((o) => o.phases.totalMs - o.phases.firstByteMs),
  };
  const model = (o: Ok) => byApi[o.request.api]?.model;
  const modelMs = mean((o) => model(o)?.ms ?? 0);
  return {
    requests: ok.length,
    ...phases,
    totalMs: mean((o) => o.phases.totalMs),
    roundTrips: mean((o) => model(o)?.roundTrips ?? 0),
    modelMs: modelMs > 0 ? modelMs : null,
  };
}

/** The total latency of every successful request, all API calls pooled. */
export function pooledLatency(outcomes: readonly RequestOutcome[]): LatencySummary | null {
  return summarize(outcomes.flatMap((o) => (o.state === 'ok' ? [o.phases.totalMs] : [])));
}

/** Linux's initial congestion window (RFC 6928): 10 segments. */
const INITIAL_WINDOW_SEGMENTS = 10;
/** A full segment's payload on a 1500-byte MTU path with TCP timestamps (1500 − 20 − 20 − 12). */
const MSS_BYTES = 1448;
/** IP and TCP headers of one full segment (with timestamps): what a rate limit on IP packets also carries. */
const SEGMENT_HEADER_BYTES = 52;

/** What the model needs to know of a request, beyond its scenario. */
interface RequestShape {
  /** The request opened its connection (fresh, resumed), or reused one (persistent). */
  newConnection: boolean;
  /** The new connection resumed a TLS session. */
  resumed: boolean;
  /** TCP payload each way, the handshake included when the request opened the connection. */
  upBytes: number;
  downBytes: number;
  /** The response's own flight (after the request was written). */
  responseFlightBytes: number;
  serverTimeMs: number | null;
}

/**
 * Round trips to the first response byte, and the model's time for one request.
 *
 * A new TCP connection costs one round trip (SYN, SYN-ACK) before the client speaks. A full TLS 1.2
 * handshake takes two more (ClientHello → ServerHello…ServerHelloDone; ClientKeyExchange, Finished →
 * Finished); TLS 1.3 and any resumed session one (the client's Finished goes out with the request). The
 * request and its response then take one. A response flight larger than the initial congestion window
 * waits for ACKs: slow start doubles the window each round trip (Linux also restarts from it after an idle
 * period, `tcp_slow_start_after_idle`, so a kept-alive connection pays it too).
 */
export function roundTripModel(spec: ScenarioSpec, r: RequestShape): RoundTripModel {
  const handshake = !r.newConnection ? 0 : 1 + (r.resumed || spec.tls === 'tls1.3' ? 1 : 2);
  const roundTrips = handshake + 1 + slowStartRounds(r.responseFlightBytes);
  const link = spec.link;
  const rttMs = link?.rttMs ?? 0;
  const transferMs = link === null ? 0 : serialisationMs(r.upBytes, link.upBitsPerSecond) + serialisationMs(r.downBytes, link.downBitsPerSecond);
  return { roundTrips, rttMs, serverTimeMs: r.serverTimeMs, transferMs, ms: roundTrips * rttMs + (r.serverTimeMs ?? 0) + transferMs };
}

/** Round trips beyond the first that a flight of `bytes` needs under slow start from the initial window. */
export function slowStartRounds(bytes: number): number {
  let segments = Math.ceil(bytes / MSS_BYTES);
  let window = INITIAL_WINDOW_SEGMENTS;
  let rounds = 0;
  while (segments > window) {
    segments -= window;
    window *= 2;
    rounds++;
  }
  return rounds;
}

/** Time to send `payloadBytes` of TCP payload, with its segments' headers, at `bitsPerSecond`. */
function serialisationMs(payloadBytes: number, bitsPerSecond: number | null): number {
  if (bitsPerSecond === null) return 0;
  const bytes = payloadBytes + Math.ceil(payloadBytes / MSS_BYTES) * SEGMENT_HEADER_BYTES;
  return ((bytes * 8) / bitsPerSecond) * 1000;
}
