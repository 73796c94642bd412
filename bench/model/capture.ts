/**
 * What accounting a capture produces (`tls-reuse-bench/analyze@1`): connections, totals, the reuse audit and
 * the capture file's facts. DESIGN.md "Measurement definitions"; field names are a contract with tests, CI
 * and other tools: add around them, never rename them.
 */
import type { TrafficCounters } from './traffic.ts';
import type { Warning } from './warnings.ts';

/** The `analyze --json` schema. */
export const ANALYZE_SCHEMA = 'tls-reuse-bench/analyze@1';

/** How the server side of a connection was decided (DESIGN.md, "Direction"). */
export type ServerSideBy = 'server-port' | 'syn-ack' | 'syn' | 'well-known-port' | 'lower-port';

/**
 * The handshake a connection performed. `unknown`: a ServerHello was seen but not what decides full from
 * resumed (the server's flight went uncaptured, or a TLS 1.3 draft), so the analyzer does not guess.
 */
export type HandshakeKind = 'full' | 'resumed' | 'none' | 'incomplete' | 'unknown';

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
  /**
   * TLS began after plaintext (its bytes are `nonTlsBytes`), and the protocol that upgraded to it, as far as
   * its first bytes tell: `http-connect`, `smtp-starttls`, `imap-starttls`, `pop3-stls`, `xmpp-starttls`,
   * `ftp-auth-tls`, `ldap-starttls`, `postgresql-sslrequest`, `mysql-ssl`, `socks4`, `socks5`, or `unknown`.
   * Null when the connection began with TLS.
   */
  plaintextPrefix: string | null;
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

/** The bytes of one phase of a connection in one direction. */
export interface PhaseBytes {
  frames: number;
  wireBytes: number;
  tcpPayloadBytes: number;
  /** TLS handshake bytes (records of type 22 or 20) that completed during the phase. */
  handshakeBytes: number;
}

/**
 * Where a connection's bytes went besides its requests (issue 12, steady state): its opening — every frame
 * until the one that carried the first application-data record (TCP's handshake, TLS's handshake) — and its
 * closing, from the first FIN or RST on. Null phases were not reached inside the capture.
 */
export interface ConnectionPhases {
  setup: { up: PhaseBytes; down: PhaseBytes } | null;
  teardown: { up: PhaseBytes; down: PhaseBytes } | null;
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
  /** The compression the capture was read through (recognised by its magic); absent or null: none. */
  compression?: 'gzip' | 'zstd' | null;
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

/** Where TLS secrets came from: `--keylog`, a `keylog.txt` found beside the capture, or the pcapng itself. */
export interface KeyLogSource {
  from: 'option' | 'beside-capture' | 'pcapng';
  /** The key log file, or the capture holding the Decryption Secrets Block. */
  path: string;
  /** Connections (client randoms) it holds secrets for. */
  clientRandoms: number;
}

/** The result of accounting one capture (`tls-reuse-bench/analyze@1`). */
export interface AnalyzeResult {
  schema: typeof ANALYZE_SCHEMA;
  file: CaptureFileInfo;
  /** The key logs used, in the order they were read (absent in results written before it existed). */
  keyLogs?: KeyLogSource[];
  total: CaptureTotals;
  connections: ConnectionReport[];
  reuse: ReuseAudit;
  skipped: SkippedPackets;
  /** Present when a bucket size was asked for. */
  timeline?: { bucketMs: number; buckets: TimelineBucket[] };
  warnings: Warning[];
}

/** An analysis without the per-connection list (streamed to a callback instead). */
export type AnalyzeSummary = Omit<AnalyzeResult, 'connections'>;
