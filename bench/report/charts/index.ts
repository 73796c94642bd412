/** Every chart of a run, in page order: the primary configuration, charts across configurations, the others. */
import type { ReportModel } from '../model.ts';
import { bandwidthCharts } from './bandwidth.ts';
import { breakdownCharts } from './breakdown.ts';
import { headlineCharts } from './bytes.ts';
import type { ChartSpec } from './common.ts';
import { connectionsChart } from './connections.ts';
import { latencyCharts } from './latency.ts';
import { roundTripCharts } from './paths.ts';
import { protocolChart } from './protocol.ts';

export type { ChartSpec, ChartTable } from './common.ts';

/** Adds a line to a chart's subtitle. */
function withSubtitleLine(chart: ChartSpec, line: string | null): ChartSpec {
  const subtitle = chart.config.options?.plugins?.subtitle;
  if (line === null || subtitle === undefined) return chart;
  const lines = Array.isArray(subtitle.text) ? subtitle.text : [subtitle.text ?? ''];
  subtitle.text = [...lines, line];
  subtitle.display = true;
  return chart;
}

/**
 * Builds every chart from the report model alone. Failed scenarios are left out (they measured nothing); invalid
 * ones are drawn pale and labelled INVALID; each chart's subtitle names both. Charts that need a capture
 * (breakdown, bandwidth, protocol matrix) are absent from a run without one.
 */
export function buildCharts(model: ReportModel): ChartSpec[] {
  const groups = model.groups;
  const perGroup = [...headlineCharts(model), ...breakdownCharts(model), ...bandwidthCharts(model), ...latencyCharts(model)];
  for (const chart of perGroup) if (chart.group !== null) withSubtitleLine(chart, model.groupStateNotes.get(chart.group) ?? null);
  const across = [...roundTripCharts(model), ...connectionsChart(model), ...protocolChart(model)].map((c) => withSubtitleLine(c, model.acrossStateNote));
  const ofGroup = (label: string) => perGroup.filter((c) => c.group === label);
  const [primary, ...others] = groups;
  return [
    ...(primary === undefined ? [] : ofGroup(primary.label)),
    ...across,
    ...others.flatMap((g) => ofGroup(g.label)),
  ];
}
