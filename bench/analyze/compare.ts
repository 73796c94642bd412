/** Comparisons of a run: every mode against `fresh` in the same configuration (DESIGN.md "Comparisons"). */
import {
  API_CALLS,
  configurationKey,
  type Comparison,
  type ComparisonSummary,
  type MeasuredScenario,
  type PerEndpointMinute,
  type Repetition,
  type ScenarioResult,
  type Spread,
} from '../model/index.ts';
import { spread } from './repetitions.ts';

/**
 * Pairs every measured non-fresh scenario with the measured `fresh` one of the same configuration
 * (`configurationKey`); savings are per endpoint-minute, in wire bytes (TCP payload when a run had no capture).
 */
export function compareScenarios(scenarios: readonly ScenarioResult[]): Comparison[] {
  const measured = scenarios.filter((s): s is MeasuredScenario => s.state !== 'failed');
  const comparisons: Comparison[] = [];
  for (const candidate of measured) {
    if (candidate.spec.mode === 'fresh') continue;
    const key = configurationKey(candidate.spec);
    const baseline = measured.find((s) => s.spec.mode === 'fresh' && configurationKey(s.spec) === key);
    if (baseline === undefined) continue;
    const b = baseline.perEndpointMinute;
    const c = candidate.perEndpointMinute;
    const wire = b.upWireBytes !== null && b.downWireBytes !== null && c.upWireBytes !== null && c.downWireBytes !== null;
    const allBytes = (p: PerEndpointMinute) => (wire ? p.upWireBytes! + p.downWireBytes! : p.upTcpPayloadBytes + p.downTcpPayloadBytes);
    const cpu = (s: MeasuredScenario) => s.server.cpuMsPerRequest;
    comparisons.push({
      baseline: baseline.id,
      candidate: candidate.id,
      upSavedPct: wire ? savedPct(b.upWireBytes!, c.upWireBytes!) : savedPct(b.upTcpPayloadBytes, c.upTcpPayloadBytes),
      downSavedPct: wire ? savedPct(b.downWireBytes!, c.downWireBytes!) : savedPct(b.downTcpPayloadBytes, c.downTcpPayloadBytes),
      connectionsSavedPct: savedPct(b.connections, c.connections),
      basis: wire ? 'wire' : 'tcp-payload',
      latencyP50SavedPct:
        baseline.latencyAllCalls === null || candidate.latencyAllCalls === null
          ? null
          : savedPct(baseline.latencyAllCalls.p50Ms, candidate.latencyAllCalls.p50Ms),
      roundTripsSavedPerRequest: roundTripsSaved(baseline, candidate),
      allBytesSavedPct: allBytes(b) === 0 ? null : savedPct(allBytes(b), allBytes(c)),
      serverCpuSavedPct: cpu(baseline) === 0 ? null : savedPct(cpu(baseline), cpu(candidate)),
      steady: steadySavings(baseline, candidate),
      summary: comparisonSummary(baseline, candidate),
    });
  }
  return comparisons;
}

/** Savings in the steady state (wire bytes), when both scenarios have one. */
function steadySavings(baseline: MeasuredScenario, candidate: MeasuredScenario): Comparison['steady'] {
  const b = baseline.steadyState?.perEndpointMinute;
  const c = candidate.steadyState?.perEndpointMinute;
  if (b === undefined || c === undefined) return null;
  return {
    upSavedPct: savedPct(b.upWireBytes, c.upWireBytes),
    downSavedPct: savedPct(b.downWireBytes, c.downWireBytes),
    connectionsSavedPct: savedPct(b.connections, c.connections),
  };
}

/** Percent of `before` saved by going to `after` (negative when `after` is larger); 0 for a zero baseline. */
export function savedPct(before: number, after: number): number {
  return before === 0 ? 0 : ((before - after) / before) * 100;
}

/** Round trips to the first response byte saved per request, averaged over the API calls both measured. */
function roundTripsSaved(baseline: MeasuredScenario, candidate: MeasuredScenario): number | null {
  const saved = API_CALLS.flatMap((api) => {
    const b = baseline.latency[api];
    const c = candidate.latency[api];
    return b === undefined || c === undefined ? [] : [b.model.roundTrips - c.model.roundTrips];
  });
  return saved.length === 0 ? null : saved.reduce((a, x) => a + x, 0) / saved.length;
}

/** Savings over the repetitions of a pair, run k against run k (both measured). */
export function comparisonSummary(baseline: MeasuredScenario, candidate: MeasuredScenario): ComparisonSummary {
  const pairs = baseline.repetitions.flatMap((b) => {
    const c = candidate.repetitions.find((x) => x.run === b.run);
    return c === undefined || b.state === 'failed' || c.state === 'failed' ? [] : [[b, c] as const];
  });
  const wireOr = (p: PerEndpointMinute, dir: 'up' | 'down') => (dir === 'up' ? (p.upWireBytes ?? p.upTcpPayloadBytes) : (p.downWireBytes ?? p.downTcpPayloadBytes));
  const of = (f: (b: Repetition, c: Repetition) => number | null): Spread | null => {
    const values = pairs.map(([b, c]) => f(b, c));
    return values.some((v) => v === null) ? null : spread(values as number[]);
  };
  return {
    pairs: pairs.length,
    upSavedPct: of((b, c) => savedPct(wireOr(b.perEndpointMinute!, 'up'), wireOr(c.perEndpointMinute!, 'up'))),
    downSavedPct: of((b, c) => savedPct(wireOr(b.perEndpointMinute!, 'down'), wireOr(c.perEndpointMinute!, 'down'))),
    steadyUpSavedPct: of((b, c) => (b.steady === null || c.steady === null ? null : savedPct(b.steady.upWireBytes, c.steady.upWireBytes))),
    steadyDownSavedPct: of((b, c) => (b.steady === null || c.steady === null ? null : savedPct(b.steady.downWireBytes, c.steady.downWireBytes))),
    latencyP50SavedPct: of((b, c) => (b.latency.all === null || c.latency.all === null ? null : savedPct(b.latency.all.p50Ms, c.latency.all.p50Ms))),
  };
}
