/**
 * Chart 3, traffic over time: the wire bytes one endpoint has moved so far (both directions), one line per mode,
 * from pcap timestamps. Cumulative lines diverge as fast as one mode costs more than another, where the rate
 * per second of each mode (six jagged series of the agent's periodic posts) overlapped into noise.
 */
import type { ChartConfiguration } from 'chart.js';
import type { ReportModel } from '../model.ts';
import { formatBytes, formatNumber } from '../format.ts';
import type { MeasuredScenario, ScenarioGroup } from '../groups.ts';
import { axisTitle, baseOptions, byteUnit, inUnit, lessOrMore, modeColour, modeDatasetLabel, plotted, SIZE, type ChartSpec } from './common.ts';

/** Most points a line gets: cumulative sums are sampled at evenly spaced bucket ends, the last one included. */
const MAX_POINTS = 120;

/** What one endpoint of a scenario had sent and received by each moment, in virtual time. */
export interface CumulativeSeries {
  /** (virtual minutes since the first packet, wire bytes both ways so far per endpoint), ending with the total. */
  points: { minutes: number; bytes: number }[];
  /** Totals per endpoint over the whole capture. */
  upBytes: number;
  downBytes: number;
  /** Virtual minutes the timeline spans. */
  minutes: number;
}

/**
 * The cumulative wire bytes per endpoint of a scenario's timeline (buckets in real milliseconds since the first
 * packet; real ms × timeCompression = virtual ms). Null without a timeline.
 */
export function cumulativeSeries(s: MeasuredScenario): CumulativeSeries | null {
  const timeline = s.timeline;
  if (timeline === null || timeline.bucketMs <= 0 || timeline.buckets.length === 0) return null;
  const perBucket = new Map<number, number>();
  let upBytes = 0;
  let downBytes = 0;
  let last = 0;
  for (const b of timeline.buckets) {
    const index = Math.round(b.startMs / timeline.bucketMs);
    perBucket.set(index, (perBucket.get(index) ?? 0) + b.upWireBytes + b.downWireBytes);
    upBytes += b.upWireBytes;
    downBytes += b.downWireBytes;
    last = Math.max(last, index);
  }
  const count = last + 1;
  const step = Math.max(1, Math.ceil(count / MAX_POINTS));
  const minutesOf = (buckets: number) => (buckets * timeline.bucketMs * s.spec.timeCompression) / 60_000;
  // The timeline holds the captured agents' traffic (a fleet's sample, or every agent).
  const endpoints = s.spec.captureAgents ?? s.spec.endpoints;
  const points = [{ minutes: 0, bytes: 0 }];
  let sum = 0;
  for (let i = 0; i < count; i++) {
    sum += perBucket.get(i) ?? 0;
    if ((i + 1) % step === 0 || i === count - 1) points.push({ minutes: minutesOf(i + 1), bytes: sum / endpoints });
  }
  return { points, upBytes: upBytes / endpoints, downBytes: downBytes / endpoints, minutes: minutesOf(count) };
}

function bandwidthTitle(group: ScenarioGroup, series: { s: MeasuredScenario; series: CumulativeSeries }[]): string {
  const total = (x: { series: CumulativeSeries }) => x.series.upBytes + x.series.downBytes;
  const fresh = series.find((x) => x.s.spec.mode === 'fresh');
  const others = series.filter((x) => x.s.spec.mode !== 'fresh');
  const minutes = formatNumber(Math.max(...series.map((x) => x.series.minutes)), 0);
  if (fresh === undefined || others.length === 0) {
    return `In ${minutes} virtual minutes an endpoint moved ${series.map((x) => `${formatBytes(total(x))} (${x.s.spec.mode})`).join(', ')}`;
  }
  const compared = others.map((x) => {
    const saved = group.comparisons[x.s.spec.mode]?.allBytesSavedPct ?? null;
    return `${formatBytes(total(x))} with ${x.s.spec.mode}${saved === null ? '' : ` (${lessOrMore(saved)})`}`;
  });
  return `In ${minutes} virtual minutes an endpoint moved ${formatBytes(total(fresh))} with fresh connections, ${compared.join(', ')}`;
}

/** One chart per configuration with timelines (`bandwidth-<configuration>`), one value range for all. */
export function bandwidthCharts({ groups }: ReportModel): ChartSpec[] {
  const perGroup = groups
    .map((group) => ({
      group,
      series: group.measured.flatMap((s) => {
        const series = cumulativeSeries(s);
        return series === null ? [] : [{ s, series }];
      }),
    }))
    .filter((g) => g.series.length > 0);
  const peak = Math.max(0, ...perGroup.flatMap((g) => g.series.map((x) => x.series.upBytes + x.series.downBytes)));
  const unit = byteUnit(peak);
  return perGroup.map(({ group, series }) => {
    const size = SIZE.wide;
    const endpoints = group.spec.captureAgents ?? group.spec.endpoints;
    const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
      type: 'line',
      data: {
        datasets: series.map((x) => ({
          label: modeDatasetLabel(x.s),
          data: x.series.points.map((p) => ({ x: plotted(p.minutes), y: inUnit(p.bytes, unit) })),
          borderColor: modeColour(x.s.spec.mode, x.s.state === 'invalid'),
          backgroundColor: modeColour(x.s.spec.mode, x.s.state === 'invalid'),
          borderWidth: 2.5,
          pointRadius: 0,
          tension: 0,
        })),
      },
      options: {
        ...baseOptions<'line'>(
          bandwidthTitle(group, series),
          [`${group.fullLabel} · wire bytes sent and received so far by ${endpoints === 1 ? 'the endpoint' : group.spec.captureAgents === undefined ? 'each endpoint (the mean of all)' : `each endpoint (the mean of the ${endpoints} captured)`}, both directions`],
          size,
        ),
        scales: {
          x: { type: 'linear', min: 0, ticks: { maxRotation: 0 }, title: axisTitle('virtual minutes since the scenario started') },
          y: { type: 'linear', beginAtZero: true, suggestedMax: inUnit(peak, unit), title: axisTitle(`${unit.unit} so far, per endpoint`) },
        },
      },
    };
    return {
      units: { value: `${unit.unit} per endpoint`, x: 'virtual min', decimals: 1 },
      name: `bandwidth-${group.slug}`,
      heading: 'Traffic over time',
      group: group.label,
      ...size,
      config: config as unknown as ChartConfiguration,
      caption:
        "Each line climbs by the bytes an endpoint puts on the wire, from the capture's timestamps (virtual time = real time × the time compression); the steps are the agent's periodic config and distributed calls. Lines that part are modes that cost more per request.",
      table: {
        header: ['scenario', 'up per endpoint', 'down per endpoint', 'total', 'virtual minutes'],
        numeric: [1, 2, 3, 4],
        rows: series.map((x) => [
          x.s.id,
          formatBytes(x.series.upBytes),
          formatBytes(x.series.downBytes),
          formatBytes(x.series.upBytes + x.series.downBytes),
          formatNumber(x.series.minutes, 1),
        ]),
      },
    };
  });
}
