/**
 * Derives the hand-made edge cases of fixtures/pcaps/ from real captures, for the cases no Wireshark tool
 * writes. Every output is still plausible TCP/TLS: tshark must dissect it, since tshark makes the
 * expectations. Run with `npx tsx scripts/golden/pcap-edit.ts COMMAND IN OUT`:
 *
 *   bigendian   same packets, every file and record header written big-endian (packet bytes untouched)
 *   vlan        an 802.1Q tag (VID 100) inserted into every Ethernet frame
 *   qinq        an 802.1ad service tag (VID 200) and an 802.1Q customer tag (VID 100) in every frame
 *   retransmit  in the first connection: a server segment sent twice (spurious retransmission), a client
 *               segment sent twice, and a server segment preceded by a copy of its first half (the later
 *               segment overlaps half old, half new bytes)
 *   reorder     in every connection, the largest server segment split in two halves that arrive second
 *               half first (out of order, and a TLS record spanning two segments)
 *   seqwrap     every connection's sequence numbers shifted so that each direction wraps past 2^32 a few
 *               hundred bytes into its data (ACK numbers and SACK blocks shifted alike)
 *   pppoe       every IPv4 frame inside a PPPoE session (EtherType 0x8864, session 0x1234, PPP protocol 0x0021)
 *   mpls        every IPv4 frame under a two-label MPLS stack (labels 100 and 200, EtherType 0x8847)
 *   gre         every frame's IP datagram inside GRE with a key (RFC 2890) in an outer IPv4 10.9.0.1 -> 10.9.0.2
 *   vxlan       every whole Ethernet frame inside VXLAN (VNI 42) over UDP 4789 in an outer Ethernet/IPv4
 *   nflog       every frame's IP datagram as the payload TLV of a Linux NFLOG record (link type 239),
 *               after a prefix TLV, as `iptables -j NFLOG` logs it
 *   nflog-be    the same, as a big-endian host writes it: file and record headers and the TLV lengths and
 *               types big-endian
 *   erspan2     every whole Ethernet frame mirrored by ERSPAN type II (GRE 0x88BE with a sequence number)
 *   erspan3     every whole Ethernet frame mirrored by ERSPAN type III (GRE 0x22EB, with the platform
 *               subheader)
 *   gtpu        every frame's IP datagram as a GTP-U G-PDU (TEID 0x1234, sequence numbers) over UDP 2152
 *   snap        every frame that fits 802.3's 1500 bytes as IEEE 802.3 (a length, not a type) with an
 *               802.2 LLC/SNAP header; longer ones stay Ethernet II
 *
 * Input must be a classic pcap in either byte order with Ethernet frames (what tcpdump writes on Linux
 * `lo`). Edited segments get correct IPv4 header and TCP checksums; untouched ones keep what the capture
 * had (on loopback, a partial checksum left by offloading; tshark does not validate by default).
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** One pcap record. `tsFrac` is micro- or nanoseconds, as the file's magic says. */
interface Packet {
  tsSec: number;
  tsFrac: number;
  origLen: number;
  data: Buffer;
}

interface PcapFile {
  magic: number;
  littleEndian: boolean;
  versionMajor: number;
  versionMinor: number;
  thisZone: number;
  sigFigs: number;
  snapLength: number;
  linkType: number;
  packets: Packet[];
}

const MAGIC_MICROS = 0xa1b2c3d4;
const MAGIC_NANOS = 0xa1b23c4d;
const LINKTYPE_ETHERNET = 1;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
const ETHERNET_HEADER_BYTES = 14;
/** Offset of the EtherType in an untagged Ethernet header (after two 6-byte MAC addresses). */
const ETHERTYPE_OFFSET = 12;
const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** Largest 802.3 length field: values above it (0x0600 and up) are EtherTypes. */
const IEEE_802_3_MAX_LENGTH = 1500;
const IPPROTO_TCP = 6;
const TCP_FLAG_SYN = 0x02;
const TCP_FLAG_ACK = 0x10;
const TCP_OPTION_END = 0;
const TCP_OPTION_NOP = 1;
const TCP_OPTION_SACK = 5;
const TWO_POW_32 = 2 ** 32;

function readPcap(path: string): PcapFile {
  const bytes = readFileSync(path);
  if (bytes.length < GLOBAL_HEADER_BYTES) throw new Error(`${path}: too short for a pcap header`);
  const magicLe = bytes.readUInt32LE(0);
  const magicBe = bytes.readUInt32BE(0);
  const littleEndian = magicLe === MAGIC_MICROS || magicLe === MAGIC_NANOS;
  if (!littleEndian && magicBe !== MAGIC_MICROS && magicBe !== MAGIC_NANOS) {
    throw new Error(`${path}: not a classic pcap (magic 0x${magicBe.toString(16)}); convert it with editcap -F pcap`);
  }
  const u16 = (offset: number): number => (littleEndian ? bytes.readUInt16LE(offset) : bytes.readUInt16BE(offset));
  const u32 = (offset: number): number => (littleEndian ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset));
  const file: PcapFile = {
    magic: littleEndian ? magicLe : magicBe,
    littleEndian,
    versionMajor: u16(4),
    versionMinor: u16(6),
    thisZone: littleEndian ? bytes.readInt32LE(8) : bytes.readInt32BE(8),
    sigFigs: u32(12),
    snapLength: u32(16),
    linkType: u32(20),
    packets: [],
  };
  let offset = GLOBAL_HEADER_BYTES;
  while (offset + RECORD_HEADER_BYTES <= bytes.length) {
    const capturedLength = u32(offset + 8);
    const dataStart = offset + RECORD_HEADER_BYTES;
    if (dataStart + capturedLength > bytes.length) throw new Error(`${path}: record at byte ${offset} runs past the end`);
    file.packets.push({
      tsSec: u32(offset),
      tsFrac: u32(offset + 4),
      origLen: u32(offset + 12),
      data: Buffer.from(bytes.subarray(dataStart, dataStart + capturedLength)),
    });
    offset = dataStart + capturedLength;
  }
  return file;
}

function writePcap(path: string, file: PcapFile): void {
  const le = file.littleEndian;
  const header = Buffer.alloc(GLOBAL_HEADER_BYTES);
  const put32 = (buffer: Buffer, value: number, offset: number): number =>
    le ? buffer.writeUInt32LE(value, offset) : buffer.writeUInt32BE(value, offset);
  const put16 = (buffer: Buffer, value: number, offset: number): number =>
    le ? buffer.writeUInt16LE(value, offset) : buffer.writeUInt16BE(value, offset);
  put32(header, file.magic, 0);
  put16(header, file.versionMajor, 4);
  put16(header, file.versionMinor, 6);
  if (le) header.writeInt32LE(file.thisZone, 8);
  else header.writeInt32BE(file.thisZone, 8);
  put32(header, file.sigFigs, 12);
  put32(header, file.snapLength, 16);
  put32(header, file.linkType, 20);
  const chunks: Buffer[] = [header];
  for (const packet of file.packets) {
    const record = Buffer.alloc(RECORD_HEADER_BYTES);
    put32(record, packet.tsSec, 0);
    put32(record, packet.tsFrac, 4);
    put32(record, packet.data.length, 8);
    put32(record, packet.origLen, 12);
    chunks.push(record, packet.data);
  }
  writeFileSync(path, Buffer.concat(chunks));
}

/** Where the headers of an untagged Ethernet/IP/TCP frame sit, and the TCP fields the edits need. */
interface Segment {
  ipVersion: 4 | 6;
  ipOffset: number;
  tcpOffset: number;
  payloadOffset: number;
  payloadLength: number;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  /** Sender's address and port, used to tell the two directions of a connection apart. */
  sender: string;
  /** Both endpoints, the same string for both directions. */
  connection: string;
}

function decodeSegment(packet: Packet): Segment | null {
  const data = packet.data;
  if (data.length < ETHERNET_HEADER_BYTES || packet.origLen !== data.length) return null;
  const etherType = data.readUInt16BE(ETHERTYPE_OFFSET);
  const ipOffset = ETHERNET_HEADER_BYTES;
  let ipVersion: 4 | 6;
  let tcpOffset: number;
  let ipEnd: number;
  let src: string;
  let dst: string;
  if (etherType === ETHERTYPE_IPV4) {
    const headerBytes = (data[ipOffset]! & 0x0f) * 4;
    // Protocol at byte 9; fragments (offset or more-fragments set, bytes 6-7) are not edited.
    if (data[ipOffset + 9] !== IPPROTO_TCP || (data.readUInt16BE(ipOffset + 6) & 0x3fff) !== 0) return null;
    ipVersion = 4;
    tcpOffset = ipOffset + headerBytes;
    ipEnd = ipOffset + data.readUInt16BE(ipOffset + 2);
    src = data.subarray(ipOffset + 12, ipOffset + 16).join('.');
    dst = data.subarray(ipOffset + 16, ipOffset + 20).join('.');
  } else if (etherType === ETHERTYPE_IPV6) {
    // Next header at byte 6; the captures edited here carry no extension headers.
    if (data[ipOffset + 6] !== IPPROTO_TCP) return null;
    ipVersion = 6;
    tcpOffset = ipOffset + 40;
    ipEnd = tcpOffset + data.readUInt16BE(ipOffset + 4);
    src = data.subarray(ipOffset + 8, ipOffset + 24).toString('hex');
    dst = data.subarray(ipOffset + 24, ipOffset + 40).toString('hex');
  } else {
    return null;
  }
  const payloadOffset = tcpOffset + (data[tcpOffset + 12]! >> 4) * 4;
  if (ipEnd > data.length || payloadOffset > ipEnd) throw new Error('segment headers run past the frame');
  const srcPort = data.readUInt16BE(tcpOffset);
  const dstPort = data.readUInt16BE(tcpOffset + 2);
  const sender = `${src}:${srcPort}`;
  const receiver = `${dst}:${dstPort}`;
  return {
    ipVersion,
    ipOffset,
    tcpOffset,
    payloadOffset,
    payloadLength: ipEnd - payloadOffset,
    srcPort,
    dstPort,
    seq: data.readUInt32BE(tcpOffset + 4),
    ack: data.readUInt32BE(tcpOffset + 8),
    flags: data[tcpOffset + 13]!,
    sender,
    connection: [sender, receiver].sort().join(' '),
  };
}

/** One's-complement sum of 16-bit big-endian words (RFC 1071), not yet folded or inverted. */
function onesComplementSum(bytes: Buffer, start = 0): number {
  let sum = start;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += bytes.readUInt16BE(i);
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  return sum;
}

function fold(sum: number): number {
  let folded = sum;
  while (folded > 0xffff) folded = (folded & 0xffff) + Math.floor(folded / 0x10000);
  return ~folded & 0xffff;
}

/** Rewrites the IPv4 header checksum and the TCP checksum (RFC 793 pseudo-header; RFC 8200 §8.1 for IPv6). */
function fixChecksums(data: Buffer, segment: Segment): void {
  const tcpEnd = segment.payloadOffset + segment.payloadLength;
  const tcpLength = tcpEnd - segment.tcpOffset;
  let pseudo: number;
  if (segment.ipVersion === 4) {
    const headerEnd = segment.tcpOffset;
    data.writeUInt16BE(0, segment.ipOffset + 10);
    data.writeUInt16BE(fold(onesComplementSum(data.subarray(segment.ipOffset, headerEnd))), segment.ipOffset + 10);
    pseudo = onesComplementSum(data.subarray(segment.ipOffset + 12, segment.ipOffset + 20)) + IPPROTO_TCP + tcpLength;
  } else {
    pseudo =
      onesComplementSum(data.subarray(segment.ipOffset + 8, segment.ipOffset + 40)) +
      Math.floor(tcpLength / 0x10000) +
      (tcpLength & 0xffff) +
      IPPROTO_TCP;
  }
  data.writeUInt16BE(0, segment.tcpOffset + 16);
  data.writeUInt16BE(fold(onesComplementSum(data.subarray(segment.tcpOffset, tcpEnd), pseudo)), segment.tcpOffset + 16);
}

/** A copy of `packet` carrying `payload` at sequence number `seq`, lengths and checksums fixed. */
function withPayload(packet: Packet, segment: Segment, seq: number, payload: Buffer): Packet {
  const data = Buffer.concat([packet.data.subarray(0, segment.payloadOffset), payload]);
  const edited: Segment = { ...segment, payloadLength: payload.length };
  data.writeUInt32BE(seq >>> 0, segment.tcpOffset + 4);
  if (segment.ipVersion === 4) data.writeUInt16BE(data.length - segment.ipOffset, segment.ipOffset + 2);
  else data.writeUInt16BE(data.length - segment.tcpOffset, segment.ipOffset + 4);
  fixChecksums(data, edited);
  return { tsSec: packet.tsSec, tsFrac: packet.tsFrac, origLen: data.length, data };
}

function payloadOf(packet: Packet, segment: Segment): Buffer {
  return packet.data.subarray(segment.payloadOffset, segment.payloadOffset + segment.payloadLength);
}

function requireEthernet(file: PcapFile): void {
  if (file.linkType !== LINKTYPE_ETHERNET) {
    throw new Error(`expected Ethernet frames (link type 1), got link type ${file.linkType}`);
  }
}

function bigEndian(file: PcapFile): PcapFile {
  return { ...file, littleEndian: false };
}

/** Inserts 802.1Q/802.1ad tags (TPID, then PCP/DEI/VID) between the MAC addresses and the EtherType. */
function tagged(file: PcapFile, tags: Array<{ tpid: number; vid: number }>): PcapFile {
  requireEthernet(file);
  const tagBytes = Buffer.alloc(4 * tags.length);
  tags.forEach((tag, i) => {
    tagBytes.writeUInt16BE(tag.tpid, 4 * i);
    tagBytes.writeUInt16BE(tag.vid, 4 * i + 2);
  });
  return {
    ...file,
    packets: file.packets.map((packet) => ({
      ...packet,
      origLen: packet.origLen + tagBytes.length,
      data: Buffer.concat([packet.data.subarray(0, ETHERTYPE_OFFSET), tagBytes, packet.data.subarray(ETHERTYPE_OFFSET)]),
    })),
  };
}

/** The server of a connection: the sender of its SYN-ACK. */
function serverOf(segments: Array<Segment | null>, connection: string): string {
  const synAck = segments.find(
    (s) => s?.connection === connection && (s.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) === (TCP_FLAG_SYN | TCP_FLAG_ACK),
  );
  if (!synAck) throw new Error(`connection ${connection} has no SYN-ACK`);
  return synAck.sender;
}

function firstConnection(segments: Array<Segment | null>): string {
  const first = segments.find((s) => s !== null);
  if (!first) throw new Error('no TCP segment in the capture');
  return first.connection;
}

function retransmit(file: PcapFile): PcapFile {
  requireEthernet(file);
  const segments = file.packets.map(decodeSegment);
  const connection = firstConnection(segments);
  const server = serverOf(segments, connection);
  const dataIndexes = (fromServer: boolean): number[] =>
    segments.flatMap((s, i) =>
      s && s.connection === connection && s.payloadLength >= 100 && (s.sender === server) === fromServer ? [i] : [],
    );
  const serverData = dataIndexes(true);
  const clientData = dataIndexes(false);
  const [duplicateServer, splitServer] = [serverData[1], serverData[serverData.length - 1]];
  const duplicateClient = clientData[clientData.length - 1];
  if (duplicateServer === undefined || splitServer === undefined || duplicateClient === undefined || duplicateServer === splitServer) {
    throw new Error('retransmit needs a connection with two server data segments and a client one');
  }
  const out: Packet[] = [];
  file.packets.forEach((packet, i) => {
    const segment = segments[i];
    if (i === splitServer && segment) {
      // The first half travels alone first; the full segment then repeats it (half old, half new bytes).
      const half = Math.floor(segment.payloadLength / 2);
      out.push(withPayload(packet, segment, segment.seq, payloadOf(packet, segment).subarray(0, half)));
    }
    out.push(packet);
    const duplicateOf = i - 1 === duplicateServer || i - 1 === duplicateClient ? file.packets[i - 1] : undefined;
    // The copy follows the frame after the original, stamped with that frame's time, so time stays ordered.
    if (duplicateOf) out.push({ ...duplicateOf, tsSec: packet.tsSec, tsFrac: packet.tsFrac });
  });
  return { ...file, packets: out };
}

function reorder(file: PcapFile): PcapFile {
  requireEthernet(file);
  const segments = file.packets.map(decodeSegment);
  // Per connection, the index of the server's largest segment (at least 2 bytes, to have two halves).
  const largest = new Map<string, { index: number; bytes: number }>();
  for (const connection of new Set(segments.flatMap((s) => (s ? [s.connection] : [])))) {
    const server = serverOf(segments, connection);
    segments.forEach((s, index) => {
      if (s?.connection !== connection || s.sender !== server || s.payloadLength < 2) return;
      if (s.payloadLength > (largest.get(connection)?.bytes ?? 0)) largest.set(connection, { index, bytes: s.payloadLength });
    });
  }
  const split = new Set([...largest.values()].map((entry) => entry.index));
  const out: Packet[] = [];
  file.packets.forEach((packet, i) => {
    const segment = segments[i];
    if (!split.has(i) || !segment) {
      out.push(packet);
      return;
    }
    const payload = payloadOf(packet, segment);
    const half = Math.floor(payload.length / 2);
    out.push(withPayload(packet, segment, segment.seq + half, payload.subarray(half)));
    out.push(withPayload(packet, segment, segment.seq, payload.subarray(0, half)));
  });
  return { ...file, packets: out };
}

/** Adds `delta` (mod 2^32) to the 32-bit big-endian value at `offset`. */
function shift32(data: Buffer, offset: number, delta: number): void {
  data.writeUInt32BE((data.readUInt32BE(offset) + delta) % TWO_POW_32, offset);
}

/** Bytes into its data at which each direction's sequence space wraps past 2^32. */
const WRAP_AFTER_BYTES = { client: 300, server: 900 };

function seqWrap(file: PcapFile): PcapFile {
  requireEthernet(file);
  const segments = file.packets.map(decodeSegment);
  // Shift per sender: the ISN (SYN's sequence number) moves to 2^32 - wrapAfter - 1, so the first data
  // byte (ISN + 1) is wrapAfter bytes before the wrap.
  const shifts = new Map<string, { client?: { sender: string; shift: number }; server?: { sender: string; shift: number } }>();
  for (const s of segments) {
    if (!s || (s.flags & TCP_FLAG_SYN) === 0) continue;
    const side = s.flags & TCP_FLAG_ACK ? 'server' : 'client';
    const target = TWO_POW_32 - WRAP_AFTER_BYTES[side] - 1;
    const entry = shifts.get(s.connection) ?? {};
    entry[side] = { sender: s.sender, shift: (target - s.seq + TWO_POW_32) % TWO_POW_32 };
    shifts.set(s.connection, entry);
  }
  const packets = file.packets.map((packet, i) => {
    const segment = segments[i];
    if (!segment) return packet;
    const { client, server } = shifts.get(segment.connection) ?? {};
    if (!client || !server) throw new Error(`connection ${segment.connection} lacks a SYN or SYN-ACK`);
    const [own, peer] = segment.sender === client.sender ? [client.shift, server.shift] : [server.shift, client.shift];
    const data = Buffer.from(packet.data);
    shift32(data, segment.tcpOffset + 4, own);
    if (segment.flags & TCP_FLAG_ACK) shift32(data, segment.tcpOffset + 8, peer);
    // SACK blocks (RFC 2018) hold the peer's sequence numbers: left and right edge, 4 bytes each.
    for (let o = segment.tcpOffset + 20; o < segment.payloadOffset; ) {
      const kind = data[o]!;
      if (kind === TCP_OPTION_END) break;
      if (kind === TCP_OPTION_NOP) {
        o += 1;
        continue;
      }
      const length = data[o + 1]!;
      if (length < 2) throw new Error('TCP option with a length under 2');
      if (kind === TCP_OPTION_SACK) for (let edge = o + 2; edge + 4 <= o + length; edge += 4) shift32(data, edge, peer);
      o += length;
    }
    fixChecksums(data, segment);
    return { ...packet, data };
  });
  return { ...file, packets };
}

/** The frames with their link-layer header replaced by `wrap(ip datagram, ethernet frame)`. */
function rewrap(file: PcapFile, linkType: number, wrap: (ip: Buffer, frame: Buffer) => Buffer): PcapFile {
  requireEthernet(file);
  return {
    ...file,
    linkType,
    packets: file.packets.map((packet) => {
      if (packet.data.readUInt16BE(ETHERTYPE_OFFSET) !== ETHERTYPE_IPV4) throw new Error('expected IPv4 frames only');
      const data = wrap(packet.data.subarray(ETHERNET_HEADER_BYTES), packet.data);
      return { ...packet, origLen: packet.origLen + data.length - packet.data.length, data };
    }),
  };
}

/** An outer IPv4 header (protocol `protocol`, 10.9.0.1 -> 10.9.0.2) with its checksum, around `payload`. */
function outerIpv4(protocol: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header[0] = 0x45;
  header.writeUInt16BE(20 + payload.length, 2);
  header.writeUInt16BE(0x4000, 6);
  header[8] = 64;
  header[9] = protocol;
  header.writeUInt32BE(0x0a090001, 12);
  header.writeUInt32BE(0x0a090002, 16);
  header.writeUInt16BE(~fold(onesComplementSum(header)) & 0xffff, 10);
  return Buffer.concat([header, payload]);
}

function ethernet(macs: Buffer, type: number, payload: Buffer): Buffer {
  const typeBytes = Buffer.alloc(2);
  typeBytes.writeUInt16BE(type, 0);
  return Buffer.concat([macs.subarray(0, ETHERTYPE_OFFSET), typeBytes, payload]);
}

function pppoe(file: PcapFile): PcapFile {
  return rewrap(file, LINKTYPE_ETHERNET, (ip, frame) => {
    const header = Buffer.alloc(8);
    header[0] = 0x11; // version 1, type 1
    header.writeUInt16BE(0x1234, 2);
    header.writeUInt16BE(ip.length + 2, 4); // the PPP protocol field and the datagram
    header.writeUInt16BE(0x0021, 6);
    return ethernet(frame, 0x8864, Buffer.concat([header, ip]));
  });
}

function mpls(file: PcapFile): PcapFile {
  return rewrap(file, LINKTYPE_ETHERNET, (ip, frame) => {
    const stack = Buffer.alloc(8);
    stack.writeUInt32BE((100 << 12) | 64, 0); // label 100, TTL 64
    stack.writeUInt32BE((200 << 12) | 0x100 | 64, 4); // label 200, bottom of stack
    return ethernet(frame, 0x8847, Buffer.concat([stack, ip]));
  });
}

function gre(file: PcapFile): PcapFile {
  return rewrap(file, LINKTYPE_ETHERNET, (ip, frame) => {
    const header = Buffer.alloc(8);
    header.writeUInt16BE(0x2000, 0); // key present, version 0
    header.writeUInt16BE(ETHERTYPE_IPV4, 2);
    header.writeUInt32BE(7, 4);
    return ethernet(frame, ETHERTYPE_IPV4, outerIpv4(47, Buffer.concat([header, ip])));
  });
}

function vxlan(file: PcapFile): PcapFile {
  return rewrap(file, LINKTYPE_ETHERNET, (_ip, frame) => {
    const header = Buffer.alloc(16);
    header.writeUInt16BE(49152, 0);
    header.writeUInt16BE(4789, 2);
    header.writeUInt16BE(8 + 8 + frame.length, 4); // UDP checksum 0: none (RFC 7348 §5)
    header[8] = 0x08; // the VNI is valid
    header.writeUIntBE(42, 12, 3);
    const outerMacs = Buffer.from('02000000000a02000000000b', 'hex');
    return ethernet(outerMacs, ETHERTYPE_IPV4, outerIpv4(17, Buffer.concat([header, frame])));
  });
}

/** NFLOG records with their TLV lengths and types in a little- or big-endian host's byte order. */
function nflog(file: PcapFile, bigEndian = false): PcapFile {
  const tlv = (type: number, value: Buffer): Buffer => {
    const padded = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
    if (bigEndian) {
      padded.writeUInt16BE(4 + value.length, 0);
      padded.writeUInt16BE(type, 2);
    } else {
      padded.writeUInt16LE(4 + value.length, 0);
      padded.writeUInt16LE(type, 2);
    }
    value.copy(padded, 4);
    return padded;
  };
  return rewrap(file, 239, (ip) =>
    Buffer.concat([Buffer.from([2, 0, 0, 5]), tlv(10, Buffer.from('golden\0')), tlv(9, ip)]),
  );
}

/** A GRE header (version 0) with a sequence number, of protocol `type`, in an outer Ethernet/IPv4. */
function greWithSequence(type: number, sequence: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(0x1000, 0); // sequence number present
  header.writeUInt16BE(type, 2);
  header.writeUInt32BE(sequence, 4);
  const outerMacs = Buffer.from('02000000000c02000000000d', 'hex');
  return ethernet(outerMacs, ETHERTYPE_IPV4, outerIpv4(47, Buffer.concat([header, payload])));
}

/** Every whole Ethernet frame mirrored by ERSPAN (GRE protocol `greType`) behind the header made for its sequence number. */
function mirrored(file: PcapFile, greType: number, header: (sequence: number) => Buffer): PcapFile {
  let sequence = 0;
  return rewrap(file, LINKTYPE_ETHERNET, (_ip, frame) => {
    const bytes = header(sequence);
    return greWithSequence(greType, sequence++, Buffer.concat([bytes, frame]));
  });
}

/** ERSPAN type II (GRE 0x88BE, session 5), draft-foschiano-erspan-03 §4.1. */
function erspan2(file: PcapFile): PcapFile {
  return mirrored(file, 0x88be, () => {
    const header = Buffer.alloc(8);
    header.writeUInt16BE(1 << 12, 0); // version 1 (type II), VLAN 0
    header.writeUInt16BE(5, 2); // COS 0, En 0, T 0, session ID 5
    header.writeUInt32BE(7, 4); // reserved 0, index 7
    return header;
  });
}

/** ERSPAN type III (GRE 0x22EB, session 6) with its platform subheader (O bit), §4.2. */
function erspan3(file: PcapFile): PcapFile {
  return mirrored(file, 0x22eb, (sequence) => {
    const header = Buffer.alloc(20);
    header.writeUInt16BE(2 << 12, 0); // version 2 (type III), VLAN 0
    header.writeUInt16BE(6, 2); // COS 0, BSO 0, T 0, session ID 6
    header.writeUInt32BE(sequence * 1000, 4); // timestamp; security group tag (bytes 8-9) 0
    header[10] = 0; // P 0, frame type 0 (Ethernet), hardware ID high bits 0
    header[11] = 0x01; // hardware ID low bits 0, D 0, granularity 0, O 1: an 8-byte subheader follows
    header.writeUInt32BE(3 << 26, 12); // platform ID 3, then platform-specific bytes (zero)
    return header;
  });
}

/** Every frame's IP datagram as a G-PDU of GTP-U (TEID 0x1234) with a sequence number, over UDP 2152. */
function gtpu(file: PcapFile): PcapFile {
  let sequence = 0;
  return rewrap(file, LINKTYPE_ETHERNET, (ip, frame) => {
    const gtp = Buffer.alloc(12);
    gtp[0] = 0x32; // version 1, PT 1, S: the 4 optional bytes follow
    gtp[1] = 0xff; // G-PDU
    gtp.writeUInt16BE(4 + ip.length, 2); // after the mandatory 8 bytes
    gtp.writeUInt32BE(0x1234, 4);
    gtp.writeUInt16BE(sequence++ & 0xffff, 8);
    const udp = Buffer.alloc(8);
    udp.writeUInt16BE(2152, 0);
    udp.writeUInt16BE(2152, 2);
    udp.writeUInt16BE(8 + gtp.length + ip.length, 4); // checksum 0: none (IPv4)
    const outerMacs = Buffer.from('02000000000e02000000000f', 'hex');
    return ethernet(outerMacs, ETHERTYPE_IPV4, outerIpv4(17, Buffer.concat([udp, gtp, ip])));
  });
}

/** Every frame as IEEE 802.3 with an 802.2 LLC/SNAP header (RFC 1042: OUI 00-00-00, EtherType 0x0800). */
function snap(file: PcapFile): PcapFile {
  return rewrap(file, LINKTYPE_ETHERNET, (ip, frame) => {
    const llc = Buffer.from([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00]);
    // The length field counts the LLC header and the datagram; a frame longer than 802.3 allows (1500
    // bytes) stays Ethernet II, since a larger value in that field is an EtherType.
    if (llc.length + ip.length > IEEE_802_3_MAX_LENGTH) return frame;
    return ethernet(frame, llc.length + ip.length, Buffer.concat([llc, ip]));
  });
}

const edits: Record<string, (file: PcapFile) => PcapFile> = {
  pppoe,
  mpls,
  gre,
  vxlan,
  nflog: (file) => nflog(file),
  // A big-endian host writes both: libpcap and Wireshark take the TLVs to be in the file's byte order.
  'nflog-be': (file) => ({ ...nflog(file, true), littleEndian: false }),
  erspan2,
  erspan3,
  gtpu,
  snap,
  bigendian: bigEndian,
  vlan: (file) => tagged(file, [{ tpid: 0x8100, vid: 100 }]),
  qinq: (file) =>
    tagged(file, [
      { tpid: 0x88a8, vid: 200 },
      { tpid: 0x8100, vid: 100 },
    ]),
  retransmit,
  reorder,
  seqwrap: seqWrap,
};

const [command, input, output] = process.argv.slice(2);
const edit = command === undefined ? undefined : edits[command];
if (!edit || !input || !output) {
  process.stderr.write(`usage: pcap-edit.ts ${Object.keys(edits).join('|')} IN.pcap OUT.pcap\n`);
  process.exit(2);
}
writePcap(output, edit(readPcap(input)));
