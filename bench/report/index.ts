/**
 * Renders every report of a run from its results alone (DESIGN.md: renderers never measure): PNG charts in
 * `charts/`, `report.html` and `summary.md`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Results } from '../model/index.ts';
import { buildCharts } from './charts/index.ts';
import { loadPageAssets, renderHtml, type CheckSummary } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import { writePngs } from './png.ts';

export { appendStepSummary } from './step-summary.ts';
export type { CheckSummary } from './html.ts';

/** Options of renderReports. */
export interface RenderOptions {
  /** The regression gate's verdict, shown in the HTML and the Markdown. */
  check?: CheckSummary;
  /** The folder the results' relative file paths start from (default: `outDir`, where `run` writes both). */
  resultsDir?: string;
}

/**
 * Writes `<outDir>/charts/<name>.png` for every chart, `<outDir>/report.html` and `<outDir>/summary.md`.
 * Resolves to the written paths.
 */
export async function renderReports(
  results: Results,
  outDir: string,
  options: RenderOptions = {},
): Promise<{ charts: string[]; html: string; markdown: string }> {
  await mkdir(outDir, { recursive: true });
  const charts = buildCharts(results);
  const pngs = await writePngs(charts, path.join(outDir, 'charts'));
  const html = path.join(outDir, 'report.html');
  const page = renderHtml(results, charts, await loadPageAssets(), {
    resultsDir: options.resultsDir ?? outDir,
    outDir,
    ...(options.check === undefined ? {} : { check: options.check }),
  });
  await writeFile(html, page);
  const markdown = path.join(outDir, 'summary.md');
  await writeFile(markdown, renderMarkdown(results, options.check));
  return { charts: pngs, html, markdown };
}
