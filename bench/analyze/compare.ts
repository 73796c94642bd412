/** Comparisons of a run: every mode against `fresh` in the same configuration (DESIGN.md "Comparisons"). */
import { API_CALLS, configurationKey, type Comparison, type MeasuredScenario, type ScenarioResult } from '../model/index.ts';

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
      steady: steadySavings(baseline, candidate),
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
