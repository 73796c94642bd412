/**
 * The server's cost and the fleet-scale line (issue 11) as report rows: per scenario, CPU, handshakes per
 * second, sockets per side, memory of idle connections, reconnects, the client's CPU beside the server's;
 * and the measured figures scaled to `--fleet-size` agents, labelled derived. Built once into the report
 * model; the terminal, Markdown and HTML render these rows.
 */
import type { AtFleetScale, MeasuredScenario, Results } from '../model/index.ts';
import { formatBytes, formatNumber, markdownTable, textTable, wrapped, type Align } from './format.ts';

/** One scenario's server cost, as numbers (null where the results have none or it is not meaningful). */
export interface ServerCostRow {
  id: string;
  state: MeasuredScenario['state'];
  cpuMsPerRequest: number;
  cpuMsPerEndpointMinute: number;
  clientCpuMsPerRequest: number;
  clientThreads: number;
  /** Cores busy over the drive per side and for the machine; null in results made before they were kept. */
  coresBusy: { client: number; server: number; machine: number; of: number } | null;
  /** The 99th percentile of how late the client sent requests, ms; null in older results. */
  sentLateP99Ms: number | null;
  /** Event loop utilisation of the runner's main thread and each client thread; null in older results. */
  clientEventLoop: { main: number; threads: number[] } | null;
  handshakesPerSecond: number;
  establishedServer: { peak: number; steady: number };
  timeWaitServer: { peak: number; steady: number; perEndpointMinute: number; observed: number };
  timeWaitClient: { peak: number; steady: number; perEndpointMinute: number; observed: number };
  heldConnections: number;
  heldRssBytes: number;
  baselineRssBytes: number;
  bytesPerHeldConnection: number | null;
  idleReconnects: number;
  closedByServer: number;
  capturedAgents: number;
  endpoints: number;
  timeCompression: number;
  failedRequests: number;
  agentsWithErrors: number;
}

/** One scenario's figures at fleet scale: derived. */
/** A scenario's figures at fleet scale, as the model derived them (labelled derived wherever shown). */
export type FleetScaleRow = { id: string } & Omit<AtFleetScale, 'derived' | 'how'>;

function measured(results: Results): MeasuredScenario[] {
  return results.scenarios.filter((s): s is MeasuredScenario => s.state !== 'failed');
}

/** Server cost rows of the scenarios that have them, in scenario order. */
export function serverCostRows(results: Results): ServerCostRow[] {
  return measured(results).flatMap((s) => {
    const c = s.serverCost;
    const f = s.fleet;
    if (c === undefined || f === undefined) return [];
    return [
      {
        id: s.id,
        state: s.state,
        cpuMsPerRequest: c.cpuMsPerRequest,
        cpuMsPerEndpointMinute: c.cpuMsPerEndpointMinute,
        clientCpuMsPerRequest: f.clientCpuMsPerRequest,
        clientThreads: f.clientThreads,
        coresBusy: f.coresBusy ?? null,
        sentLateP99Ms: f.sentLate?.p99Ms ?? null,
        clientEventLoop: f.clientEventLoop ?? null,
        handshakesPerSecond: c.handshakesPerSecond,
        establishedServer: c.sockets.established.server,
        timeWaitServer: { ...c.sockets.timeWait.server, perEndpointMinute: c.timeWait.perEndpointMinute.server, observed: c.timeWait.observed.server },
        timeWaitClient: { ...c.sockets.timeWait.client, perEndpointMinute: c.timeWait.perEndpointMinute.client, observed: c.timeWait.observed.client },
        heldConnections: c.memory.heldConnections,
        heldRssBytes: c.memory.heldRssBytes,
        baselineRssBytes: c.memory.baselineRssBytes,
        bytesPerHeldConnection: c.memory.bytesPerHeldConnection,
        idleReconnects: c.idleReconnects,
        closedByServer: c.closedByServer,
        capturedAgents: f.capturedAgents,
        endpoints: f.endpoints,
        timeCompression: f.pacing.timeCompression,
        failedRequests: f.errors.failedRequests,
        agentsWithErrors: f.errors.agentsWithErrors,
      },
    ];
  });
}

/** Fleet-scale rows of the scenarios that have them. */
export function fleetScaleRows(results: Results): FleetScaleRow[] {
  return measured(results).flatMap((s) => {
    const a = s.atFleetScale;
    if (a === undefined) return [];
    const { derived: _derived, how: _how, ...figures } = a;
    return [{ id: s.id, ...figures }];
  });
}

export const SERVER_HEADER = [
  'scenario',
  'server CPU ms / request',
  'server CPU ms / endpoint-min',
  'client CPU ms / request',
  'cores busy client / server / machine',
  'requests sent late p99',
  'client event loops busy',
  'handshakes / s',
  'established (server) peak / steady',
  'TIME_WAIT server / endpoint-min',
  'TIME_WAIT client / endpoint-min',
  'server RSS held',
  'RSS / idle connection',
  'idle reconnects',
];
export const SERVER_ALIGN: Align[] = ['left', ...SERVER_HEADER.slice(1).map((): Align => 'right')];

/** A server-cost row as text cells. */
export function serverCostCells(r: ServerCostRow): string[] {
  const n = (x: number, d = 1) => formatNumber(x, d);
  return [
    r.state === 'invalid' ? `${r.id} (INVALID)` : r.id,
    n(r.cpuMsPerRequest, 3),
    n(r.cpuMsPerEndpointMinute, 1),
    `${n(r.clientCpuMsPerRequest, 2)} (${r.clientThreads} thread${r.clientThreads === 1 ? '' : 's'})`,
    r.coresBusy === null ? '-' : `${n(r.coresBusy.client, 2)} / ${n(r.coresBusy.server, 2)} / ${n(r.coresBusy.machine, 2)} of ${r.coresBusy.of}`,
    r.sentLateP99Ms === null ? '-' : formatMs(r.sentLateP99Ms),
    r.clientEventLoop === null ? '-' : eventLoops(r.clientEventLoop),
    n(r.handshakesPerSecond, 1),
    `${n(r.establishedServer.peak, 0)} / ${n(r.establishedServer.steady, 0)}`,
    n(r.timeWaitServer.perEndpointMinute, 2),
    n(r.timeWaitClient.perEndpointMinute, 2),
    `${formatBytes(r.heldRssBytes)} (${n(r.heldConnections, 0)} conns)`,
    r.bytesPerHeldConnection === null ? '-' : formatBytes(r.bytesPerHeldConnection),
    n(r.idleReconnects, 0),
  ];
}

export const FLEET_HEADER = ['scenario', 'agents', 'up / day', 'down / day', 'connections / s', 'handshakes / s', 'TIME_WAIT server', 'TIME_WAIT agents', 'server cores', 'idle connections held'];
export const FLEET_ALIGN: Align[] = ['left', ...FLEET_HEADER.slice(1).map((): Align => 'right')];

/** A fleet-scale row as text cells. */
export function fleetScaleCells(r: FleetScaleRow): string[] {
  const n = (x: number, d = 0) => formatNumber(x, d);
  return [
    r.id,
    n(r.agents),
    formatBytes(r.upWireBytesPerDay),
    formatBytes(r.downWireBytesPerDay),
    n(r.connectionsPerSecond, 1),
    n(r.handshakesPerSecond, 1),
    n(r.timeWaitServer),
    n(r.timeWaitClient),
    n(r.serverCores, 2),
    r.heldConnectionBytes === null ? n(r.heldConnections) : `${n(r.heldConnections)} (${formatBytes(r.heldConnectionBytes)})`,
  ];
}

/** What the derived table is, in one line. */
export function fleetScaleNote(rows: FleetScaleRow[]): string {
  const agents = rows[0]?.agents ?? 0;
  return `derived, not measured: each scenario's steady-state figures per endpoint-minute (start-up left out; the whole run's without a capture) scaled to ${formatNumber(agents, 0)} agents (--fleet-size) at the agents' real pace; TIME_WAIT held at once (a socket stays 60 real seconds in it); server cores = the whole run's server CPU ms per endpoint-minute × agents ÷ 60,000`;
}

/** The server-cost table for the terminal, with the fleet-scale table under it, within `width` columns. */
export function serverText(server: ServerCostRow[], fleet: FleetScaleRow[], width = Number.POSITIVE_INFINITY): string {
  if (server.length === 0) return '';
  const lines = ['server cost (sampled from /proc while the fleet ran)', textTable(SERVER_HEADER, server.map(serverCostCells), SERVER_ALIGN, width)];
  if (fleet.length > 0) {
    lines.push(
      '',
      `at fleet scale (DERIVED for ${formatNumber(fleet[0]!.agents, 0)} agents)`,
      textTable(FLEET_HEADER, fleet.map(fleetScaleCells), FLEET_ALIGN, width),
      wrapped(fleetScaleNote(fleet), width),
    );
  }
  return lines.join('\n');
}

/** The same as Markdown. */
export function serverMarkdown(server: ServerCostRow[], fleet: FleetScaleRow[]): string {
  if (server.length === 0) return '';
  const parts = ['### Server cost', '', markdownTable(SERVER_HEADER, server.map(serverCostCells), SERVER_ALIGN)];
  if (fleet.length > 0) {
    parts.push('', `### At fleet scale (derived, ${formatNumber(fleet[0]!.agents, 0)} agents)`, '', markdownTable(FLEET_HEADER, fleet.map(fleetScaleCells), FLEET_ALIGN), '', `_${fleetScaleNote(fleet)}._`);
  }
  return parts.join('\n');
}

/** A lateness: ms under a second, seconds above. */
function formatMs(ms: number): string {
  return ms < 1000 ? `${formatNumber(ms, 0)} ms` : `${formatNumber(ms / 1000, 1)} s`;
}

/** Event loop utilisation as percentages: `main 8%` and, with client threads, `threads 64% / 71%`. */
function eventLoops(l: { main: number; threads: number[] }): string {
  const pct = (x: number) => `${formatNumber(100 * x, 0)}%`;
  return l.threads.length === 0 ? `main ${pct(l.main)}` : `main ${pct(l.main)}, threads ${l.threads.map(pct).join(' / ')}`;
}
