/** Types of chart-plugins.js (plain JavaScript because report.html inlines it verbatim). */
import type { Chart, ChartConfiguration, ChartType, Plugin } from 'chart.js';

/** Options of the `valueLabels` plugin: text lines printed at the end of bars. */
export interface ValueLabelsOptions {
  display: boolean;
  /** `labels[datasetIndex][dataIndex]`: the lines of one bar's label, or null for none. */
  labels: (string[] | null)[][];
  color?: string;
  fontSize?: number;
  minFontSize?: number;
}

/** Options of the `whiskers` plugin: p90/p99 whiskers over bars that show a median. */
export interface WhiskersOptions {
  display: boolean;
  /** `p90[datasetIndex][dataIndex]`, in the bar axis' units, or null for no whisker. */
  p90: (number | null)[][];
  p99: (number | null)[][];
  color?: string;
  /** `muted[datasetIndex][dataIndex]`: true draws that whisker grey (too few samples for its percentiles). */
  muted?: boolean[][];
  mutedColor?: string;
}

/** Options of the `markers` plugin: a predicted value marked across each bar. */
export interface MarkersOptions {
  display: boolean;
  /** `values[datasetIndex][dataIndex]`, in the value axis's units; null leaves a bar unmarked. */
  values: (number | null)[][];
  color?: string;
  lineWidth?: number;
}

/** Options of the `fadedBars` plugin: single bars drawn pale (invalid measurements). */
export interface FadedBarsOptions {
  display: boolean;
  /** `bars[datasetIndex][dataIndex]`: true to pale that bar. */
  bars: boolean[][];
  veil?: string;
}

/** Options of the `runPoints` plugin: every repetition's value over its bar (`--runs N`). */
export interface RunPointsOptions {
  display: boolean;
  /** `values[datasetIndex][dataIndex]`: each run's value, in the value axis's units. */
  values: number[][][];
  color?: string;
  radius?: number;
}

declare module 'chart.js' {
  interface PluginOptionsByType<TType extends ChartType> {
    runPoints: RunPointsOptions;
    fadedBars: FadedBarsOptions;
    valueLabels: ValueLabelsOptions;
    whiskers: WhiskersOptions;
    markers: MarkersOptions;
  }
}

/** What the page needs of a chart spec to draw it. */
export interface DrawableChart {
  name: string;
  config: ChartConfiguration;
  units?: { value: string; x?: string; decimals?: number };
}

export declare const fadedBars: Plugin;
export declare const valueLabels: Plugin;
export declare const whiskers: Plugin;
export declare const markers: Plugin;
export declare const runPoints: Plugin;
/** Every plugin the report's chart configurations may name. */
export declare const reportPlugins: Plugin[];
/** The part of a DOM document the page entry point uses (the project type-checks without the DOM library). */
export interface ChartDocument {
  getElementById(id: string): unknown;
  body: { dataset: Record<string, string | undefined>; clientWidth?: number };
}

/** The configuration the page draws for a chart, at a page width in CSS pixels (see chart-plugins.js). */
export declare function pageConfig(spec: DrawableChart, widthPx: number): ChartConfiguration;

/** Draws each spec into `<canvas id="chart-<name>">`; returns how many were drawn. */
export declare function drawReportCharts(chart: typeof Chart, specs: DrawableChart[], doc: ChartDocument): number;
