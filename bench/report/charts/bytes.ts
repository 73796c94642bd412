/** Chart 1, the headline: bytes per endpoint-minute up and down per mode, with % saved against fresh. */
import type { ChartConfiguration } from 'chart.js';
import { answerComparison, changeSubject, savedPhrase } from '../answer.ts';
import { FIELD_REPORT, type HeadlineRow } from '../headline.ts';
import { formatBytes, formatPct } from '../format.ts';
import type { ScenarioGroup } from '../groups.ts';
import { MODE_DESCRIPTIONS } from '../../model/index.ts';
import type { ReportModel } from '../model.ts';
import { axisTitle, baseOptions, byteUnit, inUnit, modeColour, SIZE, type ChartSpec } from './common.ts';

/** `71% saved` / `5% more`, under a bar. */
function savingLabel(pct: number): string {
  const rounded = Math.round(pct);
  return rounded >= 0 ? `${formatPct(rounded, 0)} saved` : `${formatPct(-rounded, 0)} more`;
}

/** The title: what reuse (else resumption) saved in this configuration. */
function headlineTitle(group: ScenarioGroup): string {
  const found = answerComparison(group);
  if (found === undefined) return 'Bytes per endpoint-minute by mode (no mode to compare with fresh)';
  const { comparison, candidate } = found;
  const subject = changeSubject(candidate.spec.mode);
  // The bars are the steady state where there is one (the headline's figures): so is the title.
  const c = comparison.steady ?? comparison;
  const bytes = `${comparison.basis === 'wire' ? 'bytes' : 'TCP payload bytes'}${comparison.steady === null ? '' : ', steady state'}`;
  if (Math.round(c.downSavedPct) >= 0 && Math.round(c.upSavedPct) >= 0) {
    return `${subject} saved ${formatPct(Math.round(c.downSavedPct), 0)} of downstream and ${formatPct(Math.round(c.upSavedPct), 0)} of upstream ${bytes}`;
  }
  return `${subject} ${savedPhrase(c.downSavedPct, `downstream ${bytes}`)} and ${savedPhrase(c.upSavedPct, `upstream ${bytes}`)}`;
}

/**
 * One chart per configuration (the primary one named `headline`, others `headline-<group>`): each keeps the
 * field report's picture — two directions, one bar per mode — instead of crowding every configuration into
 * one axis. They share one value axis range so configurations compare at a glance.
 */
export function headlineCharts(model: ReportModel): ChartSpec[] {
  const { groups } = model;
  const rows = new Map<string, HeadlineRow>(model.headline.map((r) => [r.id, r]));
  const wire = model.results.options.capture;
  const all = groups.flatMap((g) => g.measured.map((s) => rows.get(s.id)!));
  const unit = byteUnit(Math.max(0, ...all.flatMap((r) => [r.upBytes ?? 0, r.downBytes ?? 0])));
  const maxPlotted = Math.max(0, ...all.flatMap((r) => [inUnit(r.upBytes ?? 0, unit), inUnit(r.downBytes ?? 0, unit)]));
  return groups
    .filter((g) => g.measured.length > 0)
    .map((group) => {
      const measured = group.measured.map((s) => ({ s, row: rows.get(s.id)! }));
      const resumed = group.comparisons.resumed;
      const persistent = group.comparisons.persistent;
      const subtitle = [
        `${group.fullLabel} · ${wire ? 'bytes on the wire' : 'TCP payload bytes (no capture)'} per endpoint per virtual minute`,
      ];
      if (resumed !== undefined && persistent !== undefined) {
        subtitle.push(
          `${changeSubject('resumed')} ${savedPhrase((resumed.comparison.steady ?? resumed.comparison).downSavedPct, 'downstream')} and ${savedPhrase((resumed.comparison.steady ?? resumed.comparison).upSavedPct, 'upstream bytes')}`,
        );
      }
      subtitle.push(`field report (osquery agents, nginx): reuse saved ${FIELD_REPORT.upSavedPct}% up, ${FIELD_REPORT.downSavedPct}% down`);
      const size = SIZE.wide;
      const config: ChartConfiguration<'bar'> = {
        type: 'bar',
        data: {
          labels: ['upstream (client → server)', 'downstream (server → client)'],
          datasets: measured.map(({ s, row }) => ({
            label: `${s.spec.mode}: ${MODE_DESCRIPTIONS[s.spec.mode]}${s.state === 'invalid' ? ' (INVALID)' : ''}`,
            data: [inUnit(row.upBytes ?? 0, unit), inUnit(row.downBytes ?? 0, unit)],
            backgroundColor: modeColour(s.spec.mode, s.state === 'invalid'),
            borderColor: modeColour(s.spec.mode, false),
            borderWidth: s.state === 'invalid' ? 2 : 0,
          })),
        },
        options: {
          ...baseOptions<'bar'>(headlineTitle(group), subtitle, size),
          scales: {
            x: { ticks: { font: { size: 13 } }, grid: { display: false } },
            y: {
              beginAtZero: true,
              suggestedMax: maxPlotted,
              grace: '18%',
              title: axisTitle(`${unit.unit} per endpoint-minute`),
            },
          },
        },
      };
      config.options!.plugins!.valueLabels = {
        display: true,
        labels: measured.map(({ s, row }) =>
          (['up', 'down'] as const).map((direction) => {
            const bytes = direction === 'up' ? row.upBytes : row.downBytes;
            const pct = direction === 'up' ? row.upSavedPct : row.downSavedPct;
            const lines = [formatBytes(bytes ?? 0)];
            if (s.spec.mode === 'fresh') lines.push('baseline');
            else if (pct !== null) lines.push(savingLabel(pct));
            if (s.state === 'invalid') lines.push('INVALID');
            return lines;
          }),
        ),
      };
      // Over several runs (--runs N): every run's figure over its bar, the figure each bar shows (steady or whole run).
      const runs = measured.map(({ s, row }) =>
        (['up', 'down'] as const).map((direction) =>
          s.repetitions.flatMap((r) => {
            const v = row.steady ? r.steady?.[direction === 'up' ? 'upWireBytes' : 'downWireBytes'] : wire ? r.perEndpointMinute?.[direction === 'up' ? 'upWireBytes' : 'downWireBytes'] : r.perEndpointMinute?.[direction === 'up' ? 'upTcpPayloadBytes' : 'downTcpPayloadBytes'];
            return v === null || v === undefined ? [] : [inUnit(v, unit)];
          }),
        ),
      );
      if (runs.some((bars) => bars.some((values) => values.length > 1))) {
        config.options!.plugins!.runPoints = { display: true, values: runs };
        subtitle.push(`dots: each of the ${Math.max(...measured.map(({ s }) => s.repetitions.length))} runs' figure (--runs), the bar their first run's`);
      }
      return {
        name: `headline-${group.slug}`,
        units: { value: `${unit.unit} per endpoint-minute` },
        heading: 'Bytes per endpoint-minute',
        group: group.label,
        ...size,
        config: config as ChartConfiguration,
        caption:
          'Each bar is what one endpoint (agent) sends or receives in one virtual minute; the label under the size is the saving against fresh in the same configuration.',
        table: {
          header: ['scenario', 'state', 'up / endpoint-min', 'down / endpoint-min', 'up saved', 'down saved'],
          numeric: [2, 3, 4, 5],
          rows: group.scenarios.map((s) => {
            const row = rows.get(s.id)!;
            const bytes = (n: number | null) => (n === null ? '-' : formatBytes(n));
            const pct = (n: number | null) => (n === null ? '' : formatPct(n));
            return [s.id, s.state, bytes(row.upBytes), bytes(row.downBytes), pct(row.upSavedPct), pct(row.downSavedPct)];
          }),
        },
      };
    });
}
