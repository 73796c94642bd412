/**
 * TCP connections of a capture: segments grouped by 4-tuple, the server side decided once per connection
 * (DESIGN.md "Direction"), and a new connection started when a 4-tuple is reused after FIN/RST.
 */
import type { Direction, ServerSideBy } from '../model/index.ts';
import type { TcpSegment } from './decode.ts';

/** TCP flag bits (RFC 9293 §3.1). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** Slots of the table's cache of recently found connections (a power of two). */
const RECENT_SLOTS = 256;
const RECENT_MASK = RECENT_SLOTS - 1;

/** Well-known ports end below this (IANA system ports). */
const WELL_KNOWN_PORT_LIMIT = 1024;

/** A connection as the flow table knows it; the analyzer hangs its per-connection state on `state`. */
export interface Flow<S> {
  index: number;
  /** The endpoints, as fields rather than objects: a connection's flow can outlive most of its state. */
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  serverSideBy: ServerSideBy;
  /** Client's initial sequence number, when its SYN was captured. */
  clientIsn: number | null;
  /** The acknowledgement number of the server's SYN-ACK (the client's ISN + 1), when it was captured. */
  synAckAck: number | null;
  synSeen: boolean;
  /** A SYN without ACK came from the side taken as the server: a `--server-port` that is the client's. */
  synFromServer: boolean;
  /** A FIN was seen from the client (`finUp`) or the server (`finDown`). */
  finUp: boolean;
  finDown: boolean;
  /** The side that sent the first FIN: it closed actively, so its socket goes through TIME_WAIT. */
  firstFin: Direction | null;
  reset: boolean;
  state: S;
}

/**
 * Connections are found by a hash of their port pair first (a small integer: cheap to hash, unlike a string
 * built per packet), then by ports and addresses among the few connections that share the hash. Address
 * strings come from the decoder's caches, so comparing them is usually a pointer comparison. The hash fits
 * in 30 bits so that V8 keeps it a small integer: the exact pair (32 bits) would be a heap number, allocated
 * and hashed as a double on every lookup.
 */
function portPairKey(s: { srcPort: number; dstPort: number }): number {
  const low = s.srcPort < s.dstPort ? s.srcPort : s.dstPort;
  const high = s.srcPort < s.dstPort ? s.dstPort : s.srcPort;
  return (low << 14) ^ high;
}

/** The segment travels between the flow's two endpoints, in either direction. */
function sameEndpoints<S>(flow: Flow<S>, s: TcpSegment): boolean {
  return (
    (s.srcPort === flow.clientPort && s.srcIp === flow.clientIp && s.dstPort === flow.serverPort && s.dstIp === flow.serverIp) ||
    (s.srcPort === flow.serverPort && s.srcIp === flow.serverIp && s.dstPort === flow.clientPort && s.dstIp === flow.clientIp)
  );
}

/**
 * Assigns every TCP segment to a connection and a direction.
 *
 * `createState` builds the analyzer's state for a new connection; `onRetire` hears of a connection replaced
 * by a new one on the same 4-tuple, so its state can be finished before the new one begins.
 */
export class FlowTable<S> {
  /** Current connection per port-pair hash; several only when different addresses or port pairs share a hash. */
  private readonly byPorts = new Map<number, Flow<S> | Flow<S>[]>();
  /**
   * The connection last found for each of RECENT_SLOTS values of the hash, always one still in `byPorts`:
   * packets mostly belong to the few connections active at the moment, and a capture with thousands of
   * closed connections waiting out their linger makes the map big enough that a lookup misses the cache.
   */
  private readonly recent: (Flow<S> | undefined)[] = new Array<Flow<S> | undefined>(RECENT_SLOTS).fill(undefined);
  /** Connections created so far (the next one's index). */
  created = 0;
  /** The direction of the segment last looked up (set by `lookup`, so that it allocates nothing). */
  direction: Direction = 'up';

  constructor(
    private readonly serverPorts: ReadonlySet<number>,
    private readonly createState: (flow: Omit<Flow<S>, 'state'>) => S,
    private readonly onRetire: (flow: Flow<S>) => void,
  ) {}

  /**
   * The connection of a segment, creating it on its first packet; its direction is left in `direction`.
   * Called once per packet.
   */
  lookup(s: TcpSegment): Flow<S> {
    const syn = (s.flags & TCP_SYN) !== 0 && (s.flags & TCP_ACK) === 0;
    let flow = this.find(s);
    if (flow !== undefined && syn && this.startsNewConnection(flow, s)) {
      this.onRetire(flow);
      this.remove(flow, s);
      flow = undefined;
    }
    if (flow === undefined) flow = this.add(s, syn);
    const direction: Direction = s.srcPort === flow.clientPort && s.srcIp === flow.clientIp ? 'up' : 'down';
    this.direction = direction;
    if (syn && direction === 'up' && flow.clientIsn === null) {
      flow.clientIsn = s.seq;
      flow.synSeen = true;
    }
    if (syn && direction === 'down') flow.synFromServer = true;
    if (direction === 'down' && flow.synAckAck === null && (s.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) {
      flow.synAckAck = s.ack;
    }
    if ((s.flags & TCP_FIN) !== 0) {
      if (direction === 'up') flow.finUp = true;
      else flow.finDown = true;
      flow.firstFin ??= direction;
    }
    if ((s.flags & TCP_RST) !== 0) flow.reset = true;
    return flow;
  }

  private find(s: TcpSegment): Flow<S> | undefined {
    const key = portPairKey(s);
    const slot = key & RECENT_MASK;
    const recent = this.recent[slot];
    if (recent !== undefined && sameEndpoints(recent, s)) return recent;
    const entry = this.byPorts.get(key);
    if (entry === undefined) return undefined;
    const flow = !Array.isArray(entry) ? (sameEndpoints(entry, s) ? entry : undefined) : entry.find((f) => sameEndpoints(f, s));
    if (flow !== undefined) this.recent[slot] = flow;
    return flow;
  }

  private add(s: TcpSegment, syn: boolean): Flow<S> {
    const flow = this.create(s, syn);
    const key = portPairKey(s);
    this.recent[key & RECENT_MASK] = flow;
    const entry = this.byPorts.get(key);
    if (entry === undefined) this.byPorts.set(key, flow);
    else if (Array.isArray(entry)) entry.push(flow);
    else this.byPorts.set(key, [entry, flow]);
    return flow;
  }

  private remove(flow: Flow<S>, s: { srcPort: number; dstPort: number }): void {
    const key = portPairKey(s);
    if (this.recent[key & RECENT_MASK] === flow) this.recent[key & RECENT_MASK] = undefined;
    const entry = this.byPorts.get(key);
    if (entry === flow) this.byPorts.delete(key);
    else if (Array.isArray(entry)) {
      const at = entry.indexOf(flow);
      if (at !== -1) entry.splice(at, 1);
      if (entry.length === 0) this.byPorts.delete(key);
    }
  }

  /** Forgets a connection that is over: a later packet on its 4-tuple starts a new one. */
  evict(flow: Flow<S>): void {
    this.remove(flow, { srcPort: flow.clientPort, dstPort: flow.serverPort });
  }

  /** The connections still in the table, in order of creation. */
  live(): Flow<S>[] {
    const all: Flow<S>[] = [];
    for (const entry of this.byPorts.values()) {
      if (Array.isArray(entry)) all.push(...entry);
      else all.push(entry);
    }
    return all.sort((a, b) => a.index - b.index);
  }

  /**
   * Starts a new connection on the segment's 4-tuple, retiring the current one: for data that cannot
   * belong to a connection that already closed. Like `lookup`, leaves the direction in `direction`.
   */
  restart(s: TcpSegment): Flow<S> {
    const old = this.find(s);
    if (old !== undefined) {
      this.onRetire(old);
      this.remove(old, s);
    }
    this.add(s, false);
    return this.lookup(s);
  }

  /**
   * A client SYN on a known 4-tuple opens a new connection unless it retransmits the current one's SYN (same
   * initial sequence number) or is the SYN that the connection's captured SYN-ACK answers (captured after
   * it: timestamps taken on different CPUs can be out of order): the port was reused after FIN/RST and
   * TIME_WAIT, or the capture began mid-stream.
   */
  private startsNewConnection(flow: Flow<S>, s: TcpSegment): boolean {
    if (flow.clientIsn === null) return flow.synAckAck !== ((s.seq + 1) >>> 0);
    return flow.clientIsn !== s.seq;
  }

  private create(s: TcpSegment, syn: boolean): Flow<S> {
    const synAck = (s.flags & TCP_SYN) !== 0 && (s.flags & TCP_ACK) !== 0;
    let srcIsServer: boolean;
    let by: ServerSideBy;
    if (this.serverPorts.has(s.dstPort) !== this.serverPorts.has(s.srcPort)) {
      srcIsServer = this.serverPorts.has(s.srcPort);
      by = 'server-port';
    } else if (syn) {
      srcIsServer = false;
      by = 'syn';
    } else if (synAck) {
      srcIsServer = true;
      by = 'syn-ack';
    } else if ((s.srcPort < WELL_KNOWN_PORT_LIMIT) !== (s.dstPort < WELL_KNOWN_PORT_LIMIT)) {
      srcIsServer = s.srcPort < WELL_KNOWN_PORT_LIMIT;
      by = 'well-known-port';
    } else {
      srcIsServer = s.srcPort < s.dstPort;
      by = 'lower-port';
    }
    const flow: Flow<S> = {
      index: this.created++,
      clientIp: srcIsServer ? s.dstIp : s.srcIp,
      clientPort: srcIsServer ? s.dstPort : s.srcPort,
      serverIp: srcIsServer ? s.srcIp : s.dstIp,
      serverPort: srcIsServer ? s.srcPort : s.dstPort,
      serverSideBy: by,
      clientIsn: null,
      synAckAck: null,
      synSeen: false,
      synFromServer: false,
      finUp: false,
      finDown: false,
      firstFin: null,
      reset: false,
      state: undefined as S,
    };
    // One literal with every field, filled in place: an object spread (`{ ...base, state }`) gives V8 an
    // object whose field reads and writes in `lookup` are several times slower, once per packet.
    flow.state = this.createState(flow);
    return flow;
  }
}
