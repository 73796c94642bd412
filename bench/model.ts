/**
 * The types that cross pipeline stages (DESIGN.md, "Measurement definitions"). Field names here are a
 * contract with tests, CI and other tools: add around them, never rename them.
 */

/** Which way bytes flow: `up` is client → server, `down` is server → client. */
export type Direction = 'up' | 'down';

/** TLS accounting for one direction; every byte count includes the 5-byte record header. */
export interface TlsCounters {
  /** TLS records completed in this direction. */
  records: number;
  /** Records whose (inner, for TLS 1.3) content type is handshake (22) or change_cipher_spec (20). */
  handshakeBytes: number;
  /** Records whose (inner) content type is application_data (23). */
  appDataBytes: number;
  /** Part of `appDataBytes` that is record framing, not application payload: the header, explicit nonce,
   * AEAD tag, TLS 1.3 inner content type and padding. */
  appDataOverheadBytes: number;
  /** Records of the alert (21) type. */
  alertBytes: number;
  /** Records of any other content type (heartbeat 24, or unknown inner types). */
  otherBytes: number;
  /** Stream bytes that are not TLS at all (a plain-text protocol, or bytes skipped while resynchronising). */
  nonTlsBytes: number;
  /** Bytes of records that never completed: cut by a capture gap or by the end of the capture. */
  incompleteBytes: number;
  /** False where TLS 1.3 records were classified without keys (by position), or a gap forced a resync. */
  exact: boolean;
}

/** Per-direction traffic counters (DESIGN.md `TrafficCounters`). */
export interface TrafficCounters {
  /** Captured packets. */
  frames: number;
  /** Sum of original frame lengths, link header included. */
  wireBytes: number;
  /** Sum of IP datagram lengths (IPv4 total length; IPv6 40 + payload length). */
  ipBytes: number;
  /** Sum of IP and TCP header bytes (IPv6 extension headers and TCP options included). */
  headerBytes: number;
  /** Sum of TCP segment payload lengths, retransmissions included. */
  tcpPayloadBytes: number;
  /** Payload bytes whose sequence numbers were already seen in this direction. */
  retransmittedBytes: number;
  /** Frames with no TCP payload (SYN, FIN, RST, pure ACK). */
  controlFrames: number;
  /** Wire bytes of those control frames. */
  controlWireBytes: number;
  tls: TlsCounters;
}

/** How the server side of a connection was decided (DESIGN.md, "Direction"). */
export type ServerSideBy = 'server-port' | 'syn-ack' | 'syn' | 'well-known-port' | 'lower-port';

/** The handshake a connection performed. */
export type HandshakeKind = 'full' | 'resumed' | 'none' | 'incomplete';

/** One endpoint of a connection. */
export interface Endpoint {
  ip: string;
  port: number;
}

/** What the TLS layer learned about one connection. */
export interface ConnectionTls {
  /** Negotiated version (`TLS1.3`, `TLS1.2`, ...), from ServerHello's supported_versions when present. */
  version: string | null;
  /** Negotiated cipher suite as IANA names it, e.g. `TLS_AES_128_GCM_SHA256`. */
  cipherSuite: string | null;
  handshake: HandshakeKind;
  /** Server name the client asked for (SNI), when sent. */
  serverName: string | null;
  /** Records of this connection were decrypted with a key log (TLS 1.3). */
  decrypted: boolean;
}

/** One TCP connection of a capture, accounted per direction. */
export interface ConnectionReport {
  /** 0-based, in order of each connection's first packet. */
  index: number;
  client: Endpoint;
  server: Endpoint;
  serverSideBy: ServerSideBy;
  /** The capture holds this connection's SYN (DESIGN.md counts only these as connections). */
  synSeen: boolean;
  /** How the connection ended inside the capture. */
  closedBy: 'client-fin' | 'server-fin' | 'reset' | 'open';
  /** Capture time of the first and last packet, in milliseconds since the capture's first packet. */
  firstPacketMs: number;
  lastPacketMs: number;
  up: TrafficCounters;
  down: TrafficCounters;
  tls: ConnectionTls | null;
  /** Estimated requests: application-data exchanges (a client flight answered by a server flight). */
  requests: number;
}

/** A warning carried as data, shown by every report (STYLE.md §7). */
export interface Warning {
  /** Stable machine-readable kind, e.g. `tls13-no-keys`, `capture-gap`, `malformed-packet`. */
  kind: string;
  message: string;
  /** What the user can do about it. */
  fix: string;
  /** How many times it occurred, when it is a counted condition. */
  count?: number;
}

/** Totals over a whole capture (the `total` of `analyze@1`). */
export interface CaptureTotals {
  up: TrafficCounters;
  down: TrafficCounters;
  /** TCP connections whose SYN is in the capture. */
  connections: number;
  fullHandshakes: number;
  resumedHandshakes: number;
  /** Estimated requests over all connections. */
  requests: number;
}

/** Packets the analyzer read but could not attribute to a TCP connection. */
export interface SkippedPackets {
  /** Not IP (ARP, LLDP, ...). */
  nonIp: number;
  /** IP but not TCP (UDP, ICMP, ...). */
  nonTcp: number;
  /** Headers failed a sanity check or ran past the captured bytes. */
  malformed: number;
  /** Fragments of an IP datagram (not reassembled). */
  fragments: number;
}

/** Facts about the capture file itself. */
export interface CaptureFileInfo {
  path: string;
  format: 'pcap' | 'pcapng';
  /** `us`/`ns` when every interface uses that resolution, `other` for any other or a mix. */
  timestampResolution: 'us' | 'ns' | 'other';
  /** Link types of the file's interfaces (pcap LINKTYPE_* numbers), in order of first appearance. */
  linkTypes: number[];
  /** Largest snap length of the file's interfaces (0 when the file does not say). */
  snapLength: number;
  /** Packets in the file (delivered by the reader). */
  packets: number;
  /** Packets whose captured length is shorter than their original length. */
  truncatedPackets: number;
  /** Seconds between the first and the last packet. */
  durationSeconds: number;
}

/** A time bucket of traffic, for bandwidth-over-time charts. */
export interface TimelineBucket {
  /** Bucket start, in milliseconds since the capture's first packet. */
  startMs: number;
  upWireBytes: number;
  downWireBytes: number;
}

/**
 * Are connections reused? The answer an operator auditing their own fleet's capture wants (osquery issue
 * 7083: agents reconnecting at every check-in despite reuse being on).
 */
export interface ReuseAudit {
  /** Connections that carried at least one request. */
  connectionsWithRequests: number;
  requests: number;
  requestsPerConnection: { mean: number; median: number; max: number };
  /** Connections that carried exactly one request before closing. */
  singleRequestConnections: number;
  /** `not-reused` when at least 90% of connections carried one request, `partly-reused` from 50%, `reused`
   *  below; `none` when no request was seen. */
  verdict: 'reused' | 'partly-reused' | 'not-reused' | 'none';
}

/** The result of accounting one capture (`tls-reuse-bench/analyze@1`). */
export interface AnalyzeResult {
  schema: 'tls-reuse-bench/analyze@1';
  file: CaptureFileInfo;
  total: CaptureTotals;
  connections: ConnectionReport[];
  reuse: ReuseAudit;
  skipped: SkippedPackets;
  /** Present when a bucket size was asked for. */
  timeline?: { bucketMs: number; buckets: TimelineBucket[] };
  warnings: Warning[];
}

/** Returns zeroed TLS counters. */
export function emptyTlsCounters(): TlsCounters {
  return {
    records: 0,
    handshakeBytes: 0,
    appDataBytes: 0,
    appDataOverheadBytes: 0,
    alertBytes: 0,
    otherBytes: 0,
    nonTlsBytes: 0,
    incompleteBytes: 0,
    exact: true,
  };
}

/** Returns zeroed traffic counters. */
export function emptyTrafficCounters(): TrafficCounters {
  return {
    frames: 0,
    wireBytes: 0,
    ipBytes: 0,
    headerBytes: 0,
    tcpPayloadBytes: 0,
    retransmittedBytes: 0,
    controlFrames: 0,
    controlWireBytes: 0,
    tls: emptyTlsCounters(),
  };
}

/* ---------------------------------------------------------------------------------------------------------
 * The live benchmark: scenario axes, the agent's requests, and what a transport measured.
 * ------------------------------------------------------------------------------------------------------- */

/** Client transport (DESIGN.md, "Modes"). */
export type Mode = 'fresh' | 'persistent' | 'resumed';

/** TLS protocol version a scenario pins both sides to. */
export type TlsVersion = 'tls1.2' | 'tls1.3';

/** A certificate chain fixture (`fixtures/certs/<name>/`), or `custom` for `--cert/--key/--ca`. */
export type CertKind = 'rsa2048' | 'ecdsa-p256' | 'custom';

/** The agent's worker threads; each holds its own client, hence its own connection (AGENT-FACTS.md). */
export type Channel = 'enroll' | 'config' | 'logger' | 'distributed';

/** The agent API call a request makes. */
export type ApiCall = 'enroll' | 'config' | 'log' | 'distributed_read' | 'distributed_write';

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

/** The network between client and server. Only loopback exists until link emulation lands. */
export type NetworkProfile = 'loopback';

/** The TLS server a scenario runs against. */
export type ServerKind = 'node' | 'nginx';

/** One scenario of the matrix, fully resolved (`results@1` `scenarios[].spec`). */
export interface ScenarioSpec {
  /** `<mode>/<tls>/<cert>/<network>/<server>`, e.g. `persistent/tls1.3/rsa2048/loopback/node`. */
  id: string;
  mode: Mode;
  tls: TlsVersion;
  cert: CertKind;
  network: NetworkProfile;
  server: ServerKind;
  /** Workload name (its file's `name`). */
  workload: string;
  endpoints: number;
  virtualMinutes: number;
  /** Virtual seconds that pass per real second. */
  timeCompression: number;
  /** The agent's `--tls_session_timeout`, virtual seconds (persistent mode); 0 = never. */
  sessionTimeoutVirtualSeconds: number;
  /** The server's keep-alive idle timeout, virtual seconds (nginx's default is 75). */
  serverIdleTimeoutVirtualSeconds: number;
  /** The server issues TLS session tickets. */
  sessionTickets: boolean;
  seed: number;
}

/* ---------------------------------------------------------------------------------------------------------
 * A run's results (`tls-reuse-bench/results@1`).
 * ------------------------------------------------------------------------------------------------------- */

/** Summary statistics of a latency sample, milliseconds. */
export interface LatencySummary {
  samples: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/** Latency of one API call: the whole request and its phases (phases only over requests that had them). */
export interface ApiLatency {
  total: LatencySummary;
  /** Every request's total latency, sorted ascending, rounded to 0.01 ms (for CDF charts). */
  totalSamplesMs: number[];
  /** Over requests that opened a connection; null when none did. */
  tcpConnect: LatencySummary | null;
  /** Over requests that performed a TLS handshake; null when none did. */
  tlsHandshake: LatencySummary | null;
  firstByte: LatencySummary;
}

/** Traffic normalised per endpoint (agent) per virtual minute. */
export interface PerEndpointMinute {
  /** Null with `--no-capture` (socket counters see no headers). */
  upWireBytes: number | null;
  downWireBytes: number | null;
  upTcpPayloadBytes: number;
  downTcpPayloadBytes: number;
  /** TLS handshake bytes (null with `--no-capture`). */
  upHandshakeBytes: number | null;
  downHandshakeBytes: number | null;
  connections: number;
  fullHandshakes: number;
  resumedHandshakes: number;
  requests: number;
  /** Sockets that went through TIME_WAIT (both sides). */
  timeWait: number;
}

/** Capture health of a scenario. */
export interface CaptureHealth {
  packets: number;
  droppedByKernel: number;
  /** Client socket counters == pcap TCP payload − retransmissions, per direction, exactly. Null without a capture. */
  reconciled: boolean | null;
  reconciliation: {
    up: { socketBytes: number; pcapStreamBytes: number | null };
    down: { socketBytes: number; pcapStreamBytes: number | null };
  };
}

/** What a scenario measured; shared by completed and invalid scenarios. */
export interface ScenarioMeasurement {
  /** From the pcap; null with `--no-capture`. */
  traffic: { up: TrafficCounters; down: TrafficCounters } | null;
  perEndpointMinute: PerEndpointMinute;
  capture: CaptureHealth;
  requests: { scheduled: number; ok: number; failed: number; retried: number };
  /** Connections the client opened (socket level) and the capture saw (SYN). */
  connections: { opened: number; captured: number | null; sessionResumed: number };
  /** Sockets in TIME_WAIT after the scenario, per side, as the kernel reported them (`ss`). */
  timeWait: { client: number; server: number };
  latency: Partial<Record<ApiCall, ApiLatency>>;
  server: { cpuUserMs: number; cpuSystemMs: number; cpuMsPerRequest: number; requests: number };
  /** Wire bytes per direction over time; buckets are in real milliseconds (× timeCompression for virtual). */
  timeline: { bucketMs: number; buckets: TimelineBucket[] } | null;
  /** Files beside results.json (relative paths). */
  files: { pcap: string | null; keylog: string };
  realDurationMs: number;
}

/** One scenario's result: a union on `state` (a failed scenario is data, not a lost run). */
export type ScenarioResult =
  | ({ id: string; state: 'completed'; spec: ScenarioSpec; warnings: Warning[] } & ScenarioMeasurement)
  | ({ id: string; state: 'invalid'; spec: ScenarioSpec; warnings: Warning[]; invalidReasons: string[] } & ScenarioMeasurement)
  | { id: string; state: 'failed'; spec: ScenarioSpec; warnings: Warning[]; error: string };

/** A mode compared with `fresh` on the same other axes. */
export interface Comparison {
  baseline: string;
  candidate: string;
  /** Saving in wire bytes per endpoint-minute (TCP payload with `--no-capture`), percent of the baseline. */
  upSavedPct: number;
  downSavedPct: number;
  /** Connections opened per endpoint-minute, percent saved. */
  connectionsSavedPct: number;
  /** Byte basis of the percentages. */
  basis: 'wire' | 'tcp-payload';
}

/** The machine and tools a run measured on. */
export interface Environment {
  node: string;
  openssl: string;
  kernel: string;
  platform: string;
  cpu: string;
  cores: number;
  tcpdump: string | null;
  nginx: string | null;
}

/** A run's results file. */
export interface Results {
  schema: 'tls-reuse-bench/results@1';
  runId: string;
  startedAt: string;
  finishedAt: string;
  /** True when the run was stopped (Ctrl-C/SIGTERM) before every scenario ran. */
  interrupted: boolean;
  options: {
    suite: string;
    workloadPath: string;
    capture: boolean;
    allowInvalid: boolean;
    /** `fixtures/certs` chain names or the user's chain file, by CertKind. */
    certs: Partial<Record<CertKind, string>>;
  };
  environment: Environment;
  scenarios: ScenarioResult[];
  comparisons: Comparison[];
  warnings: Warning[];
}
