/**
 * What every chart shares: the spec a chart builder returns, units, titles, fonts. A chart is a plain
 * Chart.js configuration (JSON data only: no functions), so the PNG renderer and the HTML page draw the same
 * object (STYLE.md §9); behaviour beyond Chart.js lives in chart-plugins.js and is named by option.
 */
import type { ChartConfiguration, ChartOptions, ChartType } from 'chart.js';
import type { Mode } from '../../model/index.ts';
import { formatPct } from '../format.ts';
import { INK, INVALID_ALPHA, MODE_COLOURS, translucent } from '../palette.ts';
import type { MeasuredScenario } from '../groups.ts';

/** The numbers behind a chart, as the HTML page prints them under it. */
export interface ChartTable {
  header: string[];
  rows: string[][];
  /** Columns to right-align (numbers). */
  numeric: number[];
}

/** One chart: its configuration, its declared size, and the table behind it. */
export interface ChartSpec {
  /** File name without `.png`, and the canvas id (`chart-<name>`) in the page. */
  name: string;
  /** Short heading for the page, e.g. `Bytes per endpoint-minute`. */
  heading: string;
  /** The configuration the chart belongs to (a group label), or null for charts across configurations. */
  group: string | null;
  /** Pixels of the PNG; the page keeps the aspect ratio. */
  width: number;
  height: number;
  config: ChartConfiguration;
  table: ChartTable;
  /** A sentence under the chart saying how to read it. */
  caption: string;
  /** Units of the plotted values, for the page's tooltips (a bare "71.48" says nothing). */
  units: ChartUnits;
}

/** The units a chart's tooltips print with each value. */
export interface ChartUnits {
  /** Unit of the plotted value: the bar's length, or a line's height. */
  value: string;
  /** Unit of a line chart's x values, when they are numbers. */
  x?: string;
  /** Most decimals printed (default 2). */
  decimals?: number;
}

/** A unit to show bytes in, chosen from the largest value so axis ticks stay short. */
export interface ByteUnit {
  unit: 'B' | 'kB' | 'MB';
  divisor: number;
}

/** kB from 10 kB up, MB from 10 MB up (decimal, as format.ts counts). */
export function byteUnit(maxBytes: number): ByteUnit {
  if (maxBytes >= 10_000_000) return { unit: 'MB', divisor: 1_000_000 };
  if (maxBytes >= 10_000) return { unit: 'kB', divisor: 1000 };
  return { unit: 'B', divisor: 1 };
}

/** Rounds a plotted value to 4 decimals: enough for any axis, and stable in snapshots. */
export function plotted(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

/** Bytes in a unit, rounded for plotting. */
export function inUnit(bytes: number, unit: ByteUnit): number {
  return plotted(bytes / unit.divisor);
}

/** Fill colour of a mode's bars or lines; translucent when the scenario is invalid. */
export function modeColour(mode: Mode, invalid: boolean): string {
  return invalid ? translucent(MODE_COLOURS[mode], INVALID_ALPHA) : MODE_COLOURS[mode];
}

/** A mode's dataset label, marked when the scenario is invalid. */
export function modeDatasetLabel(s: MeasuredScenario, suffix = ''): string {
  return `${s.spec.mode}${suffix}${s.state === 'invalid' ? ' (INVALID)' : ''}`;
}

/** Sizes in pixels; each chart declares its own from these. */
export const SIZE = {
  wide: { width: 1000, height: 520 },
  tall: { width: 1000, height: 600 },
} as const;

/**
 * Options every chart starts from: no animation (the PNG is one frame, and the page's test reads pixels),
 * the title that states the finding, a subtitle with the context and units, the legend on top, and the
 * aspect ratio of the declared size so the page draws what the PNG shows.
 */
export function baseOptions<T extends ChartType>(
  title: string,
  subtitle: string[],
  size: { width: number; height: number },
): ChartOptions<T> {
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: true,
    aspectRatio: size.width / size.height,
    color: INK,
    layout: { padding: { top: 4, right: 16, bottom: 4, left: 8 } },
    plugins: {
      title: { display: true, text: title, color: INK, font: { size: 17, weight: 'bold' }, padding: { top: 4, bottom: 4 } },
      subtitle: { display: subtitle.length > 0, text: subtitle, color: '#555555', font: { size: 12 }, padding: { bottom: 10 } },
      legend: { display: true, position: 'top', labels: { color: INK, font: { size: 12 }, boxWidth: 14 } },
    },
  } as ChartOptions<T>;
}

/** An axis title. */
export function axisTitle(text: string) {
  return { display: true, text, color: INK, font: { size: 13 } };
}

/** `67% less`, or `5% more` when a saving is negative (rounded to whole percent). */
export function lessOrMore(savedPct: number): string {
  const rounded = Math.round(savedPct);
  return rounded >= 0 ? `${formatPct(rounded, 0)} less` : `${formatPct(-rounded, 0)} more`;
}

/** Range text for a finding: `5.2 kB` when all values print alike, else `4.3–6.1 kB`-style `a–b`. */
export function rangeText(values: number[], format: (n: number) => string): string {
  const lo = format(Math.min(...values));
  const hi = format(Math.max(...values));
  return lo === hi ? lo : `${lo}–${hi}`;
}
