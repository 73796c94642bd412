/**
 * A connection that closed waits out a 10 s linger (capture time) before its report goes out: late packets
 * (the last ACK, retransmissions) still join it, new data on its 4-tuple opens a new connection, and once the
 * linger is over it is forgotten. Closing releases the TLS walker and the reassemblers and keeps only what
 * these late packets need, so this path is checked on a hand-made capture with known answers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture, streamCapture } from '../../bench/analyze/capture.ts';
import type { ConnectionReport } from '../../bench/model/index.ts';
import { classicPcap, ethernet, ipv4, tcp, tempDir, type ClassicPacket } from '../pcap/helpers.ts';

const FIN = 0x01;
const SYN = 0x02;
const PSH = 0x08;
const ACK = 0x10;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A packet of the connection 10.0.0.1:40000 <-> 10.0.0.2:443 at `ms` milliseconds. */
function packet(ms: number, up: boolean, flags: number, seq: number, ack: number, payload = ''): ClassicPacket {
  const segment = tcp({
    srcPort: up ? 40000 : 443,
    dstPort: up ? 443 : 40000,
    seq,
    ack,
    flags,
    payload: Buffer.from(payload, 'latin1'),
  });
  const [src, dst] = up ? ['10.0.0.1', '10.0.0.2'] : ['10.0.0.2', '10.0.0.1'];
  return { tsSec: 1_700_000_000 + Math.floor(ms / 1000), tsFrac: (ms % 1000) * 1000, data: ethernet(0x0800, ipv4(segment, { src, dst })) };
}

/** Handshake, "hello" up, "world!" down, FINs from client then server, and the client's last ACK. */
const closedConnection = [
  packet(0, true, SYN, 100, 0),
  packet(1, false, SYN | ACK, 500, 101),
  packet(2, true, ACK, 101, 501),
  packet(3, true, PSH | ACK, 101, 501, 'hello'),
  packet(4, false, PSH | ACK, 501, 106, 'world!'),
  packet(5, true, FIN | ACK, 106, 507),
  packet(6, false, FIN | ACK, 507, 107),
  packet(7, true, ACK, 107, 508),
];

describe('closed connections and late packets', () => {
  it('counts late ACKs and retransmissions in the closed connection; new data opens a new one', async () => {
    const file = tmp.file(
      'late.pcap',
      classicPcap([
        ...closedConnection,
        packet(2000, false, PSH | ACK, 501, 107, 'world!'), // the server's data again, 2 s later
        packet(5000, true, PSH | ACK, 107, 508, 'new'), // data the closed connection never carried
      ]),
    );
    const result = await analyzeCapture(file);
    expect(result.connections).toHaveLength(2);
    const [closed, next] = result.connections as [ConnectionReport, ConnectionReport];
    expect(closed).toMatchObject({ index: 0, synSeen: true, closedBy: 'client-fin', firstPacketMs: 0, lastPacketMs: 2000 });
    expect(closed.up).toMatchObject({ frames: 5, tcpPayloadBytes: 5, retransmittedBytes: 0, controlFrames: 4 });
    expect(closed.down).toMatchObject({ frames: 4, tcpPayloadBytes: 12, retransmittedBytes: 6, controlFrames: 2 });
    // Stream bytes are counted once: 5 up and 6 down, none of them TLS.
    expect(closed.up.tls.nonTlsBytes).toBe(5);
    expect(closed.down.tls.nonTlsBytes).toBe(6);
    expect(next).toMatchObject({ index: 1, synSeen: false, firstPacketMs: 5000, lastPacketMs: 5000 });
    expect(next.up).toMatchObject({ frames: 1, tcpPayloadBytes: 3, retransmittedBytes: 0 });
    expect(result.total.connections).toBe(1);
  });

  it('hands the report out when the linger is over, then forgets the connection', async () => {
    const file = tmp.file(
      'linger.pcap',
      classicPcap([
        ...closedConnection,
        // Another connection's packet 12 s later: the first connection's linger (10 s) is over by then.
        { ...packet(12_000, true, SYN, 9000, 0), data: ethernet(0x0800, ipv4(tcp({ srcPort: 40001, dstPort: 443, seq: 9000, flags: SYN }), { src: '10.0.0.1', dst: '10.0.0.2' })) },
        // The server's data once more: its connection is gone, so this is a connection of its own.
        packet(13_000, false, PSH | ACK, 501, 107, 'world!'),
      ]),
    );
    const order: number[] = [];
    const summary = await streamCapture(file, {}, (c) => order.push(c.index));
    // Connection 0 went out while the capture was read (at 12 s), before the two still open at its end.
    expect(order[0]).toBe(0);
    expect(order.slice(1).sort()).toEqual([1, 2]);
    const result = await analyzeCapture(file);
    expect(result.connections[0]).toMatchObject({ lastPacketMs: 7 });
    expect(result.connections[0]!.down.retransmittedBytes).toBe(0);
    expect(result.connections[2]).toMatchObject({ synSeen: false, firstPacketMs: 13_000 });
    expect(summary.warnings.map((w) => w.kind)).toContain('capture-started-midstream');
  });
});
