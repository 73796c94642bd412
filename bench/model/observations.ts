/**
 * What a live scenario observes, raw (DESIGN.md: the live run produces raw observations only): the agent's
 * requests in virtual time, what happened to each, and the client's socket counters. The assessment
 * (bench/analyze/assess.ts) turns these into a scenario's result.
 */
import type { ApiCall, Channel } from './axes.ts';
import type { AnalyzeSummary, ConnectionPhases, HandshakeKind } from './capture.ts';
import type { TrafficCounters } from './traffic.ts';
import type { LinkDirection } from './results.ts';
import type { FleetObservations } from './fleet.ts';

/** One request of an agent's schedule, in virtual time; byte-identical for a given seed. */
export interface AgentRequest {
  /** Which simulated agent (0-based). */
  endpointIndex: number;
  channel: Channel;
  api: ApiCall;
  /** HTTP path, e.g. `/api/v1/osquery/config`. */
  path: string;
  /** When the agent sends it, in virtual milliseconds since the scenario started. */
  atVirtualMs: number;
  /** Request headers other than Host and Content-Length, in the order the agent sends them. */
  headers: [name: string, value: string][];
  /** The request body as sent (gzipped when the workload compresses logger bodies). */
  body: Buffer;
}

/** Raw TCP byte counters of one socket or a sum of sockets (the reconciliation input). */
export interface SocketBytes {
  /** Bytes the client wrote to its TCP sockets (TLS records, not plaintext). */
  up: number;
  /** Bytes the client read from its TCP sockets. */
  down: number;
}

/** Phase timestamps of one request, in real milliseconds since the request started. */
export interface RequestPhasesMs {
  /** TCP connect finished; null when the request reused a connection. */
  tcpConnectMs: number | null;
  /** TLS handshake finished; null when the request reused a connection. */
  tlsHandshakeMs: number | null;
  /** First response byte arrived. */
  firstByteMs: number;
  /** Whole response read. */
  totalMs: number;
}

/** What happened to one request. */
export type RequestOutcome =
  | {
      state: 'ok';
      request: AgentRequest;
      status: number;
      responseBodyBytes: number;
      /** Raw TCP payload of this request each way: its exchange, and the handshake when it opened the
       * connection. */
      socketBytes: SocketBytes;
      /** Raw bytes read from the request's write to the response's end: the response's flight. */
      responseFlightBytes: number;
      /** Client-side connection number (0-based, in order of opening). */
      connectionId: number;
      /** The request opened a new TCP connection. */
      newConnection: boolean;
      /** The TLS session of that connection was resumed (abbreviated handshake). */
      sessionResumed: boolean;
      /** The request was sent once on a dead kept-alive connection, then retried on a new one. */
      retried: boolean;
      phases: RequestPhasesMs;
    }
  | { state: 'failed'; request: AgentRequest; error: string; connectionId: number | null };

/** An outcome of the traffic phase, with how late its request was sent: real ms after it was due (the client
 * keeping its open-loop schedule; a client short of CPU sends later and later). */
export type DrivenOutcome = RequestOutcome & { sentLateMs: number };

/** tcpdump's own closing counts. */
export interface CaptureStats {
  packetsCaptured: number;
  packetsReceivedByFilter: number;
  packetsDroppedByKernel: number;
  /** Reported by some libpcap versions; 0 when absent. */
  packetsDroppedByInterface: number;
}

/** What a server counted since it started listening (or since the last `resetStats()`). */
export interface AgentServerStats {
  /** Requests answered with 200, per API call. */
  requests: Record<ApiCall, number>;
  /** Requests to other paths or with other methods (answered 404). */
  notFound: number;
  /** Requests whose body could not be decoded (bad gzip or JSON; answered 400). Always 0 for nginx, which
   * does not read bodies. */
  badRequests: number;
  /** Server CPU time: the embedded server's process, or nginx's master plus workers. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** TCP connections accepted (nginx: connections that carried at least one request). */
  connections: number;
  /** TLS handshakes completed, full or resumed (nginx: of connections that carried a request). */
  handshakes: { full: number; resumed: number };
  /**
   * Server processes that died and were replaced since the server started, as the server logged them (nginx:
   * `worker process 1234 exited on signal 9`); the connections they held were cut. Absent for the embedded
   * server, whose one process dying ends the scenario.
   */
  processesReplaced?: string[];
}

/** One client connection's socket counters, for reconciling connection by connection. */
export interface SocketRecord {
  /** Client TCP port; 0 when the connect never completed (then both counters are 0). */
  localPort: number;
  /** Client address: with per-agent addresses (a fleet) two agents' connections may share a port. Absent
   * where every connection has the same address. */
  localAddress?: string;
  bytes: SocketBytes;
}

/** What the capture holds of one TCP connection, for reconciling connection by connection. */
export interface CapturedStream {
  clientPort: number;
  /** The client's address (see SocketRecord.localAddress); absent where it is the same for every stream. */
  clientAddress?: string;
  /** The connection ended with a RST (from either side) inside the capture. */
  endedByReset: boolean;
  /** TCP payload bytes minus retransmissions, per direction: what a socket wrote or could read. */
  up: number;
  down: number;
}

/** The latency phase of one API call: its request repeated back to back (tinybench drives the iterations). */
export interface LatencyObservation {
  api: ApiCall;
  /** The measured iterations, warm-up excluded, in order. */
  outcomes: RequestOutcome[];
}

/** One connection of the capture, with the channel whose client opened it (issue 12, steady state). */
export interface CapturedConnection {
  /** The client connection with the same local port; null when none had it. */
  channel: Channel | null;
  endpointIndex: number | null;
  firstPacketMs: number;
  up: TrafficCounters;
  down: TrafficCounters;
  handshake: HandshakeKind | null;
  phases: ConnectionPhases;
}

/** When one request of the agent's schedule is sent: all a connection count derived from the schedule needs. */
export interface ScheduledInstant {
  endpointIndex: number;
  channel: Channel;
  atVirtualMs: number;
}

/** Everything a live scenario observed: the assessment's input (bench/analyze/assess.ts). */
export interface ScenarioObservations {
  /** Requests the schedule asked for. */
  scheduledRequests: number;
  /** The schedule's requests (the traffic phase). */
  outcomes: RequestOutcome[];
  /** The latency phase, per API call, after the capture stopped. */
  latency: LatencyObservation[];
  /** The client's raw TCP socket counters, summed over the captured agents' connections (every agent's
   * when all are captured): the reconciliation input. */
  socketBytes: SocketBytes;
  /** Connections the client opened (socket level), and how many resumed a TLS session. */
  clientConnections: { opened: number; sessionResumed: number };
  /** Each client connection's socket counters, in order of opening. */
  sockets: SocketRecord[];
  /** Each captured connection's stream bytes, in order of its first packet; null without a capture. */
  capturedStreams: CapturedStream[] | null;
  /** The command line that runs this scenario alone, for messages that ask to run it again. */
  rerunCommand: string;
  /** The capture's accounting; null without a capture. */
  analysis: AnalyzeSummary | null;
  /** tcpdump's closing counts; null without a capture. */
  tcpdump: CaptureStats | null;
  /** The server's counters before the first request and after the last. */
  serverBefore: AgentServerStats;
  serverAfter: AgentServerStats;
  /** Sockets seen in TIME_WAIT during and after the scenario, per side (/proc/net/tcp). */
  timeWait: { client: number; server: number };
  /** Files beside results.json (relative paths). */
  files: { pcap: string | null; keylog: string };
  realDurationMs: number;
  /** The fleet and the server's side (absent in observations made before issue 11). */
  fleet?: FleetObservations;
  /** The emulated path's counters over the traffic phase; null on loopback. */
  link: { up: LinkDirection; down: LinkDirection } | null;
  /** Every captured connection in order of its first packet; empty without a capture. */
  capturedConnections: CapturedConnection[];
  /** The same schedule over a longer window (persistent mode: its reconnects are derived from it); null for
   * other modes. */
  longRunSchedule: { virtualMinutes: number; requests: ScheduledInstant[] } | null;
}
