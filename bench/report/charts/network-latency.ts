/**
 * Latency per API call on an emulated network (issue 10): per network, the median of each call per mode, the
 * round-trip model's prediction marked across each bar (chart-plugins.js `markers`). The field report's two
 * charts, same-cloud and across the internet: the same proportions, longer times where round trips cost more.
 */
import type { ChartConfiguration } from 'chart.js';
import type { ApiCall, Mode } from '../../model/index.ts';
import { formatNumber } from '../format.ts';
import { axisTitle, baseOptions, modeColour, plotted, rangeText, SIZE, type ChartSpec } from './common.ts';

/** One mode's calls on a network: the measured median and the model's time, per API call. */
export interface NetworkLatencyMode {
  mode: Mode;
  invalid: boolean;
  /** The results' per-call figures: `modelMs` is `latency.<api>.model.ms`, `modelRatio` its `modelRatio`. */
  calls: Partial<Record<ApiCall, { p50Ms: number; modelMs: number | null; modelRatio: number | null; samples: number }>>;
}

/** What a network's chart draws, from the report model (the renderer computes none of it). */
export interface NetworkLatencyPanel {
  /** The profile's name, as in scenario ids (`lan`, `wan`). */
  network: string;
  rttMs: number;
  /** The configuration's full label, e.g. `TLS 1.3, RSA-2048 chain, Node server, wan`. */
  configuration: string;
  /** File-name-safe name of the configuration, as the group's slug. */
  slug: string;
  apis: ApiCall[];
  modes: NetworkLatencyMode[];
}

const ms = (n: number) => `${formatNumber(n, n < 10 ? 2 : 1)} ms`;

/** One chart per panel (`latency-<slug>-model`): API calls on the category axis, a bar per mode, the model marked. */
export function networkLatencyCharts(panels: NetworkLatencyPanel[]): ChartSpec[] {
  return panels.map((panel) => {
    const size = SIZE.wide;
    const medians = panel.modes.flatMap((m) => {
      const p50s = panel.apis.flatMap((api) => (m.calls[api] === undefined ? [] : [m.calls[api]!.p50Ms]));
      return p50s.length === 0 ? [] : [`${m.mode} ${rangeText(p50s, (n) => formatNumber(n, n < 10 ? 2 : 0))} ms`];
    });
    const config: ChartConfiguration<'bar'> = {
      type: 'bar',
      data: {
        labels: panel.apis.map((api) => {
          const counts = panel.modes.map((m) => m.calls[api]?.samples ?? 0);
          return [api, `n = ${new Set(counts).size === 1 ? counts[0] : counts.join(' · ')}`];
        }),
        datasets: panel.modes.map((m) => ({
          label: `${m.mode}${m.invalid ? ' (INVALID)' : ''}`,
          data: panel.apis.map((api) => (m.calls[api] === undefined ? null : plotted(m.calls[api]!.p50Ms))),
          backgroundColor: modeColour(m.mode, m.invalid),
        })),
      },
      options: {
        ...baseOptions<'bar'>(
          `On ${panel.network} (${formatNumber(panel.rttMs, 0)} ms RTT) the median call took ${medians.join(', ')}`,
          [`${panel.configuration} · bars: median (p50) per API call; dark mark: the round-trip model's time · real milliseconds`],
          size,
        ),
        scales: {
          x: { grid: { display: false }, ticks: { font: { size: 13 } }, title: axisTitle('agent API call (n: requests measured, per mode)') },
          y: { beginAtZero: true, grace: '8%', title: axisTitle('milliseconds') },
        },
      },
    };
    config.options!.plugins!.markers = {
      display: true,
      values: panel.modes.map((m) => panel.apis.map((api) => {
        const model = m.calls[api]?.modelMs;
        return model === undefined || model === null ? null : plotted(model);
      })),
    };
    return {
      name: `latency-${panel.slug}-model`,
      heading: `Latency per call on ${panel.network}, against the round-trip model`,
      group: null,
      ...size,
      units: { value: 'ms (median)', decimals: 2 },
      config: config as ChartConfiguration,
      caption:
        "Each bar is a call's median over the latency phase's requests; the mark across it is the round-trip model: round trips to the first byte × RTT, plus the loopback twin's time for the same request, plus the bytes' serialisation at the path's rates. A bar above its mark is time the model does not know.",
      table: {
        header: ['mode', 'API call', 'requests', 'p50', 'model', 'p50 / model'],
        numeric: [2, 3, 4, 5],
        rows: panel.modes.flatMap((m) =>
          panel.apis.flatMap((api) => {
            const c = m.calls[api];
            if (c === undefined) return [];
            return [[m.mode, api, String(c.samples), ms(c.p50Ms), c.modelMs === null ? '-' : ms(c.modelMs), c.modelRatio === null ? '-' : formatNumber(c.modelRatio, 2)]];
          }),
        ),
      },
    };
  });
}
