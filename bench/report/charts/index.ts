/** Every chart of a run, in page order: the primary configuration, charts across configurations, the others. */
import type { Results } from '../../model.ts';
import { groupScenarios } from '../groups.ts';
import { bandwidthCharts } from './bandwidth.ts';
import { breakdownCharts } from './breakdown.ts';
import { headlineCharts } from './bytes.ts';
import type { ChartSpec } from './common.ts';
import { connectionsChart } from './connections.ts';
import { latencyCharts } from './latency.ts';
import { protocolChart } from './protocol.ts';

export type { ChartSpec, ChartTable } from './common.ts';

/**
 * Builds every chart from the results alone. Failed scenarios are left out (they measured nothing); invalid
 * ones are drawn, translucent and labelled INVALID. Charts that need a capture (breakdown, bandwidth,
 * protocol matrix) are absent from a run without one.
 */
export function buildCharts(results: Results): ChartSpec[] {
  const groups = groupScenarios(results);
  const perGroup = [
    ...headlineCharts(results, groups),
    ...breakdownCharts(results, groups),
    ...bandwidthCharts(results, groups),
    ...latencyCharts(results, groups),
  ];
  const across = [...connectionsChart(results, groups), ...protocolChart(results, groups)];
  const ofGroup = (label: string) => perGroup.filter((c) => c.group === label);
  const [primary, ...others] = groups;
  return [
    ...(primary === undefined ? [] : ofGroup(primary.label)),
    ...across,
    ...others.flatMap((g) => ofGroup(g.label)),
  ];
}
