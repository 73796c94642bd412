/**
 * What the savings depend on (issue 12): the steady-state savings of reuse and of resumption against fresh as
 * functions of the result posts' body size, the config response's size and the requests per agent-minute,
 * computed from one configuration's measured figures. Pure: no I/O.
 *
 * Per mode and direction the run measured steady-state bytes S per endpoint-minute, c connections each
 * costing O beyond its requests (handshakes, TCP setup and teardown), and N requests whose bodies the
 * schedule knows; a request's bytes beyond its body is then w = (S − c·O − bodies) / N (HTTP head, TLS
 * record, frame headers, ACKs). Changing the axes from the run's values (B, C, N with n result posts, n_c
 * configs) to B', C', N' (the result posts making up the difference, n' = n + N' − N):
 *
 *   up'   = S_up   + n'·B' − n·B + (n' − n)·w_up + Δc·O_up
 *   down' = S_down + n_c·(C' − C) + (n' − n)·(R + w_down) + Δc·O_down
 *
 * with R the log response's body and Δc the connections the added posts open: one each for fresh and
 * resumed (measured connections per request), none for persistent while the log period stays under the
 * server's idle timeout, one each past it. At the run's values the model gives the run's own savings. It
 * takes a body byte as one wire byte: bodies up to 16 KB fit one TLS record, and on loopback one segment.
 */
import type {
  AgentRequest,
  MeasuredScenario,
  ModelSavings,
  Results,
  SensitivityAxis,
  SensitivityAxisCurve,
  SensitivityCurve,
  SensitivityMode,
  SensitivityPoint,
  SensitivityWorkload,
} from '../model/index.ts';
import { configurationKey } from '../model/index.ts';

/** The axes' values the model is asked about; absent ones stay at the run's. */
export interface ModelAt {
  logBodyBytes?: number;
  configResponseBytes?: number;
  requestsPerMinute?: number;
}

/** The field report's agents (AGENT-FACTS.md): a ~11 KB config, 12-16 requests (sockets) a minute, 50% up. */
export const FIELD_OPERATING_POINT = { configResponseBytes: 11_000, requestsPerMinute: 14, upSavedPct: 50 } as const;

/** The sweep of each axis: sizes on a log scale, rates on a linear one. */
const SWEEP = {
  logBodyBytes: { from: 100, to: 8000, steps: 20, log: true },
  configResponseBytes: { from: 100, to: 16_000, steps: 20, log: true },
  requestsPerMinute: { to: 60, steps: 20, log: false },
} as const;

/** Response body sizes the server sends (bytes of JSON), by response. */
export interface ResponseSizes {
  config: number;
  log: number;
  distributedRead: number;
  distributedReadQuery: number;
  distributedWrite: number;
  enroll: number;
}

/**
 * The workload figures the model varies, from a scenario's schedule (every request but enroll) and the
 * server's response sizes; null when the schedule has no result post.
 */
export function sensitivityWorkload(
  schedule: readonly AgentRequest[],
  responses: ResponseSizes,
  endpointMinutes: number,
  serverIdleTimeoutSeconds: number,
): SensitivityWorkload | null {
  const steady = schedule.filter((r) => r.api !== 'enroll');
  const results = steady.filter(isResultPost);
  if (results.length === 0) return null;
  const writes = steady.filter((r) => r.api === 'distributed_write').length;
  const count = (api: AgentRequest['api']) => steady.filter((r) => r.api === api).length;
  const responseBytes =
    count('config') * responses.config +
    count('log') * responses.log +
    writes * (responses.distributedReadQuery + responses.distributedWrite) +
    (count('distributed_read') - writes) * responses.distributedRead;
  return {
    requestsPerMinute: steady.length / endpointMinutes,
    resultPostsPerMinute: results.length / endpointMinutes,
    resultBodyBytes: results.reduce((sum, r) => sum + r.body.length, 0) / results.length,
    configsPerMinute: count('config') / endpointMinutes,
    configResponseBytes: responses.config,
    logResponseBytes: responses.log,
    requestBodyBytesPerMinute: steady.reduce((sum, r) => sum + r.body.length, 0) / endpointMinutes,
    responseBodyBytesPerMinute: responseBytes / endpointMinutes,
    serverIdleTimeoutSeconds,
  };
}

/** A result post (not a status post), plain JSON: the model's log-body axis is about these. */
function isResultPost(r: AgentRequest): boolean {
  return r.api === 'log' && r.body.includes('"log_type":"result"');
}

/**
 * One curve per configuration whose fresh and persistent (or resumed) scenarios both completed with a steady
 * state; `workloads` holds each fresh scenario's workload figures by id.
 */
export function sensitivityCurves(results: Pick<Results, 'scenarios' | 'comparisons'>, workloads: ReadonlyMap<string, SensitivityWorkload>): SensitivityCurve[] {
  const completed = results.scenarios.filter((s): s is Extract<MeasuredScenario, { state: 'completed' }> => s.state === 'completed' && s.steadyState !== null);
  const curves: SensitivityCurve[] = [];
  for (const fresh of completed.filter((s) => s.spec.mode === 'fresh')) {
    const workload = workloads.get(fresh.id);
    if (workload === undefined) continue;
    const key = configurationKey(fresh.spec);
    const ofMode = (mode: 'persistent' | 'resumed') => completed.find((s) => s.spec.mode === mode && configurationKey(s.spec) === key);
    const persistent = ofMode('persistent');
    const resumed = ofMode('resumed');
    if (persistent === undefined && resumed === undefined) continue;
    const modes = {
      fresh: sensitivityMode(fresh, workload),
      persistent: persistent === undefined ? null : sensitivityMode(persistent, workload),
      resumed: resumed === undefined ? null : sensitivityMode(resumed, workload),
    };
    const base = { workload, modes };
    const axes = {
      logBodyBytes: axisCurve(base, 'logBodyBytes'),
      configResponseBytes: axisCurve(base, 'configResponseBytes'),
      requestsPerMinute: axisCurve(base, 'requestsPerMinute'),
    };
    curves.push({ baseline: fresh.id, basis: 'model-from-measured', workload, modes, axes });
  }
  return curves;
}

/** A mode's measured figures: the steady state's means over repetitions, its connections' mean overhead. */
export function sensitivityMode(s: MeasuredScenario, w: SensitivityWorkload): SensitivityMode {
  const steady = s.steadyState!;
  const summary = s.summary?.steady;
  const up = summary?.upWireBytes.mean ?? steady.perEndpointMinute.upWireBytes;
  const down = summary?.downWireBytes.mean ?? steady.perEndpointMinute.downWireBytes;
  const connections = summary?.connections.mean ?? steady.perEndpointMinute.connections;
  const o = steady.connectionOverhead;
  const perRequest = s.spec.mode !== 'persistent';
  return {
    scenario: s.id,
    upWireBytes: up,
    downWireBytes: down,
    connectionsPerMinute: connections,
    connectionsPerRequest: perRequest ? connections / w.requestsPerMinute : 0,
    connectionUpWireBytes: o.upWireBytes,
    connectionDownWireBytes: o.downWireBytes,
    requestUpWireBytes: (up - connections * o.upWireBytes - w.requestBodyBytesPerMinute) / w.requestsPerMinute,
    requestDownWireBytes: (down - connections * o.downWireBytes - w.responseBodyBytesPerMinute) / w.requestsPerMinute,
  };
}

/** Wire bytes per endpoint-minute of one mode at `at`. */
export function modelBytes(m: SensitivityMode, w: SensitivityWorkload, at: ModelAt): { up: number; down: number } {
  const body = at.logBodyBytes ?? w.resultBodyBytes;
  const config = at.configResponseBytes ?? w.configResponseBytes;
  const posts = Math.max(0, w.resultPostsPerMinute + (at.requestsPerMinute ?? w.requestsPerMinute) - w.requestsPerMinute);
  const added = posts - w.resultPostsPerMinute;
  // Persistent: a log period past the server's idle timeout finds the connection closed at every post.
  const idleReconnects = (n: number) => (n > 0 && 60 / n > w.serverIdleTimeoutSeconds ? n : 0);
  const connections = m.connectionsPerRequest > 0 ? m.connectionsPerRequest * added : idleReconnects(posts) - idleReconnects(w.resultPostsPerMinute);
  return {
    up: m.upWireBytes + posts * body - w.resultPostsPerMinute * w.resultBodyBytes + added * m.requestUpWireBytes + connections * m.connectionUpWireBytes,
    down:
      m.downWireBytes + w.configsPerMinute * (config - w.configResponseBytes) + added * (w.logResponseBytes + m.requestDownWireBytes) + connections * m.connectionDownWireBytes,
  };
}

/** The model's savings of `candidate` against fresh at `at`. */
export function modelSavings(fresh: SensitivityMode, candidate: SensitivityMode, w: SensitivityWorkload, at: ModelAt): ModelSavings {
  const f = modelBytes(fresh, w, at);
  const c = modelBytes(candidate, w, at);
  const pct = (b: number, x: number) => (b === 0 ? 0 : ((b - x) / b) * 100);
  return { upSavedPct: pct(f.up, c.up), downSavedPct: pct(f.down, c.down), allBytesSavedPct: pct(f.up + f.down, c.up + c.down) };
}

type CurveBase = Pick<SensitivityCurve, 'workload' | 'modes'>;

/** A curve's point; its savings to 0.01 points (the model is good to about a point: docs/measurements.md). */
function pointAt(base: CurveBase, axis: SensitivityAxis, x: number): SensitivityPoint {
  const at: ModelAt = { [axis]: x };
  const { fresh, persistent, resumed } = base.modes;
  const rounded = (m: ModelSavings): ModelSavings => ({ upSavedPct: hundredths(m.upSavedPct), downSavedPct: hundredths(m.downSavedPct), allBytesSavedPct: hundredths(m.allBytesSavedPct) });
  return {
    x,
    persistent: persistent === null ? null : rounded(modelSavings(fresh, persistent, base.workload, at)),
    resumed: resumed === null ? null : rounded(modelSavings(fresh, resumed, base.workload, at)),
  };
}

function hundredths(n: number): number {
  return Math.round(n * 100) / 100;
}

const MEASURED_X: Record<SensitivityAxis, (w: SensitivityWorkload) => number> = {
  logBodyBytes: (w) => w.resultBodyBytes,
  configResponseBytes: (w) => w.configResponseBytes,
  requestsPerMinute: (w) => w.requestsPerMinute,
};

/** The sweep's x values, with the run's own value among them. */
function sweep(axis: SensitivityAxis, w: SensitivityWorkload): number[] {
  const s = SWEEP[axis];
  // Fewer requests than the other channels send alone would need negative result posts.
  const from = 'from' in s ? s.from : Math.ceil(w.requestsPerMinute - w.resultPostsPerMinute + 0.5);
  const xs = Array.from({ length: s.steps + 1 }, (_, i) => (s.log ? from * (s.to / from) ** (i / s.steps) : from + ((s.to - from) * i) / s.steps));
  const rounded = xs.map((x) => (axis === 'requestsPerMinute' ? Math.round(x * 10) / 10 : Math.round(x)));
  return [...new Set([...rounded, MEASURED_X[axis](w)])].sort((a, b) => a - b);
}

/** An axis swept, its run's value and the field report's among the points. */
function axisCurve(base: CurveBase, axis: SensitivityAxis): SensitivityAxisCurve {
  const field = fieldX(base, axis);
  const xs = [...new Set([...sweep(axis, base.workload), ...(field.x === null ? [] : [field.x])])].sort((a, b) => a - b);
  return { measuredX: MEASURED_X[axis](base.workload), points: xs.map((x) => pointAt(base, axis, x)), fieldReport: field };
}

/**
 * Where the field report falls on an axis. Its config (~11 KB) and request rate (12-16 sockets through
 * TIME_WAIT per agent-minute: one per request) are reported; its log bodies ("only diffs") are not, so on
 * that axis the point is the body size at which the model's upstream saving is the reported 50%.
 */
function fieldX(base: CurveBase, axis: SensitivityAxis): SensitivityAxisCurve['fieldReport'] {
  if (axis === 'configResponseBytes') return { x: FIELD_OPERATING_POINT.configResponseBytes, how: "the field report's ~11 KB config" };
  if (axis === 'requestsPerMinute') return { x: FIELD_OPERATING_POINT.requestsPerMinute, how: "the field report's 12-16 sockets per agent-minute, one per request" };
  const { fresh, persistent } = base.modes;
  if (persistent === null) return { x: null, how: 'no persistent scenario to model' };
  const up = (x: number) => modelSavings(fresh, persistent, base.workload, { logBodyBytes: x }).upSavedPct;
  // Upstream saving falls as bodies grow: bisect on the sweep's range.
  let lo: number = SWEEP.logBodyBytes.from;
  let hi: number = SWEEP.logBodyBytes.to;
  const target = FIELD_OPERATING_POINT.upSavedPct;
  if (up(lo) < target || up(hi) > target) return { x: null, how: `the model's upstream saving does not reach ${target}% between ${lo} B and ${hi} B bodies` };
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (up(mid) > target) lo = mid;
    else hi = mid;
  }
  return { x: Math.round((lo + hi) / 2), how: `the result-post body at which the model's upstream saving is the field report's ${target}%` };
}
