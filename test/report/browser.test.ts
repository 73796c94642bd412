/**
 * report.html in a real browser: Debian's Chromium driven by playwright-core, the page opened from file://
 * with every network request refused, as a reader would open it offline.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Results } from '../../bench/model/index.ts';
import { buildCharts } from '../../bench/report/charts/index.ts';
import { renderReports } from '../../bench/report/index.ts';
import { hostileResults, sampleResults } from './fixtures.ts';
import { tempDir } from './helpers.ts';
import { buildReportModel } from '../../bench/report/model.ts';
import { describeUnless } from '../support/skip.ts';

const CHROMIUM = '/usr/bin/chromium';
const ROOT = path.resolve(import.meta.dirname, '../..');
// A missing browser skips the test on a developer's machine, never in CI, where it must fail instead.
const skip = !existsSync(CHROMIUM) && process.env.CI !== 'true';
if (skip) console.warn(`report browser test skipped: ${CHROMIUM} not found (apt-get install chromium, or npm run setup)`);

const tmp = tempDir();
let context: BrowserContext;

beforeAll(async () => {
  if (skip) return;
  context = await chromium.launchPersistentContext(path.join(tmp.dir, 'profile'), {
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1200, height: 900 },
  });
});
afterAll(async () => {
  await context?.close();
  tmp.cleanup();
});

/** Renders the reports of `results` into a fresh folder, opens report.html and waits for the charts. */
async function openReport(name: string, results: Results, widthPx = 1200) {
  const dir = path.join(tmp.dir, name);
  const { html } = await renderReports(buildReportModel(results), dir);
  const page = await context.newPage();
  await page.setViewportSize({ width: widthPx, height: 900 });
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const requests: string[] = [];
  await page.route('**/*', async (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    requests.push(url);
    return route.abort();
  });
  await page.goto(pathToFileURL(html).href);
  await page.waitForSelector('body[data-charts-drawn]', { timeout: 30_000 });
  return { page, problems, requests };
}

/**
 * Smallest plot area (inside the axes) a chart may get at a page width, CSS pixels. At 390 px a chart is
 * about 370 px wide: a plot of 150 x 200 still shows every bar of the busiest chart (breakdown, six bars with
 * long labels) apart; at 1400 px the page is 1000 px wide and the shortest chart (phases, two bars) is 200 px tall.
 */
const MIN_PLOT_PX: Record<number, { width: number; height: number }> = { 390: { width: 150, height: 200 }, 1400: { width: 600, height: 200 } };

/** Opens every folded section and table, and waits until the charts inside have been laid out again. */
async function unfold(page: Page): Promise<void> {
  await page.evaluate(async () => {
    type Page = { document: { querySelectorAll(s: string): Iterable<{ open: boolean }> }; requestAnimationFrame(f: () => void): void };
    const page = globalThis as unknown as Page;
    for (const details of page.document.querySelectorAll('details')) details.open = true;
    // Chart.js resizes on its ResizeObserver's callback, in the animation frame after the layout changed.
    for (let frame = 0; frame < 3; frame++) await new Promise<void>((resolve) => page.requestAnimationFrame(resolve));
  });
}

describeUnless(skip ? `${CHROMIUM} not found (apt-get install chromium, or npm run setup)` : null, 'report.html in Chromium', () => {
  it('draws every chart offline, without console errors, under the answer', async () => {
    const { page, problems, requests } = await openReport('sample', sampleResults());
    expect(problems).toEqual([]);
    expect(requests).toEqual([]);
    await expect(page.locator('#answer').textContent()).resolves.toContain(
      'Reusing connections saved 67% of downstream bytes: 50.7 kB → 16.9 kB per endpoint-minute.',
    );
    await unfold(page);
    const canvases = await page.evaluate(() => {
      // The page's globals, typed here because the project type-checks without the DOM library.
      type Canvas = { id: string; width: number; getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } };
      type Area = { left: number; top: number; width: number; height: number };
      const page = globalThis as unknown as {
        document: { querySelectorAll(selector: string): Iterable<Canvas> };
        Chart: { getChart(canvas: Canvas): { chartArea: Area } | undefined };
      };
      return [...page.document.querySelectorAll('canvas')].map((canvas) => {
        // Inside the plot area only (not the title or the legend's swatches): opaque pixels of a colour
        // (channel spread above 60) are bars and lines; text, axes and grid are grey.
        const area = page.Chart.getChart(canvas)?.chartArea;
        if (area === undefined) return { id: canvas.id, width: canvas.width, share: 0 };
        const { data } = canvas.getContext('2d').getImageData(area.left, area.top, area.width, area.height);
        let coloured = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
          if (a > 200 && Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
        }
        return { id: canvas.id, width: canvas.width, share: coloured / (data.length / 4) };
      });
    });
    const count = buildCharts(buildReportModel(sampleResults())).length;
    expect(canvases).toHaveLength(count);
    await expect(page.locator('body').getAttribute('data-charts-drawn')).resolves.toBe(String(count));
    for (const c of canvases) {
      expect(c.width, c.id).toBeGreaterThan(300);
      // An empty plot area has no coloured pixel at all; the thinnest chart here (a CDF of two 2-pixel lines
      // that mostly overlap the axes) colours 0.3% of it.
      expect(c.share, c.id).toBeGreaterThan(0.001);
    }
    mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'test-artifacts', 'report.png'), fullPage: true });
    await page.close();
  });

  // A phone and a wide desktop window. Before: at 390 px the plot areas shrank to nothing under titles and
  // legends, and Environment paths pushed the page sideways; at 1400 px Capture health overflowed its column.
  for (const widthPx of [390, 1400]) {
    it(`at ${widthPx} px: no sideways scrolling, every plot at least its minimum size, legends clear of the plot`, async () => {
      const { page, problems } = await openReport(`width-${widthPx}`, sampleResults(), widthPx);
      expect(problems).toEqual([]);
      await unfold(page);
      const layout = await page.evaluate(() => {
        type Box = { left: number; top: number; right: number; bottom: number };
        type Canvas = { id: string; getBoundingClientRect(): Box; closest(selector: string): { getBoundingClientRect(): Box } };
        type Chart = { chartArea: Box & { width: number; height: number }; legend?: Box & { options: { display: boolean } } };
        const page = globalThis as unknown as {
          document: { documentElement: { scrollWidth: number; clientWidth: number }; querySelectorAll(selector: string): Iterable<Canvas> };
          Chart: { getChart(canvas: Canvas): Chart | undefined };
        };
        const root = page.document.documentElement;
        return {
          scrollWidth: root.scrollWidth,
          clientWidth: root.clientWidth,
          charts: [...page.document.querySelectorAll('canvas')].map((canvas) => {
            const chart = page.Chart.getChart(canvas)!;
            const legend = chart.legend?.options.display ? chart.legend : null;
            const area = chart.chartArea;
            const overlap = legend !== null && legend.left < area.right && area.left < legend.right && legend.top < area.bottom && area.top < legend.bottom;
            return {
              id: canvas.id,
              plot: { width: area.width, height: area.height },
              legendOverPlot: overlap,
              canvasRight: canvas.getBoundingClientRect().right,
              figureRight: canvas.closest('figure').getBoundingClientRect().right,
            };
          }),
        };
      });
      expect(layout.scrollWidth, 'the page scrolls sideways').toBeLessThanOrEqual(layout.clientWidth);
      const min = MIN_PLOT_PX[widthPx]!;
      for (const c of layout.charts) {
        expect(c.plot.width, `${c.id} plot width`).toBeGreaterThanOrEqual(min.width);
        expect(c.plot.height, `${c.id} plot height`).toBeGreaterThanOrEqual(min.height);
        expect(c.legendOverPlot, `${c.id} legend over the plot`).toBe(false);
        expect(c.canvasRight, `${c.id} wider than its figure`).toBeLessThanOrEqual(c.figureRight + 0.5);
      }
      mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test-artifacts', `report-${widthPx}px.png`), fullPage: true });
      await page.close();
    });
  }

  it('runs no script from the results', async () => {
    const { page, problems } = await openReport('hostile', hostileResults());
    expect(problems).toEqual([]);
    expect(await page.evaluate(() => (globalThis as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('img').count()).toBe(0);
    await expect(page.locator('#scenarios').textContent()).resolves.toContain('fresh</script><img src=x onerror="window.__pwned=1">&<b>');
    await page.close();
  });
});
