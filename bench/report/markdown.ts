/** `summary.md`: the answer, the headline table and the check verdict, short enough for a PR comment. */
import { escapeMarkdown } from './format.ts';
import { headlineMarkdown } from './headline.ts';
import { suiteLabel } from './labels.ts';
import type { ReportModel } from './model.ts';
import { serverMarkdown } from './server.ts';
import { sensitivityMarkdown } from './sensitivity-text.ts';

/** The summary; `check` adds the regression gate's verdict and table. */
export function renderMarkdown(model: ReportModel): string {
  const { results, answer, check } = model;
  const md = escapeMarkdown;
  const parts: string[] = [`## tls-reuse-bench: what reusing TLS connections saves`, ''];
  if (answer === null) {
    parts.push('No answer: no scenario could be compared with a fresh one of the same configuration.');
  } else {
    parts.push(`**${md(answer.down)}.**`, '', `**${md(answer.up)}.**`, '', `_${md(answer.context)}._`);
  }
  parts.push('', headlineMarkdown(model), ...sensitivityMarkdown(model));
  const server = serverMarkdown(model.server, model.fleetScale);
  if (server !== '') parts.push('', server);

  const troubled = results.scenarios.filter((s) => s.state !== 'completed');
  if (troubled.length > 0 || results.interrupted) {
    parts.push('', '### Invalid and failed scenarios', '');
    if (results.interrupted) parts.push('- the run was interrupted: only the scenarios that finished are reported');
    for (const s of troubled) {
      const why = s.state === 'failed' ? s.error : s.state === 'invalid' ? s.invalidReasons.join('; ') : '';
      parts.push(`- ${md(s.id)}: **${s.state}**: ${md(why)}`);
    }
  }
  if (check !== null) {
    parts.push('', `### Check: ${check.verdict === 'pass' ? 'PASS' : 'REGRESSION'}`, '', check.markdown.trim());
  }
  parts.push(
    '',
    `Run ${md(results.runId)}, ${md(suiteLabel(results.options))}. Charts, tables, captures and key logs: \`report.html\` next to this file.`,
  );
  return `${parts.join('\n')}\n`;
}
