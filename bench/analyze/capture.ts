/**
 * Accounts a capture file: every TCP packet to a connection and direction, the stream reassembled and walked
 * as TLS, counters per connection and in total (DESIGN.md "Measurement definitions", `analyze@1`).
 */
import {
  addTraffic,
  emptyTrafficCounters,
  warning,
  WarningSet,
  type AnalyzeResult,
  type AnalyzeSummary,
  type ConnectionPhases,
  type ConnectionReport,
  type ConnectionTls,
  type PhaseBytes,
  type Direction,
  type SkippedPackets,
  type TimelineBucket,
  type TlsCounters,
  type TrafficCounters,
} from '../model/index.ts';
import { decodePacket, type DecodeResult } from '../pcap/decode.ts';
import { FlowTable, TCP_FIN, TCP_RST, TCP_SYN, type Flow } from '../pcap/flows.ts';
import type { CaptureReadSummary, CapturedPacket } from '../pcap/packet.ts';
import { readCapture } from '../pcap/reader.ts';
import { DirectionReassembler, seenBefore, type StreamSink } from '../pcap/reassembly.ts';
import { TlsConnection } from '../tls/connection.ts';
import { loadKeyLog, type KeyLog } from '../tls/keylog.ts';
import { auditReuse } from './reuse.ts';

/** What `analyzeCapture` can be asked. */
export interface AnalyzeOptions {
  /** Ports that identify the server side of a connection (`--server-port`). */
  serverPorts?: number[];
  /** NSS key log used to decrypt TLS 1.3 records far enough to classify them exactly (`--keylog`). */
  keyLogPath?: string;
  /** When set, the result carries wire bytes per direction in buckets of this many milliseconds. */
  timelineBucketMs?: number;
}

/**
 * Per-connection state while the capture is read.
 *
 * While the connection is open it owns a TLS walker and two reassemblers, and is the sink of both: stream
 * bytes go to the walker through `tls`. When it is closed and complete, `finish` ends the walker, keeps
 * what the report needs and drops the walker and the reassemblers. A closed connection waits out
 * CLOSED_LINGER_MS in the table (late ACKs and retransmissions still join it), and on a large capture
 * thousands wait at once: that is why the traffic counters are fields of this one object rather than
 * objects of their own. What lingers is the flow, this object and the walker's two TLS counter objects, so
 * the garbage collector has little to carry; the open connection's many objects die young.
 */
class ConnectionState implements StreamSink {
  /* TrafficCounters per direction, without `tls` (see the model). */
  upFrames = 0;
  upWireBytes = 0;
  upIpBytes = 0;
  upHeaderBytes = 0;
  upTcpPayloadBytes = 0;
  upRetransmittedBytes = 0;
  upControlFrames = 0;
  upControlWireBytes = 0;
  downFrames = 0;
  downWireBytes = 0;
  downIpBytes = 0;
  downHeaderBytes = 0;
  downTcpPayloadBytes = 0;
  downRetransmittedBytes = 0;
  downControlFrames = 0;
  downControlWireBytes = 0;

  /** Open: the reassemblers; null once finished. */
  reassemblyUp: DirectionReassembler | null = new DirectionReassembler(this, 'up');
  reassemblyDown: DirectionReassembler | null = new DirectionReassembler(this, 'down');
  /** Finished: each direction's next unwrapped sequence number (NaN when it never started), gaps and whether it began mid-stream. */
  nextSeqUp = Number.NaN;
  nextSeqDown = Number.NaN;
  gaps = 0;
  startedMidstream = false;

  tls: TlsConnection | null;
  /** Set by `finish`: the TLS walker's counters per direction and what the handshake told. */
  tlsUp: TlsCounters | null = null;
  tlsDown: TlsCounters | null = null;
  tlsInfo: ConnectionTls | null = null;
  requests = 0;
  /**
   * Capture times of the first and last packet: whole seconds since the capture's first packet, and the
   * packet's own nanoseconds. Small integers, where milliseconds would be a heap number written per packet;
   * `CaptureAccount.ms` turns them into the report's milliseconds.
   */
  readonly firstSec: number;
  readonly firstNsec: number;
  lastSec: number;
  lastNsec: number;
  /** Its report has been handed out: nothing may be added to it any more. */
  emitted = false;
  /** Both directions' counts before the frame that carried the first application data (ConnectionPhases). */
  setupEnd: { up: PhaseBytes; down: PhaseBytes } | null = null;
  /** Both directions' counts before the first FIN or RST. */
  teardownStart: { up: PhaseBytes; down: PhaseBytes } | null = null;

  constructor(
    sec: number,
    nsec: number,
    keyLog: KeyLog | undefined,
  ) {
    this.firstSec = sec;
    this.firstNsec = nsec;
    this.lastSec = sec;
    this.lastNsec = nsec;
    this.tls = new TlsConnection(keyLog === undefined ? {} : { keyLog });
  }

  /** Counts one packet's headers and payload in its direction. */
  count(dir: Direction, wireBytes: number, ipBytes: number, headerBytes: number, payloadBytes: number): void {
    if (dir === 'up') {
      this.upFrames++;
      this.upWireBytes += wireBytes;
      this.upIpBytes += ipBytes;
      this.upHeaderBytes += headerBytes;
      this.upTcpPayloadBytes += payloadBytes;
      if (payloadBytes === 0) {
        this.upControlFrames++;
        this.upControlWireBytes += wireBytes;
      }
    } else {
      this.downFrames++;
      this.downWireBytes += wireBytes;
      this.downIpBytes += ipBytes;
      this.downHeaderBytes += headerBytes;
      this.downTcpPayloadBytes += payloadBytes;
      if (payloadBytes === 0) {
        this.downControlFrames++;
        this.downControlWireBytes += wireBytes;
      }
    }
  }

  /** Both directions' counts so far; `minus` takes one frame of `dir` back out. */
  phaseMark(minus?: { dir: Direction; wireBytes: number; payloadBytes: number }): { up: PhaseBytes; down: PhaseBytes } {
    const mark = (dir: Direction): PhaseBytes => {
      const up = dir === 'up';
      const own = minus?.dir === dir;
      return {
        frames: (up ? this.upFrames : this.downFrames) - (own ? 1 : 0),
        wireBytes: (up ? this.upWireBytes : this.downWireBytes) - (own ? minus.wireBytes : 0),
        tcpPayloadBytes: (up ? this.upTcpPayloadBytes : this.downTcpPayloadBytes) - (own ? minus.payloadBytes : 0),
        handshakeBytes: this.tls === null ? (up ? this.tlsUp : this.tlsDown)?.handshakeBytes ?? 0 : this.tls.counters(dir).handshakeBytes,
      };
    };
    return { up: mark('up'), down: mark('down') };
  }

  /** The connection's opening and closing phases (call after `finish`). */
  phases(): ConnectionPhases {
    const end = this.phaseMark();
    const start = this.teardownStart;
    const rest = (dir: Direction): PhaseBytes => ({
      frames: end[dir].frames - start![dir].frames,
      wireBytes: end[dir].wireBytes - start![dir].wireBytes,
      tcpPayloadBytes: end[dir].tcpPayloadBytes - start![dir].tcpPayloadBytes,
      handshakeBytes: end[dir].handshakeBytes - start![dir].handshakeBytes,
    });
    return { setup: this.setupEnd, teardown: start === null ? null : { up: rest('up'), down: rest('down') } };
  }

  countRetransmitted(dir: Direction, bytes: number): void {
    if (dir === 'up') this.upRetransmittedBytes += bytes;
    else this.downRetransmittedBytes += bytes;
  }

  /** The direction's reassembler while the connection is open. */
  reassembly(dir: Direction): DirectionReassembler | null {
    return dir === 'up' ? this.reassemblyUp : this.reassemblyDown;
  }

  /**
   * Every byte of the segment was already delivered in `dir`. After `finish` nothing more is delivered,
   * so the reassembler's position is all that is needed.
   */
  seen(dir: Direction, seq: number, length: number): boolean {
    const reassembly = this.reassembly(dir);
    if (reassembly !== null) return reassembly.seen(seq, length);
    return seenBefore(seq, length, dir === 'up' ? this.nextSeqUp : this.nextSeqDown);
  }

  /**
   * Ends the streams and the TLS walker, keeps their figures and the positions late packets still need, and
   * lets the walker and the reassemblers go. Returns the walker (for its warnings), or null when the
   * connection was already finished.
   */
  finish(): TlsConnection | null {
    const tls = this.tls;
    if (tls === null) return null;
    const up = this.reassemblyUp!;
    const down = this.reassemblyDown!;
    up.finish();
    down.finish();
    tls.end();
    this.tlsUp = tls.counters('up');
    this.tlsDown = tls.counters('down');
    this.tlsInfo = tls.info();
    this.requests = tls.requests;
    this.nextSeqUp = up.nextSeq;
    this.nextSeqDown = down.nextSeq;
    this.gaps = up.gaps + down.gaps;
    this.startedMidstream = up.startedMidstream || down.startedMidstream;
    this.reassemblyUp = null;
    this.reassemblyDown = null;
    this.tls = null;
    return tls;
  }

  /** A SYN after `finish`: it starts a direction that had not started (the reassembler's `syn`). */
  synAfterFinish(dir: Direction, isn: number): void {
    if (dir === 'up' && Number.isNaN(this.nextSeqUp)) this.nextSeqUp = isn + 1;
    if (dir === 'down' && Number.isNaN(this.nextSeqDown)) this.nextSeqDown = isn + 1;
  }

  traffic(dir: Direction): TrafficCounters {
    const up = dir === 'up';
    return {
      frames: up ? this.upFrames : this.downFrames,
      wireBytes: up ? this.upWireBytes : this.downWireBytes,
      ipBytes: up ? this.upIpBytes : this.downIpBytes,
      headerBytes: up ? this.upHeaderBytes : this.downHeaderBytes,
      tcpPayloadBytes: up ? this.upTcpPayloadBytes : this.downTcpPayloadBytes,
      retransmittedBytes: up ? this.upRetransmittedBytes : this.downRetransmittedBytes,
      controlFrames: up ? this.upControlFrames : this.downControlFrames,
      controlWireBytes: up ? this.upControlWireBytes : this.downControlWireBytes,
      tls: (up ? this.tlsUp : this.tlsDown)!,
    };
  }

  data(dir: Direction, bytes: Buffer, start: number, end: number): void {
    this.tls!.push(dir, bytes, start, end);
  }

  skip(dir: Direction, n: number): void {
    this.tls!.skip(dir, n);
  }

  gap(dir: Direction): void {
    this.tls!.gap(dir);
  }

  midstream(dir: Direction): void {
    this.tls!.startMidstream(dir);
  }
}

/**
 * How long (in capture time) a closed connection stays in the table before its report is emitted and it is
 * forgotten: long enough for the last ACK and any retransmission of the closing segments to join it, short
 * enough that memory follows the connections open at once rather than every connection of the file.
 */
const CLOSED_LINGER_MS = 10_000;

/** Accounts one capture file, keeping every connection's report. Throws InputError/PcapFormatError for files that cannot be read at all. */
export async function analyzeCapture(path: string, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const connections: ConnectionReport[] = [];
  const summary = await streamCapture(path, options, (c) => connections.push(c));
  connections.sort((a, b) => a.index - b.index);
  return { ...summary, connections };
}

/**
 * Accounts one capture file, handing each connection's report to `onConnection` once the connection is over
 * (in the order connections end) instead of keeping it: memory stays bounded by the connections open at
 * once, whatever the size of the file.
 */
export async function streamCapture(
  path: string,
  options: AnalyzeOptions,
  onConnection: (report: ConnectionReport, phases: ConnectionPhases) => void,
): Promise<AnalyzeSummary> {
  const warnings = new WarningSet();
  let keyLog: KeyLog | undefined;
  if (options.keyLogPath !== undefined) {
    const loaded = await loadKeyLog(options.keyLogPath);
    keyLog = loaded.keyLog;
    warnings.addAll(loaded.warnings);
  }
  const account = new CaptureAccount(warnings, keyLog, options, onConnection);
  const file = await readCapture(path, (packet) => account.packet(packet));
  return account.end(path, file);
}

/**
 * The accounting of one capture while it is read: `packet` runs once per packet, so its state lives in fields
 * (a number kept in a closure's variable would be boxed anew on every write).
 */
class CaptureAccount {
  private readonly skipped: SkippedPackets = { nonIp: 0, nonTcp: 0, malformed: 0, fragments: 0 };
  private readonly bucketMs: number | undefined;
  private readonly buckets: TimelineBucket[] = [];
  private readonly totals = {
    up: emptyTrafficCounters(),
    down: emptyTrafficCounters(),
    connections: 0,
    fullHandshakes: 0,
    resumedHandshakes: 0,
    requests: 0,
  };
  private readonly requestCounts: number[] = [];
  private gaps = 0;
  private midstream = 0;
  /** Capture time of the first packet, and of the packet being accounted in ms since then. */
  private firstSec = Number.NaN;
  private firstNsec = 0;
  private nowMs = 0;
  /** The packet being accounted: seconds since the first packet, and its nanoseconds. */
  private nowSec = 0;
  private nowNsec = 0;
  /** The deadline of the closed connection at the queue's front (Infinity when the queue is empty). */
  private nextDeadlineMs = Number.POSITIVE_INFINITY;
  private readonly flows: FlowTable<ConnectionState>;
  /**
   * Closed connections waiting out CLOSED_LINGER_MS, oldest first (`closedHead` is the queue's front), with
   * the time each may be emitted at: checked once per packet, a number in an array of numbers costs no trip
   * to a connection's state (a cache miss, as the connection closed long ago). A late packet can only move
   * a connection's real deadline later, so a deadline not yet reached still means "not yet".
   */
  private closed: Flow<ConnectionState>[] = [];
  private closedDeadlinesMs: number[] = [];
  private closedHead = 0;

  constructor(
    private readonly warnings: WarningSet,
    private readonly keyLog: KeyLog | undefined,
    options: AnalyzeOptions,
    private readonly onConnection: (report: ConnectionReport, phases: ConnectionPhases) => void,
  ) {
    this.bucketMs = options.timelineBucketMs;
    this.flows = new FlowTable<ConnectionState>(
      new Set(options.serverPorts ?? []),
      () => new ConnectionState(this.nowSec, this.nowNsec, this.keyLog),
      (flow) => this.emit(flow),
    );
  }

  packet(packet: CapturedPacket): void {
    if (Number.isNaN(this.firstSec)) {
      this.firstSec = packet.tsSec;
      this.firstNsec = packet.tsNsec;
    }
    const nowSec = packet.tsSec - this.firstSec;
    const nowNsec = packet.tsNsec;
    const nowMs = this.ms(nowSec, nowNsec);
    this.nowSec = nowSec;
    this.nowNsec = nowNsec;
    this.nowMs = nowMs;
    if (nowMs >= this.nextDeadlineMs) this.expireClosed();
    const decoded = decodePacket(packet.linkType, packet.data, packet.offset, packet.offset + packet.capturedLength);
    if (decoded.kind !== 'tcp') {
      this.skip(decoded);
      return;
    }
    const segment = decoded.segment;
    const flows = this.flows;
    let flow = flows.lookup(segment);
    let direction = flows.direction;
    const syn = (segment.flags & TCP_SYN) !== 0;
    // A SYN's sequence number is consumed by the SYN itself; data it carries (TCP Fast Open) follows it.
    const dataSeq = syn ? (segment.seq + 1) >>> 0 : segment.seq;
    if (flow.state.tls === null && segment.payloadLength > 0 && !flow.state.seen(direction, dataSeq, segment.payloadLength)) {
      // New data on a 4-tuple whose connection already closed: a new connection whose SYN was not captured.
      flow = flows.restart(segment);
      direction = flows.direction;
    }
    const state = flow.state;
    state.lastSec = nowSec;
    state.lastNsec = nowNsec;
    if (state.teardownStart === null && (segment.flags & (TCP_FIN | TCP_RST)) !== 0) state.teardownStart = state.phaseMark();
    state.count(direction, packet.originalLength, segment.ipBytes, segment.headerBytes, segment.payloadLength);
    const reassembly = state.reassembly(direction);
    if (reassembly !== null) {
      if (syn) reassembly.syn(segment.seq);
      const seen = reassembly.segment(dataSeq, segment.payloadLength, packet.data, segment.payloadStart, segment.payloadEnd);
      if (seen > 0) state.countRetransmitted(direction, seen);
    } else {
      // Closed and finished: payload here was all seen before (new data opened a new connection above).
      if (syn) state.synAfterFinish(direction, segment.seq);
      if (segment.payloadLength > 0) state.countRetransmitted(direction, segment.payloadLength);
    }

    if (state.setupEnd === null && state.tls?.applicationDataSeen === true) {
      // This frame carried the first application data: it belongs to the request, not to the opening.
      state.setupEnd = state.phaseMark({ dir: direction, wireBytes: packet.originalLength, payloadBytes: segment.payloadLength });
    }
    if (this.bucketMs !== undefined) this.timeline(direction, packet.originalLength);
    if (state.tls !== null && (flow.reset || (flow.finUp && flow.finDown)) && state.reassemblyUp!.complete && state.reassemblyDown!.complete) {
      // Closed, and no data waits behind a hole: nothing more can join the stream.
      this.finish(flow);
      this.closed.push(flow);
      this.closedDeadlinesMs.push(nowMs + CLOSED_LINGER_MS);
      if (this.closedHead === this.closed.length - 1) this.nextDeadlineMs = nowMs + CLOSED_LINGER_MS;
    }
  }

  /** Counts a packet that carries no TCP segment. */
  private skip(decoded: Exclude<DecodeResult, { kind: 'tcp' }>): void {
    switch (decoded.kind) {
      case 'non-ip':
        this.skipped.nonIp++;
        return;
      case 'non-tcp':
        this.skipped.nonTcp++;
        return;
      case 'fragment':
        this.skipped.fragments++;
        return;
      case 'malformed':
        this.skipped.malformed++;
        this.warnings.add(warning('malformed-packet', { reason: decoded.reason }));
    }
  }

  private timeline(direction: Direction, wireBytes: number): void {
    const bucketMs = this.bucketMs!;
    const buckets = this.buckets;
    const at = Math.floor(this.nowMs / bucketMs);
    while (buckets.length <= at) buckets.push({ startMs: buckets.length * bucketMs, upWireBytes: 0, downWireBytes: 0 });
    const bucket = buckets[at]!;
    if (direction === 'up') bucket.upWireBytes += wireBytes;
    else bucket.downWireBytes += wireBytes;
  }

  /** Emits the closed connections whose linger is over. */
  private expireClosed(): void {
    const closed = this.closed;
    const deadlines = this.closedDeadlinesMs;
    while (this.closedHead < closed.length && deadlines[this.closedHead]! <= this.nowMs) {
      const flow = closed[this.closedHead]!;
      if (!flow.state.emitted) {
        const deadlineMs = this.ms(flow.state.lastSec, flow.state.lastNsec) + CLOSED_LINGER_MS;
        if (deadlineMs > this.nowMs) {
          // A late packet joined it: it waits longer, and so do the connections behind it in the queue.
          deadlines[this.closedHead] = deadlineMs;
          break;
        }
        this.emit(flow);
        this.flows.evict(flow);
      }
      this.closedHead++;
    }
    this.nextDeadlineMs = this.closedHead < closed.length ? deadlines[this.closedHead]! : Number.POSITIVE_INFINITY;
    if (this.closedHead > 1024 && this.closedHead * 2 > closed.length) {
      this.closed = closed.slice(this.closedHead);
      this.closedDeadlinesMs = deadlines.slice(this.closedHead);
      this.closedHead = 0;
    }
  }

  /** Milliseconds since the capture's first packet of a time kept as (seconds since it, nanoseconds). */
  private ms(sec: number, nsec: number): number {
    return sec * 1000 + (nsec - this.firstNsec) / 1e6;
  }

  /** Ends a connection's stream: data held behind a hole is delivered after a gap, the TLS walker ends. */
  private finish(flow: Flow<ConnectionState>): void {
    const tls = flow.state.finish();
    if (tls !== null) this.warnings.addAll(tls.warnings);
  }

  /** Reports a connection that is over, adds it to the totals, and lets it go. */
  private emit(flow: Flow<ConnectionState>): void {
    if (flow.state.emitted) return;
    this.finish(flow);
    flow.state.emitted = true;
    const r = report(flow, this.ms(flow.state.firstSec, flow.state.firstNsec), this.ms(flow.state.lastSec, flow.state.lastNsec));
    const totals = this.totals;
    addTraffic(totals.up, r.up);
    addTraffic(totals.down, r.down);
    if (r.synSeen) totals.connections++;
    if (r.tls?.handshake === 'full') totals.fullHandshakes++;
    if (r.tls?.handshake === 'resumed') totals.resumedHandshakes++;
    totals.requests += r.requests;
    this.requestCounts.push(r.requests);
    this.gaps += flow.state.gaps;
    if (flow.state.startedMidstream) this.midstream++;
    this.onConnection(r, flow.state.phases());
  }

  /** The file is read: reports the connections still open and sums up. */
  end(path: string, file: CaptureReadSummary): AnalyzeSummary {
    const warnings = this.warnings;
    warnings.addAll(file.warnings);
    for (const flow of this.flows.live()) this.emit(flow);

    if (file.truncatedPackets > 0) {
      warnings.add(warning('snaplen-truncated', { packets: file.truncatedPackets }));
    }
    if (this.midstream > 0) {
      warnings.add(warning('capture-started-midstream', { connections: this.midstream }));
    }
    if (this.gaps > 0) {
      warnings.add(warning('capture-gap', { gaps: this.gaps }));
    }

    const bucketMs = this.bucketMs;
    return {
      schema: 'tls-reuse-bench/analyze@1',
      file: {
        path,
        format: file.format,
        timestampResolution: file.timestampResolution,
        linkTypes: file.linkTypes,
        snapLength: file.snapLength,
        packets: file.packets,
        truncatedPackets: file.truncatedPackets,
        durationSeconds: Number.isNaN(this.firstSec) ? 0 : this.nowMs / 1000,
      },
      total: this.totals,
      reuse: auditReuse(this.requestCounts),
      skipped: this.skipped,
      ...(bucketMs === undefined ? {} : { timeline: { bucketMs, buckets: this.buckets } }),
      warnings: warnings.toArray(),
    };
  }
}

/** The report of one finished connection. */
function report(flow: Flow<ConnectionState>, firstPacketMs: number, lastPacketMs: number): ConnectionReport {
  const { state } = flow;
  return {
    index: flow.index,
    client: { ip: flow.clientIp, port: flow.clientPort },
    server: { ip: flow.serverIp, port: flow.serverPort },
    serverSideBy: flow.serverSideBy,
    synSeen: flow.synSeen,
    closedBy: flow.reset ? 'reset' : flow.firstFin === 'up' ? 'client-fin' : flow.firstFin === 'down' ? 'server-fin' : 'open',
    firstPacketMs,
    lastPacketMs,
    up: state.traffic('up'),
    down: state.traffic('down'),
    tls: state.tlsInfo,
    requests: state.requests,
  };
}
