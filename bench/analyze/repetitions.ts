/**
 * Repetitions of a scenario (`--runs N`, issue 12, like hyperfine's runs): each repetition's figures, their
 * summary (mean ± sd, min-max, 95% confidence interval), and the warnings a spread or a busy machine calls
 * for. Pure: the live run hands in each repetition's result and the load averages it read.
 */
import {
  API_CALLS,
  warning,
  type ApiCall,
  type LatencySummary,
  type PerEndpointMinute,
  type Percentiles,
  type Repetition,
  type ScenarioResult,
  type SingleRun,
  type ScenarioSummary,
  type Spread,
  type SteadyPerEndpointMinute,
  type Warning,
} from '../model/index.ts';
import { tCritical95 } from './latency.ts';

/** One repetition as the runner hands it in. */
export interface RepetitionInput {
  result: SingleRun;
  loadAverage: { before: number; after: number };
}

/**
 * Steady-state wire bytes that vary more than this between repetitions (relative sd) are a spread worth a
 * warning: pure ACKs alone moved them by up to 1.6% between good runs (docs/ci.md).
 */
export const WIRE_SPREAD_WARN_PCT = 3;
/** The pooled p50 latency: a shared 2-core machine moved it by tens of percent between runs (docs/ci.md). */
export const LATENCY_SPREAD_WARN_PCT = 30;

/** Mean, sample sd, min, max and the 95% CI half-width of the mean of `values`; null for none. */
export function spread(values: readonly number[]): Spread | null {
  const n = values.length;
  if (n === 0) return null;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(values.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, sd, min: Math.min(...values), max: Math.max(...values), ci95: n > 1 ? (sd / Math.sqrt(n)) * tCritical95(n - 1) : 0 };
}

/**
 * One scenario's result from its repetitions: the first measured repetition's measurement, every
 * repetition's figures and their summary. A later repetition that failed or was invalid makes the scenario
 * invalid (its reasons named by run), so the summary never quietly averages over a bad run.
 */
export function combineRepetitions(inputs: readonly RepetitionInput[], cores: number): ScenarioResult {
  const firstIndex = inputs.findIndex((r) => r.result.state !== 'failed');
  if (firstIndex < 0) {
    const failed = inputs[0]!.result as Extract<SingleRun, { state: 'failed' }>;
    if (inputs.length === 1) return failed;
    return { ...failed, error: inputs.map((r, i) => `run ${i + 1}: ${(r.result as typeof failed).error}`).join('; ') };
  }
  const first = inputs[firstIndex]!.result as Exclude<SingleRun, { state: 'failed' }>;
  const repetitions = inputs.map((r, i) => repetitionOf(r, i + 1));
  const summary = summarizeRepetitions(repetitions);
  const warnings: Warning[] = [...first.warnings, ...spreadWarnings(summary, repetitions, cores)];
  const reasons = [
    ...(first.state === 'invalid' ? first.invalidReasons : []),
    ...repetitions.filter((r) => r.run !== firstIndex + 1 && r.state !== 'completed').flatMap((r) => r.reasons.map((reason) => `run ${r.run}: ${reason}`)),
  ];
  if (first.state === 'invalid') return { ...first, warnings, invalidReasons: reasons, repetitions, summary };
  if (reasons.length > 0) return { ...first, state: 'invalid', warnings, invalidReasons: reasons, repetitions, summary };
  return { ...first, warnings, repetitions, summary };
}

/** The figures of one repetition. */
export function repetitionOf(input: RepetitionInput, run: number): Repetition {
  const r = input.result;
  if (r.state === 'failed') {
    return {
      run, state: 'failed', reasons: [r.error], perEndpointMinute: null, steady: null, latency: { all: null, byApi: {} },
      cpuMsPerRequest: null, loadAverage: input.loadAverage, realDurationMs: 0,
    };
  }
  const byApi: Partial<Record<ApiCall, Percentiles>> = {};
  for (const api of API_CALLS) {
    const l = r.latency[api];
    if (l !== undefined) byApi[api] = percentiles(l.total);
  }
  return {
    run,
    state: r.state,
    reasons: r.state === 'invalid' ? r.invalidReasons : [],
    perEndpointMinute: r.perEndpointMinute,
    steady: r.steadyState?.perEndpointMinute ?? null,
    latency: { all: r.latencyAllCalls === null ? null : percentiles(r.latencyAllCalls), byApi },
    cpuMsPerRequest: r.server.cpuMsPerRequest,
    loadAverage: input.loadAverage,
    realDurationMs: r.realDurationMs,
  };
}

function percentiles(s: LatencySummary): Percentiles {
  return { p50Ms: s.p50Ms, p90Ms: s.p90Ms, p99Ms: s.p99Ms };
}

/** The spread of every figure over the repetitions that measured. */
export function summarizeRepetitions(repetitions: readonly Repetition[]): ScenarioSummary {
  const measured = repetitions.filter((r) => r.state !== 'failed');
  const over = <T>(pick: (r: Repetition) => T | null | undefined, each: (t: T) => number): Spread | null => {
    const values = measured.map(pick);
    if (values.length === 0 || values.some((v) => v === null || v === undefined)) return null;
    return spread(values.map((v) => each(v as T)));
  };
  const perEndpointMinute: ScenarioSummary['perEndpointMinute'] = {};
  for (const key of Object.keys(measured[0]?.perEndpointMinute ?? {}) as (keyof PerEndpointMinute)[]) {
    const s = over((r) => r.perEndpointMinute?.[key], (v) => v);
    if (s !== null) perEndpointMinute[key] = s;
  }
  const steadyKeys = Object.keys(measured[0]?.steady ?? {}) as (keyof SteadyPerEndpointMinute)[];
  const steadyEntries = steadyKeys.map((key) => [key, over((r) => r.steady?.[key], (v) => v)] as const);
  const steady = steadyKeys.length === 0 || steadyEntries.some(([, s]) => s === null) ? null : (Object.fromEntries(steadyEntries) as Record<keyof SteadyPerEndpointMinute, Spread>);
  const percentileSpread = (pick: (r: Repetition) => Percentiles | null | undefined): Record<keyof Percentiles, Spread> | null => {
    const p50 = over(pick, (p) => p.p50Ms);
    const p90 = over(pick, (p) => p.p90Ms);
    const p99 = over(pick, (p) => p.p99Ms);
    return p50 === null || p90 === null || p99 === null ? null : { p50Ms: p50, p90Ms: p90, p99Ms: p99 };
  };
  const byApi: ScenarioSummary['latency']['byApi'] = {};
  for (const api of API_CALLS) {
    const s = percentileSpread((r) => r.latency.byApi[api]);
    if (s !== null) byApi[api] = s;
  }
  return {
    runs: repetitions.length,
    measuredRuns: measured.length,
    perEndpointMinute,
    steady,
    latency: { all: percentileSpread((r) => r.latency.all), byApi },
    cpuMsPerRequest: over((r) => r.cpuMsPerRequest, (v) => v),
    loadAverage: spread(repetitions.map((r) => Math.max(r.loadAverage.before, r.loadAverage.after)))!,
  };
}

/** A busy machine (load above its cores) and figures that spread more than their noise should. */
function spreadWarnings(summary: ScenarioSummary, repetitions: readonly Repetition[], cores: number): Warning[] {
  const warnings: Warning[] = [];
  const busy = repetitions.filter((r) => Math.max(r.loadAverage.before, r.loadAverage.after) > cores);
  if (busy.length > 0) {
    const load = Math.max(...busy.map((r) => Math.max(r.loadAverage.before, r.loadAverage.after)));
    warnings.push(warning('busy-machine', { load, cores, runs: busy.map((r) => r.run) }));
  }
  const relative = (s: Spread | null | undefined) => (s === null || s === undefined || s.mean === 0 || s.n < 2 ? 0 : (s.sd / s.mean) * 100);
  const wide: { figure: string; pct: number; limitPct: number }[] = [];
  const steady = summary.steady;
  for (const [figure, s] of [['steady upWireBytes', steady?.upWireBytes], ['steady downWireBytes', steady?.downWireBytes]] as const) {
    if (relative(s) > WIRE_SPREAD_WARN_PCT) wide.push({ figure, pct: relative(s), limitPct: WIRE_SPREAD_WARN_PCT });
  }
  if (relative(summary.latency.all?.p50Ms) > LATENCY_SPREAD_WARN_PCT) {
    wide.push({ figure: 'p50 latency', pct: relative(summary.latency.all?.p50Ms), limitPct: LATENCY_SPREAD_WARN_PCT });
  }
  if (wide.length > 0) warnings.push(warning('large-spread', { figures: wide }));
  return warnings;
}
