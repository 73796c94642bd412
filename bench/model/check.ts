/**
 * The regression gate's verdict as a file (`check.json`, `tls-reuse-bench/check@1`): `check` writes it beside
 * the results it judged, and every report rendered from those results shows it.
 */

/** The check-file schema. */
export const CHECK_SCHEMA = 'tls-reuse-bench/check@1';

/** What a report needs of a check: the verdict, against what, and the check's own Markdown table. */
export interface CheckSummary {
  schema: typeof CHECK_SCHEMA;
  verdict: 'pass' | 'regression';
  /** The run checked and the baseline run it was compared with. */
  runId: string;
  baselineRunId: string;
  /** One line: pass or fail, how much was compared, the first regressions. */
  verdictLine: string;
  /** The check's Markdown (verdict, notable rows, every row folded). */
  markdown: string;
}
