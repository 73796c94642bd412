/** `tls-reuse-bench check RESULTS.json --baseline FILE [--thresholds FILE]`: the regression gate. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { checkResults } from '../check/compare.ts';
import { loadResults } from '../results/read.ts';
import { METRICS } from '../check/metrics.ts';
import { formatTolerance, renderCheckMarkdown, renderCheckText, verdictLine } from '../check/render.ts';
import { DEFAULT_THRESHOLDS, loadThresholds } from '../check/thresholds.ts';
import { cannotWrite, InputError, MeasurementError, OutputError, UsageError } from '../errors.ts';
import { CHECK_SCHEMA, MIN_LATENCY_SAMPLES, type CheckSummary } from '../model/index.ts';
import { buildReportModel, renderPages } from '../report/index.ts';
import { writeCheckSummary } from '../results/check-file.ts';
import { appendStepSummary } from './step-summary.ts';
import { parseCommand } from './args.ts';

const metricList = METRICS.map((m) => {
  const limit = formatTolerance(m.defaultTolerance, m.unit);
  const repeated = formatTolerance(m.repeatedTolerance, m.unit);
  return `  ${m.name.padEnd(34)} ${`${limit}${repeated === limit ? '' : ` (${repeated})`}`.padEnd(18)} ${m.description}`;
}).join('\n');

export const checkHelp = `usage: tls-reuse-bench check RESULTS.json --baseline FILE [--thresholds FILE]

Compares a run's results with a baseline run, scenario by scenario (paired on mode, TLS version, chain,
network and server), and fails when a metric got worse beyond its limit. Prints a table of every compared
metric, writes it as Markdown to check.md and the verdict to check.json beside RESULTS.json (reports
rendered from those results show it; in a run's folder report.html and summary.md are updated at once), and
appends the Markdown to $GITHUB_STEP_SUMMARY when that is set.

  --baseline FILE     results.json of the run to compare with, e.g. fixtures/baselines/quick.json (required)
  --thresholds FILE   per-metric, per-scenario tolerances and floors (docs/ci.md; fixtures/thresholds/example.json)
                      (default: every metric at its default limit, listed below)

Byte and count metrics are deterministic for a workload, seed, chain and TLS library: they are compared
directly. Latency and server CPU are compared as ratios to fresh inside each run (p50 latency ratios only
for APIs with at least ${MIN_LATENCY_SAMPLES} samples), so a faster or slower machine cancels out.
Metrics and default limits (in parentheses: when both runs are means of 3 or more, --runs 3):
${metricList}

A regression (worse beyond the limit, a floor not met, a failed or invalid scenario) exits 1; an
improvement beyond the limit passes and asks for a baseline refresh. Exit 2: bad input (an unreadable or
invalid file, a baseline scenario missing from the run, scenarios run under other conditions).`;

/** Runs the command; returns the exit code (a regression is thrown as MeasurementError, exit 1). */
export async function checkCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseCommand('check', args, {
    baseline: { type: 'string' },
    thresholds: { type: 'string' },
  });
  if (values.help) {
    out.write(`${checkHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`check: expected one RESULTS.json, got ${positionals.length} (see tls-reuse-bench check --help)`);
  }
  if (values.baseline === undefined) {
    throw new UsageError('check: --baseline FILE is required (a results.json to compare with, e.g. fixtures/baselines/quick.json)');
  }
  const resultsFile = positionals[0]!;
  const [current, baseline, thresholds] = await Promise.all([
    loadResults(resultsFile),
    loadResults(values.baseline, '--baseline'),
    values.thresholds === undefined ? DEFAULT_THRESHOLDS : loadThresholds(values.thresholds),
  ]);

  let report;
  try {
    report = checkResults(current, baseline, thresholds);
  } catch (error) {
    if (error instanceof InputError) {
      throw new InputError(`${resultsFile} against --baseline ${values.baseline}: ${error.message}`, { cause: error });
    }
    throw error;
  }

  out.write(`${renderCheckText(report)}\n`);
  const markdown = renderCheckMarkdown(report);
  const resultsDir = path.dirname(resultsFile);
  const markdownFile = path.join(resultsDir, 'check.md');
  const summary: CheckSummary = {
    schema: CHECK_SCHEMA,
    verdict: report.passed ? 'pass' : 'regression',
    runId: current.runId,
    baselineRunId: baseline.runId,
    verdictLine: verdictLine(report),
    markdown,
  };
  await writeOutput(markdownFile, () => writeFile(markdownFile, markdown));
  await writeOutput(path.join(resultsDir, 'check.json'), () => writeCheckSummary(resultsDir, summary));
  await writeOutput(process.env.GITHUB_STEP_SUMMARY ?? '$GITHUB_STEP_SUMMARY', () => appendStepSummary(markdown));
  out.write(`markdown: ${markdownFile}\n`);
  if (existsSync(path.join(resultsDir, 'report.html'))) {
    // A run's folder: its page and summary show the verdict too (the charts do not change).
    await renderPages(buildReportModel(current, summary), resultsDir);
    out.write(`reports: ${path.join(resultsDir, 'report.html')} and summary.md now carry the verdict\n`);
  }

  if (!report.passed) throw new MeasurementError(verdictLine(report));
  return 0;
}

async function writeOutput(file: string, write: () => Promise<unknown>): Promise<void> {
  try {
    await write();
  } catch (error) {
    throw error instanceof OutputError ? error : cannotWrite(file, error);
  }
}
