/** Comparisons of a run: every mode against `fresh` in the same configuration (DESIGN.md "Comparisons"). */
import { configurationKey, type Comparison, type MeasuredScenario, type ScenarioResult } from '../model/index.ts';

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
    });
  }
  return comparisons;
}

/** Percent of `before` saved by going to `after` (negative when `after` is larger); 0 for a zero baseline. */
export function savedPct(before: number, after: number): number {
  return before === 0 ? 0 : ((before - after) / before) * 100;
}
