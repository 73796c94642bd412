/**
 * TCP connections of a capture: segments grouped by 4-tuple, the server side decided once per connection
 * (DESIGN.md "Direction"), and a new connection started when a 4-tuple is reused after FIN/RST.
 */
import type { Direction, Endpoint, ServerSideBy } from '../model.ts';
import type { TcpSegment } from './decode.ts';

/** TCP flag bits (RFC 9293 §3.1). */
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_ACK = 0x10;

/** Well-known ports end below this (IANA system ports). */
const WELL_KNOWN_PORT_LIMIT = 1024;

/** A connection as the flow table knows it; the analyzer hangs its per-connection state on `state`. */
export interface Flow<S> {
  index: number;
  client: Endpoint;
  server: Endpoint;
  serverSideBy: ServerSideBy;
  /** Client's initial sequence number, when its SYN was captured. */
  clientIsn: number | null;
  synSeen: boolean;
  finFrom: { up: boolean; down: boolean };
  /** The side that sent the first FIN: it closed actively, so its socket goes through TIME_WAIT. */
  firstFin: Direction | null;
  reset: boolean;
  state: S;
}

/** Keys a segment by its endpoints, the same key for both directions. */
function flowKey(s: TcpSegment): string {
  const a = `${s.srcIp}]${s.srcPort}`;
  const b = `${s.dstIp}]${s.dstPort}`;
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/**
 * Assigns every TCP segment to a connection and a direction.
 *
 * `createState` builds the analyzer's state for a new connection; `onRetire` hears of a connection replaced
 * by a new one on the same 4-tuple, so its state can be finished before the new one begins.
 */
export class FlowTable<S> {
  private readonly byKey = new Map<string, Flow<S>>();
  readonly flows: Flow<S>[] = [];

  constructor(
    private readonly serverPorts: ReadonlySet<number>,
    private readonly createState: (flow: Omit<Flow<S>, 'state'>) => S,
    private readonly onRetire: (flow: Flow<S>) => void,
  ) {}

  /** The connection and direction of a segment, creating the connection on its first packet. */
  lookup(s: TcpSegment): { flow: Flow<S>; direction: Direction } {
    const key = flowKey(s);
    const syn = (s.flags & TCP_SYN) !== 0 && (s.flags & TCP_ACK) === 0;
    let flow = this.byKey.get(key);
    if (flow !== undefined && syn && this.startsNewConnection(flow, s)) {
      this.onRetire(flow);
      flow = undefined;
    }
    if (flow === undefined) {
      flow = this.create(s, syn);
      this.byKey.set(key, flow);
    }
    const direction: Direction =
      s.srcPort === flow.client.port && s.srcIp === flow.client.ip ? 'up' : 'down';
    if (syn && direction === 'up' && flow.clientIsn === null) {
      flow.clientIsn = s.seq;
      flow.synSeen = true;
    }
    if ((s.flags & TCP_FIN) !== 0) {
      flow.finFrom[direction] = true;
      flow.firstFin ??= direction;
    }
    if ((s.flags & TCP_RST) !== 0) flow.reset = true;
    return { flow, direction };
  }

  /**
   * Starts a new connection on the segment's 4-tuple, retiring the current one: for data that cannot
   * belong to a connection that already closed.
   */
  restart(s: TcpSegment): { flow: Flow<S>; direction: Direction } {
    const key = flowKey(s);
    const old = this.byKey.get(key);
    if (old !== undefined) this.onRetire(old);
    this.byKey.set(key, this.create(s, false));
    return this.lookup(s);
  }

  /**
   * A client SYN on a known 4-tuple opens a new connection unless it retransmits the current one's SYN (same
   * initial sequence number): the port was reused after FIN/RST and TIME_WAIT, or the capture began mid-stream.
   */
  private startsNewConnection(flow: Flow<S>, s: TcpSegment): boolean {
    return flow.clientIsn !== s.seq;
  }

  private create(s: TcpSegment, syn: boolean): Flow<S> {
    const src = { ip: s.srcIp, port: s.srcPort };
    const dst = { ip: s.dstIp, port: s.dstPort };
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
    const base = {
      index: this.flows.length,
      client: srcIsServer ? dst : src,
      server: srcIsServer ? src : dst,
      serverSideBy: by,
      clientIsn: null,
      synSeen: false,
      finFrom: { up: false, down: false },
      firstFin: null,
      reset: false,
    };
    const flow: Flow<S> = { ...base, state: this.createState(base) };
    this.flows.push(flow);
    return flow;
  }
}
