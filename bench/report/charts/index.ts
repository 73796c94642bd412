/** Every chart of a run, in page order: the comparison across configurations, then each configuration's own. */
import type { ReportModel } from '../model.ts';
import { bandwidthCharts } from './bandwidth.ts';
import { breakdownCharts } from './breakdown.ts';
import { headlineCharts } from './bytes.ts';
import type { ChartSpec } from './common.ts';
import { comparisonChart } from './comparison.ts';
import { connectionsChart } from './connections.ts';
import { serverCpuChart } from './cpu.ts';
import { latencyCharts } from './latency.ts';
import { networkLatencyCharts } from './network-latency.ts';
import { roundTripCharts } from './paths.ts';
import { protocolChart } from './protocol.ts';
import { serverCharts } from './server.ts';
import { sensitivityCharts } from './sensitivity.ts';

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
 * Builds every chart from the report model alone, in page order: the comparison across configurations first,
 * then each configuration's own charts, the primary configuration's first. Failed scenarios are left out
 * (they measured nothing); invalid ones are drawn pale and labelled INVALID; each chart's subtitle names both.
 * Charts that need a capture (breakdown, bandwidth, protocol matrix) are absent from a run without one.
 */
export function buildCharts(model: ReportModel): ChartSpec[] {
  const perGroup = [...headlineCharts(model), ...sensitivityCharts(model), ...breakdownCharts(model), ...bandwidthCharts(model), ...latencyCharts(model)];
  for (const chart of perGroup) if (chart.group !== null) withSubtitleLine(chart, model.groupStateNotes.get(chart.group) ?? null);
  const across = [...comparisonChart(model), ...networkLatencyCharts(model.networkLatency), ...roundTripCharts(model), ...connectionsChart(model), ...serverCpuChart(model), ...protocolChart(model), ...serverCharts(model)].map((c) =>
    withSubtitleLine(c, model.acrossStateNote),
  );
  return [...across, ...model.groups.flatMap((g) => perGroup.filter((c) => c.group === g.label))];
}
