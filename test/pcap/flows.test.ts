import { describe, expect, it } from 'vitest';
import type { TcpSegment } from '../../bench/pcap/decode.ts';
import { FlowTable, TCP_ACK, TCP_FIN, TCP_SYN } from '../../bench/pcap/flows.ts';

function seg(src: string, sport: number, dst: string, dport: number, flags: number, seq = 1000): TcpSegment {
  return {
    ipVersion: 4, srcIp: src, dstIp: dst, srcPort: sport, dstPort: dport, ipBytes: 52, headerBytes: 52,
    seq, ack: 0, flags, payloadLength: 0, payloadStart: 0, payloadEnd: 0,
  };
}

function table(serverPorts: number[] = []) {
  const retired: number[] = [];
  const flows = new FlowTable<null>(new Set(serverPorts), () => null, (f) => retired.push(f.index));
  return { flows, retired };
}

describe('FlowTable', () => {
  it('keeps apart connections that share a port pair on different addresses', () => {
    const { flows } = table();
    const a = flows.lookup(seg('10.0.0.1', 50000, '10.0.0.9', 443, TCP_SYN));
    const b = flows.lookup(seg('10.0.0.2', 50000, '10.0.0.9', 443, TCP_SYN));
    expect(a).not.toBe(b);
    expect(flows.lookup(seg('10.0.0.9', 443, '10.0.0.2', 50000, TCP_SYN | TCP_ACK))).toBe(b);
    expect(flows.direction).toBe('down');
    expect(flows.lookup(seg('10.0.0.1', 50000, '10.0.0.9', 443, TCP_ACK))).toBe(a);
    expect(flows.direction).toBe('up');
    expect(flows.live().map((f) => f.clientIp)).toEqual(['10.0.0.1', '10.0.0.2']);
  });

  it('keeps apart port pairs whose lookup hashes collide, and evicts one without the other', () => {
    // The table hashes a port pair as (low << 14) ^ high: (1000, 50000) and (1001, 50000 ^ 1 << 14) collide.
    const { flows } = table();
    const a = flows.lookup(seg('10.0.0.1', 1000, '10.0.0.9', 50000, TCP_SYN));
    const b = flows.lookup(seg('10.0.0.1', 1001, '10.0.0.9', 50000 ^ (1 << 14), TCP_SYN));
    expect(b).not.toBe(a);
    expect(flows.lookup(seg('10.0.0.9', 50000, '10.0.0.1', 1000, TCP_SYN | TCP_ACK))).toBe(a);
    expect(flows.direction).toBe('down');
    flows.evict(a);
    expect(flows.lookup(seg('10.0.0.1', 1001, '10.0.0.9', 50000 ^ (1 << 14), TCP_ACK))).toBe(b);
    expect(flows.live()).toEqual([b]);
  });

  it('a retransmitted SYN stays in its connection; a new ISN on a used 4-tuple opens a new one', () => {
    const { flows, retired } = table();
    const first = flows.lookup(seg('127.0.0.1', 40000, '127.0.0.1', 8443, TCP_SYN, 7));
    expect(flows.lookup(seg('127.0.0.1', 40000, '127.0.0.1', 8443, TCP_SYN, 7))).toBe(first);
    flows.lookup(seg('127.0.0.1', 40000, '127.0.0.1', 8443, TCP_FIN | TCP_ACK, 8));
    expect(first.firstFin).toBe('up');
    const second = flows.lookup(seg('127.0.0.1', 40000, '127.0.0.1', 8443, TCP_SYN, 99));
    expect(second).not.toBe(first);
    expect(second.index).toBe(1);
    expect(retired).toEqual([0]);
  });

  it('decides the server side by --server-port, SYN, SYN-ACK, well-known port, then lower port', () => {
    const cases: [number[], TcpSegment, string, string][] = [
      [[5000], seg('1.1.1.1', 5000, '2.2.2.2', 6000, TCP_ACK), '1.1.1.1', 'server-port'],
      [[], seg('1.1.1.1', 5000, '2.2.2.2', 6000, TCP_SYN), '2.2.2.2', 'syn'],
      [[], seg('1.1.1.1', 5000, '2.2.2.2', 6000, TCP_SYN | TCP_ACK), '1.1.1.1', 'syn-ack'],
      [[], seg('1.1.1.1', 50000, '2.2.2.2', 443, TCP_ACK), '2.2.2.2', 'well-known-port'],
      [[], seg('1.1.1.1', 50000, '2.2.2.2', 8443, TCP_ACK), '2.2.2.2', 'lower-port'],
    ];
    for (const [ports, s, server, by] of cases) {
      const flow = table(ports).flows.lookup(s);
      expect([flow.serverIp, flow.serverSideBy]).toEqual([server, by]);
    }
  });

  it('forgets an evicted connection: its 4-tuple starts a new one', () => {
    const { flows } = table();
    const first = flows.lookup(seg('127.0.0.1', 40000, '127.0.0.1', 8443, TCP_SYN));
    flows.evict(first);
    expect(flows.live()).toEqual([]);
    expect(flows.lookup(seg('127.0.0.1', 40000, '127.0.0.1', 8443, TCP_ACK))).not.toBe(first);
  });
});
