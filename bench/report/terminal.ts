/**
 * The end of `run`'s terminal output (issue 12): the answer in one line, every comparison's steady-state
 * savings with their spread over the repetitions, the primary configuration's p50 latency and server CPU per
 * request per mode, and the field report's figures. Each line fits the terminal's width (80 columns by
 * default): what does not fit is cut with an ellipsis, never wrapped into the next line.
 */
import { MODES, type Spread } from '../model/index.ts';
import { changeSubject } from './answer.ts';
import { formatPct } from './format.ts';
import { FIELD_REPORT } from './headline.ts';
import type { ReportModel } from './model.ts';

/** The narrowest layout kept readable; narrower terminals get it cut. */
const MIN_COLUMNS = 60;

/** The closing summary, one string of lines no longer than `columns`. */
export function terminalSummary(model: ReportModel, columns = 80): string {
  const width = Math.max(MIN_COLUMNS, columns);
  const lines: string[] = [];
  const answer = model.answer;
  if (answer !== null) {
    const c = answer.comparison;
    const saved = c.steady ?? c;
    const direction = (pct: number, word: string) => (Math.round(pct) >= 0 ? `${Math.round(pct)}% fewer bytes ${word}` : `${-Math.round(pct)}% more bytes ${word}`);
    lines.push(
      `${changeSubject(answer.candidate.spec.mode)}: ${direction(saved.downSavedPct, 'down')}, ${direction(saved.upSavedPct, 'up')}` +
        `${c.steady === null ? '' : ', steady state'}`,
    );
  }

  const runs = model.results.options.runs;
  const comparisons = model.groups.flatMap((g) => MODES.flatMap((mode) => (g.comparisons[mode] === undefined ? [] : [{ group: g, mode, c: g.comparisons[mode]! }])));
  if (comparisons.length > 0) {
    const steady = comparisons.some((x) => x.c.comparison.steady !== null);
    const rows = comparisons.map(({ group, mode, c }) => {
      const s = c.comparison.summary;
      const single = c.comparison.steady ?? c.comparison;
      return {
        label: `${mode} ${group.label}`,
        up: [steady ? s.steadyUpSavedPct : s.upSavedPct, single.upSavedPct] as const,
        down: [steady ? s.steadyDownSavedPct : s.downSavedPct, single.downSavedPct] as const,
      };
    });
    // Min-max only where the line has room for it beside a readable label.
    const numbers = (withRange: boolean) =>
      rows.map((r) => `up ${pctSpread(r.up[0], r.up[1], withRange)}  down ${pctSpread(r.down[0], r.down[1], withRange)}`);
    const longestLabel = Math.max(...rows.map((r) => r.label.length));
    const widest = (xs: string[]) => Math.max(...xs.map((x) => x.length));
    const withRange = runs > 1 && width - 4 - widest(numbers(true)) >= Math.min(longestLabel, 30);
    const cells = numbers(withRange);
    const labelWidth = Math.max(10, Math.min(longestLabel, width - 4 - widest(cells)));
    lines.push('', `${steady ? 'steady-state ' : ''}savings vs fresh${runs > 1 ? ` (mean ± sd of ${runs} runs${withRange ? ' [min-max]' : ''})` : ''}:`);
    rows.forEach((r, i) => lines.push(`  ${fit(r.label, labelWidth).padEnd(labelWidth)}  ${cells[i]}`));
  }

  const primary = model.groups.find((g) => g.primary) ?? model.groups[0];
  if (primary !== undefined && primary.measured.length > 0) {
    const measured = primary.measured;
    // Per mode on one line: with ± sd when it fits the width, the means alone when it does not.
    const perMode = (pick: (s: (typeof measured)[number]) => Spread | null | undefined, decimals: number): string | null => {
      const cells = (withSd: boolean) =>
        measured.flatMap((s) => {
          const x = pick(s);
          return x === null || x === undefined ? [] : [`${s.spec.mode} ${msSpread(x, decimals, withSd)}`];
        });
      if (cells(false).length === 0) return null;
      const full = `  ${cells(true).join('   ')}`;
      return full.length <= width ? full : `  ${cells(false).join('   ')}`;
    };
    const latency = perMode((s) => s.summary.latency.all?.p50Ms, 2);
    if (latency !== null) lines.push('', `latency p50, all calls (${primary.label}):`, latency);
    const cpu = perMode((s) => s.summary.cpuMsPerRequest, 3);
    if (cpu !== null) lines.push('server CPU per request:', cpu);
  }
  lines.push('', `field report: reuse saved ${FIELD_REPORT.upSavedPct}% up, ${FIELD_REPORT.downSavedPct}% down (osquery agents, nginx)`);
  return lines.map((line) => fit(line, width)).join('\n');
}

/** `35.7 ± 0.3% [35.4-36.0]` over several runs, `35.7%` for one. */
function pctSpread(s: Spread | null, single: number, withRange: boolean): string {
  if (s === null || s.n < 2) return formatPct(single).padStart(6);
  return `${s.mean.toFixed(1).padStart(5)} ± ${s.sd.toFixed(1)}%${withRange ? ` [${s.min.toFixed(1)}-${s.max.toFixed(1)}]` : ''}`;
}

/** Milliseconds, with ± sd over several runs when asked. */
function msSpread(s: Spread, decimals: number, withSd: boolean): string {
  return s.n < 2 || !withSd ? `${s.mean.toFixed(decimals)} ms` : `${s.mean.toFixed(decimals)} ± ${s.sd.toFixed(decimals)} ms`;
}

/** The text cut to `width` characters, an ellipsis marking the cut. */
function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}
