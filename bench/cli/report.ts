/** `tls-reuse-bench report RESULTS.json [--out DIR]`: re-renders every report from saved results. */
import path from 'node:path';
import { loadResults } from '../results/read.ts';
import { UsageError } from '../errors.ts';
import { buildReportModel, renderReports } from '../report/index.ts';
import { readCheckSummary } from '../results/check-file.ts';
import { checkReportFolder } from '../results/folder.ts';
import { parseCommand } from './args.ts';
import { displayPath } from './display.ts';

export const reportHelp = `usage: tls-reuse-bench report RESULTS.json [--out DIR]

Renders the charts (PNG), report.html and summary.md of a run from its results.json alone, without measuring
anything: to refresh reports after an upgrade, or to render results copied from another machine. A
check.json beside the results (written by check) puts the regression gate's verdict in the reports.

  --out DIR   where to write charts/, report.html and summary.md (default: the results file's folder);
              links to captures and key logs point back to the results file's folder

Reads tls-reuse-bench/results@1. A file of another schema, broken JSON or a missing field is an error
naming the file and the JSON path (exit 2).`;

/** Runs the command; returns the exit code. */
export async function reportCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseCommand('report', args, { out: { type: 'string' } });
  if (values.help) {
    out.write(`${reportHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`report: expected one RESULTS.json, got ${positionals.length} (see tls-reuse-bench report --help)`);
  }
  if (values.out === '') throw new UsageError('--out: expected a folder, got an empty value');
  const file = positionals[0]!;
  const results = await loadResults(file);
  const resultsDir = path.dirname(path.resolve(file));
  const outDir = path.resolve(values.out ?? resultsDir);
  await checkReportFolder(outDir, results.runId, resultsDir);
  const model = buildReportModel(results, await readCheckSummary(resultsDir));
  const written = await renderReports(model, outDir, { resultsDir });
  const { answer } = model;
  const shown = displayPath;
  if (answer !== null) out.write(`${answer.down}\n${answer.up}\n  (${answer.context})\n\n`);
  out.write(`report:  ${shown(written.html)}\nsummary: ${shown(written.markdown)}\ncharts:  ${written.charts.length} PNG in ${shown(path.join(outDir, 'charts'))}\n`);
  return 0;
}
