/**
 * The fleet's and the server's side of a scenario (issue 11), from its raw observations: the client's CPU
 * and per-agent errors, the server's CPU per request and per endpoint-minute, handshakes per second, sockets
 * per side (peak and steady), memory held by idle connections, reconnects its idle timeout caused, TIME_WAIT
 * explained against real time, and the figures scaled to `--fleet-size` agents (derived). Pure.
 */
import { agentAddress } from '../drive/addresses.ts';
import type {
  AtFleetScale,
  FleetObservations,
  FleetResult,
  PeakSteady,
  PerEndpointMinute,
  RequestOutcome,
  ScenarioObservations,
  ScenarioSpec,
  ServerCost,
  ServerSample,
  SteadyPerEndpointMinute,
} from '../model/index.ts';

/** Below this many held connections the RSS difference is allocator noise, not a per-connection cost. */
export const MIN_HELD_CONNECTIONS = 50;
/** Linux keeps a socket in TIME_WAIT this long (TCP_TIMEWAIT_LEN), in real seconds. */
export const TIME_WAIT_SECONDS = 60;
const MINUTES_PER_DAY = 24 * 60;

function median(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The samples of the steady part: those in the steady window. A run shorter than the sampling interval's
 * reach (a 1-minute scenario at 120x drives for half a second) may have none there: then the drive's samples,
 * up to the one after the last response while the agents still hold their connections. Never the samples
 * before the first request or after the agents closed: with them, 4 connections held through a lan scenario
 * read as a steady 0 (the median of 0, 4 and 0).
 */
function steadySamples(samples: ServerSample[], window: { from: number; to: number }, heldIndex: number): ServerSample[] {
  const inWindow = samples.filter((s) => s.atMs >= window.from && s.atMs <= window.to);
  const drive = samples.slice(1, heldIndex + 1);
  return inWindow.length > 0 ? inWindow : drive.length > 0 ? drive : samples;
}

/** Peak over every sample, median over the steady part's. */
function peakSteady(samples: ServerSample[], steady: ServerSample[], pick: (s: ServerSample) => number): PeakSteady {
  return { peak: Math.max(0, ...samples.map(pick)), steady: median(steady.map(pick)) };
}

/** Failed requests by the phase their error names (`connection 3 (connect): ECONNREFUSED …` → connect). */
function errorsOf(outcomes: readonly RequestOutcome[]): FleetResult['errors'] {
  const agents = new Set<number>();
  const byPhase: Record<string, number> = {};
  let failed = 0;
  for (const o of outcomes) {
    if (o.state !== 'failed') continue;
    failed += 1;
    agents.add(o.request.endpointIndex);
    const phase = /\((connect|handshake|write|read|protocol|deadline)\)/.exec(o.error)?.[1] ?? (/deadline/.test(o.error) ? 'deadline' : 'other');
    byPhase[phase] = (byPhase[phase] ?? 0) + 1;
  }
  return { failedRequests: failed, agentsWithErrors: agents.size, byPhase };
}

/** CPU ms over `ms` of real time as cores busy on average. */
function cores(cpuMs: number, ms: number): number {
  return ms > 0 ? cpuMs / ms : 0;
}

/** The fleet side: sample, addresses, client threads and CPU, the cores each side kept busy, how late the
 * client sent its requests, errors, pacing. */
export function fleetResult(spec: ScenarioSpec, o: ScenarioObservations, f: FleetObservations, okRequests: number): FleetResult {
  return {
    endpoints: spec.endpoints,
    capturedAgents: f.capturedAgents,
    agentAddresses: { first: agentAddress(0), last: agentAddress(spec.endpoints - 1) },
    clientThreads: f.clientThreads,
    clientCpuMs: f.clientCpuMs,
    clientCpuMsPerRequest: okRequests > 0 ? f.clientCpuMs / okRequests : 0,
    driveMs: f.driveMs,
    coresBusy: {
      client: cores(f.clientCpuMs, f.driveMs),
      server: cores(o.serverAfter.cpuUserMs + o.serverAfter.cpuSystemMs - (o.serverBefore.cpuUserMs + o.serverBefore.cpuSystemMs), f.driveMs),
      machine: cores(f.machineCpu.busyMs, f.driveMs),
      of: f.machineCpu.cores,
    },
    sentLate: f.sentLate,
    clientEventLoop: f.clientEventLoop,
    socketBytes: f.fleetSocketBytes,
    errors: errorsOf(o.outcomes),
    pacing: f.pacing,
    ...(f.proxyConnects === null ? {} : { proxyConnects: f.proxyConnects }),
  };
}

/** The server's cost of the scenario. */
export function serverCost(spec: ScenarioSpec, o: ScenarioObservations, f: FleetObservations, retried: number): ServerCost {
  const endpointMinutes = spec.endpoints * spec.virtualMinutes;
  const requests = Object.values(o.serverAfter.requests).reduce((a, b) => a + b, 0) - Object.values(o.serverBefore.requests).reduce((a, b) => a + b, 0);
  const cpuMs = o.serverAfter.cpuUserMs + o.serverAfter.cpuSystemMs - (o.serverBefore.cpuUserMs + o.serverBefore.cpuSystemMs);
  const handshakes =
    o.serverAfter.handshakes.full + o.serverAfter.handshakes.resumed - (o.serverBefore.handshakes.full + o.serverBefore.handshakes.resumed);
  const samples = f.samples;
  const steady = steadySamples(samples, f.steadyWindowMs, f.heldSampleIndex);
  const baseline = samples[0];
  const held = samples[f.heldSampleIndex] ?? samples.at(-1);
  const baselineRss = baseline?.rssBytes ?? 0;
  const heldRss = held?.rssBytes ?? 0;
  const heldConnections = held?.established.server ?? 0;
  const tw = o.timeWait;
  const perEm = (n: number) => (endpointMinutes > 0 ? n / endpointMinutes : 0);
  return {
    cpuMsPerRequest: requests > 0 ? cpuMs / requests : 0,
    cpuMsPerEndpointMinute: perEm(cpuMs),
    handshakesPerSecond: f.driveMs > 0 ? (handshakes * 1000) / f.driveMs : 0,
    handshakes,
    sockets: {
      established: {
        server: peakSteady(samples, steady, (s) => s.established.server),
        client: peakSteady(samples, steady, (s) => s.established.client),
      },
      timeWait: {
        server: peakSteady(samples, steady, (s) => s.timeWait.server),
        client: peakSteady(samples, steady, (s) => s.timeWait.client),
      },
    },
    memory: {
      baselineRssBytes: baselineRss,
      peakRssBytes: Math.max(0, ...samples.map((s) => s.rssBytes)),
      steadyRssBytes: peakSteady(samples, steady, (s) => s.rssBytes).steady,
      heldRssBytes: heldRss,
      heldConnections,
      bytesPerHeldConnection: heldConnections >= MIN_HELD_CONNECTIONS ? (heldRss - baselineRss) / heldConnections : null,
    },
    closedByServer: f.connectionsClosedByServer,
    idleReconnects: retried,
    idleReconnectsPerEndpointMinute: perEm(retried),
    timeWait: {
      observed: { client: tw.client, server: tw.server },
      perEndpointMinute: { client: perEm(tw.client), server: perEm(tw.server) },
      // A socket stays in TIME_WAIT 60 real seconds; at the agent's real pace a virtual minute is one real
      // minute, so one agent holds its per-minute rate at once. The run's own peak is that × the compression.
      heldPerAgentAtRealPace: {
        client: (perEm(tw.client) * TIME_WAIT_SECONDS) / 60,
        server: (perEm(tw.server) * TIME_WAIT_SECONDS) / 60,
      },
      how: `TIME_WAIT lasts ${TIME_WAIT_SECONDS} real seconds whatever the compression: observed counts every socket seen in TIME_WAIT over the run (ss, sampled); per endpoint-minute divides by ${spec.endpoints} agents × ${spec.virtualMinutes} virtual minutes; held at real pace is that rate × 1 minute. The run's own peak (${spec.timeCompression}x) is about the compression times what a fleet at real pace holds`,
    },
    sampleIntervalMs: samples.length > 2 ? (samples.at(-1)!.atMs - samples[0]!.atMs) / (samples.length - 1) : 0,
    samples,
  };
}

/**
 * The scenario's per-endpoint figures scaled to `agents`: derived, labelled so. A fleet runs for days, so
 * bytes, connections, handshakes and TIME_WAIT come from the steady state when the run has one (start-up
 * left out: a short persistent run's four first connections per agent are not its rate); server CPU is the
 * whole run's, the only one measured.
 */
export function atFleetScale(agents: number, spec: ScenarioSpec, whole: PerEndpointMinute, steady: SteadyPerEndpointMinute | null, cost: ServerCost): AtFleetScale {
  const p = steady ?? whole;
  const perSecond = (perMinute: number) => (perMinute * agents) / 60;
  const m = cost.memory;
  // Kept-alive connections established on the server through the steady part of the run (the median of the
  // samples): what a fleet holds idle between requests. Only persistent mode keeps connections between
  // requests; in fresh and resumed an established socket is a request in flight, and how many are in flight
  // at once grows with the compression (one agent at 120x always has one open), so it is no fleet's figure.
  // (The sample after the last response also catches connections still closing: not used.)
  const held = spec.mode === 'persistent' ? (cost.sockets.established.server.steady / spec.endpoints) * agents : 0;
  // The kernel's TIME_WAIT per side over the whole run, in the steady state's proportion.
  const timeWaitShare = steady === null || whole.timeWait === 0 ? 1 : steady.timeWait / whole.timeWait;
  return {
    agents,
    derived: true,
    upWireBytesPerDay: (p.upWireBytes ?? p.upTcpPayloadBytes) * agents * MINUTES_PER_DAY,
    downWireBytesPerDay: (p.downWireBytes ?? p.downTcpPayloadBytes) * agents * MINUTES_PER_DAY,
    connectionsPerSecond: perSecond(p.connections),
    handshakesPerSecond: perSecond(p.fullHandshakes + p.resumedHandshakes),
    timeWaitServer: cost.timeWait.heldPerAgentAtRealPace.server * timeWaitShare * agents,
    timeWaitClient: cost.timeWait.heldPerAgentAtRealPace.client * timeWaitShare * agents,
    serverCores: (cost.cpuMsPerEndpointMinute * agents) / 60_000,
    heldConnections: held,
    heldConnectionBytes: m.bytesPerHeldConnection === null ? null : m.bytesPerHeldConnection * held,
    how: `derived, not measured: this scenario's ${steady === null ? 'whole-run' : 'steady-state'} figures per endpoint-minute × ${agents} agents (bytes × 1440 minutes a day; connections and handshakes ÷ 60 s; TIME_WAIT held at real pace; idle connections held (persistent mode) as established on the server per agent through the run's steady part (median); server cores = the whole run's CPU ms per endpoint-minute × agents ÷ 60,000 ms)`,
  };
}
