/**
 * Chart 5, latency per API call and mode: p50 bars with p90/p99 whiskers, and the CDF of every request's
 * latency. Real milliseconds on loopback: what the handshake's round trips and CPU cost per request.
 */
import type { ChartConfiguration } from 'chart.js';
import type { ReportModel } from '../model.ts';
import type { RequestPhases } from '../phases.ts';
import type { ApiCall } from '../../model/index.ts';
import { formatNumber } from '../format.ts';
import type { MeasuredScenario, ScenarioGroup } from '../groups.ts';
import { API_CALLS, MIN_LATENCY_SAMPLES } from '../../model/index.ts';
import { axisTitle, baseOptions, modeColour, modeDatasetLabel, plotted, SIZE, type ChartSpec } from './common.ts';
import { PHASE_COLOURS } from '../palette.ts';

/** Most points of a CDF line: enough to look continuous, few enough to keep the page small. */
const MAX_CDF_POINTS = 200;
/** Smallest latency drawn on a logarithmic axis (samples are rounded to 0.01 ms, so 0 occurs). */
const MIN_LOG_MS = 0.01;
/** Above this max/min ratio the CDF's time axis is logarithmic. */
const LOG_AXIS_RATIO = 20;

/** Every request's latency of a scenario, over all API calls, sorted ascending. */
export function allSamplesMs(s: MeasuredScenario): number[] {
  return Object.values(s.latency)
    .flatMap((l) => l.totalSamplesMs)
    .sort((a, b) => a - b);
}


const ms = (n: number) => `${formatNumber(n, n < 10 ? 2 : 1)} ms`;

function withSamples(group: ScenarioGroup): MeasuredScenario[] {
  return group.measured.filter((s) => Object.values(s.latency).some((l) => l.total.samples > 0));
}

/** `n = 65` under an API call, or `n = 65 · 65 · 12` (in mode order) when the modes have different counts. */
function samplesLine(scenarios: MeasuredScenario[], api: ApiCall): string {
  const counts = scenarios.map((s) => s.latency[api]?.total.samples ?? 0);
  return `n = ${new Set(counts).size === 1 ? counts[0] : counts.join(' · ')}`;
}

/**
 * One bar chart per configuration (`latency-<configuration>`): API calls on the category axis with each one's
 * sample count under it, all on one value range (configurations compare at a glance), whiskers grey where a
 * call has fewer than MIN_LATENCY_SAMPLES requests (its p90 and p99 are one request's luck); then the phases
 * and the distribution.
 */
export function latencyCharts(model: ReportModel): ChartSpec[] {
  const { groups } = model;
  const everyScenario = groups.flatMap(withSamples);
  const maxP99 = Math.max(0, ...everyScenario.flatMap((s) => Object.values(s.latency).map((l) => l.total.p99Ms)));
  return groups.flatMap((group) => {
    const scenarios = withSamples(group);
    if (scenarios.length === 0) return [];
    const apis = API_CALLS.filter((api) => scenarios.some((s) => s.latency[api] !== undefined));
    const summary = (s: MeasuredScenario, api: ApiCall) => s.latency[api]?.total;
    const medians = scenarios.map((s) => `${s.spec.mode} ${ms(s.latencyAllCalls?.p50Ms ?? 0)}`);
    const size = SIZE.wide;
    const config: ChartConfiguration<'bar'> = {
      type: 'bar',
      data: {
        labels: apis.map((api) => [api, samplesLine(scenarios, api)]),
        datasets: scenarios.map((s) => ({
          label: modeDatasetLabel(s),
          data: apis.map((api) => {
            const l = summary(s, api);
            return l === undefined ? null : plotted(l.p50Ms);
          }),
          backgroundColor: modeColour(s.spec.mode, s.state === 'invalid'),
        })),
      },
      options: {
        ...baseOptions<'bar'>(
          `Median request latency: ${medians.join(', ')}`,
          [
            `${group.fullLabel} · bars: median (p50); whisker: short cap p90, long cap p99 (grey: fewer than ${MIN_LATENCY_SAMPLES} requests) · real milliseconds per request`,
          ],
          size,
        ),
        scales: {
          x: { grid: { display: false }, ticks: { font: { size: 13 } }, title: axisTitle('agent API call (n: requests measured)') },
          // One range for every configuration's chart.
          y: { beginAtZero: true, max: niceMax(maxP99 * 1.05), title: axisTitle('milliseconds') },
        },
      },
    };
    config.options!.plugins!.whiskers = {
      display: true,
      p90: scenarios.map((s) => apis.map((api) => (summary(s, api) === undefined ? null : plotted(summary(s, api)!.p90Ms)))),
      p99: scenarios.map((s) => apis.map((api) => (summary(s, api) === undefined ? null : plotted(summary(s, api)!.p99Ms)))),
      muted: scenarios.map((s) => apis.map((api) => (summary(s, api)?.samples ?? 0) < MIN_LATENCY_SAMPLES)),
    };
    const phase = (l: { p50Ms: number } | null | undefined) => (l == null ? '-' : ms(l.p50Ms));
    const spec: ChartSpec = {
      name: `latency-${group.slug}`,
      units: { value: 'ms (median)', decimals: 2 },
      heading: 'Latency per API call',
      group: group.label,
      ...size,
      config: config as ChartConfiguration,
      caption:
        'Each request from sending to the last response byte. Fresh and resumed requests include the TCP connect and TLS handshake; persistent ones only the exchange itself.',
      table: {
        header: ['scenario', 'API call', 'requests', 'mean', 'p50', 'p90', 'p99', 'TCP connect p50', 'TLS handshake p50', 'first byte p50'],
        numeric: [2, 3, 4, 5, 6, 7, 8, 9],
        rows: scenarios.flatMap((s) =>
          apis.flatMap((api) => {
            const l = s.latency[api];
            if (l === undefined) return [];
            return [[s.id, api, String(l.total.samples), ms(l.total.meanMs), ms(l.total.p50Ms), ms(l.total.p90Ms), ms(l.total.p99Ms), phase(l.tcpConnect), phase(l.tlsHandshake), phase(l.firstByte)]];
          }),
        ),
      },
    };
    return [spec, phasesChart(group, scenarios, model.requestPhases), cdfChart(group, scenarios)];
  });
}

/** Evenly spaced ranks of the sorted samples, the last one always included, as (ms, % of requests) points. */
function cdfPoints(sorted: number[], minMs: number): { x: number; y: number }[] {
  const n = sorted.length;
  const step = Math.max(1, Math.ceil(n / MAX_CDF_POINTS));
  const points: { x: number; y: number }[] = [];
  const point = (i: number) => ({ x: plotted(Math.max(minMs, sorted[i]!)), y: plotted(((i + 1) / n) * 100) });
  for (let i = step - 1; i < n; i += step) points.push(point(i));
  if (n % step !== 0) points.push(point(n - 1));
  return points;
}

function cdfChart(group: ScenarioGroup, scenarios: MeasuredScenario[]): ChartSpec {
  const samples = scenarios.map((s) => ({ s, sorted: allSamplesMs(s) }));
  // Each list is sorted: its first and last are its extremes (no spread of a long array onto the stack).
  const lo = Math.max(MIN_LOG_MS, Math.min(...samples.map((x) => x.sorted[0] ?? Number.POSITIVE_INFINITY)));
  const log = Math.max(...samples.map((x) => x.sorted.at(-1) ?? 0)) / lo > LOG_AXIS_RATIO;
  const p90s = samples.map((x) => `${ms(x.s.latencyAllCalls?.p90Ms ?? 0)} (${x.s.spec.mode})`);
  const size = SIZE.wide;
  const config: ChartConfiguration<'line', { x: number; y: number }[]> = {
    type: 'line',
    data: {
      datasets: samples.map(({ s, sorted }) => ({
        label: modeDatasetLabel(s),
        data: cdfPoints(sorted, log ? MIN_LOG_MS : 0),
        borderColor: modeColour(s.spec.mode, s.state === 'invalid'),
        backgroundColor: modeColour(s.spec.mode, s.state === 'invalid'),
        borderWidth: 2,
        pointRadius: 0,
        stepped: 'after',
      })),
    },
    options: {
      ...baseOptions<'line'>(
        `90% of requests finished within ${p90s.join(', ')}`,
        [`${group.fullLabel} · share of requests (all API calls) finished within a latency${log ? ' · logarithmic time axis' : ''}`],
        size,
      ),
      scales: {
        x: {
          type: log ? 'logarithmic' : 'linear',
          title: axisTitle(`request latency, milliseconds${log ? ' (log scale)' : ''}`),
          // Upright labels, thinned by Chart.js where they would overlap; `10`, not `10.0`.
          ticks: { maxRotation: 0, format: { minimumFractionDigits: 0, maximumFractionDigits: 2 } },
        },
        y: { type: 'linear', min: 0, max: 100, title: axisTitle('% of requests') },
      },
    },
  };
  return {
    name: `latency-cdf-${group.slug}`,
    units: { value: '% of requests', x: 'ms', decimals: 1 },
    heading: 'Latency distribution',
    group: group.label,
    ...size,
    config: config as unknown as ChartConfiguration,
    caption: 'The further left a line, the faster its requests; its height at a latency is the share of requests that finished within it.',
    table: {
      header: ['scenario', 'requests', 'p50', 'p90', 'p99', 'max'],
      numeric: [1, 2, 3, 4, 5],
      rows: samples.map(({ s, sorted }) => {
        const all = s.latencyAllCalls;
        return [s.id, String(all?.samples ?? 0), ms(all?.p50Ms ?? 0), ms(all?.p90Ms ?? 0), ms(all?.p99Ms ?? 0), ms(sorted.at(-1) ?? 0)];
      }),
    },
  };
}

/** A round axis maximum at or above `value`: 1, 2 or 5 times a power of ten. */
function niceMax(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((m) => m * power).find((m) => m >= value)!;
}

/** The phases of a request, in the order they happen (the round-trip charts stack them too). */
export const PHASES = [
  { key: 'tcpConnectMs', label: 'TCP connect', colour: PHASE_COLOURS.tcpConnect },
  { key: 'tlsHandshakeMs', label: 'TLS handshake', colour: PHASE_COLOURS.tlsHandshake },
  { key: 'waitMs', label: 'waiting for the first byte', colour: PHASE_COLOURS.wait },
  { key: 'transferMs', label: 'reading the response', colour: PHASE_COLOURS.transfer },
] as const satisfies readonly { key: keyof RequestPhases; label: string; colour: string }[];

/** One chart per configuration (`latency-phases-<configuration>`): where a request's time goes, per mode. */
function phasesChart(group: ScenarioGroup, scenarios: MeasuredScenario[], phasesOf: ReportModel['requestPhases']): ChartSpec {
  const rows = scenarios.flatMap((s) => {
    const phases = phasesOf.get(s.id);
    return phases === undefined ? [] : [{ s, phases }];
  });
  const setup = (p: RequestPhases) => p.tcpConnectMs + p.tlsHandshakeMs;
  const total = (p: RequestPhases) => p.totalMs;
  const fresh = rows.find((r) => r.s.spec.mode === 'fresh');
  const title =
    fresh === undefined
      ? 'Where a request\'s time goes, per mode'
      : `Setting up the connection takes ${ms(setup(fresh.phases))} of a fresh request's ${ms(total(fresh.phases))}; ${rows
          .filter((r) => r !== fresh)
          .map((r) => `${r.s.spec.mode} requests take ${ms(total(r.phases))}`)
          .join(', ')}`;
  const size = { width: SIZE.wide.width, height: 200 + rows.length * 56 };
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: rows.map((r) => modeDatasetLabel(r.s)),
      datasets: PHASES.map((ph) => ({
        label: ph.label,
        data: rows.map((r) => plotted(r.phases[ph.key])),
        backgroundColor: ph.colour,
        stack: 'phases',
      })),
    },
    options: {
      ...baseOptions<'bar'>(title, [`${group.fullLabel} · mean real milliseconds per request, all API calls; reused connections skip the first two phases`], size),
      indexAxis: 'y',
      scales: {
        x: { stacked: true, beginAtZero: true, grace: '10%', title: axisTitle('milliseconds per request (mean)') },
        y: { stacked: true, grid: { display: false }, ticks: { color: rows.map((r) => modeColour(r.s.spec.mode, false)), font: { size: 13, weight: 'bold' } } },
      },
    },
  };
  config.options!.plugins!.valueLabels = {
    display: true,
    labels: PHASES.map((_ph, i) => (i === PHASES.length - 1 ? rows.map((r) => [ms(total(r.phases))]) : [])),
  };
  return {
    name: `latency-phases-${group.slug}`,
    heading: 'Where a request\'s time goes',
    group: group.label,
    ...size,
    units: { value: 'ms (mean)', decimals: 2 },
    config: config as ChartConfiguration,
    caption:
      'The mean time of a request split into its phases, as the client timed them: a new connection pays the TCP connect and the TLS handshake before the request can even be sent.',
    table: {
      header: ['scenario', ...PHASES.map((ph) => ph.label), 'total'],
      numeric: [1, 2, 3, 4, 5],
      rows: rows.map((r) => [r.s.id, ...PHASES.map((ph) => ms(r.phases[ph.key])), ms(total(r.phases))]),
    },
  };
}
