/**
 * The comparison across configurations, first on the page: every configuration's bytes per endpoint-minute, one
 * stacked bar per mode (downstream, with upstream lighter on top), the share of all bytes each mode saves
 * against fresh printed over it. Per-configuration charts follow, folded.
 */
import type { ChartConfiguration } from 'chart.js';
import type { Mode } from '../../model/index.ts';
import { MODES } from '../../model/index.ts';
import { basisBytes } from '../answer.ts';
import { formatBytes, formatPct } from '../format.ts';
import { scenarioOfMode, type MeasuredScenario, type ScenarioGroup } from '../groups.ts';
import type { ReportModel } from '../model.ts';
import { INVALID_ALPHA, MODE_COLOURS, translucent } from '../palette.ts';
import { axisTitle, baseOptions, byteUnit, inUnit, rangeText, SIZE, type ChartSpec } from './common.ts';

/** Opacity of the upstream part of a bar (the lesser direction). */
const UP_ALPHA = 0.45;

/** Share of all bytes `s` saves against its configuration's fresh scenario (the report model's); null without one. */
function totalSavedPct(group: ScenarioGroup, s: MeasuredScenario): number | null {
  return group.comparisons[s.spec.mode]?.allBytesSavedPct ?? null;
}

/** One chart across configurations (`comparison`), when the run has more than one. */
export function comparisonChart({ groups, results }: ReportModel): ChartSpec[] {
  const shown = groups.filter((g) => g.measured.length > 0);
  if (shown.length < 2) return [];
  const wire = results.options.capture;
  const modes = MODES.filter((mode) => shown.some((g) => scenarioOfMode(g, mode) !== undefined));
  const bytes = (g: ScenarioGroup, mode: Mode, direction: 'up' | 'down') => {
    const s = scenarioOfMode(g, mode);
    return s === undefined ? null : basisBytes(s, direction, wire ? 'wire' : 'tcp-payload');
  };
  const unit = byteUnit(Math.max(0, ...shown.flatMap((g) => modes.map((m) => (bytes(g, m, 'up') ?? 0) + (bytes(g, m, 'down') ?? 0)))));
  const invalid = (g: ScenarioGroup, mode: Mode) => scenarioOfMode(g, mode)?.state === 'invalid';
  const colour = (mode: Mode, alpha: number) => translucent(MODE_COLOURS[mode], alpha);
  const findings = modes
    .filter((m) => m !== 'fresh')
    .flatMap((mode) => {
      const saved = shown.flatMap((g) => {
        const s = scenarioOfMode(g, mode);
        const pct = s === undefined ? null : totalSavedPct(g, s);
        return pct === null ? [] : [pct];
      });
      return saved.length === 0 ? [] : [`${mode === 'resumed' ? 'resuming sessions' : 'reusing connections'} saved ${rangeText(saved, (n) => formatPct(n, 0))}`];
    });
  const title =
    findings.length === 0 ? `Bytes per endpoint-minute in ${shown.length} configurations` : `In ${shown.length} configurations, ${findings.join('; ')} of all bytes`;
  const size = { width: SIZE.wide.width, height: 560 };
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: shown.map((g) => g.label.split(' · ')),
      datasets: modes.flatMap((mode) =>
        (['down', 'up'] as const).map((direction) => ({
          label: `${mode}, ${direction === 'down' ? 'downstream' : 'upstream (lighter)'}`,
          data: shown.map((g) => {
            const b = bytes(g, mode, direction);
            return b === null ? null : inUnit(b, unit);
          }),
          backgroundColor: shown.map((g) => colour(mode, (direction === 'up' ? UP_ALPHA : 1) * (invalid(g, mode) ? INVALID_ALPHA : 1))),
          stack: mode,
        })),
      ),
    },
    options: {
      ...baseOptions<'bar'>(
        title,
        [`${wire ? 'bytes on the wire' : 'TCP payload bytes (no capture)'} per endpoint per virtual minute; over each bar the share of all bytes saved against fresh in that configuration`],
        size,
      ),
      scales: {
        x: { stacked: true, grid: { display: false }, ticks: { font: { size: 12 } } },
        y: { stacked: true, beginAtZero: true, grace: '15%', title: axisTitle(`${unit.unit} per endpoint-minute`) },
      },
    },
  };
  config.options!.plugins!.valueLabels = {
    display: true,
    labels: modes.flatMap((mode) => [
      [],
      shown.map((g) => {
        const s = scenarioOfMode(g, mode);
        if (s === undefined) return null;
        const pct = totalSavedPct(g, s);
        return [mode === 'fresh' ? 'fresh' : pct === null ? mode : `−${formatPct(Math.round(pct), 0)}`, ...(s.state === 'invalid' ? ['INVALID'] : [])];
      }),
    ]),
  };
  return [
    {
      name: 'comparison',
      heading: 'Every configuration at a glance',
      group: null,
      ...size,
      units: { value: `${unit.unit} per endpoint-minute` },
      config: config as ChartConfiguration,
      caption:
        "One stacked bar per mode in each configuration: downstream at the bottom, upstream lighter on top. Each configuration's own charts follow below, folded.",
      table: {
        header: ['configuration', 'mode', 'up / endpoint-min', 'down / endpoint-min', 'all bytes saved'],
        numeric: [2, 3, 4],
        rows: shown.flatMap((g) =>
          g.measured.map((s) => {
            const pct = totalSavedPct(g, s);
            const b = (d: 'up' | 'down') => formatBytes(bytes(g, s.spec.mode, d) ?? 0);
            return [g.label, `${s.spec.mode}${s.state === 'invalid' ? ' (INVALID)' : ''}`, b('up'), b('down'), pct === null ? '' : formatPct(pct)];
          }),
        ),
      },
    },
  ];
}
