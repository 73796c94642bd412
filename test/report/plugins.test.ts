import { createCanvas, loadImage } from 'canvas';
import type { ChartConfiguration } from 'chart.js';
import { describe, expect, it } from 'vitest';
import type { ChartSpec } from '../../bench/report/charts/index.ts';
import { networkLatencyCharts, type NetworkLatencyPanel } from '../../bench/report/charts/network-latency.ts';
import { renderPng } from '../../bench/report/png.ts';

/** One blue bar of 10 on a 0-20 axis, its marker (if any) in pure red. */
function barWithMarker(values: (number | null)[][]): ChartSpec {
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: { labels: ['a'], datasets: [{ label: 'measured', data: [10], backgroundColor: '#0000FF' }] },
    options: {
      animation: false,
      plugins: { legend: { display: false }, markers: { display: true, values, color: '#FF0000' } },
      scales: { y: { min: 0, max: 20 }, x: { grid: { display: false } } },
    },
  };
  return { name: 'marker', heading: '', group: null, width: 200, height: 300, config: config as ChartConfiguration, table: { header: [], rows: [], numeric: [] }, caption: '', units: { value: 'ms' } };
}

/** Rows (y) of the image holding pixels of one pure colour. */
async function rowsOf(png: Buffer, match: (r: number, g: number, b: number) => boolean): Promise<number[]> {
  const image = await loadImage(png);
  const ctx = createCanvas(image.width, image.height).getContext('2d');
  ctx.drawImage(image, 0, 0);
  const { data } = ctx.getImageData(0, 0, image.width, image.height);
  const rows = new Set<number>();
  for (let i = 0; i < data.length; i += 4) if (match(data[i]!, data[i + 1]!, data[i + 2]!)) rows.add(Math.floor(i / 4 / image.width));
  return [...rows].sort((a, b) => a - b);
}

const red = (r: number, g: number, b: number) => r > 200 && g < 60 && b < 60;
const blue = (r: number, g: number, b: number) => b > 200 && r < 60 && g < 60;

describe('the markers plugin', () => {
  it('draws a predicted value across its bar, at the value', async () => {
    // The marker at 5 on a bar of 10 from 0: halfway between the bar's top and its base.
    const png = await renderPng(barWithMarker([[5]]));
    const bar = await rowsOf(png, blue);
    const mark = await rowsOf(png, red);
    expect(mark.length).toBeGreaterThanOrEqual(2);
    expect(mark.length).toBeLessThanOrEqual(4);
    const middle = (bar[0]! + bar.at(-1)!) / 2;
    expect(Math.abs((mark[0]! + mark.at(-1)!) / 2 - middle)).toBeLessThanOrEqual(2);
  });

  it('leaves a bar without a prediction unmarked', async () => {
    expect(await rowsOf(await renderPng(barWithMarker([[null]])), red)).toEqual([]);
  });
});

describe('latency per call on an emulated network', () => {
  const panel: NetworkLatencyPanel = {
    network: 'wan',
    rttMs: 60,
    configuration: 'TLS 1.3, RSA-2048 chain, Node server, wan',
    slug: 'tls1.3-rsa2048-wan-node',
    apis: ['config', 'log'],
    modes: [
      { mode: 'fresh', invalid: false, calls: { config: { p50Ms: 250, modelMs: 241, modelRatio: 1.04, samples: 30 }, log: { p50Ms: 190, modelMs: 181, modelRatio: 1.05, samples: 30 } } },
      { mode: 'persistent', invalid: false, calls: { config: { p50Ms: 75, modelMs: 66, modelRatio: 1.14, samples: 30 }, log: { p50Ms: 62, modelMs: null, modelRatio: null, samples: 12 } } },
    ],
  };
  const [chart] = networkLatencyCharts([panel]);

  it('draws the medians per call and mode with the model marked on each bar that has one', () => {
    expect(chart!.name).toBe('latency-tls1.3-rsa2048-wan-node-model');
    expect(chart!.config.data.labels).toEqual([['config', 'n = 30'], ['log', 'n = 30 · 12']]);
    expect(chart!.config.data.datasets.map((d) => d.data)).toEqual([[250, 190], [75, 62]]);
    expect(chart!.config.options?.plugins?.markers).toEqual({ display: true, values: [[241, 181], [66, null]] });
    expect(chart!.config.options?.plugins?.title?.text).toBe('On wan (60 ms RTT) the median call took fresh 190–250 ms, persistent 62–75 ms');
    expect(chart!.table.rows[2]).toEqual(['persistent', 'config', '30', '75.0 ms', '66.0 ms', '1.14']);
  });
});
