/**
 * Captures of the wrong-answer and silent classes of issue 13, made byte by byte from the RFC layouts (a
 * client 10.0.0.1:40000 and a server 10.0.0.2:443 unless said). Each is small enough that its right answer
 * can be derived by hand; real-world.test.ts states them.
 */
import { clientHello, handshake, record, serverHello } from '../tls/support/build.ts';
import { classicPcap, ethernet, ipv4, tcp, type ClassicPacket } from '../pcap/helpers.ts';

export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;

/** One segment of the connection at `ms`; `ipTotalLength` forges the IPv4 total length. */
export function segment(
  ms: number,
  up: boolean,
  flags: number,
  seq: number,
  ack: number,
  payload: Buffer = Buffer.alloc(0),
  ipTotalLength?: number,
  clientPort = 40000,
): ClassicPacket {
  const bytes = tcp({ srcPort: up ? clientPort : 443, dstPort: up ? 443 : clientPort, seq, ack, flags, payload });
  const [src, dst] = up ? ['10.0.0.1', '10.0.0.2'] : ['10.0.0.2', '10.0.0.1'];
  const ip = ipv4(bytes, { src, dst, ...(ipTotalLength === undefined ? {} : { totalLength: ipTotalLength }) });
  return { tsSec: 1_700_000_000 + Math.floor(ms / 1000), tsFrac: (ms % 1000) * 1000, data: ethernet(0x0800, ip) };
}

const CLIENT_ISN = 1000;
const SERVER_ISN = 5000;

/** A TCP conversation: the handshake, then each payload in turn (seq/ack kept), as one list of packets. */
export function conversation(exchanges: { up: boolean; data: Buffer }[], startMs = 0): { packets: ClassicPacket[]; seqUp: number; seqDown: number; ms: number } {
  const packets = [
    segment(startMs, true, SYN, CLIENT_ISN, 0),
    segment(startMs + 1, false, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1),
    segment(startMs + 2, true, ACK, CLIENT_ISN + 1, SERVER_ISN + 1),
  ];
  let seqUp = CLIENT_ISN + 1;
  let seqDown = SERVER_ISN + 1;
  let ms = startMs + 3;
  for (const { up, data } of exchanges) {
    packets.push(segment(ms++, up, PSH | ACK, up ? seqUp : seqDown, up ? seqDown : seqUp, data));
    if (up) seqUp += data.length;
    else seqDown += data.length;
  }
  return { packets, seqUp, seqDown, ms };
}

/** A TLS 1.2 full handshake's first flights and one exchange (ECDHE-RSA-AES128-GCM-SHA256). */
export function tls12Flights(): { up: boolean; data: Buffer }[] {
  return [
    { up: true, data: record(22, clientHello({ serverName: 'example.test' }), 0x0301) },
    {
      up: false,
      data: Buffer.concat([
        record(22, Buffer.concat([serverHello({ suite: 0xc02f }), handshake(11, Buffer.alloc(900, 1)), handshake(14, Buffer.alloc(0))])),
      ]),
    },
    { up: true, data: Buffer.concat([record(22, Buffer.alloc(70, 2)), record(20, Buffer.from([1])), record(22, Buffer.alloc(40, 3))]) },
    { up: false, data: Buffer.concat([record(20, Buffer.from([1])), record(22, Buffer.alloc(40, 4))]) },
    { up: true, data: record(23, Buffer.alloc(100, 5)) },
    { up: false, data: record(23, Buffer.alloc(300, 6)) },
  ];
}

/** #4: the server's certificate segment claims 1,000 more bytes than its frame held. */
export function ipLengthBeyondFrame(): Buffer {
  const { packets } = conversation(tls12Flights());
  const forged = packets[4]!; // the server's ServerHello..ServerHelloDone
  forged.data.writeUInt16BE(forged.data.readUInt16BE(14 + 2) + 1000, 14 + 2);
  return classicPcap(packets);
}

/** #2: the client resets while the server's answer is in flight; it arrives after the RST. */
export function dataAfterReset(): Buffer {
  const flights = tls12Flights();
  const { packets, seqUp, seqDown, ms } = conversation(flights.slice(0, -1));
  packets.push(segment(ms, true, RST | ACK, seqUp, seqDown));
  packets.push(segment(ms + 1, false, PSH | ACK, seqDown, seqUp, flights.at(-1)!.data));
  return classicPcap(packets);
}

/** #2: the SYN-ACK is captured before the SYN it answers (timestamps from two CPUs). */
export function synAckBeforeSyn(): Buffer {
  const { packets } = conversation(tls12Flights());
  [packets[0], packets[1]] = [packets[1]!, packets[0]!];
  return classicPcap(packets);
}

/** #6: after its request the client sends a TCP keep-alive: one byte at the sequence number before its next. */
export function keepAlive(): Buffer {
  const { packets, seqUp, seqDown, ms } = conversation(tls12Flights());
  packets.push(segment(ms + 60_000, true, ACK, seqUp - 1, seqDown, Buffer.from([0])));
  packets.push(segment(ms + 60_001, false, ACK, seqDown, seqUp));
  return classicPcap(packets);
}

/** #7: the agent's proxy path, HTTP CONNECT then TLS inside the tunnel. */
export function httpConnect(): Buffer {
  const flights = tls12Flights();
  const connect = Buffer.from('CONNECT api.example.test:443 HTTP/1.1\r\nHost: api.example.test:443\r\n\r\n', 'latin1');
  const established = Buffer.from('HTTP/1.1 200 Connection established\r\n\r\n', 'latin1');
  return classicPcap(conversation([{ up: true, data: connect }, { up: false, data: established }, ...flights]).packets);
}

/** #7: SMTP STARTTLS (RFC 3207) before the TLS. */
export function smtpStarttls(): Buffer {
  const text = (s: string): Buffer => Buffer.from(s, 'latin1');
  return classicPcap(
    conversation([
      { up: false, data: text('220 mail.example.test ESMTP\r\n') },
      { up: true, data: text('EHLO client.example.test\r\n') },
      { up: false, data: text('250-mail.example.test\r\n250 STARTTLS\r\n') },
      { up: true, data: text('STARTTLS\r\n') },
      { up: false, data: text('220 2.0.0 Ready to start TLS\r\n') },
      ...tls12Flights(),
    ]).packets,
  );
}

/** #1: an SSLv2-format ClientHello offering TLS 1.0 (RFC 5246 §E.2), answered by a TLS 1.0 server. */
export function sslv2Hello(): Buffer {
  const specs = Buffer.from([0x00, 0x00, 0x2f, 0x00, 0x00, 0x35, 0x01, 0x00, 0x80]);
  const challenge = Buffer.alloc(16, 0x5a);
  const body = Buffer.concat([Buffer.from([1, 0x03, 0x01]), u16(specs.length), u16(0), u16(challenge.length), specs, challenge]);
  const v2 = Buffer.concat([u16(0x8000 | body.length), body]);
  const flights = tls12Flights().slice(1);
  return classicPcap(conversation([{ up: true, data: v2 }, ...flights]).packets);
}

/** #3: the server's flight after its ServerHello is not captured (a capture gap), then its ChangeCipherSpec is. */
export function serverFlightNotCaptured(): Buffer {
  const flights = tls12Flights();
  const { packets } = conversation(flights);
  // Packet 4 carries ServerHello+Certificate+ServerHelloDone in one record: only a ServerHello record of its
  // own is captured, and the rest of the flight's sequence space never is.
  const whole = packets[4]!;
  const payloadStart = 14 + 20 + 20;
  const serverHelloOnly = Buffer.concat([record(22, serverHello({ suite: 0xc02f }))]);
  const rest = whole.data.length - payloadStart - serverHelloOnly.length;
  const seq = whole.data.readUInt32BE(14 + 20 + 4);
  const ack = whole.data.readUInt32BE(14 + 20 + 8);
  packets[4] = segment(4, false, PSH | ACK, seq, ack, serverHelloOnly);
  // The server's next flight starts `rest` bytes later in sequence space than the ServerHello's end: a gap.
  const ccs = packets[6]!;
  const ccsPayload = ccs.data.subarray(payloadStart);
  packets[6] = segment(6, false, PSH | ACK, seq + serverHelloOnly.length + rest, ccs.data.readUInt32BE(14 + 20 + 8), ccsPayload);
  return classicPcap(packets);
}

/** #8: frames of a link type the decoder does not know (LINKTYPE_PPP, 9). */
export function unsupportedLinkType(): Buffer {
  return classicPcap(conversation(tls12Flights()).packets, { linkType: 9 });
}

/**
 * #8: the conversation inside PPTP's enhanced GRE (version 1, RFC 2637 §4.1: key and sequence present, PPP
 * inside), which the decoder recognises but does not open.
 */
export function pptpGre(): Buffer {
  const packets = conversation(tls12Flights()).packets.map((p) => {
    const inner = p.data.subarray(14);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(0x3001, 0); // K and S present, version 1
    header.writeUInt16BE(0x880b, 2); // PPP
    header.writeUInt16BE(inner.length + 2, 4); // payload length, then call ID 0, then the sequence number
    const ppp = Buffer.from([0x00, 0x21]); // PPP protocol: IPv4
    const outer = ipv4(Buffer.concat([header, ppp, inner]), { protocol: 47, src: '10.9.0.1', dst: '10.9.0.2' });
    return { ...p, data: ethernet(0x0800, outer) };
  });
  return classicPcap(packets);
}

/** The bounded-memory case in small: `count` half-open connections (one SYN each, `perSecond` a second). */
export function synFlood(count: number, perSecond: number): Buffer {
  const packets: ClassicPacket[] = [];
  for (let i = 0; i < count; i++) {
    const ms = Math.floor((i * 1000) / perSecond);
    packets.push(segment(ms, true, SYN, i * 7919, 0, Buffer.alloc(0), undefined, 1024 + (i % 60000)));
  }
  return classicPcap(packets);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n, 0);
  return b;
}
