/** PNG rendering: each chart configuration drawn by Chart.js on node-canvas (chartjs-node-canvas). */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ChartJSNodeCanvas } from 'chartjs-node-canvas';
import { reportPlugins } from './chart-plugins.js';
import type { ChartSpec } from './charts/index.ts';
import { makeDir, writeFileAtomic } from '../output.ts';

/** Renders one chart to PNG bytes at its declared size, on white. */
export async function renderPng(spec: ChartSpec, canvases = new Map<string, ChartJSNodeCanvas>()): Promise<Buffer> {
  const key = `${spec.width}x${spec.height}`;
  let canvas = canvases.get(key);
  if (canvas === undefined) {
    canvas = new ChartJSNodeCanvas({
      width: spec.width,
      height: spec.height,
      backgroundColour: 'white',
      plugins: { modern: reportPlugins },
    });
    canvases.set(key, canvas);
  }
  // chartjs-node-canvas writes `responsive` and `animation` into the configuration it is given: hand it a copy.
  return canvas.renderToBuffer(structuredClone(spec.config), 'image/png');
}

/**
 * Writes `<dir>/<name>.png` for every chart and removes PNGs a previous rendering left that this one does
 * not produce (a re-render with fewer configurations). Returns the written paths in chart order.
 */
export async function writePngs(specs: ChartSpec[], dir: string): Promise<string[]> {
  await makeDir(dir);
  const wanted = new Set(specs.map((s) => `${s.name}.png`));
  for (const entry of await readdir(dir)) {
    if (entry.endsWith('.png') && !wanted.has(entry)) await rm(path.join(dir, entry));
  }
  const canvases = new Map<string, ChartJSNodeCanvas>();
  const written: string[] = [];
  for (const spec of specs) {
    const file = path.join(dir, `${spec.name}.png`);
    await writeFileAtomic(file, await renderPng(spec, canvases));
    written.push(file);
  }
  return written;
}
