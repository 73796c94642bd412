/** The check report as text: a terminal table with a one-line verdict, and the same as Markdown for CI summaries. */
import { escapeMarkdown, formatNumber, formatPct, markdownTable, textTable, type Align } from '../report/format.ts';
import type { CheckReport, CheckRow } from './compare.ts';
import type { MetricUnit, Tolerance } from './metrics.ts';

const HEADER = ['scenario', 'metric', 'baseline', 'now', 'change', 'limit', 'verdict'];
const ALIGN: Align[] = ['left', 'left', 'right', 'right', 'right', 'right', 'left'];

/** Regressions listed by name in the verdict line before "and N more". */
const NAMED_IN_VERDICT = 3;

/** The terminal rendering: the table, the reasons behind failed rows, notes, then the verdict line. */
export function renderCheckText(report: CheckReport): string {
  const parts = [
    `check: run ${report.current.runId} (suite ${report.current.suite}) against baseline ${report.baseline.runId} (suite ${report.baseline.suite}); ` +
      `${report.thresholdsFile === null ? 'default thresholds' : `thresholds ${report.thresholdsFile}`}; values per endpoint per virtual minute`,
    '',
    textTable(HEADER, report.rows.map(cells), ALIGN),
  ];
  const details = [...reasons(report.rows), ...report.notes];
  if (details.length > 0) parts.push('', ...details.map((d) => `- ${d}`));
  parts.push('', verdictLine(report));
  return parts.join('\n');
}

/**
 * The Markdown rendering, short enough for a PR comment or a job summary: the verdict, the rows that are
 * not `ok`, then every row in a collapsed section.
 */
export function renderCheckMarkdown(report: CheckReport): string {
  const table = (rows: CheckRow[]) => [markdownTable(HEADER, rows.map(cells), ALIGN)];
  const notable = report.rows.filter((r) => r.verdict !== 'ok');
  const lines = [
    `### tls-reuse-bench check: ${report.passed ? 'pass' : 'FAIL'}`,
    '',
    escapeMarkdown(verdictLine(report)),
    '',
    `Run \`${escapeCode(report.current.runId)}\` (suite ${escapeMarkdown(report.current.suite)}) against baseline \`${escapeCode(report.baseline.runId)}\`; ` +
      `${report.thresholdsFile === null ? 'default thresholds' : `thresholds \`${escapeCode(report.thresholdsFile)}\``}; values per endpoint per virtual minute.`,
  ];
  if (notable.length > 0) lines.push('', ...table(notable));
  const details = [...reasons(report.rows), ...report.notes];
  if (details.length > 0) lines.push('', ...details.map((d) => `- ${escapeMarkdown(d)}`));
  lines.push('', `<details><summary>All ${report.rows.length} rows</summary>`, '', ...table(report.rows), '', '</details>');
  return `${lines.join('\n')}\n`;
}

/** One line: pass or fail, how much was compared, and the first regressions by name. */
export function verdictLine(report: CheckReport): string {
  const { counts } = report;
  const scope = `${counts.compared} metrics of ${counts.scenarios} scenarios${counts.floors > 0 ? ` and ${counts.floors} floors` : ''}`;
  if (report.passed) {
    const improved = counts.improved > 0 ? ` (${counts.improved} improved beyond their limit: refresh the baseline)` : '';
    return `PASS: ${scope} within limits of baseline ${report.baseline.runId}${improved}`;
  }
  const regressions = report.rows.filter((r) => r.verdict === 'regressed');
  const named = regressions.slice(0, NAMED_IN_VERDICT).map(summarise);
  const more = regressions.length > NAMED_IN_VERDICT ? `, and ${regressions.length - NAMED_IN_VERDICT} more` : '';
  return `FAIL: ${regressions.length} regression${regressions.length === 1 ? '' : 's'} against baseline ${report.baseline.runId}: ${named.join('; ')}${more}`;
}

/** A regression in a few words: `persistent/… downWireBytes +3.2% (limit ±1.0%)`. */
function summarise(row: CheckRow): string {
  switch (row.kind) {
    case 'change':
      return `${row.scenario} ${row.metric} ${change(row)} (limit ${limit(row)})`;
    case 'floor':
      return `${row.scenario} ${row.metric} ${value(row.current, row.unit)} (limit ${limit(row)})`;
    case 'state':
      return `${row.scenario} ${row.current}`;
    case 'missing':
      return `${row.scenario} ${row.metric} not measured`;
  }
}

function cells(row: CheckRow): string[] {
  const verdict = row.verdict === 'regressed' ? 'REGRESSED' : row.verdict;
  switch (row.kind) {
    case 'change':
      return [row.scenario, row.metric, value(row.baseline, row.unit), value(row.current, row.unit), change(row), limit(row), verdict];
    case 'floor':
      return [row.scenario, row.metric, row.baseline === null ? '-' : value(row.baseline, row.unit), value(row.current, row.unit), '', limit(row), verdict];
    case 'state':
      return [row.scenario, row.metric, row.baseline ?? '-', row.current, '', 'completed', verdict];
    case 'missing':
      return [row.scenario, row.metric, value(row.baseline, row.unit), '-', '', 'measured', verdict];
  }
}

/** Why the rows without numbers failed (the table has no room for an error message). */
function reasons(rows: CheckRow[]): string[] {
  return rows.flatMap((r) => {
    if (r.kind === 'state') return [`${r.scenario} ${r.current}: ${r.reason}`];
    if (r.kind === 'missing') return [`${r.scenario} ${r.metric} missing: ${r.reason}`];
    return [];
  });
}

/** A metric value with enough digits that a 1% change is visible. */
function value(n: number, unit: MetricUnit): string {
  switch (unit) {
    case 'bytes':
      return `${formatNumber(n, 1)} B`;
    case 'count':
      return formatNumber(n, 2);
    case 'pct':
      return formatPct(n, 2);
    case 'ratio':
      return `${formatNumber(n, 3)}x`;
  }
}

/**
 * The change in percent of the baseline; for a percentage metric (a saving) in percentage points, since a
 * relative change of a percentage reads as a different number; in the metric's unit when the baseline is 0.
 */
function change(row: Extract<CheckRow, { kind: 'change' }>): string {
  const sign = (n: number) => (n > 0 ? '+' : n < 0 ? '-' : '');
  if (row.change === 0) return '0';
  if (row.unit === 'pct') return `${sign(row.change)}${formatNumber(Math.abs(row.change), 2)} pp`;
  if (row.changePct !== null) return `${sign(row.change)}${formatPct(Math.abs(row.changePct), 2)}`;
  return `${sign(row.change)}${value(Math.abs(row.change), row.unit)}`;
}

function limit(row: Extract<CheckRow, { kind: 'change' | 'floor' }>): string {
  const rule = row.source === 'default' ? '' : ` (${row.source})`;
  if (row.kind === 'floor') {
    if (row.min !== null && row.max !== null) return `${value(row.min, row.unit)}..${value(row.max, row.unit)}${rule}`;
    if (row.min !== null) return `≥ ${value(row.min, row.unit)}${rule}`;
    return `≤ ${value(row.max!, row.unit)}${rule}`;
  }
  return `${formatTolerance(row.tolerance, row.unit)}${rule}`;
}

/** A tolerance as the table and the help show it: `±3.0%`, `±2.00 pp` (percentage points), `±1.0% or ±0.50`. */
export function formatTolerance(tolerance: Tolerance, unit: MetricUnit): string {
  const { relativePct, absolute } = tolerance;
  const points = unit === 'pct' ? `±${formatNumber(absolute, 2)} pp` : `±${value(absolute, unit)}`;
  const relative = `±${formatPct(relativePct, relativePct < 1 ? 2 : 1)}`;
  if (absolute === 0) return relative;
  return relativePct > 0 ? `${relative} or ${points}` : points;
}

/** Inside backticks only a backtick matters. */
function escapeCode(text: string): string {
  return text.replace(/`/g, "'");
}
