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
  type KeyLogSource,
  type SkippedPackets,
  type TimelineBucket,
  type TlsCounters,
} from '../model/index.ts';
import { isSupportedLinkType, PacketDecoder, type DecodeResult } from '../pcap/decode.ts';
import { FlowTable, TCP_FIN, TCP_RST, TCP_SYN, type Flow } from '../pcap/flows.ts';
import type { CaptureReadSummary, CapturedPacket } from '../pcap/packet.ts';
import { readCapture } from '../pcap/reader.ts';
import { DirectionReassembler, seenBefore, type StreamSink } from '../pcap/reassembly.ts';
import { TlsStreamWalker } from '../tls/walker.ts';
import { loadKeyLog, mergeKeyLog, parseKeyLog, type KeyLog } from '../tls/keylog.ts';
import { SECRETS_TLS_KEY_LOG } from '../pcap/pcapng.ts';
import { auditReuse } from './reuse.ts';
import { CounterSlab, FIELD, FIELD_COUNT } from './slab.ts';

/** Places of the counters a packet adds to, within a direction of a connection's slab slot. */
const FRAMES = FIELD.frames;
const WIRE_BYTES = FIELD.wireBytes;
const IP_BYTES = FIELD.ipBytes;
const HEADER_BYTES = FIELD.headerBytes;
const TCP_PAYLOAD_BYTES = FIELD.tcpPayloadBytes;
const RETRANSMITTED_BYTES = FIELD.retransmittedBytes;
const CONTROL_FRAMES = FIELD.controlFrames;
const CONTROL_WIRE_BYTES = FIELD.controlWireBytes;

/** What `analyzeCapture` can be asked. */
export interface AnalyzeOptions {
  /** Ports that identify the server side of a connection (`--server-port`). */
  serverPorts?: number[];
  /** NSS key log used to decrypt TLS 1.3 records far enough to classify them exactly (`--keylog`). */
  keyLogPath?: string;
  /** How `keyLogPath` was chosen: given (`--keylog`, the default) or found beside the capture. */
  keyLogFrom?: 'option' | 'beside-capture';
  /** Asked between chunks of the file; a promise pauses the read until it settles (output backpressure). */
  backpressure?: () => Promise<void> | null;
  /** When set, the result carries wire bytes per direction in buckets of this many milliseconds. */
  timelineBucketMs?: number;
}

/** One frame taken back out of a phase mark: the frame that opened the next phase. */
interface PhaseMinus {
  dir: Direction;
  wireBytes: number;
  payloadBytes: number;
}

/** A connection's phases: no payload yet (nothing allocated but its flow and this state), open, finished. */
const QUIET = 0;
const OPEN = 1;
const FINISHED = 2;

/** No FIN seen in a direction (a FIN's sequence number is a uint32). */
const NO_FIN = -1;

/**
 * Per-connection state while the capture is read.
 *
 * A connection starts quiet: its traffic counters are a slot of the account's `CounterSlab` and nothing else
 * is allocated, so the half-open connections of a SYN flood cost a few hundred bytes each. Its first payload
 * opens it: a TLS walker and two reassemblers, this object being the sink of both (stream bytes go to the
 * walker through `tls`). When it is closed and complete, `finish` ends the walker, keeps what the report
 * needs and drops the walker and the reassemblers. A closed connection waits out CLOSED_LINGER_MS in the
 * table (late ACKs and retransmissions still join it), and on a large capture thousands wait at once: what
 * lingers is the flow, this object and the walker's two TLS counter objects.
 */
class ConnectionState implements StreamSink {
  phase = QUIET;
  /** Open: the reassemblers; null while quiet and once finished. */
  reassemblyUp: DirectionReassembler | null = null;
  reassemblyDown: DirectionReassembler | null = null;
  /**
   * Quiet: each direction's first stream byte (its SYN's sequence number + 1) when a SYN was seen; finished:
   * its next unwrapped sequence number. NaN when unknown.
   */
  nextSeqUp = Number.NaN;
  nextSeqDown = Number.NaN;
  /** The sequence number each direction's FIN took (NO_FIN before one): the stream is whole once it is reached. */
  finSeqUp = NO_FIN;
  finSeqDown = NO_FIN;
  gaps = 0;
  startedMidstream = false;

  tls: TlsStreamWalker | null = null;
  /** Set by `finish`: the TLS walker's counters per direction and what the handshake told. */
  tlsUp: TlsCounters | null = null;
  tlsDown: TlsCounters | null = null;
  tlsInfo: ConnectionTls | null = null;
  requests = 0;
  /** Its report has been handed out: nothing may be added to it any more. */
  emitted = false;
  /** It waits in the closed queue (closed by FINs both ways or by a reset). */
  closing = false;
  /** Both directions' counts before the frame that carried the first application data (ConnectionPhases). */
  setupEnd: { up: PhaseBytes; down: PhaseBytes } | null = null;
  /** Both directions' counts before the first FIN or RST. */
  teardownStart: { up: PhaseBytes; down: PhaseBytes } | null = null;

  constructor(
    /** Base of its counters in the account's slab. */
    readonly slot: number,
    /**
     * Capture times of the first and last packet: whole seconds since the capture's first packet, and the
     * packet's own nanoseconds. Small integers, where milliseconds would be a heap number written per packet;
     * `CaptureAccount.ms` turns them into the report's milliseconds.
     */
    readonly firstSec: number,
    readonly firstNsec: number,
    public lastSec: number,
    public lastNsec: number,
  ) {}

  /** The first payload: the walker and the reassemblers begin, from the SYNs seen while quiet. */
  open(keyLog: KeyLog | undefined): void {
    this.phase = OPEN;
    this.tls = new TlsStreamWalker(keyLog === undefined ? {} : { keyLog });
    const up = (this.reassemblyUp = new DirectionReassembler(this, 'up'));
    const down = (this.reassemblyDown = new DirectionReassembler(this, 'down'));
    if (!Number.isNaN(this.nextSeqUp)) up.syn(this.nextSeqUp - 1);
    if (!Number.isNaN(this.nextSeqDown)) down.syn(this.nextSeqDown - 1);
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

  /** A SYN while quiet or after `finish`: it starts a direction that had not started (the reassembler's `syn`). */
  synWithoutReassembler(dir: Direction, isn: number): void {
    if (dir === 'up' && Number.isNaN(this.nextSeqUp)) this.nextSeqUp = isn + 1;
    if (dir === 'down' && Number.isNaN(this.nextSeqDown)) this.nextSeqDown = isn + 1;
  }

  /** A FIN in `dir`, taking sequence number `seq`. */
  fin(dir: Direction, seq: number): void {
    if (dir === 'up') this.finSeqUp = seq;
    else this.finSeqDown = seq;
  }

  /**
   * No data of `dir` can still arrive to join the stream: none waits behind a hole, and the stream reached
   * its FIN (a FIN captured before the last data segment, timestamps out of order, leaves the stream open).
   */
  complete(dir: Direction): boolean {
    const reassembly = this.reassembly(dir);
    if (reassembly === null) return true;
    if (!reassembly.complete) return false;
    const finSeq = dir === 'up' ? this.finSeqUp : this.finSeqDown;
    const next = reassembly.nextSeq;
    return finSeq === NO_FIN || Number.isNaN(next) || next >>> 0 === finSeq;
  }

  /**
   * Ends the streams and the TLS walker, keeps their figures and the positions late packets still need, and
   * lets the walker and the reassemblers go. Returns the walker (for its warnings), or null when it never
   * opened or was already finished.
   */
  finish(): TlsStreamWalker | null {
    const tls = this.tls;
    this.phase = FINISHED;
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

/**
 * How long (in capture time) a connection that never carried payload stays after its last packet: the
 * half-open connections of a SYN flood, port scans, refused connections. Linux conntrack keeps an unanswered
 * SYN 120 s (nf_conntrack_tcp_timeout_syn_sent), longer than a client's SYN retransmissions last (1, 2, 4
 * ... 64 s apart with tcp_syn_retries 6), so a retransmitted SYN still joins its connection.
 */
const QUIET_IDLE_MS = 120_000;

/**
 * At most this many connections without payload are kept at once: past it the oldest is reported early, as
 * conntrack's early_drop sheds unreplied entries when its table is full. It bounds memory on a flood faster
 * than the idle timeout can drain (about 2,000 half-open connections a second, whole minutes long); a
 * warning counts the early ones, since a later packet of one would open a new connection. A quiet connection
 * costs about 1 KB of heap (its flow, this state, its slab slot, its client's address): 60,000 make ~60 MB,
 * which with the runtime and the young generation keeps a flood's capture within 200 MB RSS (250,000 made
 * 580-880 MB).
 */
const MAX_QUIET_CONNECTIONS = 60_000;

/** Connections still open at the end of the file reported between two looks at the output's backpressure. */
const LIVE_BATCH = 1024;

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
  const keyLogs: KeyLogSource[] = [];
  if (options.keyLogPath !== undefined) {
    const loaded = await loadKeyLog(options.keyLogPath);
    keyLog = loaded.keyLog;
    warnings.addAll(loaded.warnings);
    keyLogs.push({ from: options.keyLogFrom ?? 'option', path: options.keyLogPath, clientRandoms: keyLog.size });
  }
  const account = new CaptureAccount(warnings, keyLog, options, onConnection);
  const file = await readCapture(path, (packet) => account.packet(packet), {
    ...(options.backpressure === undefined ? {} : { backpressure: options.backpressure }),
    onSecrets: (secretsType, data) => {
      // Other secrets types (WireGuard, SSH, OPC UA) open nothing this analyzer reads.
      if (secretsType !== SECRETS_TLS_KEY_LOG) return;
      const embedded = parseKeyLog(data.toString('utf8'), `${path} (decryption secrets block)`);
      warnings.addAll(embedded.warnings);
      account.addKeyLog(embedded.keyLog);
      keyLogs.push({ from: 'pcapng', path, clientRandoms: embedded.keyLog.size });
    },
  });
  await account.emitLive(options.backpressure);
  return { ...account.end(path, file), ...(keyLogs.length === 0 ? {} : { keyLogs }) };
}

/**
 * Connections waiting to be reported, oldest first (`head` is the front), with the capture time each may go
 * at: checked once per packet, a number in an array of numbers costs no trip to a connection's state (a
 * cache miss, as the connection went quiet or closed long ago). A packet that came later moves the real
 * deadline later; the connection then goes to the back of the queue.
 */
class ExpiryQueue {
  /** Taken entries are cleared: the array is compacted only now and then, and a retired connection's flow and state must not wait for that. */
  flows: (Flow<ConnectionState> | null)[] = [];
  deadlinesMs: number[] = [];
  head = 0;

  get size(): number {
    return this.flows.length - this.head;
  }

  /** The front's deadline, Infinity when empty. */
  get nextMs(): number {
    return this.head < this.flows.length ? this.deadlinesMs[this.head]! : Number.POSITIVE_INFINITY;
  }

  push(flow: Flow<ConnectionState>, deadlineMs: number): void {
    this.flows.push(flow);
    this.deadlinesMs.push(deadlineMs);
  }

  /** Takes the front. */
  shift(): Flow<ConnectionState> {
    const flow = this.flows[this.head]!;
    // Held here, a retired connection would stay alive until the next compaction: on a SYN flood that was
    // as many flows and states again as the 60,000 the table holds (+21 MB of heap).
    this.flows[this.head] = null;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.flows.length) {
      this.flows = this.flows.slice(this.head);
      this.deadlinesMs = this.deadlinesMs.slice(this.head);
      this.head = 0;
    }
    return flow;
  }
}

/**
 * The accounting of one capture while it is read: `packet` runs once per packet, so its state lives in fields
 * (a number kept in a closure's variable would be boxed anew on every write).
 */
class CaptureAccount {
  private readonly decoder = new PacketDecoder();
  private readonly slab = new CounterSlab();
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
  /** Requests of each connection that carried any (the reuse audit reads only those). */
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
  /** The earliest deadline of the two queues' fronts. */
  private nextDeadlineMs = Number.POSITIVE_INFINITY;
  private readonly flows: FlowTable<ConnectionState>;
  /** Closed connections waiting out CLOSED_LINGER_MS. */
  private readonly closed = new ExpiryQueue();
  /** Connections without payload yet, waiting out QUIET_IDLE_MS (each connection enters it once, when made). */
  private readonly quiet = new ExpiryQueue();
  /** Connections in the QUIET phase, and those reported early because too many were. */
  private quietCount = 0;
  private quietDroppedEarly = 0;
  /** `--server-port`s that decided some connection's server side, and connections whose SYN came from one. */
  private readonly serverPortsMatched = new Set<number>();
  private readonly synFromServerPort = new Map<number, number>();
  /** Packets skipped because the decoder does not know their link type, by link type. */
  private readonly unsupportedLinkTypes = new Map<number, number>();
  /** Packets skipped inside encapsulations the decoder recognises but does not open, by name. */
  private readonly unopened = new Map<string, number>();
  /** Connections whose TLS began after plaintext, by the protocol that upgraded. */
  private readonly plaintextPrefixes = new Map<string, number>();

  private readonly serverPorts: readonly number[];

  constructor(
    private readonly warnings: WarningSet,
    private keyLog: KeyLog | undefined,
    options: AnalyzeOptions,
    private readonly onConnection: (report: ConnectionReport, phases: ConnectionPhases) => void,
  ) {
    this.bucketMs = options.timelineBucketMs;
    this.serverPorts = options.serverPorts ?? [];
    this.flows = new FlowTable<ConnectionState>(
      new Set(options.serverPorts ?? []),
      (flow) => this.create(flow),
      (flow) => this.emit(flow),
    );
  }

  /** Secrets found while reading (a pcapng Decryption Secrets Block): connections opened from now on use them. */
  addKeyLog(keyLog: KeyLog): void {
    if (this.keyLog === undefined) this.keyLog = keyLog;
    else mergeKeyLog(this.keyLog, keyLog);
  }

  private create(flow: Omit<Flow<ConnectionState>, 'state'>): ConnectionState {
    const state = new ConnectionState(this.slab.allocate(), this.nowSec, this.nowNsec, this.nowSec, this.nowNsec);
    const deadlineMs = this.nowMs + QUIET_IDLE_MS;
    this.quiet.push(flow as Flow<ConnectionState>, deadlineMs);
    if (deadlineMs < this.nextDeadlineMs) this.nextDeadlineMs = deadlineMs;
    // Past the cap, the next packet runs `expire` even though no deadline is due: within the first idle
    // timeout of a capture none is, and a flood would grow the table unchecked until then.
    if (++this.quietCount > MAX_QUIET_CONNECTIONS) this.nextDeadlineMs = Number.NEGATIVE_INFINITY;
    return state;
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
    if (nowMs >= this.nextDeadlineMs) this.expire();
    const decoded = this.decoder.decode(packet.linkType, packet.data, packet.offset, packet.offset + packet.capturedLength, packet.originalLength);
    if (decoded.kind !== 'tcp') {
      this.skip(decoded);
      if (decoded.kind === 'non-ip' && !isSupportedLinkType(packet.linkType)) {
        this.unsupportedLinkTypes.set(packet.linkType, (this.unsupportedLinkTypes.get(packet.linkType) ?? 0) + 1);
      }
      if ((decoded.kind === 'non-ip' || decoded.kind === 'non-tcp') && decoded.unopened !== undefined) {
        this.unopened.set(decoded.unopened, (this.unopened.get(decoded.unopened) ?? 0) + 1);
      }
      return;
    }
    const segment = decoded.segment;
    const flows = this.flows;
    let flow = flows.lookup(segment);
    let direction = flows.direction;
    const syn = (segment.flags & TCP_SYN) !== 0;
    const payloadLength = segment.payloadLength;
    // A SYN's sequence number is consumed by the SYN itself; data it carries (TCP Fast Open) follows it.
    const dataSeq = syn ? (segment.seq + 1) >>> 0 : segment.seq;
    if (flow.state.phase === FINISHED && payloadLength > 0 && !flow.state.seen(direction, dataSeq, payloadLength)) {
      // New data on a 4-tuple whose connection already closed: a new connection whose SYN was not captured.
      flow = flows.restart(segment);
      direction = flows.direction;
    }
    const state = flow.state;
    state.lastSec = nowSec;
    state.lastNsec = nowNsec;
    if (state.teardownStart === null && (segment.flags & (TCP_FIN | TCP_RST)) !== 0) state.teardownStart = this.phaseMark(state);
    const counters = this.slab.values;
    const at = state.slot + (direction === 'up' ? 0 : FIELD_COUNT);
    const wireBytes = packet.originalLength;
    counters[at + FRAMES]! += 1;
    counters[at + WIRE_BYTES]! += wireBytes;
    counters[at + IP_BYTES]! += segment.ipBytes;
    counters[at + HEADER_BYTES]! += segment.headerBytes;
    counters[at + TCP_PAYLOAD_BYTES]! += payloadLength;
    if (payloadLength === 0) {
      counters[at + CONTROL_FRAMES]! += 1;
      counters[at + CONTROL_WIRE_BYTES]! += wireBytes;
    } else if (state.phase === QUIET) {
      if (!state.closing) this.quietCount--;
      state.open(this.keyLog);
    }
    if ((segment.flags & TCP_FIN) !== 0) state.fin(direction, (dataSeq + payloadLength) >>> 0);
    const reassembly = state.reassembly(direction);
    if (reassembly !== null) {
      if (syn) reassembly.syn(segment.seq);
      const seen = reassembly.segment(dataSeq, payloadLength, packet.data, segment.payloadStart, segment.payloadEnd);
      if (seen > 0) counters[at + RETRANSMITTED_BYTES]! += seen;
    } else {
      if (syn) state.synWithoutReassembler(direction, segment.seq);
      // Finished: payload here was all seen before (new data opened a new connection above).
      if (payloadLength > 0) counters[at + RETRANSMITTED_BYTES]! += payloadLength;
    }

    if (state.setupEnd === null && state.tls?.applicationDataSeen === true) {
      // This frame carried the first application data: it belongs to the request, not to the opening.
      state.setupEnd = this.phaseMark(state, { dir: direction, wireBytes, payloadBytes: payloadLength });
    }
    if (this.bucketMs !== undefined) this.timeline(direction, wireBytes);
    if (!state.closing && (flow.reset || (flow.finUp && flow.finDown))) this.closing(flow);
  }

  /**
   * A connection's counts so far in both directions (for its phases); `minus` takes one frame of `dir` back
   * out. Runs a few times per connection: it reads the walker's handshake bytes in place (copying its
   * counters here was a quarter of everything `analyze` allocated).
   */
  private phaseMark(state: ConnectionState, minus?: PhaseMinus): { up: PhaseBytes; down: PhaseBytes } {
    return { up: this.mark(state, 'up', minus), down: this.mark(state, 'down', minus) };
  }

  private mark(state: ConnectionState, dir: Direction, minus: PhaseMinus | undefined): PhaseBytes {
    const counters = this.slab.values;
    const at = state.slot + (dir === 'up' ? 0 : FIELD_COUNT);
    const own = minus?.dir === dir;
    const handshakeBytes = state.tls === null ? ((dir === 'up' ? state.tlsUp : state.tlsDown)?.handshakeBytes ?? 0) : state.tls.handshakeBytes(dir);
    return {
      frames: counters[at + FRAMES]! - (own ? 1 : 0),
      wireBytes: counters[at + WIRE_BYTES]! - (own ? minus.wireBytes : 0),
      tcpPayloadBytes: counters[at + TCP_PAYLOAD_BYTES]! - (own ? minus.payloadBytes : 0),
      handshakeBytes,
    };
  }

  /** A finished connection's opening and closing phases (the steady state's input). */
  private phases(state: ConnectionState): ConnectionPhases {
    const end = this.phaseMark(state);
    const start = state.teardownStart;
    const rest = (dir: Direction): PhaseBytes => ({
      frames: end[dir].frames - start![dir].frames,
      wireBytes: end[dir].wireBytes - start![dir].wireBytes,
      tcpPayloadBytes: end[dir].tcpPayloadBytes - start![dir].tcpPayloadBytes,
      handshakeBytes: end[dir].handshakeBytes - start![dir].handshakeBytes,
    });
    return { setup: state.setupEnd, teardown: start === null ? null : { up: rest('up'), down: rest('down') } };
  }

  /**
   * A connection closed by FINs both ways or by a reset. FINs end both streams: once no data can still join
   * them the walker is finished at once. After a reset the other side's data may still be in flight (a
   * reset does not wait for it), so the streams stay open until the linger is over.
   */
  private closing(flow: Flow<ConnectionState>): void {
    const state = flow.state;
    if (!flow.reset && (!state.complete('up') || !state.complete('down'))) return;
    if (state.phase === QUIET) this.quietCount--;
    if (!flow.reset) this.finish(flow);
    state.closing = true;
    const deadlineMs = this.nowMs + CLOSED_LINGER_MS;
    this.closed.push(flow, deadlineMs);
    if (deadlineMs < this.nextDeadlineMs) this.nextDeadlineMs = deadlineMs;
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

  /** Reports the closed connections whose linger is over and the quiet ones whose idle time is. */
  private expire(): void {
    const now = this.nowMs;
    const closed = this.closed;
    while (closed.nextMs <= now) {
      const flow = closed.shift();
      const state = flow.state;
      if (state.emitted) continue;
      const deadlineMs = this.ms(state.lastSec, state.lastNsec) + CLOSED_LINGER_MS;
      if (deadlineMs > now) closed.push(flow, deadlineMs);
      else this.retire(flow);
    }
    const quiet = this.quiet;
    while (quiet.nextMs <= now || (this.quietCount > MAX_QUIET_CONNECTIONS && quiet.size > 0)) {
      const early = quiet.nextMs > now;
      const flow = quiet.shift();
      const state = flow.state;
      // Opened or closed since: no longer this queue's to report.
      if (state.emitted || state.phase !== QUIET || state.closing) continue;
      const deadlineMs = this.ms(state.lastSec, state.lastNsec) + QUIET_IDLE_MS;
      if (deadlineMs > now && !early) {
        quiet.push(flow, deadlineMs);
        continue;
      }
      if (early) this.quietDroppedEarly++;
      this.retire(flow);
    }
    this.nextDeadlineMs = Math.min(closed.nextMs, quiet.nextMs);
  }

  /** Reports a connection that is over and forgets it: a later packet on its 4-tuple starts a new one. */
  private retire(flow: Flow<ConnectionState>): void {
    this.emit(flow);
    this.flows.evict(flow);
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

  /** Reports a connection that is over, adds it to the totals, and lets its state go. */
  private emit(flow: Flow<ConnectionState>): void {
    const state = flow.state;
    if (state.emitted) return;
    if (state.phase === QUIET && !state.closing) this.quietCount--;
    this.finish(flow);
    state.emitted = true;
    const r = this.report(flow);
    // Read from its counters before the slot goes back to the slab.
    const phases = this.phases(state);
    this.slab.release(state.slot);
    const totals = this.totals;
    addTraffic(totals.up, r.up);
    addTraffic(totals.down, r.down);
    if (r.synSeen) totals.connections++;
    if (r.tls?.handshake === 'full') totals.fullHandshakes++;
    if (r.tls?.handshake === 'resumed') totals.resumedHandshakes++;
    totals.requests += r.requests;
    if (r.requests > 0) this.requestCounts.push(r.requests);
    this.gaps += state.gaps;
    if (state.startedMidstream) this.midstream++;
    const prefix = r.tls?.plaintextPrefix;
    if (prefix !== undefined && prefix !== null) this.plaintextPrefixes.set(prefix, (this.plaintextPrefixes.get(prefix) ?? 0) + 1);
    if (flow.serverSideBy === 'server-port') {
      this.serverPortsMatched.add(flow.serverPort);
      if (flow.synFromServer) this.synFromServerPort.set(flow.serverPort, (this.synFromServerPort.get(flow.serverPort) ?? 0) + 1);
    }
    this.onConnection(r, phases);
  }

  /** The report of one finished connection. */
  private report(flow: Flow<ConnectionState>): ConnectionReport {
    const { state } = flow;
    return {
      index: flow.index,
      client: { ip: flow.clientIp, port: flow.clientPort },
      server: { ip: flow.serverIp, port: flow.serverPort },
      serverSideBy: flow.serverSideBy,
      synSeen: flow.synSeen,
      closedBy: flow.reset ? 'reset' : flow.firstFin === 'up' ? 'client-fin' : flow.firstFin === 'down' ? 'server-fin' : 'open',
      firstPacketMs: this.ms(state.firstSec, state.firstNsec),
      lastPacketMs: this.ms(state.lastSec, state.lastNsec),
      up: this.slab.traffic(state.slot, 'up', state.tlsUp),
      down: this.slab.traffic(state.slot, 'down', state.tlsDown),
      tls: state.tlsInfo,
      requests: state.requests,
    };
  }

  /**
   * The file is read: reports the connections still open, in batches, letting the output drain between them
   * (`AnalyzeOptions.backpressure`). A flood's capture ends with 60,000 half-open connections at once: their
   * 42 MB of JSON, queued on a pipe in one go, were the peak of `analyze --json` (npm run perf:flood).
   */
  async emitLive(backpressure: (() => Promise<void> | null) | undefined): Promise<void> {
    const live = this.flows.live();
    for (let i = 0; i < live.length; i++) {
      this.emit(live[i]!);
      if (backpressure !== undefined && i % LIVE_BATCH === LIVE_BATCH - 1) {
        const wait = backpressure();
        if (wait !== null) await wait;
      }
    }
  }

  /** The file is read and every connection reported (`emitLive`): sums up. */
  end(path: string, file: CaptureReadSummary): AnalyzeSummary {
    const warnings = this.warnings;
    warnings.addAll(file.warnings);

    if (file.truncatedPackets > 0) {
      warnings.add(warning('snaplen-truncated', { packets: file.truncatedPackets }));
    }
    if (this.midstream > 0) {
      warnings.add(warning('capture-started-midstream', { connections: this.midstream }));
    }
    if (this.gaps > 0) {
      warnings.add(warning('capture-gap', { gaps: this.gaps }));
    }
    if (this.unsupportedLinkTypes.size > 0) {
      const linkTypes = [...this.unsupportedLinkTypes].map(([linkType, packets]) => ({ linkType, packets }));
      warnings.add(warning('unsupported-link-type', { linkTypes }, linkTypes.reduce((n, l) => n + l.packets, 0)));
    }
    if (this.unopened.size > 0) {
      const encapsulations = [...this.unopened].map(([name, packets]) => ({ name, packets }));
      warnings.add(warning('unsupported-encapsulation', { encapsulations }, encapsulations.reduce((n, e) => n + e.packets, 0)));
    }
    if (this.plaintextPrefixes.size > 0) {
      const protocols = [...this.plaintextPrefixes].map(([name, connections]) => ({ name, connections }));
      warnings.add(warning('tls-after-plaintext', { protocols }, protocols.reduce((n, p) => n + p.connections, 0)));
    }
    const unmatched = [...new Set(this.serverPorts)].filter((port) => !this.serverPortsMatched.has(port));
    if (unmatched.length > 0) {
      warnings.add(warning('server-port-unmatched', { ports: unmatched }, unmatched.length));
    }
    for (const [port, connections] of this.synFromServerPort) {
      warnings.add(warning('server-port-is-client', { port, connections }, connections));
    }
    if (this.quietDroppedEarly > 0) {
      warnings.add(warning('quiet-connections-dropped-early', { connections: this.quietDroppedEarly, max: MAX_QUIET_CONNECTIONS }));
    }

    const bucketMs = this.bucketMs;
    return {
      schema: 'tls-reuse-bench/analyze@1',
      file: {
        path,
        format: file.format,
        ...(file.compression === undefined || file.compression === null ? {} : { compression: file.compression }),
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
