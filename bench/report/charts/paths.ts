/**
 * Where a request's time goes on each emulated path: per scenario a stacked bar of the mean request's phases
 * (TCP connect, TLS handshake, waiting for the first byte, transfer) with the round-trip model's time marked
 * beside it. Reuse removes the first two segments; the model says how many round trips that is worth.
 */
import type { ChartConfiguration } from 'chart.js';
import { formatNumber } from '../format.ts';
import type { ReportModel } from '../model.ts';
import { INK } from '../palette.ts';
import { PHASES } from './latency.ts';
import { ROUND_TRIP_ALIGN, ROUND_TRIP_HEADER, roundTripCells } from '../paths.ts';
import { axisTitle, baseOptions, plotted, SIZE, type ChartSpec } from './common.ts';

const ms = (n: number) => `${formatNumber(n, n < 10 ? 2 : 1)} ms`;

/** One chart per emulated network (`round-trips-<network>`), across its configurations. */
export function roundTripCharts(model: ReportModel): ChartSpec[] {
  const networks = [...new Set(model.groups.filter((g) => g.spec.link !== null).map((g) => g.spec.network))];
  return networks.flatMap((network) => {
    const groups = model.groups.filter((g) => g.spec.network === network);
    const scenarios = groups.flatMap((g) =>
      g.measured.flatMap((s) => (s.latencyPhases == null ? [] : [{ s, phases: s.latencyPhases, label: groups.length === 1 ? s.spec.mode : `${s.spec.mode} · ${g.label}` }])),
    );
    if (scenarios.length === 0) return [];
    const link = groups[0]!.spec.link!;
    const fresh = scenarios.find((x) => x.s.spec.mode === 'fresh');
    const reused = scenarios.find((x) => x.s.spec.mode === 'persistent');
    const title =
      fresh !== undefined && reused !== undefined
        ? `On ${network} (${formatNumber(link.rttMs, 0)} ms RTT) a request takes ${ms(fresh.phases.totalMs)} on a new connection, ${ms(reused.phases.totalMs)} on a kept-alive one`
        : `Where a request's time goes on ${network} (${formatNumber(link.rttMs, 0)} ms RTT)`;
    const size = SIZE.wide;
    const config: ChartConfiguration<'bar' | 'line'> = {
      type: 'bar',
      data: {
        labels: scenarios.map((x) => x.label),
        datasets: [
          ...PHASES.map((p) => ({
            type: 'bar' as const,
            label: p.label,
            data: scenarios.map((x) => plotted(x.phases[p.key])),
            backgroundColor: p.colour,
            stack: 'measured',
            // Drawn first: the model's marks go over the bars.
            order: 1,
          })),
          {
            type: 'line' as const,
            label: 'round-trip model',
            data: scenarios.map((x) => (x.phases.modelMs === null ? null : plotted(x.phases.modelMs))),
            showLine: false,
            pointStyle: 'line',
            pointRadius: 28,
            pointBorderWidth: 3,
            borderColor: INK,
            backgroundColor: INK,
            stack: 'model',
            order: 0,
          },
        ],
      },
      options: {
        ...baseOptions<'bar'>(title, [`${groups[0]!.fullLabel} · bars: the mean request's phases; line: the round-trip model · real milliseconds per request`], size),
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { font: { size: 13 } }, title: axisTitle('mode') },
          y: { stacked: true, beginAtZero: true, title: axisTitle('milliseconds per request') },
        },
      },
    } as ChartConfiguration<'bar' | 'line'>;
    const rows = model.roundTrips.filter((r) => r.network === network);
    return [
      {
        name: `round-trips-${network}`,
        units: { value: 'ms per request (mean)', decimals: 2 },
        heading: `Round trips on ${network}`,
        group: null,
        ...size,
        config: config as ChartConfiguration,
        caption:
          'Each bar is the latency phase’s mean request, split into its phases (they add up to the mean); the line marks the round-trip model: round trips to the first byte × RTT, plus the loopback scenario’s time for the same request and the bytes’ serialisation at the path’s rates. A bar well above its line is time the model does not know: CPU contention, the emulator’s own scheduling.',
        table: { header: ROUND_TRIP_HEADER, rows: rows.map(roundTripCells), numeric: ROUND_TRIP_ALIGN.flatMap((a, i) => (a === 'right' ? [i] : [])) },
      },
    ];
  });
}

