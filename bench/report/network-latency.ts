/**
 * The panels of the latency-per-call charts on emulated networks (charts/network-latency.ts): per configuration
 * on a network other than loopback, each mode's median and round-trip model per API call, from the results.
 */
import { API_CALLS } from '../model/index.ts';
import type { NetworkLatencyPanel } from './charts/network-latency.ts';
import type { ScenarioGroup } from './groups.ts';

/** One panel per configuration on an emulated path, in group order; none for a loopback-only run. */
export function networkLatencyPanels(groups: readonly ScenarioGroup[]): NetworkLatencyPanel[] {
  return groups.flatMap((g) => {
    const link = g.spec.link;
    if (link === null) return [];
    const modes = g.measured.map((s) => ({
      mode: s.spec.mode,
      invalid: s.state === 'invalid',
      calls: Object.fromEntries(
        API_CALLS.flatMap((api) => {
          const l = s.latency[api];
          return l === undefined || l.total.samples === 0
            ? []
            : [[api, { p50Ms: l.total.p50Ms, modelMs: l.model.ms === 0 ? null : l.model.ms, modelRatio: l.modelRatio, samples: l.total.samples }]];
        }),
      ),
    }));
    const apis = API_CALLS.filter((api) => modes.some((m) => m.calls[api] !== undefined));
    return apis.length === 0 ? [] : [{ network: g.spec.network, rttMs: link.rttMs, configuration: g.fullLabel, slug: g.slug, apis, modes }];
  });
}
