/**
 * Link, IP and TCP header decoding: one captured frame in, one TCP segment (or the reason there is none)
 * out. Runs once per packet over captures of millions of packets, so the common path allocates nothing: the
 * decoder refills its one result, formats addresses through small caches, and answers the non-TCP cases
 * with shared constants.
 */
import { u16be, u32be, u32le } from '../bytes.ts';
import { LinkType } from './packet.ts';

/** One TCP segment as its headers describe it. */
export interface TcpSegment {
  ipVersion: 4 | 6;
  srcIp: string;
  dstIp: string;
  srcPort: number;
  dstPort: number;
  /** IPv4 total length, or IPv6 40 + payload length: from the header, not the captured length. When the
   * header says 0 (segmentation offload, jumbograms) the captured bytes from the IP header on. */
  ipBytes: number;
  /** IP header (with IPv4 options or IPv6 extension headers) + TCP header with its options. */
  headerBytes: number;
  /** Unsigned 32-bit sequence and acknowledgement numbers. */
  seq: number;
  ack: number;
  /** TCP flag bits, byte 13 of the header (FIN=1, SYN=2, RST=4, PSH=8, ACK=16, URG=32, ECE=64, CWR=128). */
  flags: number;
  /** ipBytes - headerBytes: the real payload length even when the capture cut the packet short. */
  payloadLength: number;
  /** The captured part of the payload is data[payloadStart, payloadEnd) in the buffer given to
   * `PacketDecoder.decode` (shorter than `payloadLength` when the snap length cut it). */
  payloadStart: number;
  payloadEnd: number;
}

/** What a frame holds, as far as TCP accounting is concerned. */
export type DecodeResult =
  | { kind: 'tcp'; segment: TcpSegment }
  /** `unopened`: an encapsulation that may carry TCP but that this decoder does not open, named. */
  | { kind: 'non-ip'; unopened?: string }
  | { kind: 'non-tcp'; unopened?: string }
  | { kind: 'fragment' }
  | { kind: 'malformed'; reason: string };

const NON_IP: DecodeResult = Object.freeze({ kind: 'non-ip' });
const NON_TCP: DecodeResult = Object.freeze({ kind: 'non-tcp' });
const FRAGMENT: DecodeResult = Object.freeze({ kind: 'fragment' });

function malformed(reason: string): DecodeResult {
  return { kind: 'malformed', reason };
}

/** One shared result per unopened encapsulation's name: few distinct names, many packets. */
const unopenedResults = new Map<string, DecodeResult>();

/** A packet skipped inside an encapsulation that is not opened (not IP at the link layer: `non-ip`). */
function unopened(name: string): DecodeResult {
  let result = unopenedResults.get(name);
  if (result === undefined) {
    result = Object.freeze({ kind: 'non-ip', unopened: name });
    unopenedResults.set(name, result);
  }
  return result;
}

function hex4(n: number): string {
  return `0x${n.toString(16).padStart(4, '0')}`;
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q C-tag, 802.1ad S-tag, and the pre-standard QinQ tag: 4 bytes each (TCI + inner type). */
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const VLAN_TAG_BYTES = 4;
/** PPPoE session stage (RFC 2516 §4): ver/type(1) code(1) session(2) length(2), then the PPP protocol(2). */
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const PPPOE_HEADER_BYTES = 8;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
/** MPLS unicast and multicast (RFC 3032 §2.1): 4-byte label stack entries, bottom of stack is bit 8 of byte 2. */
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;
const MPLS_ENTRY_BYTES = 4;
/** GRE's protocol type for a whole Ethernet frame (transparent Ethernet bridging, also NVGRE). */
const ETHERTYPE_TRANSPARENT_ETHERNET = 0x6558;
/**
 * ERSPAN (draft-foschiano-erspan-03), a mirrored Ethernet frame in GRE: type II is 0x88BE with GRE's
 * sequence number and an 8-byte header (type I: 0x88BE without a sequence number, no header); type III is
 * 0x22EB with a 12-byte header, then an 8-byte platform subheader when its O bit is set, and its frame type
 * says Ethernet (0) or IP (2).
 */
const GRE_ERSPAN_II = 0x88be;
const GRE_ERSPAN_III = 0x22eb;
const ERSPAN_II_HEADER_BYTES = 8;
const ERSPAN_III_HEADER_BYTES = 12;
const ERSPAN_III_SUBHEADER_BYTES = 8;
const ERSPAN_III_FRAME_ETHERNET = 0;
const ERSPAN_III_FRAME_IP = 2;
/**
 * IEEE 802.3 frames: a type field of at most 1500 is a length, and an 802.2 LLC header follows: DSAP(1)
 * SSAP(1) control(1); SNAP (RFC 1042) is DSAP = SSAP = 0xAA, control 0x03 (UI), then OUI(3) and an EtherType.
 */
const IEEE_802_3_MAX_LENGTH = 1500;
const LLC_SNAP_SAP = 0xaa;
const LLC_UI = 0x03;
const LLC_SNAP_HEADER_BYTES = 8;
/** Tunnels nest: a bound on how many encapsulations are opened, so a crafted frame cannot recurse deeply. */
const MAX_TUNNEL_DEPTH = 4;

/** Ethernet: destination(6) source(6) type(2). */
const ETHERNET_HEADER_BYTES = 14;
const ETHERNET_OFFSET_TYPE = 12;
/** Linux cooked v1: packet type(2) ARPHRD(2) address length(2) address(8) protocol(2). */
const SLL_HEADER_BYTES = 16;
const SLL_OFFSET_PROTOCOL = 14;
/** Linux cooked v2: protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) address length(1) address(8). */
const SLL2_HEADER_BYTES = 20;
const SLL2_OFFSET_PROTOCOL = 0;
/** BSD loopback: a 4-byte address family. */
const NULL_HEADER_BYTES = 4;
const AF_INET = 2;
/** AF_INET6 differs per BSD: NetBSD/OpenBSD 24, FreeBSD/DragonFly 28, Darwin 30. */
const AF_INET6_BSD = 24;
const AF_INET6_FREEBSD = 28;
const AF_INET6_DARWIN = 30;
/** Linux's AF_INET6 (NFLOG's family byte). */
const AF_INET6_LINUX = 10;

const IPV4_MIN_HEADER_BYTES = 20;
const IPV4_OFFSET_TOTAL_LENGTH = 2;
/** Flags(3 bits) + fragment offset(13 bits): MF is 0x2000; any offset bit or MF makes a fragment. */
const IPV4_OFFSET_FRAGMENT = 6;
const IPV4_MORE_FRAGMENTS_OR_OFFSET = 0x3fff;
const IPV4_OFFSET_PROTOCOL = 9;
const IPV4_OFFSET_SRC = 12;
const IPV4_OFFSET_DST = 16;

const IPV6_HEADER_BYTES = 40;
const IPV6_OFFSET_PAYLOAD_LENGTH = 4;
const IPV6_OFFSET_NEXT_HEADER = 6;
const IPV6_OFFSET_SRC = 8;
const IPV6_OFFSET_DST = 24;
const IPV6_ADDRESS_BYTES = 16;

/** IP protocol / IPv6 next-header numbers (IANA). */
const PROTO_HOP_BY_HOP = 0;
const PROTO_TCP = 6;
const PROTO_UDP = 17;
const PROTO_GRE = 47;
const PROTO_ROUTING = 43;
const PROTO_FRAGMENT = 44;
const PROTO_AH = 51;
const PROTO_DESTINATION_OPTIONS = 60;
/** Every extension header is at least 8 bytes; the fragment header is exactly 8 (RFC 8200 §4.5). */
const IPV6_EXTENSION_MIN_BYTES = 8;
const IPV6_FRAGMENT_OFFSET_AND_M = 2;

/** GRE (RFC 2784, RFC 2890): flags/version(2) protocol(2), then checksum+reserved, key and sequence when flagged. */
const GRE_HEADER_BYTES = 4;
const GRE_CHECKSUM = 0x8000;
const GRE_KEY = 0x2000;
const GRE_SEQUENCE = 0x1000;
const GRE_VERSION_MASK = 0x0007;
/** UDP(8) then VXLAN (RFC 7348 §5: flags(1) reserved(3) VNI(3) reserved(1)) or Geneve (RFC 8926 §3.4). */
const UDP_HEADER_BYTES = 8;
const VXLAN_PORT = 4789;
const VXLAN_HEADER_BYTES = 8;
const GENEVE_PORT = 6081;
const GENEVE_HEADER_BYTES = 8;
/**
 * GTP-U (3GPP TS 29.281 §5.1) on UDP 2152: flags(1) type(1) length(2) TEID(4), then sequence(2) N-PDU(1)
 * next extension type(1) when any of the E, S, PN flags is set, then extension headers (length in 4-byte
 * units, next type in their last byte). Version 1 with PT 1; a G-PDU (type 255) carries a user's IP packet.
 */
const GTP_U_PORT = 2152;
const GTP_HEADER_BYTES = 8;
const GTP_OPTIONAL_BYTES = 4;
const GTP_VERSION_1_PT = 0x30;
const GTP_FLAGS_E_S_PN = 0x07;
const GTP_FLAG_E = 0x04;
const GTP_G_PDU = 0xff;
/** NFLOG: family(1) version(1) resource id(2), then TLVs of length(2) type(2) in the host's byte order. */
const NFLOG_HEADER_BYTES = 4;
const NFLOG_TLV_HEADER_BYTES = 4;
const NFULA_PAYLOAD = 9;

const TCP_MIN_HEADER_BYTES = 20;
const TCP_OFFSET_SEQ = 4;
const TCP_OFFSET_ACK = 8;
const TCP_OFFSET_DATA_OFFSET = 12;
const TCP_OFFSET_FLAGS = 13;

const SUPPORTED_LINK_TYPES: ReadonlySet<number> = new Set(Object.values(LinkType));

/** True when `PacketDecoder` can find IP in frames of this link type. */
export function isSupportedLinkType(linkType: number): boolean {
  return SUPPORTED_LINK_TYPES.has(linkType);
}

/** Address strings are cached: a capture has few distinct addresses and many packets. The bound keeps a
 * scan or spoofed traffic from growing the caches without limit. */
const ADDRESS_CACHE_LIMIT = 4096;

/**
 * True when NFLOG TLV lengths read in this byte order chain from `at` through the frame: each at least its
 * own header and within the bytes left (the last one's padding may run past the end).
 */
function nflogChains(data: Buffer, at: number, end: number, bigEndian: boolean): boolean {
  while (end - at > NFLOG_TLV_HEADER_BYTES) {
    const length = bigEndian ? u16be(data, at) : data[at]! | (data[at + 1]! << 8);
    if (length < NFLOG_TLV_HEADER_BYTES || length > end - at) return false;
    at += (length + 3) & ~3;
  }
  return true;
}

/**
 * Decodes captured frames down to their TCP segment. One decoder serves one capture: it owns the result it
 * refills (a capture has millions of packets and the analyzer reads each segment before decoding the next,
 * so a result per packet would only feed the garbage collector) and its address caches.
 */
export class PacketDecoder {
  private readonly tcpResult: { kind: 'tcp'; segment: TcpSegment } = {
    kind: 'tcp',
    segment: {
      ipVersion: 4,
      srcIp: '',
      dstIp: '',
      srcPort: 0,
      dstPort: 0,
      ipBytes: 0,
      headerBytes: 0,
      seq: 0,
      ack: 0,
      flags: 0,
      payloadLength: 0,
      payloadStart: 0,
      payloadEnd: 0,
    },
  };
  /** End of the frame as it was on the wire (its original length from `start`): no header may claim more. */
  private wireEnd = 0;
  /** Encapsulations opened so far in the frame being decoded (GRE, VXLAN, Geneve). */
  private tunnelDepth = 0;
  private readonly ipv4Cache = new Map<number, string>();
  private readonly ipv6Cache = new Map<string, string>();
  /**
   * The last two addresses formatted, as 16-bit halves (small integers: a whole IPv4 address above 2^30
   * would be a heap number, made anew per packet): a packet's source and destination are mostly the last
   * packet's.
   */
  private lastHighA = -1;
  private lastLowA = -1;
  private lastTextA = '';
  private lastHighB = -1;
  private lastLowB = -1;
  private lastTextB = '';

  /**
   * Decodes the captured frame `data[start, end)` down to its TCP segment. The frame is given by its bounds
   * in a larger buffer (the reader's) so that no view is made per packet; the segment's payload bounds index
   * the same buffer. `originalLength` is the frame's length on the wire (the captured length when omitted).
   *
   * A frame cut by the snap length still decodes when its headers are complete: `payloadLength` comes from
   * the IP length and `data[payloadStart, payloadEnd)` holds what was captured. Frames whose captured bytes
   * end inside a header, whose IP length claims more than the frame held on the wire, or whose header fields
   * fail a sanity check are `malformed` with the reason. Any IP fragment (IPv4 MF or non-zero offset; an
   * IPv6 fragment header other than an atomic fragment) is `fragment`.
   *
   * A `tcp` result is this decoder's own, refilled by the next call: read (or copy) it before decoding
   * another frame.
   */
  decode(linkType: number, data: Buffer, start = 0, end = data.length, originalLength = end - start): DecodeResult {
    this.wireEnd = start + (originalLength > end - start ? originalLength : end - start);
    this.tunnelDepth = 0;
    switch (linkType) {
      case LinkType.ETHERNET:
        if (end - start < ETHERNET_HEADER_BYTES) return malformed('frame shorter than an Ethernet header');
        return this.ethertype(data, start + ETHERNET_HEADER_BYTES, end, u16be(data, start + ETHERNET_OFFSET_TYPE));
      case LinkType.LINUX_SLL:
        if (end - start < SLL_HEADER_BYTES) return malformed('frame shorter than a Linux cooked header');
        return this.ethertype(data, start + SLL_HEADER_BYTES, end, u16be(data, start + SLL_OFFSET_PROTOCOL));
      case LinkType.LINUX_SLL2:
        if (end - start < SLL2_HEADER_BYTES) return malformed('frame shorter than a Linux cooked v2 header');
        return this.ethertype(data, start + SLL2_HEADER_BYTES, end, u16be(data, start + SLL2_OFFSET_PROTOCOL));
      case LinkType.RAW:
      case LinkType.RAW_BSD12:
      case LinkType.RAW_BSD14:
        return this.ipByVersion(data, start, end);
      case LinkType.IPV4:
        return this.ipv4(data, start, end);
      case LinkType.IPV6:
        return this.ipv6(data, start, end);
      case LinkType.NULL: {
        if (end - start < NULL_HEADER_BYTES) return malformed('frame shorter than a loopback header');
        // The family is in the capturing host's byte order; families are small, so set high bits mean the
        // other byte order (as Wireshark decides it).
        const family = u32le(data, start);
        return this.family(data, start, end, family > 0xffff ? u32be(data, start) : family);
      }
      case LinkType.LOOP:
        if (end - start < NULL_HEADER_BYTES) return malformed('frame shorter than a loopback header');
        return this.family(data, start, end, u32be(data, start));
      case LinkType.NFLOG:
        return this.nflog(data, start, end);
      default:
        return NON_IP;
    }
  }

  private ethertype(data: Buffer, offset: number, end: number, ethertype: number): DecodeResult {
    let type = ethertype;
    let at = offset;
    while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
      if (end < at + VLAN_TAG_BYTES) return malformed('frame ends inside a VLAN tag');
      type = u16be(data, at + 2);
      at += VLAN_TAG_BYTES;
    }
    if (type <= IEEE_802_3_MAX_LENGTH) {
      // An 802.3 length: only SNAP names the protocol (with an EtherType); other LLC SAPs (STP, NetBIOS,
      // IPX) carry no IP.
      if (end < at + LLC_SNAP_HEADER_BYTES || data[at] !== LLC_SNAP_SAP || data[at + 1] !== LLC_SNAP_SAP || data[at + 2] !== LLC_UI) {
        return NON_IP;
      }
      type = u16be(data, at + 6);
      at += LLC_SNAP_HEADER_BYTES;
      while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD) {
        if (end < at + VLAN_TAG_BYTES) return malformed('frame ends inside a VLAN tag');
        type = u16be(data, at + 2);
        at += VLAN_TAG_BYTES;
      }
    }
    if (type === ETHERTYPE_IPV4) return this.ipv4(data, at, end);
    if (type === ETHERTYPE_IPV6) return this.ipv6(data, at, end);
    if (type === ETHERTYPE_PPPOE_SESSION) {
      if (end < at + PPPOE_HEADER_BYTES) return malformed('frame ends inside a PPPoE header');
      const protocol = u16be(data, at + 6);
      if (protocol === PPP_IPV4) return this.ipv4(data, at + PPPOE_HEADER_BYTES, end);
      if (protocol === PPP_IPV6) return this.ipv6(data, at + PPPOE_HEADER_BYTES, end);
      return NON_IP; // LCP, IPCP, ... and PPPoE discovery
    }
    if (type === ETHERTYPE_MPLS || type === ETHERTYPE_MPLS_MULTICAST) return this.mpls(data, at, end);
    return NON_IP;
  }

  /** An MPLS label stack; after its bottom entry, IP told by its version nibble (RFC 3032 has no type field). */
  private mpls(data: Buffer, offset: number, end: number): DecodeResult {
    let at = offset;
    for (;;) {
      if (end < at + MPLS_ENTRY_BYTES) return malformed('frame ends inside an MPLS label stack');
      const bottom = (data[at + 2]! & 0x01) !== 0;
      at += MPLS_ENTRY_BYTES;
      if (bottom) break;
    }
    if (end <= at) return malformed('frame ends after its MPLS label stack');
    const version = data[at]! >> 4;
    if (version === 4) return this.ipv4(data, at, end);
    if (version === 6) return this.ipv6(data, at, end);
    // A pseudowire (RFC 4385 control word, first nibble 0): which one (Ethernet, PPP, ...) is signalled
    // out of band, so its payload cannot be told from the packet.
    return unopened('MPLS pseudowire');
  }

  /**
   * NFLOG's TLVs: the packet is the NFULA_PAYLOAD one, an IP datagram of the header's family. TLV lengths
   * and types are in the capturing host's byte order, which the file does not record: little-endian unless
   * the lengths read that way do not chain through the frame and read big-endian they do (as Wireshark
   * decides it).
   */
  private nflog(data: Buffer, start: number, end: number): DecodeResult {
    if (end - start < NFLOG_HEADER_BYTES) return malformed('frame shorter than an NFLOG header');
    const family = data[start]!;
    const first = start + NFLOG_HEADER_BYTES;
    const bigEndian = !nflogChains(data, first, end, false) && nflogChains(data, first, end, true);
    let at = first;
    while (at + NFLOG_TLV_HEADER_BYTES <= end) {
      const length = bigEndian ? u16be(data, at) : data[at]! | (data[at + 1]! << 8);
      const type = bigEndian ? u16be(data, at + 2) : data[at + 2]! | (data[at + 3]! << 8);
      if (length < NFLOG_TLV_HEADER_BYTES) return malformed(`NFLOG TLV of length ${length}`);
      if (type === NFULA_PAYLOAD) {
        const payloadEnd = Math.min(end, at + length);
        const payload = at + NFLOG_TLV_HEADER_BYTES;
        if (family === AF_INET) return this.ipv4(data, payload, payloadEnd);
        if (family === AF_INET6_LINUX) return this.ipv6(data, payload, payloadEnd);
        return this.ipByVersion(data, payload, payloadEnd);
      }
      at += (length + 3) & ~3;
    }
    return NON_IP; // no packet in it (a truncated log, or a message that carries none)
  }

  /**
   * The payload of an IP datagram that is not TCP: opened when it is a tunnel (GRE; VXLAN or Geneve over
   * UDP) whose inner packet may be; the inner IP's lengths and TCP are then the segment's, the outer
   * headers count only in the frame's wire bytes.
   */
  private tunnel(data: Buffer, protocol: number, at: number, ipEnd: number, end: number): DecodeResult {
    if (this.tunnelDepth >= MAX_TUNNEL_DEPTH) return NON_TCP;
    const innerEnd = ipEnd < end ? ipEnd : end;
    if (protocol === PROTO_GRE) {
      if (innerEnd < at + GRE_HEADER_BYTES) return malformed('frame ends inside a GRE header');
      const flags = u16be(data, at);
      if ((flags & GRE_VERSION_MASK) !== 0) return unopened(`GRE version ${flags & GRE_VERSION_MASK} (PPTP)`);
      const headerBytes =
        GRE_HEADER_BYTES + (flags & GRE_CHECKSUM ? 4 : 0) + (flags & GRE_KEY ? 4 : 0) + (flags & GRE_SEQUENCE ? 4 : 0);
      if (innerEnd < at + headerBytes) return malformed('frame ends inside a GRE header');
      this.tunnelDepth++;
      const type = u16be(data, at + 2);
      const payload = at + headerBytes;
      if (type === GRE_ERSPAN_II) {
        const erspan = flags & GRE_SEQUENCE ? ERSPAN_II_HEADER_BYTES : 0;
        return this.innerEthernet(data, payload + erspan, innerEnd);
      }
      if (type === GRE_ERSPAN_III) return this.erspan3(data, payload, innerEnd);
      if (type === ETHERTYPE_TRANSPARENT_ETHERNET) return this.innerEthernet(data, payload, innerEnd);
      const inner = this.ethertype(data, payload, innerEnd, type);
      return inner === NON_IP ? unopened(`GRE protocol ${hex4(type)}`) : inner;
    }
    if (protocol === PROTO_UDP) {
      if (innerEnd < at + UDP_HEADER_BYTES) return NON_TCP;
      const port = u16be(data, at + 2);
      const payload = at + UDP_HEADER_BYTES;
      if (port === VXLAN_PORT) {
        if (innerEnd < payload + VXLAN_HEADER_BYTES) return malformed('frame ends inside a VXLAN header');
        this.tunnelDepth++;
        return this.innerEthernet(data, payload + VXLAN_HEADER_BYTES, innerEnd);
      }
      if (port === GENEVE_PORT) {
        if (innerEnd < payload + GENEVE_HEADER_BYTES) return malformed('frame ends inside a Geneve header');
        const headerBytes = GENEVE_HEADER_BYTES + (data[payload]! & 0x3f) * 4;
        if (innerEnd < payload + headerBytes) return malformed('frame ends inside the Geneve options');
        this.tunnelDepth++;
        const type = u16be(data, payload + 2);
        if (type === ETHERTYPE_TRANSPARENT_ETHERNET) return this.innerEthernet(data, payload + headerBytes, innerEnd);
        return this.ethertype(data, payload + headerBytes, innerEnd, type);
      }
      if (port === GTP_U_PORT) return this.gtpU(data, payload, innerEnd);
    }
    return NON_TCP;
  }

  /** ERSPAN type III's header, then its frame: Ethernet, or IP told by its version. */
  private erspan3(data: Buffer, at: number, end: number): DecodeResult {
    if (end < at + ERSPAN_III_HEADER_BYTES) return malformed('frame ends inside an ERSPAN type III header');
    // Bytes 10-11: P(1) FT(5) HW ID(6) D(1) Gra(2) O(1).
    const frameType = (data[at + 10]! >> 2) & 0x1f;
    const subheader = (data[at + 11]! & 0x01) !== 0 ? ERSPAN_III_SUBHEADER_BYTES : 0;
    const frame = at + ERSPAN_III_HEADER_BYTES + subheader;
    if (frameType === ERSPAN_III_FRAME_ETHERNET) return this.innerEthernet(data, frame, end);
    if (frameType === ERSPAN_III_FRAME_IP) return this.ipByVersion(data, frame, end);
    return unopened(`ERSPAN type III frame type ${frameType}`);
  }

  /** A GTP-U message: a G-PDU's user packet is IP; echoes, error indications and end markers carry none. */
  private gtpU(data: Buffer, at: number, end: number): DecodeResult {
    if (end < at + GTP_HEADER_BYTES) return malformed('frame ends inside a GTP-U header');
    const flags = data[at]!;
    if ((flags & 0xf0) !== GTP_VERSION_1_PT) return unopened(`GTP-U flags 0x${flags.toString(16).padStart(2, '0')} (not version 1, PT 1)`);
    if (data[at + 1] !== GTP_G_PDU) return NON_TCP;
    let next = at + GTP_HEADER_BYTES;
    if ((flags & GTP_FLAGS_E_S_PN) !== 0) {
      if (end < next + GTP_OPTIONAL_BYTES) return malformed('frame ends inside a GTP-U header');
      let extension = flags & GTP_FLAG_E ? data[next + 3]! : 0;
      next += GTP_OPTIONAL_BYTES;
      while (extension !== 0) {
        if (end < next + 1) return malformed('frame ends inside a GTP-U extension header');
        const length = data[next]! * 4;
        if (length === 0 || end < next + length) return malformed('a GTP-U extension header runs past the frame');
        extension = data[next + length - 1]!;
        next += length;
      }
    }
    this.tunnelDepth++;
    return this.ipByVersion(data, next, end);
  }

  private innerEthernet(data: Buffer, at: number, end: number): DecodeResult {
    if (end - at < ETHERNET_HEADER_BYTES) return malformed('tunnel ends inside its inner Ethernet header');
    return this.ethertype(data, at + ETHERNET_HEADER_BYTES, end, u16be(data, at + ETHERNET_OFFSET_TYPE));
  }

  private family(data: Buffer, start: number, end: number, family: number): DecodeResult {
    if (family === AF_INET) return this.ipv4(data, start + NULL_HEADER_BYTES, end);
    if (family === AF_INET6_BSD || family === AF_INET6_FREEBSD || family === AF_INET6_DARWIN) {
      return this.ipv6(data, start + NULL_HEADER_BYTES, end);
    }
    return NON_IP;
  }

  private ipByVersion(data: Buffer, offset: number, end: number): DecodeResult {
    if (end <= offset) return malformed('frame has no IP header');
    const version = data[offset]! >> 4;
    if (version === 4) return this.ipv4(data, offset, end);
    if (version === 6) return this.ipv6(data, offset, end);
    return malformed(`IP version ${version} in a raw IP frame`);
  }

  private ipv4(data: Buffer, offset: number, end: number): DecodeResult {
    const available = end - offset;
    if (available < IPV4_MIN_HEADER_BYTES) return malformed('frame ends inside the IPv4 header');
    const versionAndIhl = data[offset]!;
    if (versionAndIhl >> 4 !== 4) return malformed(`IP version ${versionAndIhl >> 4} where IPv4 was announced`);
    const headerBytes = (versionAndIhl & 0x0f) * 4;
    if (headerBytes < IPV4_MIN_HEADER_BYTES) return malformed(`IPv4 IHL ${versionAndIhl & 0x0f} is below 5`);
    if (available < headerBytes) return malformed('frame ends inside the IPv4 options');
    const totalLength = u16be(data, offset + IPV4_OFFSET_TOTAL_LENGTH);
    // Outgoing packets captured before TCP segmentation offload can carry total length 0; the captured
    // bytes are then the only measure of the datagram.
    const ipBytes = totalLength === 0 ? available : totalLength;
    if (ipBytes < headerBytes) return malformed(`IPv4 total length ${totalLength} is shorter than its header`);
    // A length the frame did not hold on the wire would invent payload (and make the real bytes that follow
    // look like a retransmission): the header is corrupt.
    if (offset + ipBytes > this.wireEnd) {
      return malformed(`IPv4 total length ${totalLength} runs past the frame (${this.wireEnd - offset} bytes from the IP header on)`);
    }
    if ((u16be(data, offset + IPV4_OFFSET_FRAGMENT) & IPV4_MORE_FRAGMENTS_OR_OFFSET) !== 0) return FRAGMENT;
    const protocol = data[offset + IPV4_OFFSET_PROTOCOL]!;
    if (protocol !== PROTO_TCP) return this.tunnel(data, protocol, offset + headerBytes, offset + ipBytes, end);
    return this.tcp(
      data,
      end,
      4,
      offset,
      headerBytes,
      ipBytes,
      this.ipv4String(data, offset + IPV4_OFFSET_SRC),
      this.ipv4String(data, offset + IPV4_OFFSET_DST),
    );
  }

  private ipv6(data: Buffer, offset: number, end: number): DecodeResult {
    const available = end - offset;
    if (available < IPV6_HEADER_BYTES) return malformed('frame ends inside the IPv6 header');
    if (data[offset]! >> 4 !== 6) return malformed(`IP version ${data[offset]! >> 4} where IPv6 was announced`);
    const payloadLength = u16be(data, offset + IPV6_OFFSET_PAYLOAD_LENGTH);
    // Payload length 0 means a jumbogram or an offloaded segment: measure it by the captured bytes.
    const ipBytes = payloadLength === 0 ? available : IPV6_HEADER_BYTES + payloadLength;
    const ipEnd = offset + ipBytes;
    if (ipEnd > this.wireEnd) {
      return malformed(`IPv6 payload length ${payloadLength} runs past the frame (${this.wireEnd - offset} bytes from the IP header on)`);
    }
    let next = data[offset + IPV6_OFFSET_NEXT_HEADER]!;
    let at = offset + IPV6_HEADER_BYTES;
    while (next !== PROTO_TCP) {
      if (
        next !== PROTO_HOP_BY_HOP &&
        next !== PROTO_ROUTING &&
        next !== PROTO_DESTINATION_OPTIONS &&
        next !== PROTO_AH &&
        next !== PROTO_FRAGMENT
      ) {
        // GRE and UDP may be tunnels; no-next-header (59), ESP, ICMPv6 and the rest carry no TCP.
        return this.tunnel(data, next, at, ipEnd, end);
      }
      if (at + IPV6_EXTENSION_MIN_BYTES > end) return malformed('frame ends inside an IPv6 extension header');
      let length: number;
      if (next === PROTO_FRAGMENT) {
        // An atomic fragment (offset 0, M clear; RFC 6946) is a whole datagram: keep walking.
        if ((u16be(data, at + IPV6_FRAGMENT_OFFSET_AND_M) & 0xfff9) !== 0) return FRAGMENT;
        length = IPV6_EXTENSION_MIN_BYTES;
      } else if (next === PROTO_AH) {
        length = (data[at + 1]! + 2) * 4; // RFC 4302 §2.2: in 32-bit words, minus 2
      } else {
        length = (data[at + 1]! + 1) * 8; // RFC 8200 §4.3: in 8-octet units, not counting the first 8
      }
      next = data[at]!;
      at += length;
      if (at > ipEnd) return malformed('IPv6 extension headers run past the payload length');
    }
    return this.tcp(
      data,
      end,
      6,
      offset,
      at - offset,
      ipBytes,
      this.ipv6String(data, offset + IPV6_OFFSET_SRC),
      this.ipv6String(data, offset + IPV6_OFFSET_DST),
    );
  }

  private tcp(
    data: Buffer,
    end: number,
    ipVersion: 4 | 6,
    ipOffset: number,
    ipHeaderBytes: number,
    ipBytes: number,
    srcIp: string,
    dstIp: string,
  ): DecodeResult {
    const tcp = ipOffset + ipHeaderBytes;
    if (ipBytes < ipHeaderBytes + TCP_MIN_HEADER_BYTES) return malformed('IP length leaves no room for a TCP header');
    if (end < tcp + TCP_MIN_HEADER_BYTES) return malformed('frame ends inside the TCP header');
    const dataOffset = data[tcp + TCP_OFFSET_DATA_OFFSET]! >> 4;
    if (dataOffset < 5) return malformed(`TCP data offset ${dataOffset} is below 5`);
    const tcpHeaderBytes = dataOffset * 4;
    const headerBytes = ipHeaderBytes + tcpHeaderBytes;
    if (headerBytes > ipBytes) return malformed(`TCP data offset ${dataOffset} runs past the IP length`);
    const payloadStart = tcp + tcpHeaderBytes;
    if (payloadStart > end) return malformed('frame ends inside the TCP options');
    const ipEnd = ipOffset + ipBytes;
    const result = this.tcpResult;
    const segment = result.segment;
    segment.ipVersion = ipVersion;
    segment.srcIp = srcIp;
    segment.dstIp = dstIp;
    segment.srcPort = u16be(data, tcp);
    segment.dstPort = u16be(data, tcp + 2);
    segment.ipBytes = ipBytes;
    segment.headerBytes = headerBytes;
    segment.seq = u32be(data, tcp + TCP_OFFSET_SEQ);
    segment.ack = u32be(data, tcp + TCP_OFFSET_ACK);
    segment.flags = data[tcp + TCP_OFFSET_FLAGS]!;
    segment.payloadLength = ipBytes - headerBytes;
    segment.payloadStart = payloadStart;
    segment.payloadEnd = ipEnd < end ? ipEnd : end;
    return result;
  }

  private ipv4String(data: Uint8Array, at: number): string {
    const high = (data[at]! << 8) | data[at + 1]!;
    const low = (data[at + 2]! << 8) | data[at + 3]!;
    if (high === this.lastHighA && low === this.lastLowA) return this.lastTextA;
    if (high === this.lastHighB && low === this.lastLowB) return this.lastTextB;
    const address = high * 65536 + low;
    let text = this.ipv4Cache.get(address);
    if (text === undefined) {
      text = `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
      if (this.ipv4Cache.size >= ADDRESS_CACHE_LIMIT) this.ipv4Cache.clear();
      this.ipv4Cache.set(address, text);
    }
    this.lastHighB = this.lastHighA;
    this.lastLowB = this.lastLowA;
    this.lastTextB = this.lastTextA;
    this.lastHighA = high;
    this.lastLowA = low;
    this.lastTextA = text;
    return text;
  }

  private ipv6String(data: Buffer, offset: number): string {
    const key = data.toString('latin1', offset, offset + IPV6_ADDRESS_BYTES);
    let text = this.ipv6Cache.get(key);
    if (text === undefined) {
      text = formatIpv6(data.subarray(offset, offset + IPV6_ADDRESS_BYTES));
      if (this.ipv6Cache.size >= ADDRESS_CACHE_LIMIT) this.ipv6Cache.clear();
      this.ipv6Cache.set(key, text);
    }
    return text;
  }
}

/**
 * Formats a 16-byte IPv6 address in RFC 5952 canonical text: lower-case hex without leading zeros, the
 * longest (first, on a tie) run of two or more zero groups as `::`, IPv4-mapped addresses in dotted form.
 */
export function formatIpv6(address: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < IPV6_ADDRESS_BYTES; i += 2) groups.push((address[i]! << 8) | address[i + 1]!);
  // RFC 5952 §5: ::ffff:0:0/96 is written with its IPv4 address in dotted-quad notation.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${address[12]}.${address[13]}.${address[14]}.${address[15]}`;
  }
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    if (groups[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < groups.length && groups[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (from: number, to: number): string =>
    groups
      .slice(from, to)
      .map((g) => g.toString(16))
      .join(':');
  if (bestStart < 0) return hex(0, groups.length);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLength, groups.length)}`;
}
