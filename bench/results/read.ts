/**
 * Reading a run's `results.json` (`tls-reuse-bench/results@1`): the one loader every consumer of saved
 * results (check, report) goes through. It checks the JSON, the schema name and the structure of every field
 * the model declares, so a renderer or the gate can trust what it gets; each error names the file and the
 * JSON path of the first bad field and exits 2 (InputError).
 */
import {
  API_CALLS,
  CERT_KINDS,
  MODES,
  RESULTS_SCHEMA,
  SERVERS,
  SPEC_LIMITS,
  TLS_FIELD_NAMES,
  TLS_VERSIONS,
  PROXIES,
  TRAFFIC_FIELD_NAMES,
  WARNING_KINDS,
  type ApiLatency,
  type AtFleetScale,
  type FleetResult,
  type Pacing,
  type PeakSteady,
  type Sides,
  type ServerCost,
  type ServerSample,
  type SocketBytes,
  type CaptureHealth,
  type Comparison,
  type ComparisonSummary,
  type ConnectionOverhead,
  type Environment,
  type LatencyPhases,
  type LatencySummary,
  type LinkDirection,
  type NetworkPath,
  type OneTimeTraffic,
  type RoundTripModel,
  type PerEndpointMinute,
  type Percentiles,
  type Repetition,
  type ScenarioSummary,
  type Spread,
  type Results,
  type ScenarioMeasurement,
  type ScenarioResult,
  type ScenarioSpec,
  type SteadyConnections,
  type SteadyPerEndpointMinute,
  type SteadyState,
  type TimelineBucket,
  type TlsCounters,
  type TrafficCounters,
  type Warning,
} from '../model/index.ts';
import { readJsonFile, validateJson } from '../input/json.ts';
import { sensitivityCurve } from './read-sensitivity.ts';
import {
  arrayOf,
  boolean,
  isObject,
  mismatch,
  nonEmptyString,
  nonNegative,
  nullable,
  positive,
  number,
  object,
  oneOf,
  inRange,
  optional,
  partialRecord,
  ShapeError,
  string,
  validator,
  type Shape,
  type Validator,
} from '../input/shape.ts';

/**
 * Reads, parses and validates a results file. `label` names it in messages (default `results file`; the
 * check command passes `--baseline` for its baseline). Throws InputError (exit 2) for a missing or
 * unreadable file, broken JSON (with line and column), another schema, or a missing or mistyped field
 * (with its JSON path, e.g. `$.scenarios[3].perEndpointMinute.upWireBytes`).
 */
export async function loadResults(file: string, label = 'results file'): Promise<Results> {
  return validateResults(await readJsonFile(file, label), `${label} ${file}`);
}

/** Validates parsed JSON as results; `source` starts every error message (`results file out/results.json`). */
export function validateResults(value: unknown, source: string): Results {
  return validateJson(value, source, (v) => {
    checkSchema(v);
    const results = resultsShape(v, '$');
    checkReferences(results);
    return results;
  });
}

/** The schema name first, so a wrong kind of file gets one clear sentence instead of a list of missing fields. */
function checkSchema(value: unknown): void {
  if (!isObject(value)) mismatch('$', `an object (a ${RESULTS_SCHEMA} file)`, value);
  const schema = value.schema;
  if (schema === RESULTS_SCHEMA) return;
  if (typeof schema !== 'string') {
    throw new ShapeError('$.schema', `${schema === undefined ? 'missing' : `got ${JSON.stringify(schema)}`}: not a tls-reuse-bench results file (expected "${RESULTS_SCHEMA}")`);
  }
  if (schema.startsWith('tls-reuse-bench/analyze@')) {
    throw new ShapeError('$.schema', `"${schema}" is the output of "analyze --json", not a run's results.json (expected "${RESULTS_SCHEMA}")`);
  }
  if (schema.startsWith('tls-reuse-bench/results@')) {
    throw new ShapeError('$.schema', `"${schema}" is not supported: this version reads "${RESULTS_SCHEMA}" (use the tls-reuse-bench version that wrote it, or run the suite again)`);
  }
  throw new ShapeError('$.schema', `unknown schema "${schema}" (expected "${RESULTS_SCHEMA}")`);
}

/** Scenario ids are what comparisons and the regression gate pair on: they must be unique and resolvable. */
function checkReferences(results: Results): void {
  const seen = new Map<string, number>();
  results.scenarios.forEach((s, i) => {
    if (s.spec.id !== s.id) throw new ShapeError(`$.scenarios[${i}].spec.id`, `"${s.spec.id}" differs from the scenario's id "${s.id}"`);
    const first = seen.get(s.id);
    if (first !== undefined) throw new ShapeError(`$.scenarios[${i}].id`, `"${s.id}" is also the id of $.scenarios[${first}]`);
    seen.set(s.id, i);
  });
  results.comparisons.forEach((c, i) => {
    for (const side of ['baseline', 'candidate'] as const) {
      if (!seen.has(c[side])) throw new ShapeError(`$.comparisons[${i}].${side}`, `no scenario has the id "${c[side]}"`);
    }
  });
}

/**
 * Traffic counters, validated field by field from the model's tables: a counter added there is checked here
 * without another edit.
 */
function counters<T>(fields: readonly string[], extra: Record<string, Validator<unknown>>): Validator<T> {
  return object<T>({ ...Object.fromEntries(fields.map((name) => [name, nonNegative])), ...extra } as Shape<T>);
}

const trafficCounters = counters<TrafficCounters>(TRAFFIC_FIELD_NAMES, {
  tls: counters<TlsCounters>(TLS_FIELD_NAMES, { exact: boolean }),
});

const warning = object<Warning>({ kind: oneOf(WARNING_KINDS), message: string, fix: string, count: optional(nonNegative) });

const spec = object<ScenarioSpec>({
  id: string,
  mode: oneOf(MODES),
  tls: oneOf(TLS_VERSIONS),
  cert: oneOf(CERT_KINDS),
  network: nonEmptyString,
  link: nullable(
    object<NetworkPath>({
      rttMs: nonNegative,
      downBitsPerSecond: positive,
      upBitsPerSecond: positive,
      jitterMs: nonNegative,
      lossPct: nonNegative,
      queueBytes: positive,
    }),
  ),
  server: oneOf(SERVERS),
  workload: string,
  endpoints: inRange(SPEC_LIMITS.endpoints),
  virtualMinutes: inRange(SPEC_LIMITS.virtualMinutes),
  timeCompression: inRange(SPEC_LIMITS.timeCompression),
  sessionTimeoutVirtualSeconds: nonNegative,
  serverIdleTimeoutVirtualSeconds: nonNegative,
  sessionTickets: boolean,
  seed: inRange(SPEC_LIMITS.seed),
  captureAgents: optional(nonNegative),
  proxy: optional(oneOf(PROXIES)),
});

const latencySummary = object<LatencySummary>({
  samples: nonNegative,
  meanMs: nonNegative,
  sdMs: nonNegative,
  p50Ms: nonNegative,
  p75Ms: nonNegative,
  p90Ms: nonNegative,
  p99Ms: nonNegative,
  marginOfErrorMs: nonNegative,
});

const latencyPhases = object<LatencyPhases>({
  requests: nonNegative,
  tcpConnectMs: nonNegative,
  tlsHandshakeMs: nonNegative,
  waitMs: nonNegative,
  transferMs: nonNegative,
  totalMs: nonNegative,
  roundTrips: nonNegative,
  modelMs: nullable(nonNegative),
});

const roundTripModel = object<RoundTripModel>({
  roundTrips: nonNegative,
  rttMs: nonNegative,
  serverTimeMs: nullable(nonNegative),
  transferMs: nonNegative,
  ms: nonNegative,
});

const apiLatency = object<ApiLatency>({
  total: latencySummary,
  totalSamplesMs: arrayOf(nonNegative),
  tcpConnect: nullable(latencySummary),
  tlsHandshake: nullable(latencySummary),
  firstByte: latencySummary,
  transfer: latencySummary,
  upBytes: nonNegative,
  downBytes: nonNegative,
  model: roundTripModel,
  modelRatio: nullable(nonNegative),
});

const perEndpointMinute = object<PerEndpointMinute>({
  upWireBytes: nullable(nonNegative),
  downWireBytes: nullable(nonNegative),
  upTcpPayloadBytes: nonNegative,
  downTcpPayloadBytes: nonNegative,
  upHandshakeBytes: nullable(nonNegative),
  downHandshakeBytes: nullable(nonNegative),
  connections: nonNegative,
  fullHandshakes: nonNegative,
  resumedHandshakes: nonNegative,
  requests: nonNegative,
  timeWait: nonNegative,
});

/** The fields of DirectionalBytes, each a count of bytes. */
const directionalBytes = {
  upWireBytes: nonNegative,
  downWireBytes: nonNegative,
  upTcpPayloadBytes: nonNegative,
  downTcpPayloadBytes: nonNegative,
  upHandshakeBytes: nonNegative,
  downHandshakeBytes: nonNegative,
};

const steadyPerEndpointMinute = object<SteadyPerEndpointMinute>({
    ...directionalBytes,
    connections: nonNegative,
    fullHandshakes: nonNegative,
    resumedHandshakes: nonNegative,
    requests: nonNegative,
    timeWait: nonNegative,
  });

const steadyState = object<SteadyState>({
  perEndpointMinute: steadyPerEndpointMinute,
  // A first connection can cost a few ACKs less than the mean: one-time bytes may dip below 0.
  oneTimePerEndpoint: object<OneTimeTraffic>({
    upWireBytes: number,
    downWireBytes: number,
    upHandshakeBytes: number,
    downHandshakeBytes: number,
    connections: nonNegative,
    requests: nonNegative,
  }),
  connectionOverhead: object<ConnectionOverhead>({ ...directionalBytes, sampled: nonNegative }),
  connections: object<SteadyConnections>({
    basis: oneOf(['measured', 'derived']),
    perEndpointMinute: nonNegative,
    sessionTimeoutReconnectsPerEndpointMinute: nullable(nonNegative),
    idleReconnectsPerEndpointMinute: nullable(nonNegative),
    horizonVirtualMinutes: nullable(nonNegative),
    measuredRepeatConnections: nonNegative,
  }),
});

const spread = object<Spread>({ n: nonNegative, mean: number, sd: nonNegative, min: number, max: number, ci95: nonNegative });
const percentiles = object<Percentiles>({ p50Ms: nonNegative, p90Ms: nonNegative, p99Ms: nonNegative });
const percentileSpreads = object<Record<keyof Percentiles, Spread>>({ p50Ms: spread, p90Ms: spread, p99Ms: spread });
const PER_ENDPOINT_MINUTE_KEYS = [
  'upWireBytes', 'downWireBytes', 'upTcpPayloadBytes', 'downTcpPayloadBytes', 'upHandshakeBytes', 'downHandshakeBytes',
  'connections', 'fullHandshakes', 'resumedHandshakes', 'requests', 'timeWait',
] as const satisfies readonly (keyof PerEndpointMinute)[];

const repetition = object<Repetition>({
  run: nonNegative,
  state: oneOf(['completed', 'invalid', 'failed']),
  reasons: arrayOf(string),
  perEndpointMinute: nullable(perEndpointMinute),
  steady: nullable(steadyPerEndpointMinute),
  latency: object<Repetition['latency']>({ all: nullable(percentiles), byApi: partialRecord(API_CALLS, percentiles) }),
  cpuMsPerRequest: nullable(nonNegative),
  loadAverage: object<Repetition['loadAverage']>({ before: nonNegative, after: nonNegative }),
  realDurationMs: nonNegative,
});

const scenarioSummary = object<ScenarioSummary>({
  runs: nonNegative,
  measuredRuns: nonNegative,
  perEndpointMinute: partialRecord(PER_ENDPOINT_MINUTE_KEYS, spread),
  steady: nullable(
    object<Record<keyof SteadyPerEndpointMinute, Spread>>({
      upWireBytes: spread, downWireBytes: spread, upTcpPayloadBytes: spread, downTcpPayloadBytes: spread, upHandshakeBytes: spread,
      downHandshakeBytes: spread, connections: spread, fullHandshakes: spread, resumedHandshakes: spread, requests: spread, timeWait: spread,
    }),
  ),
  latency: object<ScenarioSummary['latency']>({ all: nullable(percentileSpreads), byApi: partialRecord(API_CALLS, percentileSpreads) }),
  cpuMsPerRequest: nullable(spread),
  loadAverage: spread,
});

const linkDirection = object<LinkDirection>({ forwardedFrames: nonNegative, queueDrops: nonNegative, lossDrops: nonNegative });

const reconciliationSide = object<CaptureHealth['reconciliation']['up']>({
  socketBytes: nonNegative,
  pcapStreamBytes: nullable(nonNegative),
  discardedAtResetBytes: optional(nonNegative),
});

const captureHealth = object<CaptureHealth>({
  packets: nonNegative,
  droppedByKernel: nonNegative,
  reconciled: nullable(boolean),
  reconciliation: object<CaptureHealth['reconciliation']>({ up: reconciliationSide, down: reconciliationSide }),
});

const timelineBucket = object<TimelineBucket>({ startMs: nonNegative, upWireBytes: nonNegative, downWireBytes: nonNegative });

const socketBytes = object<SocketBytes>({ up: nonNegative, down: nonNegative });
const sides = object<Sides<number>>({ server: nonNegative, client: nonNegative });
const peakSteady = object<PeakSteady>({ peak: nonNegative, steady: nonNegative });
const peakSteadySides = object<Sides<PeakSteady>>({ server: peakSteady, client: peakSteady });

const pacing = object<Pacing>({
  timeCompression: nonNegative,
  maxRatePerSecond: nonNegative,
  maxRateSource: oneOf(['default', 'flag']),
  requestsPerSecond: nonNegative,
  reason: string,
});

const fleet = object<FleetResult>({
  endpoints: nonNegative,
  capturedAgents: nonNegative,
  agentAddresses: object<FleetResult['agentAddresses']>({ first: string, last: string }),
  clientThreads: nonNegative,
  clientCpuMsPerRequest: nonNegative,
  clientCpuMs: nonNegative,
  driveMs: optional(nonNegative),
  coresBusy: optional(object<NonNullable<FleetResult['coresBusy']>>({ client: nonNegative, server: nonNegative, machine: nonNegative, of: nonNegative })),
  sentLate: optional(object<NonNullable<FleetResult['sentLate']>>({ p50Ms: nonNegative, p99Ms: nonNegative, maxMs: nonNegative })),
  clientEventLoop: optional(object<NonNullable<FleetResult['clientEventLoop']>>({ main: nonNegative, threads: arrayOf(nonNegative) })),
  socketBytes,
  errors: object<FleetResult['errors']>({
    failedRequests: nonNegative,
    agentsWithErrors: nonNegative,
    byPhase: validator('an object of counts', (value, path) => {
      if (!isObject(value)) return mismatch(path, 'an object of counts', value);
      for (const [k, v] of Object.entries(value)) nonNegative(v, `${path}.${k}`);
      return value as Record<string, number>;
    }),
  }),
  pacing,
  proxyConnects: optional(nonNegative),
});

const serverSample = object<ServerSample>({ atMs: nonNegative, cpuMs: nonNegative, rssBytes: nonNegative, established: sides, timeWait: sides });

const serverCost = object<ServerCost>({
  cpuMsPerRequest: nonNegative,
  cpuMsPerEndpointMinute: nonNegative,
  handshakesPerSecond: nonNegative,
  handshakes: nonNegative,
  sockets: object<ServerCost['sockets']>({ established: peakSteadySides, timeWait: peakSteadySides }),
  memory: object<ServerCost['memory']>({
    baselineRssBytes: nonNegative,
    peakRssBytes: nonNegative,
    steadyRssBytes: nonNegative,
    heldRssBytes: nonNegative,
    heldConnections: nonNegative,
    bytesPerHeldConnection: nullable(number),
  }),
  closedByServer: nonNegative,
  idleReconnects: nonNegative,
  idleReconnectsPerEndpointMinute: nonNegative,
  timeWait: object<ServerCost['timeWait']>({ observed: sides, perEndpointMinute: sides, heldPerAgentAtRealPace: sides, how: string }),
  sampleIntervalMs: nonNegative,
  samples: arrayOf(serverSample),
});

const atFleetScale = object<AtFleetScale>({
  agents: nonNegative,
  derived: validator('true', (value, path) => (value === true ? true : mismatch(path, 'true', value))),
  upWireBytesPerDay: nonNegative,
  downWireBytesPerDay: nonNegative,
  connectionsPerSecond: nonNegative,
  handshakesPerSecond: nonNegative,
  timeWaitServer: nonNegative,
  timeWaitClient: nonNegative,
  serverCores: nonNegative,
  heldConnections: nonNegative,
  heldConnectionBytes: nullable(number),
  how: string,
});

/**
 * Most buckets a timeline may span (its last bucket's start over the bucket width): a run's is one bucket per
 * virtual second, at most 86,400 for the longest run `--virtual-minutes` allows. A span beyond it is no
 * run's, and a renderer would allocate an array as long.
 */
export const MAX_TIMELINE_BUCKETS = 100_000;
/** The narrowest bucket a run makes is one virtual second at the fastest time compression (0.1 ms). */
const MIN_BUCKET_MS = 0.01;

const timelineShape = object<NonNullable<ScenarioMeasurement['timeline']>>({
  bucketMs: inRange({ min: MIN_BUCKET_MS, max: Number.MAX_SAFE_INTEGER, integer: false }),
  buckets: arrayOf(timelineBucket),
});

/** A timeline whose buckets fit in MAX_TIMELINE_BUCKETS of its width. */
const timeline: Validator<NonNullable<ScenarioMeasurement['timeline']>> = validator('a timeline object', (value, path) => {
  const t = timelineShape(value, path);
  if (t.buckets.length > MAX_TIMELINE_BUCKETS) {
    throw new ShapeError(`${path}.buckets`, `${t.buckets.length} buckets, more than the ${MAX_TIMELINE_BUCKETS} a run can make`);
  }
  t.buckets.forEach((b, i) => {
    if (b.startMs / t.bucketMs > MAX_TIMELINE_BUCKETS) {
      throw new ShapeError(
        `${path}.buckets[${i}].startMs`,
        `${b.startMs} ms is more than ${MAX_TIMELINE_BUCKETS} buckets of ${t.bucketMs} ms after the start: no run's timeline spans that`,
      );
    }
  });
  return t;
});

const measurement: Shape<ScenarioMeasurement> = {
  traffic: nullable(object<{ up: TrafficCounters; down: TrafficCounters }>({ up: trafficCounters, down: trafficCounters })),
  perEndpointMinute,
  steadyState: nullable(steadyState),
  capture: captureHealth,
  requests: object<ScenarioMeasurement['requests']>({ scheduled: nonNegative, ok: nonNegative, failed: nonNegative, retried: nonNegative }),
  connections: object<ScenarioMeasurement['connections']>({
    opened: nonNegative,
    captured: nullable(nonNegative),
    sessionResumed: nonNegative,
  }),
  timeWait: object<ScenarioMeasurement['timeWait']>({ client: nonNegative, server: nonNegative }),
  latency: partialRecord(API_CALLS, apiLatency),
  latencyAllCalls: nullable(latencySummary),
  latencyPhases: optional(nullable(latencyPhases)),
  server: object<ScenarioMeasurement['server']>({
    cpuUserMs: nonNegative,
    cpuSystemMs: nonNegative,
    cpuMsPerRequest: nonNegative,
    requests: nonNegative,
  }),
  timeline: nullable(timeline),
  link: nullable(object<NonNullable<ScenarioMeasurement['link']>>({ up: linkDirection, down: linkDirection })),
  files: object<ScenarioMeasurement['files']>({ pcap: nullable(string), keylog: string }),
  realDurationMs: nonNegative,
  fleet: optional(fleet),
  serverCost: optional(serverCost),
  atFleetScale: optional(atFleetScale),
  repetitions: arrayOf(repetition),
  summary: scenarioSummary,
};

type ScenarioOf<S extends ScenarioResult['state']> = Extract<ScenarioResult, { state: S }>;

const scenarioByState: { [S in ScenarioResult['state']]: Validator<ScenarioOf<S>> } = {
  completed: object<ScenarioOf<'completed'>>({ ...measurement, id: string, state: oneOf(['completed']), spec, warnings: arrayOf(warning) }),
  invalid: object<ScenarioOf<'invalid'>>({
    ...measurement,
    id: string,
    state: oneOf(['invalid']),
    spec,
    warnings: arrayOf(warning),
    invalidReasons: arrayOf(string),
  }),
  failed: object<ScenarioOf<'failed'>>({ id: string, state: oneOf(['failed']), spec, warnings: arrayOf(warning), error: string }),
};

const STATES = ['completed', 'invalid', 'failed'] as const satisfies readonly ScenarioResult['state'][];

/** A scenario: the fields its `state` calls for. */
const scenario: Validator<ScenarioResult> = validator('a scenario object', (value, path) => {
  if (!isObject(value)) return mismatch(path, 'an object', value);
  const state = oneOf(STATES)(value.state, `${path}.state`);
  return scenarioByState[state](value, path);
});

const comparison = object<Comparison>({
  baseline: string,
  candidate: string,
  upSavedPct: number,
  downSavedPct: number,
  connectionsSavedPct: number,
  basis: oneOf(['wire', 'tcp-payload']),
  latencyP50SavedPct: nullable(number),
  roundTripsSavedPerRequest: nullable(number),
  allBytesSavedPct: optional(nullable(number)),
  serverCpuSavedPct: optional(nullable(number)),
  steady: nullable(object<NonNullable<Comparison['steady']>>({ upSavedPct: number, downSavedPct: number, connectionsSavedPct: number })),
  summary: object<ComparisonSummary>({
    pairs: nonNegative,
    upSavedPct: nullable(spread),
    downSavedPct: nullable(spread),
    steadyUpSavedPct: nullable(spread),
    steadyDownSavedPct: nullable(spread),
    latencyP50SavedPct: nullable(spread),
  }),
});

const environment = object<Environment>({
  node: string,
  openssl: string,
  kernel: string,
  platform: string,
  cpu: string,
  cores: nonNegative,
  tcpdump: nullable(string),
  nginx: nullable(string),
  tcpCongestionControl: optional(nullable(string)),
});

const resultsShape = object<Results>({
  schema: oneOf([RESULTS_SCHEMA]),
  runId: string,
  startedAt: string,
  finishedAt: string,
  interrupted: boolean,
  tool: optional(object<NonNullable<Results['tool']>>({ version: string, commit: nullable(string) })),
  options: object<Results['options']>({
    suite: string,
    overrides: optional(arrayOf(string)),
    workloadPath: string,
    capture: boolean,
    allowInvalid: boolean,
    runs: nonNegative,
    certs: partialRecord(CERT_KINDS, string),
  }),
  environment,
  scenarios: arrayOf(scenario),
  comparisons: arrayOf(comparison),
  sensitivity: optional(arrayOf(sensitivityCurve)),
  warnings: arrayOf(warning),
});
