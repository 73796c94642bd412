/**
 * A fleet run and the server's side of the trade-off (issue 11): what the runner observes about the fleet
 * and the server while a scenario runs, and the figures the assessment makes of it. Results carry these as
 * optional fields (`fleet`, `serverCost`, `atFleetScale`), so results written before them still read.
 */
import type { SocketBytes } from './observations.ts';

/** Why a run goes at the pace it does: the time compression and the budget it was chosen from. */
export interface Pacing {
  /** Virtual seconds per real second the scenarios run at. */
  timeCompression: number;
  /** Real requests per second the budget allows (`--max-rate`). */
  maxRatePerSecond: number;
  /** Whether the budget is the built-in default for this machine's cores, or `--max-rate`. */
  maxRateSource: 'default' | 'flag';
  /** Real requests per second the schedule asks for at this compression: its mean in the busiest minute
   * (every agent enrolls in the first one). In `fresh` every request is a new connection and a handshake. */
  requestsPerSecond: number;
  /** How the compression was chosen, in a sentence. */
  reason: string;
}

/** A figure per side of the server's port: `server` for sockets whose local port is the server's, `client`
 * for the agents' ends. */
export interface Sides<T> {
  server: T;
  client: T;
}

/** One sample of the server while the scenario runs (from /proc). */
export interface ServerSample {
  /** Real milliseconds since the first request was due. */
  atMs: number;
  /** Server CPU (user + system, every process of the server) since it started serving. */
  cpuMs: number;
  /** Resident memory of the server's processes (nginx: master and workers), bytes. */
  rssBytes: number;
  /** Sockets of the server port by state and side: `server` is the socket whose local port is the server's. */
  established: Sides<number>;
  timeWait: Sides<number>;
}

/** What the runner observes about the fleet and the server, beside the existing observations. */
export interface FleetObservations {
  /** Agents whose traffic the capture holds (the first N by index). */
  capturedAgents: number;
  /** Raw TCP socket counters of every agent (the sampled agents' are `socketBytes`). */
  fleetSocketBytes: SocketBytes;
  /** Client threads the agents were spread over (1: the main thread). */
  clientThreads: number;
  /** The client process's CPU over the drive (every thread). */
  clientCpuMs: number;
  /** Busy CPU time of the whole machine over the drive, every core (/proc/stat), and its core count. */
  machineCpu: { busyMs: number; cores: number };
  /** How late after its due time the client sent each request, real ms (p50, p99, worst). */
  sentLate: { p50Ms: number; p99Ms: number; maxMs: number };
  /** How busy the client's event loops were over the drive (0-1): the runner's main thread, each client
   * thread (none when the agents ran on the main thread). */
  clientEventLoop: { main: number; threads: number[] };
  /** Connections the server closed first (its idle timeout, or request limit), seen by the client. */
  connectionsClosedByServer: number;
  /** Real milliseconds from the first request being due to the last response. */
  driveMs: number;
  /** Server samples: one before the first request (`atMs` 0), then every sample period, one after the last
   * response while the agents still hold their connections, one after the agents closed them. */
  samples: ServerSample[];
  /** Index into `samples` of the sample taken after the last response, connections still held. */
  heldSampleIndex: number;
  /** The steady part of the drive, real ms since the first request was due: from when every agent has
   * started (the workload's start spread) to the last scheduled request. */
  steadyWindowMs: { from: number; to: number };
  /** CONNECT requests the proxy answered, when the scenario went through one. */
  proxyConnects: number | null;
  pacing: Pacing;
  /** `--fleet-size`: the fleet the derived figures are scaled to. */
  fleetSize: number;
}

/** A count that varies during the run: its highest sample and its median over the steady part. */
export interface PeakSteady {
  peak: number;
  /** Median of the samples after the agents' start spread until the last request (the whole run when short). */
  steady: number;
}

/** The fleet side of a measured scenario. */
export interface FleetResult {
  endpoints: number;
  /** Agents whose traffic the capture holds; per-endpoint-minute byte and handshake figures come from them. */
  capturedAgents: number;
  /** Source addresses: one per agent, from the first to the last agent's. */
  agentAddresses: { first: string; last: string };
  clientThreads: number;
  /** Client process CPU per successful request, ms: compare with the server's to see which side was busier. */
  clientCpuMsPerRequest: number;
  clientCpuMs: number;
  /** Real ms from the first request's due time to the last response (absent in results before it). */
  driveMs?: number;
  /**
   * Cores busy on average over the drive (CPU ms ÷ drive ms): the client process (every thread), the server's
   * processes, and the whole machine (/proc/stat: those two, tcpdump, kernel work charged to no process, and
   * any other work); `of` is the machine's core count. A side at its ceiling limited the run.
   */
  coresBusy?: { client: number; server: number; machine: number; of: number };
  /** How late after its due time the client sent each request, real ms (p50, p99, worst): a client short of
   * CPU falls behind its open-loop schedule and sends later and later. */
  sentLate?: { p50Ms: number; p99Ms: number; maxMs: number };
  /** Event loop utilisation (0-1) of the runner's main thread and of each client thread over the drive: a
   * loop near 1 sends late with cores to spare (one thread's work does not spread over cores). */
  clientEventLoop?: { main: number; threads: number[] };
  /** Raw TCP bytes of every agent's sockets (not only the sampled ones). */
  socketBytes: SocketBytes;
  /** Failed requests per agent, counted, never fatal to the run: how many agents saw any, and by what. */
  errors: { failedRequests: number; agentsWithErrors: number; byPhase: Record<string, number> };
  pacing: Pacing;
  /** CONNECT requests the proxy answered (`--proxy`): one per new connection. */
  proxyConnects?: number;
}

/** The server's cost in a scenario (issue 11, "The server's cost, per mode"). */
export interface ServerCost {
  cpuMsPerRequest: number;
  cpuMsPerEndpointMinute: number;
  /** Handshakes the server completed per real second, and in total (full + resumed). */
  handshakesPerSecond: number;
  handshakes: number;
  /** Sockets of the server port in each state, per side (the side that closes first holds TIME_WAIT). */
  sockets: {
    established: Sides<PeakSteady>;
    timeWait: Sides<PeakSteady>;
  };
  /** Server resident memory: before the first request, highest, steady, and while the agents hold their
   * connections idle after the last response. */
  memory: {
    baselineRssBytes: number;
    peakRssBytes: number;
    steadyRssBytes: number;
    heldRssBytes: number;
    /** Established server-side connections at that moment (idle kept-alive ones in `persistent`). */
    heldConnections: number;
    /** (held − baseline) / held connections: what one idle connection costs the server; null under
     * MIN_HELD_CONNECTIONS connections, where the difference is noise. */
    bytesPerHeldConnection: number | null;
  };
  /** Connections the server closed first, and the requests that then found their connection dead and
   * reconnected (`persistent` with a server idle timeout shorter than an agent's interval). */
  closedByServer: number;
  idleReconnects: number;
  idleReconnectsPerEndpointMinute: number;
  /**
   * TIME_WAIT lasts 60 real seconds whatever the compression: sockets seen over the run (/proc/net/tcp,
   * unique), the per-endpoint-minute rate, and what one agent holds at once at the agent's real pace (rate ×
   * 1 minute).
   */
  timeWait: {
    observed: Sides<number>;
    perEndpointMinute: Sides<number>;
    heldPerAgentAtRealPace: Sides<number>;
    how: string;
  };
  sampleIntervalMs: number;
  samples: ServerSample[];
}

/** The scenario's measured per-endpoint figures scaled to `--fleet-size` agents: derived, not measured. */
export interface AtFleetScale {
  agents: number;
  derived: true;
  upWireBytesPerDay: number;
  downWireBytesPerDay: number;
  connectionsPerSecond: number;
  handshakesPerSecond: number;
  /** Sockets in TIME_WAIT at once, at the agents' real pace, per side. */
  timeWaitServer: number;
  timeWaitClient: number;
  /** Server cores busy (CPU ms per endpoint-minute × agents / 60,000 ms). */
  serverCores: number;
  /** Idle connections the server holds (established on the server through the steady part, median, per agent × agents) and the memory they take. */
  heldConnections: number;
  heldConnectionBytes: number | null;
  how: string;
}
