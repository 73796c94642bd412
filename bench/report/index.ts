/**
 * Renders every report of a run from its report model (DESIGN.md: renderers never measure): PNG charts in
 * `charts/`, `report.html` and `summary.md`.
 */
import path from 'node:path';
import { makeDir, writeFileAtomic } from '../output.ts';
import { buildCharts, type ChartSpec } from './charts/index.ts';
import { loadPageAssets, renderHtml } from './html.ts';
import { renderMarkdown } from './markdown.ts';
import type { ReportModel } from './model.ts';
import { writePngs } from './png.ts';

export { buildReportModel, type ReportModel } from './model.ts';
export { headlineText } from './headline.ts';
export { terminalSummary } from './terminal.ts';

/** Options of renderReports. */
export interface RenderOptions {
  /** The folder the results' relative file paths start from (default: `outDir`, where `run` writes both). */
  resultsDir?: string;
}

/** What was written. */
export interface RenderedReports {
  charts: string[];
  html: string;
  /** summary.md's path and its text (for a CI job summary). */
  markdown: string;
  markdownText: string;
}

/** Writes `<outDir>/charts/<name>.png` for every chart, `<outDir>/report.html` and `<outDir>/summary.md`. */
export async function renderReports(model: ReportModel, outDir: string, options: RenderOptions = {}): Promise<RenderedReports> {
  await makeDir(outDir);
  const charts = buildCharts(model);
  const pngs = await writePngs(charts, path.join(outDir, 'charts'));
  return { charts: pngs, ...(await writePages(model, charts, outDir, options)) };
}

/**
 * Writes only `report.html` and `summary.md` (the PNGs do not show the verdict): what a new check verdict
 * changes in a run's folder.
 */
export async function renderPages(model: ReportModel, outDir: string, options: RenderOptions = {}): Promise<Omit<RenderedReports, 'charts'>> {
  return writePages(model, buildCharts(model), outDir, options);
}

async function writePages(model: ReportModel, charts: ChartSpec[], outDir: string, options: RenderOptions): Promise<Omit<RenderedReports, 'charts'>> {
  const html = path.join(outDir, 'report.html');
  await writeFileAtomic(html, renderHtml(model, charts, await loadPageAssets(), { resultsDir: options.resultsDir ?? outDir, outDir }));
  const markdown = path.join(outDir, 'summary.md');
  const markdownText = renderMarkdown(model);
  await writeFileAtomic(markdown, markdownText);
  return { html, markdown, markdownText };
}
