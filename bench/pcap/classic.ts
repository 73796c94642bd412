/**
 * Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html), streamed record by record
 * through two reused buffers: while one chunk is parsed, the read of the next is already in flight. Both
 * byte orders and both fractions (microseconds, nanoseconds) are read here; an absurd captured length is
 * rejected as soon as its record header is read, before any wait for that many bytes.
 *
 * Not through pcap-parser, which the design names: it emits an event and allocates a header object and a
 * buffer view per packet, and on this project's 200 MB perf capture iterating with it alone takes longer
 * than all of `analyze` does with this reader (`npm run perf:analyze` prints both). pcap-parser stays as the
 * oracle this reader is tested against packet for packet (test/pcap/classic-vs-pcap-parser.test.ts).
 */
import { u32be, u32le } from '../bytes.ts';
import type { Warning } from '../model/index.ts';
import { PcapFormatError } from '../errors.ts';
import {
  effectiveSnapLength,
  MAX_PACKET_BYTES,
  READ_CHUNK_BYTES,
  truncatedFileWarning,
  type CapturedPacket,
  type CaptureReadSummary,
  type PacketHandler,
} from './packet.ts';
import { readFully, type ByteSource } from './source.ts';

/** Global header: magic(4) version_major(2) version_minor(2) thiszone(4) sigfigs(4) snaplen(4) network(4). */
export const GLOBAL_HEADER_BYTES = 24;
/** Record header: ts_sec(4) ts_frac(4) incl_len(4) orig_len(4). */
const RECORD_HEADER_BYTES = 16;
const OFFSET_VERSION_MAJOR = 4;
const OFFSET_SNAPLEN = 16;
const OFFSET_LINKTYPE = 20;
/** The network field's low 26 bits are the link type; the high bits carry FCS information (LT_LINKTYPE). */
const LINKTYPE_MASK = 0x03ff_ffff;

/** The magic as read big-endian: which byte order and which fraction unit the file uses. */
const MAGIC_US_BE = 0xa1b2c3d4;
const MAGIC_US_LE = 0xd4c3b2a1;
const MAGIC_NS_BE = 0xa1b23c4d;
const MAGIC_NS_LE = 0x4d3cb2a1;

/**
 * Room before each chunk for the unfinished record carried over from the chunk before: a record header and
 * at most MAX_PACKET_BYTES (the captured-length check runs before a body is waited for).
 */
const CARRY_BYTES = RECORD_HEADER_BYTES + MAX_PACKET_BYTES;
/** Record header fields. */
const RECORD_OFFSET_TS_SEC = 0;
const RECORD_OFFSET_TS_FRAC = 4;
const RECORD_OFFSET_CAPTURED = 8;
const RECORD_OFFSET_ORIGINAL = 12;

/** True when the first four bytes are a classic pcap magic (either precision, either byte order). */
export function isClassicPcapMagic(magicBigEndian: number): boolean {
  return (
    magicBigEndian === MAGIC_US_BE ||
    magicBigEndian === MAGIC_US_LE ||
    magicBigEndian === MAGIC_NS_BE ||
    magicBigEndian === MAGIC_NS_LE
  );
}

interface GlobalHeaderFacts {
  nanoseconds: boolean;
  littleEndian: boolean;
  snapLength: number;
  linkType: number;
}

function parseGlobalHeader(path: string, head: Buffer): GlobalHeaderFacts {
  if (head.length < GLOBAL_HEADER_BYTES) {
    throw new PcapFormatError(
      `${path}: truncated pcap global header (${head.length} of ${GLOBAL_HEADER_BYTES} bytes)`,
    );
  }
  const magic = head.readUInt32BE(0);
  const littleEndian = magic === MAGIC_US_LE || magic === MAGIC_NS_LE;
  const nanoseconds = magic === MAGIC_NS_BE || magic === MAGIC_NS_LE;
  const read32 = (offset: number): number =>
    littleEndian ? head.readUInt32LE(offset) : head.readUInt32BE(offset);
  const versionMajor = littleEndian ? head.readUInt16LE(OFFSET_VERSION_MAJOR) : head.readUInt16BE(OFFSET_VERSION_MAJOR);
  if (versionMajor !== 2) {
    throw new PcapFormatError(`${path}: unsupported pcap version ${versionMajor} (only 2.x exists)`);
  }
  return {
    nanoseconds,
    littleEndian,
    snapLength: read32(OFFSET_SNAPLEN),
    linkType: read32(OFFSET_LINKTYPE) & LINKTYPE_MASK,
  };
}

/**
 * Streams a classic pcap file, calling `onPacket` for each record in file order.
 *
 * @param source - the capture's bytes from its first on (the global header is read from it again).
 * @param head - the file's first bytes (at least the global header when the file has one), already read
 *   by the caller to recognise the format.
 * @throws PcapFormatError for a bad global header or a packet whose captured length exceeds the snap length.
 */
export async function readClassicPcap(
  path: string,
  source: ByteSource,
  head: Buffer,
  onPacket: PacketHandler,
): Promise<CaptureReadSummary> {
  const facts = parseGlobalHeader(path, head);
  await readFully(source, Buffer.alloc(GLOBAL_HEADER_BYTES));
  return new ClassicReader(facts, onPacket, path).run(source);
}

class ClassicReader {
  /** Each chunk is read to buffer[CARRY_BYTES..]; the unfinished record before it is copied just below. */
  private readonly buffers = [
    Buffer.allocUnsafe(CARRY_BYTES + READ_CHUNK_BYTES),
    Buffer.allocUnsafe(CARRY_BYTES + READ_CHUNK_BYTES),
  ];
  private readonly maxCapturedLength: number;
  private readonly fractionToNsec: number;
  /** One packet object, refilled per record: the handler may not keep it (see CapturedPacket.data). */
  private readonly packet: CapturedPacket;
  private packets = 0;
  private truncatedPackets = 0;

  constructor(
    private readonly facts: GlobalHeaderFacts,
    private readonly onPacket: PacketHandler,
    private readonly path: string,
  ) {
    this.maxCapturedLength = effectiveSnapLength(facts.snapLength);
    this.fractionToNsec = facts.nanoseconds ? 1 : 1000;
    this.packet = {
      tsSec: 0,
      tsNsec: 0,
      capturedLength: 0,
      originalLength: 0,
      linkType: facts.linkType,
      interfaceId: 0,
      data: this.buffers[0]!,
      offset: 0,
    };
  }

  async run(source: ByteSource): Promise<CaptureReadSummary> {
    let current = 0;
    let inFlight = this.read(source, this.buffers[0]!);
    /** The unfinished record at the end of the chunk parsed last: buffers[1 - current][carryStart, carryEnd). */
    let carryStart = CARRY_BYTES;
    let carryEnd = CARRY_BYTES;
    try {
      for (;;) {
        const bytesRead = await inFlight;
        if (bytesRead === 0) break;
        const buffer = this.buffers[current]!;
        const carried = carryEnd - carryStart;
        this.buffers[1 - current]!.copy(buffer, CARRY_BYTES - carried, carryStart, carryEnd);
        // The other buffer is free now: its read overlaps the parsing of this one.
        inFlight = this.read(source, this.buffers[1 - current]!);
        carryStart = this.parse(buffer, CARRY_BYTES - carried, CARRY_BYTES + bytesRead);
        carryEnd = CARRY_BYTES + bytesRead;
        current = 1 - current;
      }
    } catch (error) {
      // The read in flight is of no use any more; its outcome must not become an unhandled rejection.
      await Promise.allSettled([inFlight]);
      throw error;
    }
    return this.summary(this.buffers[1 - current]!, carryStart, carryEnd);
  }

  private read(source: ByteSource, buffer: Buffer): Promise<number> {
    return source.read(buffer, CARRY_BYTES, READ_CHUNK_BYTES);
  }

  /** Delivers every complete record in buffer[start, end); returns where the unfinished one begins. */
  private parse(buffer: Buffer, start: number, end: number): number {
    const littleEndian = this.facts.littleEndian;
    const packet = this.packet;
    let at = start;
    while (end - at >= RECORD_HEADER_BYTES) {
      const capturedLength = littleEndian
        ? u32le(buffer, at + RECORD_OFFSET_CAPTURED)
        : u32be(buffer, at + RECORD_OFFSET_CAPTURED);
      if (capturedLength > this.maxCapturedLength) this.absurdLength(capturedLength);
      const dataStart = at + RECORD_HEADER_BYTES;
      if (end - dataStart < capturedLength) break;
      if (littleEndian) {
        packet.tsSec = u32le(buffer, at + RECORD_OFFSET_TS_SEC);
        packet.tsNsec = u32le(buffer, at + RECORD_OFFSET_TS_FRAC) * this.fractionToNsec;
        packet.originalLength = u32le(buffer, at + RECORD_OFFSET_ORIGINAL);
      } else {
        packet.tsSec = u32be(buffer, at + RECORD_OFFSET_TS_SEC);
        packet.tsNsec = u32be(buffer, at + RECORD_OFFSET_TS_FRAC) * this.fractionToNsec;
        packet.originalLength = u32be(buffer, at + RECORD_OFFSET_ORIGINAL);
      }
      packet.capturedLength = capturedLength;
      packet.data = buffer;
      packet.offset = dataStart;
      this.packets += 1;
      if (capturedLength < packet.originalLength) this.truncatedPackets += 1;
      at = dataStart + capturedLength;
      this.onPacket(packet);
    }
    return at;
  }

  private absurdLength(capturedLength: number): never {
    const max = this.maxCapturedLength;
    const limit = max === this.facts.snapLength ? `the snap length ${this.facts.snapLength}` : `${max} bytes`;
    throw new PcapFormatError(
      `${this.path}: packet ${this.packets + 1} claims ${capturedLength} captured bytes, more than ${limit}; ` +
        'the file is corrupt from there on',
    );
  }

  /** The file ended: bytes left in buffer[start, end) are an unfinished record. */
  private summary(buffer: Buffer, start: number, end: number): CaptureReadSummary {
    const warnings: Warning[] = [];
    const leftover = end - start;
    if (leftover > 0) {
      const capturedLength = (): number =>
        this.facts.littleEndian ? u32le(buffer, start + RECORD_OFFSET_CAPTURED) : u32be(buffer, start + RECORD_OFFSET_CAPTURED);
      const detail =
        leftover >= RECORD_HEADER_BYTES
          ? `packet ${this.packets + 1} (${leftover - RECORD_HEADER_BYTES} of ${capturedLength()} bytes)`
          : `the record header of packet ${this.packets + 1} (${leftover} of ${RECORD_HEADER_BYTES} bytes)`;
      warnings.push(truncatedFileWarning(this.path, detail));
    }
    return {
      format: 'pcap',
      timestampResolution: this.facts.nanoseconds ? 'ns' : 'us',
      linkTypes: [this.facts.linkType],
      snapLength: this.facts.snapLength,
      packets: this.packets,
      truncatedPackets: this.truncatedPackets,
      warnings,
    };
  }
}
