/**
 * Chart 3, bandwidth over time: wire bytes per virtual second for each mode, downstream above upstream on
 * one time axis — the before/after network graphs of the field report, from pcap timestamps.
 */
import type { ChartConfiguration } from 'chart.js';
import type { ReportModel } from '../model.ts';
import type { Direction } from '../../model/index.ts';
import { formatBytes, formatNumber } from '../format.ts';
import type { MeasuredScenario } from '../groups.ts';
import { axisTitle, baseOptions, byteUnit, modeColour, modeDatasetLabel, plotted, SIZE, type ChartSpec } from './common.ts';

/** Most points a line gets; finer timelines are summed into wider buckets so the lines stay readable. */
const MAX_POINTS = 120;

/** A scenario's bandwidth in virtual time. */
export interface BandwidthSeries {
  /** Width of one plotted bucket, virtual seconds. */
  bucketVirtualSeconds: number;
  /** Bytes per virtual second, per bucket from the scenario's start. */
  up: number[];
  down: number[];
  /** Averages over the whole timeline, bytes per virtual second. */
  upMean: number;
  downMean: number;
}

/**
 * Converts a scenario's timeline (buckets in real milliseconds since the first packet) to bytes per virtual
 * second: real ms × timeCompression = virtual ms. Buckets without traffic are absent from the timeline and
 * count as zero; neighbouring buckets are summed until at most MAX_POINTS remain.
 */
export function bandwidthSeries(s: MeasuredScenario): BandwidthSeries | null {
  const timeline = s.timeline;
  if (timeline === null || timeline.bucketMs <= 0 || timeline.buckets.length === 0) return null;
  // A loop, not Math.max(...buckets): spreading a long array overflows the stack.
  const count = timeline.buckets.reduce((n, b) => Math.max(n, Math.round(b.startMs / timeline.bucketMs)), 0) + 1;
  const factor = bucketFactor(count, (timeline.bucketMs * s.spec.timeCompression) / 1000);
  const bins = Math.ceil(count / factor);
  const up = new Array<number>(bins).fill(0);
  const down = new Array<number>(bins).fill(0);
  for (const b of timeline.buckets) {
    const bin = Math.floor(Math.round(b.startMs / timeline.bucketMs) / factor);
    up[bin]! += b.upWireBytes;
    down[bin]! += b.downWireBytes;
  }
  const bucketVirtualSeconds = (timeline.bucketMs * factor * s.spec.timeCompression) / 1000;
  const totalVirtualSeconds = (timeline.bucketMs * count * s.spec.timeCompression) / 1000;
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    bucketVirtualSeconds,
    up: up.map((bytes) => bytes / bucketVirtualSeconds),
    down: down.map((bytes) => bytes / bucketVirtualSeconds),
    upMean: sum(up) / totalVirtualSeconds,
    downMean: sum(down) / totalVirtualSeconds,
  };
}

/** Plotted bucket widths, virtual seconds: the timeline's own 1 s, else whole multiples of the agent's 5 s
 *  logger period, so every bucket holds as many periodic posts and the line does not alias into a sawtooth. */
const NICE_BUCKET_VIRTUAL_S = [1, 5, 10, 15, 30, 60, 120, 300, 600];

/** How many timeline buckets to sum per plotted point. */
function bucketFactor(count: number, bucketVirtualSeconds: number): number {
  const minFactor = Math.ceil(count / MAX_POINTS);
  for (const nice of NICE_BUCKET_VIRTUAL_S) {
    const factor = Math.round(nice / bucketVirtualSeconds);
    if (factor >= minFactor && Math.abs(factor * bucketVirtualSeconds - nice) < 1e-9) return factor;
  }
  return minFactor;
}

const rate = (bytesPerSecond: number) => `${formatBytes(bytesPerSecond)}/s`;

function bandwidthTitle(series: { s: MeasuredScenario; series: BandwidthSeries }[]): string {
  const fresh = series.find((x) => x.s.spec.mode === 'fresh');
  const persistent = series.find((x) => x.s.spec.mode === 'persistent');
  if (fresh !== undefined && persistent !== undefined) {
    return `Persistent connections cut average downstream bandwidth from ${rate(fresh.series.downMean)} to ${rate(persistent.series.downMean)}`;
  }
  return `Average downstream bandwidth: ${series.map((x) => `${x.s.spec.mode} ${rate(x.series.downMean)}`).join(', ')}`;
}

/** One chart per configuration with timelines (`bandwidth`, `bandwidth-<group>`). */
export function bandwidthCharts({ groups }: ReportModel): ChartSpec[] {
  const perGroup = groups
    .map((group) => ({
      group,
      series: group.measured.flatMap((s) => {
        const series = bandwidthSeries(s);
        return series === null ? [] : [{ s, series }];
      }),
    }))
    .filter((g) => g.series.length > 0);
  const peak = Math.max(0, ...perGroup.flatMap((g) => g.series.flatMap((x) => [...x.series.up, ...x.series.down])));
  const unit = byteUnit(peak);
  return perGroup.map(({ group, series }) => {
    const size = SIZE.tall;
    const endpoints = group.spec.endpoints;
    const bucket = series[0]!.series.bucketVirtualSeconds;
    const upPeak = Math.max(1, ...series.flatMap((x) => x.series.up));
    const dataset = (x: (typeof series)[number], direction: Direction) => ({
      label: modeDatasetLabel(x.s, ` ${direction === 'down' ? 'downstream' : 'upstream'}`),
      data: x.series[direction].map((bytesPerSecond, i) => ({
        x: plotted(i * x.series.bucketVirtualSeconds),
        y: plotted(bytesPerSecond / unit.divisor),
      })),
      yAxisID: direction === 'down' ? 'yDown' : 'yUp',
      borderColor: modeColour(x.s.spec.mode, x.s.state === 'invalid'),
      backgroundColor: modeColour(x.s.spec.mode, x.s.state === 'invalid'),
      borderWidth: 1.5,
      borderDash: direction === 'up' ? [6, 3] : [],
      pointRadius: 0,
      tension: 0,
    });
    const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
      type: 'line',
      data: { datasets: [...series.map((x) => dataset(x, 'down')), ...series.map((x) => dataset(x, 'up'))] },
      options: {
        ...baseOptions<'line'>(
          bandwidthTitle(series),
          [
            `${group.fullLabel} · wire bytes per virtual second of ${endpoints === 1 ? 'one endpoint' : `all ${endpoints} endpoints`}, in ${formatNumber(bucket, Number.isInteger(plotted(bucket)) ? 0 : 1)} s buckets`,
          ],
          size,
        ),
        scales: {
          x: { type: 'linear', min: 0, ticks: { maxRotation: 0 }, title: axisTitle('virtual seconds since the scenario started') },
          // Stacked scales are laid out bottom-up in definition order: upstream below, downstream above.
          yUp: {
            type: 'linear',
            position: 'left',
            stack: 'bandwidth',
            stackWeight: 1,
            min: 0,
            // A set maximum above the data without a tick at it: the panel's top tick label then stays
            // clear of the downstream panel's zero.
            max: plotted((upPeak / unit.divisor) * 1.25),
            ticks: { includeBounds: false },
            title: axisTitle(`upstream, ${unit.unit}/s`),
          },
          yDown: {
            type: 'linear',
            position: 'left',
            stack: 'bandwidth',
            stackWeight: 2,
            offset: true,
            beginAtZero: true,
            title: axisTitle(`downstream, ${unit.unit}/s`),
          },
        },
      },
    };
    return {
      name: `bandwidth-${group.slug}`,
      heading: 'Bandwidth over time',
      group: group.label,
      ...size,
      config: config as unknown as ChartConfiguration,
      caption:
        'Wire bytes per virtual second from the capture\'s timestamps (virtual time = real time × the time compression). Spikes are the agent\'s periodic config and distributed calls; fresh connections add a handshake to every request.',
      table: {
        header: ['scenario', 'mean up', 'mean down', 'peak up', 'peak down', 'bucket (virtual s)'],
        numeric: [1, 2, 3, 4, 5],
        rows: series.map((x) => [
          x.s.id,
          rate(x.series.upMean),
          rate(x.series.downMean),
          rate(Math.max(...x.series.up)),
          rate(Math.max(...x.series.down)),
          formatNumber(x.series.bucketVirtualSeconds, 1),
        ]),
      },
    };
  });
}
