/**
 * What the savings depend on (issue 12): one chart per axis of the sensitivity model (result-post body size,
 * config size, requests per agent-minute), the saving each way against fresh as a line per mode, the run's
 * own measured point on it and the field report's point where it falls. The lines are a model derived from
 * the run's measured figures, and every chart says so.
 */
import type { ChartConfiguration } from 'chart.js';
import type { ModelSavings, SensitivityAxis, SensitivityAxisCurve } from '../../model/index.ts';
import { formatBytes, formatNumber, formatPct } from '../format.ts';
import { FIELD_REPORT } from '../headline.ts';
import type { ReportModel } from '../model.ts';
import { INK, MODE_COLOURS } from '../palette.ts';
import type { SensitivityPanel } from '../sensitivity.ts';
import { axisTitle, baseOptions, plotted, SIZE, type ChartSpec } from './common.ts';

/** How each axis reads. */
const AXES: Record<SensitivityAxis, { name: string; heading: string; title: string; log: boolean; x: (n: number) => string; flag: string }> = {
  logBodyBytes: {
    name: 'log-body',
    heading: 'Savings by log body size (model)',
    title: 'result-post body, bytes of JSON (log scale)',
    log: true,
    x: (n) => formatBytes(n),
    flag: 'log-body=BYTES',
  },
  configResponseBytes: {
    name: 'config-size',
    heading: 'Savings by config size (model)',
    title: 'config response body, bytes of JSON (log scale)',
    log: true,
    x: (n) => formatBytes(n),
    flag: 'config-size=BYTES',
  },
  requestsPerMinute: {
    name: 'rate',
    heading: 'Savings by request rate (model)',
    title: 'requests per agent-minute (more or fewer result posts)',
    log: false,
    x: (n) => formatNumber(n, Number.isInteger(n) ? 0 : 1),
    flag: 'rate=N',
  },
};

/** The lines: each mode compared with fresh, each direction, and all bytes for reuse. */
const SERIES = [
  { mode: 'persistent', key: 'upSavedPct', label: 'reuse (persistent), upstream', dash: [] as number[], width: 2.5 },
  { mode: 'persistent', key: 'downSavedPct', label: 'reuse (persistent), downstream', dash: [8, 4], width: 2.5 },
  { mode: 'persistent', key: 'allBytesSavedPct', label: 'reuse (persistent), all bytes', dash: [2, 3], width: 1.5 },
  { mode: 'resumed', key: 'upSavedPct', label: 'resumption (resumed), upstream', dash: [] as number[], width: 2 },
  { mode: 'resumed', key: 'downSavedPct', label: 'resumption (resumed), downstream', dash: [8, 4], width: 2 },
] as const satisfies readonly { mode: 'persistent' | 'resumed'; key: keyof ModelSavings; label: string; dash: number[]; width: number }[];

/** The three charts of the primary configuration's model; none when the results carry no model. */
export function sensitivityCharts(model: ReportModel): ChartSpec[] {
  const panel = model.sensitivity;
  if (panel === null) return [];
  return (Object.keys(AXES) as SensitivityAxis[]).map((axis) => axisChart(panel, axis));
}

function axisChart(panel: SensitivityPanel, axis: SensitivityAxis): ChartSpec {
  const a = AXES[axis];
  const curve: SensitivityAxisCurve = panel.curve.axes[axis];
  const series = SERIES.filter((s) => curve.points.some((p) => p[s.mode] !== null));
  const at = (x: number, mode: 'persistent' | 'resumed') => curve.points.find((p) => p.x === x)?.[mode] ?? null;
  const first = curve.points[0]!;
  const last = curve.points.at(-1)!;
  const up = (p: typeof first) => p.persistent?.upSavedPct ?? 0;
  const down = (p: typeof first) => p.persistent?.downSavedPct ?? 0;
  const moves = (f: (p: typeof first) => number) => Math.abs(f(first) - f(last)) >= 1;
  const pct = (n: number) => formatPct(Math.round(n), 0);
  const title =
    axis === 'logBodyBytes'
      ? `Reuse saves ${pct(up(first))} of upstream bytes with ${a.x(first.x)} result posts and ${pct(up(last))} with ${a.x(last.x)}`
      : axis === 'configResponseBytes'
        ? `Reuse saves ${pct(down(first))} of downstream bytes with a ${a.x(first.x)} config and ${pct(down(last))} with ${a.x(last.x)}`
        : `From ${a.x(first.x)} to ${a.x(last.x)} requests a minute, reuse saves ${moves(up) ? `${pct(up(first))}-${pct(up(last))}` : pct(up(first))} up and ${moves(down) ? `${pct(down(first))}-${pct(down(last))}` : pct(down(first))} down`;
  const field = curve.fieldReport;
  const measuredPoints = (['persistent', 'resumed'] as const).flatMap((mode) => {
    const m = panel.measured[mode];
    return m === null ? [] : [{ x: plotted(curve.measuredX), y: plotted(m.upSavedPct) }, { x: plotted(curve.measuredX), y: plotted(m.downSavedPct) }];
  });
  const size = SIZE.wide;
  const config: ChartConfiguration<'scatter', { x: number; y: number }[]> = {
    type: 'scatter',
    data: {
      datasets: [
        ...series.map((s) => ({
          label: s.label,
          data: curve.points.flatMap((p) => {
            const v = p[s.mode];
            return v === null ? [] : [{ x: plotted(p.x), y: plotted(v[s.key]) }];
          }),
          showLine: true,
          borderColor: MODE_COLOURS[s.mode],
          backgroundColor: MODE_COLOURS[s.mode],
          borderDash: s.dash,
          borderWidth: s.width,
          pointRadius: 0,
        })),
        {
          label: 'this run, measured (steady state)',
          data: measuredPoints,
          borderColor: INK,
          backgroundColor: '#FFFFFF',
          pointRadius: 5,
          pointBorderWidth: 2,
        },
        ...(field.x === null
          ? []
          : [
              {
                label: `field report (${FIELD_REPORT.upSavedPct}% up, ${FIELD_REPORT.downSavedPct}% down)`,
                data: [
                  { x: plotted(field.x), y: FIELD_REPORT.upSavedPct },
                  { x: plotted(field.x), y: FIELD_REPORT.downSavedPct },
                ],
                borderColor: INK,
                backgroundColor: INK,
                pointStyle: 'triangle' as const,
                pointRadius: 7,
              },
            ]),
      ],
    },
    options: {
      ...baseOptions<'scatter'>(
        title,
        [
          `MODEL derived from this run's measured figures, not a measurement: ${panel.group.fullLabel}`,
          "steady-state connection overhead and per-request bytes as measured; the other axes held at the run's values",
          `field report's point: ${field.how}${field.x === null ? '' : ` (${a.x(field.x)})`}; measure a point live: --workload ${a.flag}`,
        ],
        size,
      ),
      scales: {
        x: {
          type: a.log ? 'logarithmic' : 'linear',
          title: axisTitle(a.title),
          ticks: { maxRotation: 0, autoSkipPadding: 24, format: { minimumFractionDigits: 0, maximumFractionDigits: 1 } },
        },
        y: { type: 'linear', suggestedMin: 0, suggestedMax: 100, title: axisTitle('% saved against fresh') },
      },
    },
  };
  const sampleXs = [...new Set([first.x, curve.measuredX, ...(field.x === null ? [] : [nearest(curve, field.x)]), last.x])].sort((x, y) => x - y);
  const cell = (v: ModelSavings | null, key: keyof ModelSavings) => (v === null ? '' : formatPct(v[key]));
  return {
    name: `sensitivity-${a.name}`,
    heading: a.heading,
    group: panel.group.label,
    ...size,
    units: { value: '% saved', x: axis === 'requestsPerMinute' ? 'requests/min' : 'B', decimals: 1 },
    config: config as unknown as ChartConfiguration,
    caption:
      "Lines are the model: the run's measured bytes with this axis changed, each connection at its measured cost and each request at its measured bytes beyond its body. Circles are what this run measured; triangles are the field report. docs/measurements.md compares the model with live runs.",
    table: {
      header: [axis === 'requestsPerMinute' ? 'requests / agent-min' : 'bytes', 'reuse up saved', 'reuse down saved', 'reuse all saved', 'resumed up saved', 'resumed down saved', 'note'],
      numeric: [0, 1, 2, 3, 4, 5],
      rows: sampleXs.map((x) => {
        const p = at(x, 'persistent');
        const r = at(x, 'resumed');
        const note = [x === curve.measuredX ? 'this run' : '', field.x !== null && x === nearest(curve, field.x) ? 'field report' : ''].filter((n) => n !== '').join(', ');
        return [a.x(x), cell(p, 'upSavedPct'), cell(p, 'downSavedPct'), cell(p, 'allBytesSavedPct'), cell(r, 'upSavedPct'), cell(r, 'downSavedPct'), note];
      }),
    },
  };
}

/** The swept x closest to `x` (the table shows swept points only). */
function nearest(curve: SensitivityAxisCurve, x: number): number {
  return curve.points.reduce((best, p) => (Math.abs(p.x - x) < Math.abs(best - x) ? p.x : best), curve.points[0]!.x);
}
