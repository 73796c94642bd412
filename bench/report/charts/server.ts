/**
 * The server's side (issue 11): CPU per request of the server and of the client, sockets per side (peak and
 * steady established, TIME_WAIT on each side), and the server's resident memory over the run, per scenario.
 * Across configurations: one bar or line per scenario, coloured by its mode.
 */
import type { ChartConfiguration } from 'chart.js';
import type { MeasuredScenario } from '../../model/index.ts';
import { formatBytes, formatNumber } from '../format.ts';
import type { ReportModel } from '../model.ts';
import { axisTitle, baseOptions, modeColour, plotted, SIZE, type ChartSpec } from './common.ts';

function withCost(model: ReportModel): (MeasuredScenario & { serverCost: NonNullable<MeasuredScenario['serverCost']> })[] {
  return model.groups.flatMap((g) => g.measured).filter((s): s is MeasuredScenario & { serverCost: NonNullable<MeasuredScenario['serverCost']> } => s.serverCost !== undefined);
}

const label = (s: MeasuredScenario) => `${s.id}${s.state === 'invalid' ? ' (INVALID)' : ''}`;

/** Server CPU per request and per endpoint-minute beside the client's CPU per request. */
function cpuChart(scenarios: ReturnType<typeof withCost>): ChartSpec {
  const size = { width: SIZE.wide.width, height: 180 + scenarios.length * 60 };
  const fresh = scenarios.find((s) => s.spec.mode === 'fresh');
  const persistent = scenarios.find((s) => s.spec.mode === 'persistent');
  const title =
    fresh !== undefined && persistent !== undefined
      ? `Server CPU per request: ${formatNumber(fresh.serverCost.cpuMsPerRequest, 3)} ms fresh, ${formatNumber(persistent.serverCost.cpuMsPerRequest, 3)} ms persistent`
      : 'Server and client CPU per request';
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: scenarios.map(label),
      datasets: [
        {
          label: 'server CPU ms / request',
          data: scenarios.map((s) => plotted(s.serverCost.cpuMsPerRequest)),
          backgroundColor: scenarios.map((s) => modeColour(s.spec.mode, s.state === 'invalid')),
        },
        {
          label: 'client CPU ms / request (every client thread)',
          data: scenarios.map((s) => plotted(s.fleet?.clientCpuMsPerRequest ?? 0)),
          backgroundColor: '#999999',
        },
      ],
    },
    options: {
      ...baseOptions<'bar'>(title, ['CPU time of the server\'s processes (nginx: master and workers) and of the client process, per request answered'], size),
      indexAxis: 'y',
      scales: { x: { beginAtZero: true, title: axisTitle('CPU ms per request') }, y: { grid: { display: false } } },
    },
  };
  return {
    units: { value: 'CPU ms per request', decimals: 3 },
    name: 'server-client-cpu',
    heading: 'Server and client CPU per request',
    group: null,
    ...size,
    config: config as ChartConfiguration,
    caption: 'A new TLS connection costs the server a handshake; reuse leaves it only the request. The client\'s CPU beside it tells which side was the bottleneck.',
    table: {
      header: ['scenario', 'server CPU ms / request', 'server CPU ms / endpoint-min', 'handshakes / s', 'client CPU ms / request', 'client threads'],
      numeric: [1, 2, 3, 4, 5],
      rows: scenarios.map((s) => [
        label(s),
        formatNumber(s.serverCost.cpuMsPerRequest, 3),
        formatNumber(s.serverCost.cpuMsPerEndpointMinute, 1),
        formatNumber(s.serverCost.handshakesPerSecond, 1),
        formatNumber(s.fleet?.clientCpuMsPerRequest ?? 0, 3),
        String(s.fleet?.clientThreads ?? 1),
      ]),
    },
  };
}

const SOCKET_METRICS = [
  { label: 'established, server side (peak)', pick: (s: ReturnType<typeof withCost>[number]) => s.serverCost.sockets.established.server.peak, colour: '#0072B2' },
  { label: 'established, server side (steady)', pick: (s: ReturnType<typeof withCost>[number]) => s.serverCost.sockets.established.server.steady, colour: '#56B4E9' },
  { label: 'TIME_WAIT, server side (peak)', pick: (s: ReturnType<typeof withCost>[number]) => s.serverCost.sockets.timeWait.server.peak, colour: '#D55E00' },
  { label: 'TIME_WAIT, agents\' side (peak)', pick: (s: ReturnType<typeof withCost>[number]) => s.serverCost.sockets.timeWait.client.peak, colour: '#E69F00' },
];

/** Sockets of the server port per side. */
function socketsChart(scenarios: ReturnType<typeof withCost>): ChartSpec {
  const size = { width: SIZE.wide.width, height: 200 + scenarios.length * 90 };
  const config: ChartConfiguration<'bar'> = {
    type: 'bar',
    data: {
      labels: scenarios.map(label),
      datasets: SOCKET_METRICS.map((m) => ({ label: m.label, data: scenarios.map((s) => plotted(m.pick(s))), backgroundColor: m.colour })),
    },
    options: {
      ...baseOptions<'bar'>(
        'Sockets the fleet keeps: established on the server, TIME_WAIT on the side that closes first',
        [
          'sampled every second from /proc while the fleet ran; steady: median after every agent started',
          'TIME_WAIT lasts 60 real seconds: a run at N× compression holds about N× what a fleet at real pace holds (see the server-cost table)',
        ],
        size,
      ),
      indexAxis: 'y',
      scales: { x: { beginAtZero: true, title: axisTitle('sockets') }, y: { grid: { display: false } } },
    },
  };
  return {
    units: { value: 'sockets', decimals: 0 },
    name: 'server-sockets',
    heading: 'Sockets per side',
    group: null,
    ...size,
    config: config as ChartConfiguration,
    caption:
      'Reuse trades sockets in TIME_WAIT (one per request, on the side that closes first) for established idle connections the server keeps open.',
    table: {
      header: ['scenario', 'established server peak', 'established server steady', 'TIME_WAIT server peak', 'TIME_WAIT agents peak', 'TIME_WAIT server observed', 'TIME_WAIT agents observed', 'TIME_WAIT server / endpoint-min', 'TIME_WAIT agents / endpoint-min'],
      numeric: [1, 2, 3, 4, 5, 6, 7, 8],
      rows: scenarios.map((s) => {
        const c = s.serverCost;
        return [
          label(s),
          formatNumber(c.sockets.established.server.peak, 0),
          formatNumber(c.sockets.established.server.steady, 0),
          formatNumber(c.sockets.timeWait.server.peak, 0),
          formatNumber(c.sockets.timeWait.client.peak, 0),
          formatNumber(c.timeWait.observed.server, 0),
          formatNumber(c.timeWait.observed.client, 0),
          formatNumber(c.timeWait.perEndpointMinute.server, 2),
          formatNumber(c.timeWait.perEndpointMinute.client, 2),
        ];
      }),
    },
  };
}

/** The server's resident memory over the run, one line per scenario. */
function memoryChart(scenarios: ReturnType<typeof withCost>): ChartSpec {
  const size = SIZE.wide;
  const mb = (bytes: number) => plotted(bytes / 1_000_000);
  const persistent = scenarios.find((s) => s.spec.mode === 'persistent' && s.serverCost.memory.bytesPerHeldConnection !== null);
  const title =
    persistent === undefined
      ? 'Server memory over the run'
      : `Each idle kept-alive connection holds about ${formatBytes(persistent.serverCost.memory.bytesPerHeldConnection!)} of server memory (${persistent.id})`;
  const config: ChartConfiguration<'line'> = {
    type: 'line',
    data: {
      datasets: scenarios.map((s) => ({
        label: label(s),
        data: s.serverCost.samples.map((x) => ({ x: plotted(x.atMs / 1000), y: mb(x.rssBytes) })),
        borderColor: modeColour(s.spec.mode, s.state === 'invalid'),
        backgroundColor: modeColour(s.spec.mode, s.state === 'invalid'),
        pointRadius: 0,
        borderWidth: 2,
      })),
    },
    options: {
      ...baseOptions<'line'>(title, ['resident memory of the server\'s processes (nginx: master and workers), sampled every second; the last points are while the agents still hold their connections, then after they closed them'], size),
      scales: {
        x: { type: 'linear', beginAtZero: true, title: axisTitle('real seconds since the first request') },
        y: { beginAtZero: true, title: axisTitle('RSS, MB') },
      },
    },
  };
  return {
    units: { value: 'MB', x: 's', decimals: 1 },
    name: 'server-memory',
    heading: 'Server memory',
    group: null,
    ...size,
    config: config as ChartConfiguration,
    caption:
      'The other side of the trade-off: connections kept alive for reuse stay open, idle, on the server. RSS growth per held connection = (RSS while the agents hold them − RSS before the first request) ÷ connections held.',
    table: {
      header: ['scenario', 'RSS before', 'RSS peak', 'RSS steady', 'RSS held', 'connections held', 'RSS / held connection', 'idle reconnects', 'closed by server'],
      numeric: [1, 2, 3, 4, 5, 6, 7, 8],
      rows: scenarios.map((s) => {
        const m = s.serverCost.memory;
        return [
          label(s),
          formatBytes(m.baselineRssBytes),
          formatBytes(m.peakRssBytes),
          formatBytes(m.steadyRssBytes),
          formatBytes(m.heldRssBytes),
          formatNumber(m.heldConnections, 0),
          m.bytesPerHeldConnection === null ? '-' : formatBytes(m.bytesPerHeldConnection),
          formatNumber(s.serverCost.idleReconnects, 0),
          formatNumber(s.serverCost.closedByServer, 0),
        ];
      }),
    },
  };
}

/** The server-side charts; none for results without server samples. */
export function serverCharts(model: ReportModel): ChartSpec[] {
  const scenarios = withCost(model);
  if (scenarios.length === 0) return [];
  return [cpuChart(scenarios), socketsChart(scenarios), memoryChart(scenarios)];
}
