/**
 * The sensitivity model in words (issue 12), for summary.md: at a few points of each axis, what the model
 * derived from this run's measured figures says reuse saves, beside the field report's figures.
 */
import type { ModelSavings, SensitivityAxis } from '../model/index.ts';
import { escapeMarkdown, formatBytes, formatNumber, formatPct, markdownTable } from './format.ts';
import { FIELD_REPORT } from './headline.ts';
import type { ReportModel } from './model.ts';

const AXIS_LABEL: Record<SensitivityAxis, { name: string; x: (n: number) => string }> = {
  logBodyBytes: { name: 'result-post body', x: (n) => formatBytes(n) },
  configResponseBytes: { name: 'config size', x: (n) => formatBytes(n) },
  requestsPerMinute: { name: 'requests / agent-min', x: (n) => formatNumber(n, Number.isInteger(n) ? 0 : 1) },
};

/** The Markdown section; empty when the results carry no model. */
export function sensitivityMarkdown(model: ReportModel): string[] {
  const panel = model.sensitivity;
  if (panel === null) return [];
  const rows = (Object.keys(AXIS_LABEL) as SensitivityAxis[]).flatMap((axis) => {
    const curve = panel.curve.axes[axis];
    const xs = [...new Set([curve.points[0]!.x, curve.measuredX, ...(curve.fieldReport.x === null ? [] : [curve.fieldReport.x]), curve.points.at(-1)!.x])].sort((a, b) => a - b);
    return xs.map((x) => {
      const p = curve.points.find((q) => q.x === x);
      const cell = (v: ModelSavings | null | undefined, key: keyof ModelSavings) => (v === null || v === undefined ? '' : formatPct(v[key]));
      const note = [x === curve.measuredX ? 'this run' : '', x === curve.fieldReport.x ? 'field report' : ''].filter((n) => n !== '').join(', ');
      return [AXIS_LABEL[axis].name, AXIS_LABEL[axis].x(x), cell(p?.persistent, 'upSavedPct'), cell(p?.persistent, 'downSavedPct'), cell(p?.resumed, 'upSavedPct'), cell(p?.resumed, 'downSavedPct'), note];
    });
  });
  const logBody = panel.curve.axes.logBodyBytes.fieldReport;
  return [
    '',
    '### What the savings depend on (a model derived from measured figures)',
    '',
    `_${escapeMarkdown(`Steady-state savings against fresh when one axis changes and the others stay at this run's values, computed from ${panel.group.fullLabel}'s measured connection overhead and per-request bytes; a model, not a measurement (measure a point live with --workload log-body=, config-size=, rate=).`)}_`,
    '',
    markdownTable(
      ['axis', 'value', 'reuse up saved', 'reuse down saved', 'resumed up saved', 'resumed down saved', 'note'],
      rows,
      ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
    ),
    '',
    `- ${escapeMarkdown(
      `field report: ${FIELD_REPORT.upSavedPct}% up, ${FIELD_REPORT.downSavedPct}% down saved; ${
        logBody.x === null ? logBody.how : `the model reaches ${FIELD_REPORT.upSavedPct}% up at ${formatBytes(logBody.x)} result posts (the agent "sends only diffs")`
      }`,
    )}`,
  ];
}
