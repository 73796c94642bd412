import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadResults } from '../../bench/results/read.ts';
import { buildCharts } from '../../bench/report/charts/index.ts';
import { renderPng, writePngs } from '../../bench/report/png.ts';
import { noCaptureResults, sampleResults } from './fixtures.ts';
import { colouredPixels, pngSize, tempDir } from './helpers.ts';
import { buildReportModel } from '../../bench/report/model.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('PNG charts', () => {
  it('are PNGs of the declared size, on white, with their data drawn', async () => {
    const quick = await loadResults(path.resolve(import.meta.dirname, '../../fixtures/results/quick-sample/results.json'));
    for (const chart of [...buildCharts(buildReportModel(sampleResults())), ...buildCharts(buildReportModel(noCaptureResults())), ...buildCharts(buildReportModel(quick))]) {
      const png = await renderPng(chart);
      expect(pngSize(png), chart.name).toEqual({ width: chart.width, height: chart.height });
      const drawn = await colouredPixels(png);
      expect(drawn.corner, `${chart.name}: white background`).toEqual([255, 255, 255, 255]);
      // The same chart without its datasets still has its title, axes and grid, in greys: the data is what
      // adds coloured pixels (at least 0.3% of the image for the thinnest of these charts, a CDF).
      const frame = structuredClone(chart);
      frame.config.data.datasets = [];
      const empty = await colouredPixels(await renderPng(frame));
      expect(drawn.coloured, chart.name).toBeGreaterThan(empty.coloured + drawn.total * 0.003);
    }
  });

  it('are written as <name>.png, and stale ones from an earlier rendering are removed', async () => {
    const dir = path.join(tmp.dir, 'charts');
    const charts = buildCharts(buildReportModel(noCaptureResults()));
    await writePngs(buildCharts(buildReportModel(sampleResults())), dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'kept');
    const written = await writePngs(charts, dir);
    expect(written).toEqual(charts.map((c) => path.join(dir, `${c.name}.png`)));
    expect(existsSync(path.join(dir, 'breakdown-tls1.3-rsa2048.png'))).toBe(false);
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('kept');
  });
});
