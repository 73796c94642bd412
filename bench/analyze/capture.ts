/**
 * Accounts a capture file: every TCP packet to a connection and direction, the stream reassembled and walked
 * as TLS, counters per connection and in total (DESIGN.md "Measurement definitions", `analyze@1`).
 */
import {
  emptyTrafficCounters,
  type AnalyzeResult,
  type ConnectionReport,
  type Direction,
  type SkippedPackets,
  type TimelineBucket,
  type TrafficCounters,
} from '../model.ts';
import { decodePacket } from '../pcap/decode.ts';
import { FlowTable, TCP_FIN, TCP_SYN, type Flow } from '../pcap/flows.ts';
import type { CapturedPacket } from '../pcap/packet.ts';
import { readCapture } from '../pcap/reader.ts';
import { DirectionReassembler } from '../pcap/reassembly.ts';
import { TlsConnection } from '../tls/connection.ts';
import { loadKeyLog, type KeyLog } from '../tls/keylog.ts';
import { sumTraffic } from './counters.ts';
import { auditReuse } from './reuse.ts';
import { WarningSet } from './warnings.ts';

/** What `analyzeCapture` can be asked. */
export interface AnalyzeOptions {
  /** Ports that identify the server side of a connection (`--server-port`). */
  serverPorts?: number[];
  /** NSS key log used to decrypt TLS 1.3 records far enough to classify them exactly (`--keylog`). */
  keyLogPath?: string;
  /** When set, the result carries wire bytes per direction in buckets of this many milliseconds. */
  timelineBucketMs?: number;
}

/** Per-connection state while the capture is read. */
interface ConnectionState {
  counters: Record<Direction, TrafficCounters>;
  reassembly: Record<Direction, DirectionReassembler>;
  tls: TlsConnection;
  firstPacketMs: number;
  lastPacketMs: number;
  finished: boolean;
}

/** Accounts one capture file. Throws InputError/PcapFormatError for files that cannot be read at all. */
export async function analyzeCapture(path: string, options: AnalyzeOptions = {}): Promise<AnalyzeResult> {
  const warnings = new WarningSet();
  let keyLog: KeyLog | undefined;
  if (options.keyLogPath !== undefined) {
    const loaded = await loadKeyLog(options.keyLogPath);
    keyLog = loaded.keyLog;
    warnings.addAll(loaded.warnings);
  }

  const skipped: SkippedPackets = { nonIp: 0, nonTcp: 0, malformed: 0, fragments: 0 };
  const bucketMs = options.timelineBucketMs;
  const buckets: TimelineBucket[] = [];
  let firstSec = Number.NaN;
  let firstNsec = 0;
  let nowMs = 0;

  const finish = (flow: Flow<ConnectionState>): void => {
    const state = flow.state;
    if (state.finished) return;
    state.finished = true;
    state.reassembly.up.finish();
    state.reassembly.down.finish();
    state.tls.end();
  };

  const flows = new FlowTable<ConnectionState>(
    new Set(options.serverPorts ?? []),
    () => {
      const tls = new TlsConnection(keyLog === undefined ? {} : { keyLog });
      const sink = (direction: Direction) => ({
        data: (bytes: Buffer) => tls.push(direction, bytes),
        skip: (n: number) => tls.skip(direction, n),
        gap: () => tls.gap(direction),
      });
      return {
        counters: { up: emptyTrafficCounters(), down: emptyTrafficCounters() },
        reassembly: { up: new DirectionReassembler(sink('up')), down: new DirectionReassembler(sink('down')) },
        tls,
        firstPacketMs: nowMs,
        lastPacketMs: nowMs,
        finished: false,
      };
    },
    finish,
  );

  const onPacket = (packet: CapturedPacket): void => {
    if (Number.isNaN(firstSec)) {
      firstSec = packet.tsSec;
      firstNsec = packet.tsNsec;
    }
    nowMs = (packet.tsSec - firstSec) * 1000 + (packet.tsNsec - firstNsec) / 1e6;
    const decoded = decodePacket(packet.linkType, packet.data);
    switch (decoded.kind) {
      case 'non-ip':
        skipped.nonIp++;
        return;
      case 'non-tcp':
        skipped.nonTcp++;
        return;
      case 'fragment':
        skipped.fragments++;
        return;
      case 'malformed':
        skipped.malformed++;
        warnings.add({
          kind: 'malformed-packet',
          message: `packets skipped as malformed (first: ${decoded.reason})`,
          fix: 'check that the capture file is not damaged; the other packets are still accounted',
        });
        return;
      case 'tcp':
        break;
    }
    const segment = decoded.segment;
    const { flow, direction } = flows.lookup(segment);
    const state = flow.state;
    state.lastPacketMs = nowMs;
    const c = state.counters[direction];
    c.frames++;
    c.wireBytes += packet.originalLength;
    c.ipBytes += segment.ipBytes;
    c.headerBytes += segment.headerBytes;
    c.tcpPayloadBytes += segment.payloadLength;
    if (segment.payloadLength === 0) {
      c.controlFrames++;
      c.controlWireBytes += packet.originalLength;
    }
    const reassembly = state.reassembly[direction];
    const syn = (segment.flags & TCP_SYN) !== 0;
    if (syn) reassembly.syn(segment.seq);
    // A SYN's sequence number is consumed by the SYN itself; data it carries (TCP Fast Open) follows it.
    const dataSeq = syn ? (segment.seq + 1) >>> 0 : segment.seq;
    c.retransmittedBytes += reassembly.segment(dataSeq, segment.payloadLength, segment.payload);

    if (bucketMs !== undefined) {
      const at = Math.floor(nowMs / bucketMs);
      while (buckets.length <= at) buckets.push({ startMs: buckets.length * bucketMs, upWireBytes: 0, downWireBytes: 0 });
      const bucket = buckets[at]!;
      if (direction === 'up') bucket.upWireBytes += packet.originalLength;
      else bucket.downWireBytes += packet.originalLength;
    }
    if ((segment.flags & TCP_FIN) !== 0 && flow.finFrom.up && flow.finFrom.down) {
      // Both sides closed: nothing more can arrive in order, so pending data behind a hole is a gap now.
      finish(flow);
    }
  };

  const file = await readCapture(path, onPacket);
  warnings.addAll(file.warnings);
  for (const flow of flows.flows) finish(flow);

  if (file.truncatedPackets > 0) {
    warnings.add({
      kind: 'snaplen-truncated',
      message: `${file.truncatedPackets} packets were cut by the capture's snap length (${file.snapLength} bytes); wire and IP byte counts still use their original lengths, TLS records inside the cut parts could not be read`,
      fix: 'capture with a full snap length (tcpdump -s 0)',
    });
  }
  const gaps = flows.flows.reduce((n, f) => n + f.state.reassembly.up.gaps + f.state.reassembly.down.gaps, 0);
  const midstream = flows.flows.filter((f) => f.state.reassembly.up.startedMidstream || f.state.reassembly.down.startedMidstream).length;
  if (midstream > 0) {
    warnings.add({
      kind: 'capture-started-midstream',
      message: `${midstream} connections began before the capture (no SYN): their TLS accounting starts at the first record header found and they are not counted as connections opened`,
      fix: 'start the capture before the client connects',
    });
  }
  if (gaps > 0) {
    warnings.add({
      kind: 'capture-gap',
      message: `the capture missed part of a TCP stream ${gaps} times; TLS accounting resynchronised on the next record and is marked inexact for those connections`,
      fix: 'capture with tcpdump --immediate-mode -U -s 0 and check its "dropped by kernel" count',
    });
  }

  const connections = flows.flows.map((flow) => report(flow, warnings));
  const fullHandshakes = connections.filter((c) => c.tls?.handshake === 'full').length;
  const resumedHandshakes = connections.filter((c) => c.tls?.handshake === 'resumed').length;

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
      durationSeconds: Number.isNaN(firstSec) ? 0 : nowMs / 1000,
    },
    total: {
      up: sumTraffic(connections.map((c) => c.up)),
      down: sumTraffic(connections.map((c) => c.down)),
      connections: connections.filter((c) => c.synSeen).length,
      fullHandshakes,
      resumedHandshakes,
      requests: connections.reduce((sum, c) => sum + c.requests, 0),
    },
    connections,
    reuse: auditReuse(connections),
    skipped,
    ...(bucketMs === undefined ? {} : { timeline: { bucketMs, buckets } }),
    warnings: warnings.toArray(),
  };
}

/** The finished report of one connection; its TLS warnings join the capture's. */
function report(flow: Flow<ConnectionState>, warnings: WarningSet): ConnectionReport {
  const { state } = flow;
  const up = state.counters.up;
  const down = state.counters.down;
  up.tls = state.tls.counters('up');
  down.tls = state.tls.counters('down');
  warnings.addAll(state.tls.warnings);
  return {
    index: flow.index,
    client: flow.client,
    server: flow.server,
    serverSideBy: flow.serverSideBy,
    synSeen: flow.synSeen,
    closedBy: flow.reset ? 'reset' : flow.firstFin === 'up' ? 'client-fin' : flow.firstFin === 'down' ? 'server-fin' : 'open',
    firstPacketMs: state.firstPacketMs,
    lastPacketMs: state.lastPacketMs,
    up,
    down,
    tls: state.tls.info(),
    requests: state.tls.requests,
  };
}
