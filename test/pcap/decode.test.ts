import { describe, expect, it } from 'vitest';
import {
  PacketDecoder,
  formatIpv6,
  isSupportedLinkType,
  type DecodeResult,
  type TcpSegment,
} from '../../bench/pcap/decode.ts';
import { ethernet, ipv4, ipv6, linuxSll, linuxSll2, loopback, tcp, v6 } from './helpers.ts';

const payload = Buffer.from('hello, tls');
const segment4 = (): Buffer =>
  ipv4(tcp({ srcPort: 51000, dstPort: 8443, seq: 0xfffffff0, ack: 0x80000001, flags: 0x18, payload }), {
    src: '192.168.1.10',
    dst: '10.20.30.40',
  });
const segment6 = (extensions: Parameters<typeof ipv6>[1] = {}): Buffer =>
  ipv6(tcp({ srcPort: 51000, dstPort: 8443, seq: 7, ack: 9, flags: 0x02, payload }), {
    src: v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1),
    dst: v6(0, 0, 0, 0, 0, 0, 0, 1),
    ...extensions,
  });

/** A decoded segment with its captured payload cut out, in place of the payload's bounds. */
type Segment = Omit<TcpSegment, 'payloadStart' | 'payloadEnd'> & { payload: Buffer };
type Decoded = Exclude<DecodeResult, { kind: 'tcp' }> | { kind: 'tcp'; segment: Segment };

/**
 * Decodes `frame` the way the readers hand frames over: inside a larger buffer, given by its bounds. The bytes
 * around it are TCP-looking junk, so a decoder that reads past either bound gives a different answer.
 */
function decode(linkType: number, frame: Buffer, originalLength = frame.length): Decoded {
  const before = Buffer.alloc(7, 0x45);
  const buffer = Buffer.concat([before, frame, Buffer.alloc(64, 0x50)]);
  const result = new PacketDecoder().decode(linkType, buffer, before.length, before.length + frame.length, originalLength);
  if (result.kind !== 'tcp') return result;
  const { payloadStart, payloadEnd, ...segment } = result.segment;
  return { kind: 'tcp', segment: { ...segment, payload: Buffer.from(buffer.subarray(payloadStart, payloadEnd)) } };
}

function tcpOf(result: Decoded): Segment {
  expect(result.kind).toBe('tcp');
  if (result.kind !== 'tcp') throw new Error('unreachable');
  return result.segment;
}

const expected4: Segment = {
  ipVersion: 4,
  srcIp: '192.168.1.10',
  dstIp: '10.20.30.40',
  srcPort: 51000,
  dstPort: 8443,
  ipBytes: 20 + 20 + payload.length,
  headerBytes: 40,
  seq: 0xfffffff0,
  ack: 0x80000001,
  flags: 0x18,
  payloadLength: payload.length,
  payload,
};
const expected6: Segment = {
  ipVersion: 6,
  srcIp: '2001:db8::1',
  dstIp: '::1',
  srcPort: 51000,
  dstPort: 8443,
  ipBytes: 40 + 20 + payload.length,
  headerBytes: 60,
  seq: 7,
  ack: 9,
  flags: 0x02,
  payloadLength: payload.length,
  payload,
};

describe('PacketDecoder: link layers', () => {
  const cases: [string, number, Buffer, Segment][] = [
    ['Ethernet IPv4', 1, ethernet(0x0800, segment4()), expected4],
    ['Ethernet IPv6', 1, ethernet(0x86dd, segment6()), expected6],
    ['802.1Q', 1, ethernet(0x0800, segment4(), [0x8100]), expected4],
    ['802.1ad + 802.1Q', 1, ethernet(0x86dd, segment6(), [0x88a8, 0x8100]), expected6],
    ['QinQ 0x9100', 1, ethernet(0x0800, segment4(), [0x9100, 0x8100]), expected4],
    ['Linux cooked v1', 113, linuxSll(0x0800, segment4()), expected4],
    ['Linux cooked v2', 276, linuxSll2(0x86dd, segment6()), expected6],
    ['raw IPv4 (101)', 101, segment4(), expected4],
    ['raw IPv6 (101)', 101, segment6(), expected6],
    ['raw (12)', 12, segment4(), expected4],
    ['raw (14)', 14, segment6(), expected6],
    ['IPv4 (228)', 228, segment4(), expected4],
    ['IPv6 (229)', 229, segment6(), expected6],
    ['NULL little-endian AF_INET', 0, loopback(2, segment4(), true), expected4],
    ['NULL big-endian AF_INET', 0, loopback(2, segment4(), false), expected4],
    ['NULL AF_INET6 (BSD 24)', 0, loopback(24, segment6(), true), expected6],
    ['NULL AF_INET6 (FreeBSD 28)', 0, loopback(28, segment6(), false), expected6],
    ['NULL AF_INET6 (Darwin 30)', 0, loopback(30, segment6(), true), expected6],
    ['LOOP (network order)', 108, loopback(2, segment4(), false), expected4],
  ];
  for (const [name, linkType, frame, expected] of cases) {
    it(name, () => {
      expect(tcpOf(decode(linkType, frame))).toEqual(expected);
      expect(isSupportedLinkType(linkType)).toBe(true);
    });
  }

  it('non-IP frames and link types', () => {
    expect(decode(1, ethernet(0x0806, Buffer.alloc(28)))).toEqual({ kind: 'non-ip' }); // ARP
    expect(decode(1, ethernet(0x0800, Buffer.alloc(28)).subarray(0, 14 + 28))).toEqual({
      kind: 'malformed',
      reason: 'IP version 0 where IPv4 was announced',
    });
    expect(decode(113, linuxSll(0x0806, Buffer.alloc(28)))).toEqual({ kind: 'non-ip' });
    expect(decode(0, loopback(7, segment4(), true))).toEqual({ kind: 'non-ip' });
    expect(decode(147, segment4())).toEqual({ kind: 'non-ip' });
    expect(isSupportedLinkType(147)).toBe(false);
  });

  it('LOOP does not guess the byte order', () => {
    expect(decode(108, loopback(2, segment4(), true))).toEqual({ kind: 'non-ip' });
  });
});

describe('PacketDecoder: encapsulations (goldens edge-erspan2/3, edge-gtpu, edge-snap, edge-nflog-be hold the common forms against tshark)', () => {
  const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
  const gre = (flagsVersion: number, type: number, payload: Buffer, extra = Buffer.alloc(0)): Buffer =>
    ethernet(0x0800, ipv4(Buffer.concat([u16(flagsVersion), u16(type), extra, payload]), { protocol: 47, src: '10.9.0.1', dst: '10.9.0.2' }));
  const udp = (port: number, payload: Buffer): Buffer =>
    ethernet(0x0800, ipv4(Buffer.concat([u16(40000), u16(port), u16(8 + payload.length), u16(0), payload]), { protocol: 17 }));
  const gtp = (flags: number, type: number, rest: Buffer, inner: Buffer): Buffer =>
    udp(2152, Buffer.concat([Buffer.from([flags, type]), u16(rest.length + inner.length), Buffer.from([0, 0, 0x12, 0x34]), rest, inner]));
  const erspan3 = (frameType: number, subheader: boolean, frame: Buffer): Buffer => {
    const header = Buffer.alloc(12 + (subheader ? 8 : 0));
    header.writeUInt16BE(0x2000, 0);
    header[10] = frameType << 2;
    header[11] = subheader ? 1 : 0;
    return gre(0x1000, 0x22eb, Buffer.concat([header, frame]), Buffer.alloc(4));
  };
  const snap = (oui: number[], type: number, payload: Buffer): Buffer =>
    ethernet(8 + payload.length, Buffer.concat([Buffer.from([0xaa, 0xaa, 0x03, ...oui]), u16(type), payload]));

  it('opens ERSPAN type I (no header), type III with and without its subheader, and type III carrying IP', () => {
    expect(tcpOf(decode(1, gre(0x0000, 0x88be, ethernet(0x0800, segment4()))))).toEqual(expected4);
    expect(tcpOf(decode(1, erspan3(0, false, ethernet(0x86dd, segment6()))))).toEqual(expected6);
    expect(tcpOf(decode(1, erspan3(0, true, ethernet(0x0800, segment4()))))).toEqual(expected4);
    expect(tcpOf(decode(1, erspan3(2, false, segment4())))).toEqual(expected4);
  });

  it('opens a GTP-U G-PDU past its optional fields and extension headers; other messages carry no TCP', () => {
    expect(tcpOf(decode(1, gtp(0x30, 0xff, Buffer.alloc(0), segment4())))).toEqual(expected4);
    // E: the next extension type (0x85, PDU session container) is the optional fields' last byte; that
    // extension is 1 x 4 bytes and ends with next type 0.
    const extensions = Buffer.from([0, 1, 0, 0x85, 1, 0x10, 0x09, 0x00]);
    expect(tcpOf(decode(1, gtp(0x34, 0xff, extensions, segment6())))).toEqual(expected6);
    expect(decode(1, gtp(0x32, 0x01, Buffer.alloc(4), Buffer.alloc(0)))).toEqual({ kind: 'non-tcp' }); // echo request
    expect(decode(1, gtp(0x34, 0xff, Buffer.from([0, 1, 0, 0x85, 0, 0, 0, 0]), segment4())).kind).toBe('malformed');
  });

  it('opens 802.2 LLC/SNAP frames, tagged or not; other LLC frames are not IP', () => {
    expect(tcpOf(decode(1, snap([0, 0, 0], 0x0800, segment4())))).toEqual(expected4);
    expect(tcpOf(decode(1, snap([0, 0, 0], 0x8100, Buffer.concat([u16(100), u16(0x86dd), segment6()]))))).toEqual(expected6);
    expect(decode(1, ethernet(38, Buffer.from([0x42, 0x42, 0x03, ...Buffer.alloc(35)])))).toEqual({ kind: 'non-ip' }); // spanning tree
  });

  it('reads NFLOG TLVs in the byte order in which their lengths chain through the frame', () => {
    const nflog = (bigEndian: boolean, ip: Buffer): Buffer => {
      const tlv = (type: number, value: Buffer): Buffer => {
        const b = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
        if (bigEndian) (b.writeUInt16BE(4 + value.length, 0), b.writeUInt16BE(type, 2));
        else (b.writeUInt16LE(4 + value.length, 0), b.writeUInt16LE(type, 2));
        value.copy(b, 4);
        return b;
      };
      return Buffer.concat([Buffer.from([2, 0, 0, 5]), tlv(1, Buffer.from([8, 0, 3, 0])), tlv(10, Buffer.from('x\0')), tlv(9, ip)]);
    };
    expect(tcpOf(decode(239, nflog(false, segment4())))).toEqual(expected4);
    expect(tcpOf(decode(239, nflog(true, segment4())))).toEqual(expected4);
  });

  it('names the encapsulations it does not open', () => {
    const unopened = (frame: Buffer): unknown => decode(1, frame);
    expect(unopened(gre(0x0001, 0x880b, Buffer.alloc(20)))).toEqual({ kind: 'non-ip', unopened: 'GRE version 1 (PPTP)' });
    expect(unopened(gre(0x0000, 0x880b, Buffer.alloc(20)))).toEqual({ kind: 'non-ip', unopened: 'GRE protocol 0x880b' });
    expect(unopened(erspan3(7, false, Buffer.alloc(20)))).toEqual({ kind: 'non-ip', unopened: 'ERSPAN type III frame type 7' });
    expect(unopened(gtp(0x20, 0xff, Buffer.alloc(0), segment4()))).toEqual({ kind: 'non-ip', unopened: 'GTP-U flags 0x20 (not version 1, PT 1)' });
    const pseudowire = Buffer.concat([Buffer.from([0, 0x06, 0x41, 64]), Buffer.alloc(4), ethernet(0x0800, segment4())]);
    expect(unopened(ethernet(0x8847, pseudowire))).toEqual({ kind: 'non-ip', unopened: 'MPLS pseudowire' });
  });
});

describe('PacketDecoder: IP and TCP', () => {
  it('counts IPv4 and TCP options in headerBytes', () => {
    const frame = ipv4(tcp({ options: Buffer.from([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]), payload }), {
      options: Buffer.from([0x94, 4, 0, 0]), // router alert
    });
    const s = tcpOf(decode(101, frame));
    expect(s).toMatchObject({ headerBytes: 24 + 32, ipBytes: 24 + 32 + payload.length, payloadLength: payload.length });
    expect(s.payload).toEqual(payload);
  });

  it('ignores Ethernet padding after the IP datagram', () => {
    const frame = Buffer.concat([ethernet(0x0800, ipv4(tcp({ flags: 0x10 }))), Buffer.alloc(6)]);
    const s = tcpOf(decode(1, frame));
    expect(s).toMatchObject({ ipBytes: 40, payloadLength: 0 });
    expect(s.payload.length).toBe(0);
  });

  it('takes payloadLength from the IP length when the snap length cut the payload', () => {
    const whole = ethernet(0x0800, ipv4(tcp({ payload: Buffer.alloc(1000, 7) })));
    const s = tcpOf(decode(1, whole.subarray(0, 14 + 40 + 100), whole.length));
    expect(s).toMatchObject({ ipBytes: 1040, headerBytes: 40, payloadLength: 1000 });
    expect(s.payload).toEqual(Buffer.alloc(100, 7));
  });

  it('measures an offloaded IPv4 segment (total length 0) by its captured bytes', () => {
    const s = tcpOf(decode(1, ethernet(0x0800, ipv4(tcp({ payload: Buffer.alloc(3000) }), { totalLength: 0 }))));
    expect(s).toMatchObject({ ipBytes: 3040, headerBytes: 40, payloadLength: 3000 });
    expect(s.payload.length).toBe(3000);
  });

  it('measures IPv6 payload length 0 by its captured bytes', () => {
    const s = tcpOf(decode(229, segment6({ payloadLength: 0 })));
    expect(s).toMatchObject({ ipBytes: 40 + 20 + payload.length, payloadLength: payload.length });
  });

  it('walks IPv6 extension headers into headerBytes', () => {
    const s = tcpOf(
      decode(
        229,
        segment6({
          extensions: [
            { type: 0, body: Buffer.from([1, 4, 0, 0, 0, 0]) }, // hop-by-hop, PadN: 8 bytes
            { type: 43, body: Buffer.alloc(14) }, // routing: 16 bytes
            { type: 44, body: Buffer.alloc(6) }, // atomic fragment (offset 0, M clear): 8 bytes
            { type: 51, body: Buffer.alloc(14) }, // AH with a 4-byte ICV: 16 bytes
            { type: 60, body: Buffer.from([1, 4, 0, 0, 0, 0]) }, // destination options: 8 bytes
          ],
        }),
      ),
    );
    const headerBytes = 40 + 56 + 20;
    expect(s).toMatchObject({ headerBytes, ipBytes: headerBytes + payload.length, payloadLength: payload.length });
    expect(s.payload).toEqual(payload);
  });

  it('formats addresses', () => {
    const a = v6(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1);
    const s = tcpOf(decode(229, segment6({ src: a, dst: v6(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201) })));
    expect([s.srcIp, s.dstIp]).toEqual(['2001:db8::1:0:0:1', '::ffff:192.0.2.1']);
    expect(tcpOf(decode(101, ipv4(tcp(), { src: '0.0.0.0', dst: '255.255.255.255' })))).toMatchObject({
      srcIp: '0.0.0.0',
      dstIp: '255.255.255.255',
    });
  });

  describe('fragments and other protocols', () => {
    it('IPv4 more-fragments and offset', () => {
      expect(decode(101, ipv4(tcp(), { fragment: 0x2000 }))).toEqual({ kind: 'fragment' });
      expect(decode(101, ipv4(tcp(), { fragment: 0x0010 }))).toEqual({ kind: 'fragment' });
      expect(decode(101, ipv4(tcp(), { fragment: 0x4000 })).kind).toBe('tcp');
    });

    it('IPv6 fragment header', () => {
      const first = Buffer.from([0x00, 0x01, 0, 0, 0, 1]); // offset 0, M set
      const later = Buffer.from([0x00, 0xa8, 0, 0, 0, 1]); // offset 21, M clear
      expect(decode(229, segment6({ extensions: [{ type: 44, body: first }] }))).toEqual({ kind: 'fragment' });
      expect(decode(229, segment6({ extensions: [{ type: 44, body: later }] }))).toEqual({ kind: 'fragment' });
    });

    it('non-TCP protocols', () => {
      expect(decode(101, ipv4(Buffer.alloc(8), { protocol: 17 }))).toEqual({ kind: 'non-tcp' });
      expect(decode(229, ipv6(Buffer.alloc(8), { protocol: 58 }))).toEqual({ kind: 'non-tcp' });
      expect(decode(229, ipv6(Buffer.alloc(0), { protocol: 59 }))).toEqual({ kind: 'non-tcp' });
      expect(decode(229, ipv6(Buffer.alloc(8), { protocol: 50 }))).toEqual({ kind: 'non-tcp' });
    });
  });

  describe('malformed', () => {
    const reasonOfFrame = (linkType: number, frame: Buffer, originalLength = frame.length): string => {
      const result = decode(linkType, frame, originalLength);
      expect(result.kind).toBe('malformed');
      return result.kind === 'malformed' ? result.reason : '';
    };
    const reasonOf = (linkType: number, frame: Buffer): string => reasonOfFrame(linkType, frame);

    it('an IP length larger than the frame was on the wire (a corrupt or fuzzed header)', () => {
      // Captured whole (captured = original length), yet the header claims 1000 more bytes: payload that
      // was never sent, which would make the real bytes after it look like a retransmission.
      const claims = (total: number): Buffer => ethernet(0x0800, ipv4(tcp({ payload }), { totalLength: total }));
      expect(reasonOf(1, claims(40 + payload.length + 1000))).toMatch(/IPv4 total length 1050 runs past the frame \(50 bytes/);
      const six = segment6();
      six.writeUInt16BE(2000, 4);
      expect(reasonOf(229, six)).toMatch(/IPv6 payload length 2000 runs past the frame/);
      // Within the frame (Ethernet pads short frames): still a segment.
      expect(decode(1, Buffer.concat([claims(40 + payload.length), Buffer.alloc(6)])).kind).toBe('tcp');
    });

    it('headers cut by the capture', () => {
      /** Captured bytes of a frame that was 1500 bytes on the wire (a short snap length). */
      const reasonOf = (linkType: number, frame: Buffer): string => reasonOfFrame(linkType, frame, 1500);
      expect(reasonOf(1, Buffer.alloc(10))).toMatch(/Ethernet header/);
      expect(reasonOf(1, ethernet(0x8100, Buffer.alloc(2)))).toMatch(/VLAN tag/);
      expect(reasonOf(113, Buffer.alloc(15))).toMatch(/Linux cooked header/);
      expect(reasonOf(276, Buffer.alloc(19))).toMatch(/cooked v2/);
      expect(reasonOf(0, Buffer.alloc(3))).toMatch(/loopback/);
      expect(reasonOf(101, Buffer.alloc(0))).toMatch(/no IP header/);
      expect(reasonOf(101, segment4().subarray(0, 19))).toMatch(/inside the IPv4 header/);
      expect(reasonOf(101, ipv4(tcp(), { options: Buffer.alloc(8) }).subarray(0, 24))).toMatch(/IPv4 options/);
      expect(reasonOf(101, segment4().subarray(0, 39))).toMatch(/inside the TCP header/);
      expect(reasonOf(101, ipv4(tcp({ options: Buffer.alloc(8) })).subarray(0, 44))).toMatch(/TCP options/);
      expect(reasonOf(229, segment6().subarray(0, 39))).toMatch(/inside the IPv6 header/);
      const hopByHop = segment6({ extensions: [{ type: 0, body: Buffer.alloc(6) }] });
      expect(reasonOf(229, hopByHop.subarray(0, 44))).toMatch(/extension header/);
    });

    it('header fields failing their sanity checks', () => {
      const badIhl = segment4();
      badIhl[0] = 0x44;
      expect(reasonOf(101, badIhl)).toBe('IPv4 IHL 4 is below 5');
      expect(reasonOf(228, segment6())).toBe('IP version 6 where IPv4 was announced');
      expect(reasonOf(229, segment4())).toBe('IP version 4 where IPv6 was announced');
      expect(reasonOf(101, Buffer.from([0x50, ...Buffer.alloc(39)]))).toBe('IP version 5 in a raw IP frame');
      expect(reasonOf(101, ipv4(tcp(), { totalLength: 16 }))).toMatch(/total length 16 is shorter than its header/);
      expect(reasonOf(101, ipv4(tcp(), { totalLength: 30 }))).toMatch(/no room for a TCP header/);
      const badOffset = segment4();
      badOffset[20 + 12] = 0x40;
      expect(reasonOf(101, badOffset)).toBe('TCP data offset 4 is below 5');
      const pastIp = segment4();
      pastIp[20 + 12] = 0xf0;
      expect(reasonOf(101, pastIp)).toBe('TCP data offset 15 runs past the IP length');
      const longExtension = segment6({ extensions: [{ type: 60, body: Buffer.alloc(6) }] });
      longExtension[41] = 20; // 168 bytes: beyond the 38-byte payload
      expect(reasonOf(229, longExtension)).toMatch(/run past the payload length/);
    });
  });
});

describe('formatIpv6 (RFC 5952)', () => {
  const cases: [number[], string][] = [
    [[0, 0, 0, 0, 0, 0, 0, 0], '::'],
    [[0, 0, 0, 0, 0, 0, 0, 1], '::1'],
    [[0x2001, 0xdb8, 0, 0, 0, 0, 0, 1], '2001:db8::1'],
    [[0x2001, 0xdb8, 0, 1, 1, 1, 1, 1], '2001:db8:0:1:1:1:1:1'], // a single zero group stays
    [[0x2001, 0, 0, 1, 0, 0, 0, 1], '2001:0:0:1::1'], // the longest run
    [[0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], '2001:db8::1:0:0:1'], // the first of equal runs
    [[0xfe80, 0, 0, 0, 0x0abc, 0xdef0, 0, 0], 'fe80::abc:def0:0:0'],
    [[0x2001, 0xdb8, 1, 2, 3, 4, 0, 0], '2001:db8:1:2:3:4::'],
    [[0, 0, 0, 0, 0, 0xffff, 0x7f00, 0x0001], '::ffff:127.0.0.1'],
  ];
  for (const [groups, text] of cases) {
    it(text, () => expect(formatIpv6(v6(...groups))).toBe(text));
  }
});
