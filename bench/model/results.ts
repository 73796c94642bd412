/**
 * A run's results (`tls-reuse-bench/results@1`): one entry per scenario, a union on `state` (a failed
 * scenario is data, not a lost run), the comparisons and the environment. DESIGN.md lists the fields other
 * tools and CI read: add around them, never rename them.
 */
import type { ApiCall, CertKind } from './axes.ts';
import type { TimelineBucket } from './capture.ts';
import type { AtFleetScale, FleetResult, ServerCost } from './fleet.ts';
import type { ScenarioSpec } from './scenario.ts';
import type { SensitivityCurve } from './sensitivity.ts';
import type { TrafficCounters } from './traffic.ts';
import type { Warning } from './warnings.ts';

/** The results schema this version reads and writes. */
export const RESULTS_SCHEMA = 'tls-reuse-bench/results@1';

/**
 * Fewest samples for a latency percentile to say much: below it the assessment warns, and the regression gate
 * compares no p50 ratio (a median of a handful of requests is one request's luck).
 */
export const MIN_LATENCY_SAMPLES = 20;

/** Summary statistics of a latency sample, milliseconds. */
export interface LatencySummary {
  samples: number;
  meanMs: number;
  /** Sample standard deviation (n − 1); 0 for one sample. */
  sdMs: number;
  p50Ms: number;
  p75Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Half-width of the two-sided 95% confidence interval of the mean (Student's t); 0 for one sample. */
  marginOfErrorMs: number;
}

/**
 * The round-trip model of one request (issue 10): round trips to the first response byte times the path's
 * RTT, plus the server's time (the same request's p50 measured on loopback), plus serialisation of the
 * request's and the response's bytes at the path's rates.
 */
export interface RoundTripModel {
  /** Round trips to the first response byte: 4 for a fresh TLS 1.2 connection, 3 for TLS 1.3 or a resumed
   * session, 1 on a kept-alive connection; more when a flight exceeds the initial congestion window. */
  roundTrips: number;
  /** The path's round-trip time (0 on loopback). */
  rttMs: number;
  /** The request's p50 on loopback in the same configuration; null when the run has no such scenario. */
  serverTimeMs: number | null;
  /** Bytes each way at the path's rates (0 without a rate limit). */
  transferMs: number;
  /** The model's latency: roundTrips × rttMs + serverTimeMs + transferMs. */
  ms: number;
}

/** Latency of one API call: the whole request and its phases (phases only over requests that had them). */
export interface ApiLatency {
  total: LatencySummary;
  /** Every request's total latency, sorted ascending, rounded to 0.01 ms (for CDF charts). */
  totalSamplesMs: number[];
  /** Until the TCP connect finished, over requests that opened a connection; null when none did. */
  tcpConnect: LatencySummary | null;
  /** Until the TLS handshake finished, over requests that performed one; null when none did. */
  tlsHandshake: LatencySummary | null;
  /** Until the first response byte. */
  firstByte: LatencySummary;
  /** From the first response byte to the last. */
  transfer: LatencySummary;
  /** TCP payload bytes of one request on the wire, each way, median over the samples (handshake included
   * when the request opened a connection). */
  upBytes: number;
  downBytes: number;
  model: RoundTripModel;
  /** Measured p50 / model; null when the model is 0 (loopback without a server-time reference). */
  modelRatio: number | null;
}

/**
 * Where a latency-phase request's time goes, averaged over every successful request of a scenario (all API
 * calls): the phases are means of each request's own phase durations, so they add up to the mean total
 * exactly. Beside them the round-trip model, averaged over the same requests.
 */
export interface LatencyPhases {
  requests: number;
  /** SYN to SYN-ACK (0 for a request on a kept-alive connection). */
  tcpConnectMs: number;
  /** TCP connected to TLS handshake done (0 on a kept-alive connection). */
  tlsHandshakeMs: number;
  /** From the handshake (or the request, on a kept-alive connection) to the first response byte. */
  waitMs: number;
  /** First response byte to the last. */
  transferMs: number;
  /** The mean total: the sum of the four. */
  totalMs: number;
  /** Round trips to the first byte per request, by the model. */
  roundTrips: number;
  /** The model's time per request; null where it is 0 (loopback without a server-time reference). */
  modelMs: number | null;
}

/** Traffic normalised per endpoint (agent) per virtual minute. */
export interface PerEndpointMinute {
  /** Null with `--no-capture` (socket counters see no headers). */
  upWireBytes: number | null;
  downWireBytes: number | null;
  upTcpPayloadBytes: number;
  downTcpPayloadBytes: number;
  /** TLS handshake bytes (null with `--no-capture`). */
  upHandshakeBytes: number | null;
  downHandshakeBytes: number | null;
  connections: number;
  fullHandshakes: number;
  resumedHandshakes: number;
  requests: number;
  /** Sockets that went through TIME_WAIT (both sides). */
  timeWait: number;
}

/** One direction of the reconciliation of the client's socket counters with the capture. */
export interface ReconciliationSide {
  /** What the client's TCP sockets wrote (up) or read (down): the socket counter. */
  socketBytes: number;
  /** The capture's TCP payload minus retransmissions in that direction; null without a capture. */
  pcapStreamBytes: number | null;
  /**
   * Bytes on connections that ended with a RST that one side's kernel held and dropped: down, bytes that
   * reached the client but were never read (a server's close_notify arriving as the client closes; Linux
   * answers a close with unread data by a RST, RFC 2525 §2.17); up, bytes the client wrote that the reset
   * dropped before they were sent. On the wire (or in the socket) but not in both: explained, not a mismatch.
   * Absent in results written before it was counted.
   */
  discardedAtResetBytes?: number;
}

/**
 * The steady state of a scenario (issue 12): what an agent that has been running for days sends per
 * endpoint-minute, start-up left out. A run's traffic splits into one-time traffic (enroll, and each
 * channel's first connection beyond what a steady-state connection costs) and the steady state: every other
 * request's exchange, plus the connections the steady state opens, each costing the measured mean opening
 * and closing of such a connection. Null without a capture (no per-connection accounting).
 */
export interface SteadyState {
  perEndpointMinute: SteadyPerEndpointMinute;
  /** One-time traffic per endpoint (not per minute): enroll, and the first connections' extra cost. */
  oneTimePerEndpoint: OneTimeTraffic;
  /** What one steady-state connection costs beyond its requests' bytes: its opening (TCP and TLS handshake),
   * its closing (from the first FIN), and handshake or alert records in between; mean over `sampled`. */
  connectionOverhead: ConnectionOverhead;
  /** Where the steady state's connections per endpoint-minute come from. */
  connections: SteadyConnections;
}

/** Bytes each way: on the wire, as TCP payload, and of them TLS handshake records. */
export interface DirectionalBytes {
  upWireBytes: number;
  downWireBytes: number;
  upTcpPayloadBytes: number;
  downTcpPayloadBytes: number;
  upHandshakeBytes: number;
  downHandshakeBytes: number;
}

/** Steady-state figures per endpoint-minute (every byte figure from the capture). */
export interface SteadyPerEndpointMinute extends DirectionalBytes {
  connections: number;
  fullHandshakes: number;
  resumedHandshakes: number;
  requests: number;
  /** Sockets through TIME_WAIT (both sides): steady connections × the run's TIME_WAIT per connection. */
  timeWait: number;
}

/** One-time traffic of one endpoint. */
export interface OneTimeTraffic {
  upWireBytes: number;
  downWireBytes: number;
  upHandshakeBytes: number;
  downHandshakeBytes: number;
  /** Connections opened once per endpoint: enroll's and each channel's first. */
  connections: number;
  /** Requests sent once (enroll). */
  requests: number;
}

/** Mean bytes a connection costs beyond its requests'. */
export interface ConnectionOverhead extends DirectionalBytes {
  /** Connections the mean is over (the steady state's kind: not a channel's first, when the run has any). */
  sampled: number;
}

/**
 * The steady state's connections per endpoint-minute: `measured` where every request opens one (fresh,
 * resumed); `derived` for persistent mode, from the agent's schedule over `horizonVirtualMinutes` (past the
 * run when the run is shorter): a reconnect every session timeout and after every gap longer than the
 * server's idle timeout.
 */
export interface SteadyConnections {
  basis: 'measured' | 'derived';
  perEndpointMinute: number;
  /** Derived: reconnects per endpoint-minute after the session timeout and after a server idle close. */
  sessionTimeoutReconnectsPerEndpointMinute: number | null;
  idleReconnectsPerEndpointMinute: number | null;
  horizonVirtualMinutes: number | null;
  /** Connections the run itself opened after each channel's first (its reconnects, for persistent mode). */
  measuredRepeatConnections: number;
}

/** One figure over a scenario's repetitions (`--runs N`, issue 12), like hyperfine's. */
export interface Spread {
  /** Repetitions that measured it. */
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for one repetition. */
  sd: number;
  min: number;
  max: number;
  /** Half-width of the two-sided 95% confidence interval of the mean (Student's t); 0 for one repetition. */
  ci95: number;
}

/** Latency percentiles of one repetition, milliseconds. */
export interface Percentiles {
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** The figures of one repetition of a scenario: what the summary is made of. */
export interface Repetition {
  /** 1-based, in the order they ran. */
  run: number;
  state: 'completed' | 'invalid' | 'failed';
  /** Why it failed or was invalid (empty when it completed). */
  reasons: string[];
  /** Null when the repetition failed. */
  perEndpointMinute: PerEndpointMinute | null;
  steady: SteadyPerEndpointMinute | null;
  latency: { all: Percentiles | null; byApi: Partial<Record<ApiCall, Percentiles>> };
  cpuMsPerRequest: number | null;
  /** The machine's 1-minute load average just before and just after the repetition. */
  loadAverage: { before: number; after: number };
  realDurationMs: number;
}

/** Mean ± sd, min-max and the 95% CI of every figure over the repetitions that measured (issue 12). */
export interface ScenarioSummary {
  /** Repetitions asked for, and those that measured (not failed). */
  runs: number;
  measuredRuns: number;
  /** Whole run per endpoint-minute (a field is left out when some repetition could not measure it). */
  perEndpointMinute: Partial<Record<keyof PerEndpointMinute, Spread>>;
  /** Steady state per endpoint-minute; null when a repetition has none. */
  steady: Record<keyof SteadyPerEndpointMinute, Spread> | null;
  latency: { all: Record<keyof Percentiles, Spread> | null; byApi: Partial<Record<ApiCall, Record<keyof Percentiles, Spread>>> };
  cpuMsPerRequest: Spread | null;
  /** The higher of before and after, per repetition. */
  loadAverage: Spread;
}

/** Capture health of a scenario. */
export interface CaptureHealth {
  packets: number;
  droppedByKernel: number;
  /**
   * Client socket counters == pcap TCP payload − retransmissions, per direction, exactly, connection by
   * connection, once the bytes a reset discarded are counted (`discardedAtResetBytes`). Null without a capture.
   */
  reconciled: boolean | null;
  reconciliation: { up: ReconciliationSide; down: ReconciliationSide };
}

/** What a scenario measured; shared by completed and invalid scenarios. */
export interface ScenarioMeasurement {
  /** From the pcap; null with `--no-capture`. */
  traffic: { up: TrafficCounters; down: TrafficCounters } | null;
  perEndpointMinute: PerEndpointMinute;
  /** Start-up left out (issue 12); null without a capture. */
  steadyState: SteadyState | null;
  capture: CaptureHealth;
  requests: { scheduled: number; ok: number; failed: number; retried: number };
  /** Connections the client opened (socket level) and the capture saw (SYN). */
  connections: { opened: number; captured: number | null; sessionResumed: number };
  /** Sockets in TIME_WAIT after the scenario, per side, as the kernel reported them (/proc/net/tcp). */
  timeWait: { client: number; server: number };
  latency: Partial<Record<ApiCall, ApiLatency>>;
  /** Every successful request's total latency, all API calls pooled; null when none succeeded. */
  latencyAllCalls: LatencySummary | null;
  /** The mean request's phases and round-trip model; null when none succeeded (absent in older results). */
  latencyPhases?: LatencyPhases | null;
  server: { cpuUserMs: number; cpuSystemMs: number; cpuMsPerRequest: number; requests: number };
  /** Wire bytes per direction over time; buckets are in real milliseconds (× timeCompression for virtual). */
  timeline: { bucketMs: number; buckets: TimelineBucket[] } | null;
  /** The emulated path's own counters (null on loopback): frames it carried and dropped, each way. */
  link: { up: LinkDirection; down: LinkDirection } | null;
  /** Files beside results.json (relative paths). */
  files: { pcap: string | null; keylog: string };
  realDurationMs: number;
  /** The fleet: sample size, addresses, client threads and CPU, per-agent errors, pacing (issue 11). */
  fleet?: FleetResult;
  /** The server's cost: CPU, handshakes per second, sockets per side, memory of idle connections. */
  serverCost?: ServerCost;
  /** This scenario's figures scaled to `--fleet-size` agents: derived, not measured. */
  atFleetScale?: AtFleetScale;
  /** Every repetition's figures (`--runs N`; one for a single run). The fields above are the first measured
   * repetition's; its files are `scenarios/<slug>/`, later ones `scenarios/<slug>/run-<k>/`. */
  repetitions: Repetition[];
  summary: ScenarioSummary;
}

/** One scenario's result: a union on `state` (a failed scenario is data, not a lost run). */
export type ScenarioResult =
  | ({ id: string; state: 'completed'; spec: ScenarioSpec; warnings: Warning[] } & ScenarioMeasurement)
  | ({ id: string; state: 'invalid'; spec: ScenarioSpec; warnings: Warning[]; invalidReasons: string[] } & ScenarioMeasurement)
  | { id: string; state: 'failed'; spec: ScenarioSpec; warnings: Warning[]; error: string };

/** A mode compared with `fresh` on the same other axes. */
export interface Comparison {
  baseline: string;
  candidate: string;
  /** Saving in wire bytes per endpoint-minute (TCP payload with `--no-capture`), percent of the baseline. */
  upSavedPct: number;
  downSavedPct: number;
  /** Connections opened per endpoint-minute, percent saved. */
  connectionsSavedPct: number;
  /** Byte basis of the percentages. */
  basis: 'wire' | 'tcp-payload';
  /** Median request latency over every API call (latency phase), percent saved; null without latency. */
  latencyP50SavedPct: number | null;
  /** Round trips to the first response byte saved per request, averaged over the API calls both measured. */
  roundTripsSavedPerRequest: number | null;
  /** All bytes (both directions, on `basis`) per endpoint-minute, percent saved; null when fresh had none.
   * Absent in older results. */
  allBytesSavedPct?: number | null;
  /** The server's CPU time per request, percent saved; null when fresh's was 0. Absent in older results. */
  serverCpuSavedPct?: number | null;
  /** The same savings in the steady state (wire bytes; the headline's); null without a capture. The
   * percentages above are over the whole run, start-up included. */
  steady: { upSavedPct: number; downSavedPct: number; connectionsSavedPct: number } | null;
  /** The savings over pairs of repetitions (run k against run k of `fresh`, both measured). */
  summary: ComparisonSummary;
}

/** Savings over paired repetitions (issue 12). */
export interface ComparisonSummary {
  pairs: number;
  upSavedPct: Spread | null;
  downSavedPct: Spread | null;
  steadyUpSavedPct: Spread | null;
  steadyDownSavedPct: Spread | null;
  latencyP50SavedPct: Spread | null;
}

/** The machine and tools a run measured on. */
export interface Environment {
  node: string;
  openssl: string;
  kernel: string;
  platform: string;
  cpu: string;
  cores: number;
  tcpdump: string | null;
  nginx: string | null;
  /**
   * The kernel's TCP congestion control (`net.ipv4.tcp_congestion_control`; a link's namespace inherits it):
   * it shapes how a response leaves the server (BBR paces it at its bandwidth estimate, CUBIC sends the
   * window at once). Absent in older results, null where it cannot be read.
   */
  tcpCongestionControl?: string | null;
}

/** A run's results file. */
export interface Results {
  schema: typeof RESULTS_SCHEMA;
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** True when the run was stopped (Ctrl-C/SIGTERM) before every scenario ran. */
  interrupted: boolean;
  /** The tool that wrote the results: its version and git commit (absent in results of older versions). */
  tool?: { version: string; commit: string | null };
  options: {
    suite: string;
    /** Flags that changed the suite's matrix or conditions (`--modes persistent`); absent or empty: the suite as it is. */
    overrides?: string[];
    workloadPath: string;
    capture: boolean;
    allowInvalid: boolean;
    /** Repetitions of each scenario (`--runs`). */
    runs: number;
    /** `fixtures/certs` chain names or the user's chain file, by CertKind. */
    certs: Partial<Record<CertKind, string>>;
  };
  environment: Environment;
  scenarios: ScenarioResult[];
  comparisons: Comparison[];
  /** What the savings depend on: a model per configuration from its measured figures (issue 12). Absent in
   * older results and in runs without a capture. */
  sensitivity?: SensitivityCurve[];
  warnings: Warning[];
}

/** One direction of an emulated path during the scenario's traffic phase. */
export interface LinkDirection {
  forwardedFrames: number;
  /** Dropped because the queue was full (tail drop). */
  queueDrops: number;
  /** Dropped at random by the profile's loss. */
  lossDrops: number;
}

/** A scenario that measured something (completed or invalid): what charts draw and the gate compares. */
export type MeasuredScenario = Exclude<ScenarioResult, { state: 'failed' }>;

/** One live run of a scenario, before its repetitions are combined (bench/analyze/repetitions.ts). */
export type SingleRun = ScenarioResult extends infer R ? (R extends ScenarioResult ? Omit<R, 'repetitions' | 'summary'> : never) : never;
