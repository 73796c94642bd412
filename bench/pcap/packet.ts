/**
 * What the capture readers hand on: one packet at a time, and a summary of the file once it is read.
 * Both formats (classic pcap in `classic.ts`, pcapng in `pcapng.ts`) produce exactly these shapes.
 */
import { warning, type CaptureFileInfo, type Warning } from '../model/index.ts';

/** One captured packet, as the file recorded it. Readers may refill one object per packet: read it in the callback, keep none of it. */
export interface CapturedPacket {
  /** Timestamp, whole seconds since the epoch. */
  tsSec: number;
  /** Nanoseconds within the second (microsecond files: usec*1000). */
  tsNsec: number;
  /** Bytes of the frame present in `data`, from `offset` on. */
  capturedLength: number;
  /** Length of the frame on the wire. */
  originalLength: number;
  /** LINKTYPE_* of this packet's interface. */
  linkType: number;
  /** 0 for classic pcap; the Interface Description Block index (within its section) for pcapng. */
  interfaceId: number;
  /**
   * The reader's buffer, holding the captured frame at data[offset, offset + capturedLength): valid only
   * during the callback (do not retain). No view is made per packet; `frameBytes` makes one when needed.
   */
  data: Buffer;
  offset: number;
}

/** The captured frame of a packet as its own view (for callers off the hot path; it shares the reader's memory). */
export function frameBytes(packet: CapturedPacket): Buffer {
  return packet.data.subarray(packet.offset, packet.offset + packet.capturedLength);
}

/** Facts about a capture file, returned once every packet has been delivered. */
export interface CaptureReadSummary extends Omit<CaptureFileInfo, 'path' | 'durationSeconds'> {
  /** Conditions the reader survived: `truncated-file`, `pcapng-unknown-interface`. Packets cut by the snap
   * length are only counted (`truncatedPackets`): the analyzer words that warning. */
  warnings: Warning[];
}

/** Called synchronously for each packet, in file order. */
export type PacketHandler = (packet: CapturedPacket) => void;

/**
 * The largest captured length accepted when a file gives no usable snap length: libpcap's MAXIMUM_SNAPLEN
 * (256 KiB), the most any libpcap-based tool will write for one packet.
 */
export const MAX_PACKET_BYTES = 262_144;

/** Bytes per read of a capture file, for both readers: large enough that per-read costs vanish, small enough to keep RSS flat. */
export const READ_CHUNK_BYTES = 1 << 20;

/** Link-layer header types (https://www.tcpdump.org/linktypes.html) that `PacketDecoder` understands. */
export const LinkType = {
  /** BSD loopback: 4-byte address family in the byte order of the capturing host. */
  NULL: 0,
  ETHERNET: 1,
  /** DLT_RAW as some BSDs number it (libpcap maps both 12 and 14 to LINKTYPE_RAW). */
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  RAW: 101,
  /** OpenBSD loopback: like NULL, but the family is in network byte order. */
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  /** Linux NFLOG (iptables/nftables `log group`): a 4-byte header, then TLVs, one of which is the packet. */
  NFLOG: 239,
  LINUX_SLL2: 276,
} as const;

/** The snap length to enforce: the file's own when it is sane, else libpcap's maximum. */
export function effectiveSnapLength(snapLength: number): number {
  return snapLength > 0 && snapLength <= MAX_PACKET_BYTES ? snapLength : MAX_PACKET_BYTES;
}

/** The warning for a file that ends inside a packet or block: the complete packets were still delivered. */
export function truncatedFileWarning(path: string, detail: string): Warning {
  return warning('truncated-file', { path, detail });
}
