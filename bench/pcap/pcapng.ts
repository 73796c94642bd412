/**
 * pcapng files (draft-ietf-opsawg-pcapng), streamed block by block through one reused buffer so a
 * 200 MB capture never sits in memory. Each Section Header Block sets the byte order and starts a new
 * interface list; packets come from Enhanced, Simple and (obsolete) Packet Blocks; other blocks are skipped
 * by their length.
 */
import { warning, type Warning } from '../model/index.ts';
import { PcapFormatError } from '../errors.ts';
import {
  READ_CHUNK_BYTES,
  truncatedFileWarning,
  type CaptureReadSummary,
  type PacketHandler,
} from './packet.ts';
import type { ByteSource } from './source.ts';

/** Block types (pcapng §4, §11.1). The SHB type reads the same in both byte orders. */
const BLOCK_SECTION_HEADER = 0x0a0d0d0a;
const BLOCK_INTERFACE_DESCRIPTION = 0x00000001;
const BLOCK_PACKET_OBSOLETE = 0x00000002;
const BLOCK_SIMPLE_PACKET = 0x00000003;
const BLOCK_ENHANCED_PACKET = 0x00000006;
const BLOCK_DECRYPTION_SECRETS = 0x0000000a;

/** Byte-order magic of the SHB (offset 8), as read big-endian. */
const BYTE_ORDER_MAGIC_BE = 0x1a2b3c4d;
const BYTE_ORDER_MAGIC_LE = 0x4d3c2b1a;

/** Every block: type(4) total_length(4) body total_length(4). */
const BLOCK_HEADER_BYTES = 8;
const MIN_BLOCK_BYTES = 12;
/** libpcap's and Wireshark's ceiling for one block; anything larger is corruption, not a packet. */
const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/** SHB: byte_order_magic(4) major(2) minor(2) section_length(8) options. */
const SHB_OFFSET_BYTE_ORDER = 8;
const SHB_OFFSET_VERSION_MAJOR = 12;
const SHB_MIN_BYTES = 28;
/** IDB: link_type(2) reserved(2) snaplen(4) options. */
const IDB_OFFSET_LINKTYPE = 8;
const IDB_OFFSET_SNAPLEN = 12;
const IDB_OFFSET_OPTIONS = 16;
const IDB_MIN_BYTES = 20;
/** IDB options (§4.2): if_tsresol is one byte, if_tsoffset a signed 64-bit count of seconds. */
const OPTION_END = 0;
const OPTION_IF_TSRESOL = 9;
const OPTION_IF_TSOFFSET = 14;
/** EPB: interface_id(4) ts_high(4) ts_low(4) captured_len(4) original_len(4) data. The obsolete Packet
 * Block has the same layout with interface_id(2) drops_count(2). */
const EPB_OFFSET_INTERFACE = 8;
const EPB_OFFSET_TS_HIGH = 12;
const EPB_OFFSET_TS_LOW = 16;
const EPB_OFFSET_CAPTURED = 20;
const EPB_OFFSET_ORIGINAL = 24;
const EPB_OFFSET_DATA = 28;
const EPB_MIN_BYTES = 32;
/** DSB (§4.7): secrets_type(4) secrets_length(4) secrets data, padded to 32 bits, options. */
const DSB_OFFSET_TYPE = 8;
const DSB_OFFSET_LENGTH = 12;
const DSB_OFFSET_DATA = 16;
const DSB_MIN_BYTES = 20;
/** Secrets types (§4.7 table): 'TLSK' is an NSS key log, the only one this project reads. */
export const SECRETS_TLS_KEY_LOG = 0x544c534b;

/** SPB: original_len(4) data; its captured length is implied by the block length and IDB 0's snaplen. */
const SPB_OFFSET_ORIGINAL = 8;
const SPB_OFFSET_DATA = 12;
const SPB_MIN_BYTES = 16;

const NSEC_PER_SEC = 1_000_000_000;
const TWO_POW_32 = 4_294_967_296;

interface Interface {
  linkType: number;
  snapLength: number;
  /** Timestamp units per second (if_tsresol; 10^6 when absent). */
  unitsPerSecond: number;
  /** Nanoseconds per unit when that is a whole number (units of 1 s .. 1 ns), else 0: use BigInt. */
  nsecPerUnit: number;
  tsOffsetSec: number;
}

/**
 * Splits a 64-bit count of the interface's units (EPB ts_high:ts_low, §4.3) into seconds and nanoseconds.
 * At nanosecond resolution the count exceeds 2^53, so it is never formed as one double.
 */
function splitTimestamp(iface: Interface, high: number, low: number, out: { sec: number; nsec: number }): void {
  const units = iface.unitsPerSecond;
  if (iface.nsecPerUnit === 0) {
    const value = (BigInt(high) << 32n) | BigInt(low);
    const bigUnits = BigInt(units);
    out.sec = Number(value / bigUnits) + iface.tsOffsetSec;
    out.nsec = Number(((value % bigUnits) * BigInt(NSEC_PER_SEC)) / bigUnits);
    return;
  }
  // Long division of high*2^32 + low by units in 16-bit steps: every intermediate stays below 2^46.
  const qHigh = Math.floor(high / units);
  const t1 = (high - qHigh * units) * 65_536 + (low >>> 16);
  const q1 = Math.floor(t1 / units);
  const t2 = (t1 - q1 * units) * 65_536 + (low & 0xffff);
  const q2 = Math.floor(t2 / units);
  out.sec = qHigh * TWO_POW_32 + q1 * 65_536 + q2 + iface.tsOffsetSec;
  out.nsec = (t2 - q2 * units) * iface.nsecPerUnit;
}

/**
 * Hears of a Decryption Secrets Block: its secrets type (`SECRETS_TLS_KEY_LOG`, ...) and data (a copy). Called
 * in file order, so secrets written before the packets they open arrive before those packets.
 */
export type PcapngSecretsHandler = (secretsType: number, data: Buffer) => void;

/** Reads a whole pcapng file from `source` (its first byte on), delivering packets in file order. */
export function readPcapng(
  path: string,
  source: ByteSource,
  onPacket: PacketHandler,
  onSecrets?: PcapngSecretsHandler,
): Promise<CaptureReadSummary> {
  return new PcapngReader(path, onPacket, onSecrets).run(source);
}

class PcapngReader {
  private buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
  /** Valid bytes are buffer[start, end); `fileOffset` is the file position of buffer[start]. */
  private start = 0;
  private end = 0;
  private fileOffset = 0;
  private blockNumber = 0;

  private littleEndian = false;
  private sectionSeen = false;
  private interfaces: Interface[] = [];

  private packets = 0;
  private truncatedPackets = 0;
  private unknownInterfacePackets = 0;
  private readonly linkTypes: number[] = [];
  private readonly resolutions = new Set<'us' | 'ns' | 'other'>();
  private snapLength = 0;
  private readonly timestamp = { sec: 0, nsec: 0 };

  constructor(
    private readonly path: string,
    private readonly onPacket: PacketHandler,
    private readonly onSecrets: PcapngSecretsHandler | undefined,
  ) {}

  async run(source: ByteSource): Promise<CaptureReadSummary> {
    for (;;) {
      const needed = this.parseBlocks();
      if (this.start > 0) {
        this.buffer.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (needed > this.buffer.length) {
        const grown = Buffer.allocUnsafe(Math.ceil(needed / READ_CHUNK_BYTES) * READ_CHUNK_BYTES);
        this.buffer.copy(grown, 0, 0, this.end);
        this.buffer = grown;
      }
      const bytesRead = await source.read(this.buffer, this.end, this.buffer.length - this.end);
      if (bytesRead === 0) break;
      this.end += bytesRead;
    }
    if (!this.sectionSeen) {
      throw new PcapFormatError(
        `${this.path}: truncated pcapng section header block (${this.end} of ${SHB_MIN_BYTES} bytes)`,
      );
    }
    return this.summary();
  }

  private summary(): CaptureReadSummary {
    const warnings: Warning[] = [];
    const leftover = this.end - this.start;
    if (leftover > 0) {
      const declared = leftover >= BLOCK_HEADER_BYTES ? ` of ${this.read32(this.start + 4)}` : '';
      warnings.push(
        truncatedFileWarning(
          this.path,
          `block ${this.blockNumber + 1} at byte ${this.fileOffset} (${leftover}${declared} bytes)`,
        ),
      );
    }
    if (this.unknownInterfacePackets > 0) {
      warnings.push(
        warning('pcapng-unknown-interface', { path: this.path, packets: this.unknownInterfacePackets }, this.unknownInterfacePackets),
      );
    }
    const resolutions = [...this.resolutions];
    return {
      format: 'pcapng',
      timestampResolution: resolutions.length === 0 ? 'us' : resolutions.length === 1 ? resolutions[0]! : 'other',
      linkTypes: this.linkTypes,
      snapLength: this.snapLength,
      packets: this.packets,
      truncatedPackets: this.truncatedPackets,
      warnings,
    };
  }

  private read32(offset: number): number {
    return this.littleEndian ? this.buffer.readUInt32LE(offset) : this.buffer.readUInt32BE(offset);
  }

  private read16(offset: number): number {
    return this.littleEndian ? this.buffer.readUInt16LE(offset) : this.buffer.readUInt16BE(offset);
  }

  private fail(problem: string): never {
    throw new PcapFormatError(
      `${this.path}: block ${this.blockNumber + 1} at byte ${this.fileOffset}: ${problem}; ` +
        'the file is corrupt from there on',
    );
  }

  /** Handles every complete block in the buffer; returns how many bytes the next block needs in total. */
  private parseBlocks(): number {
    for (;;) {
      const available = this.end - this.start;
      if (available < MIN_BLOCK_BYTES) return MIN_BLOCK_BYTES;
      const at = this.start;
      const type = this.read32(at);
      if (type === BLOCK_SECTION_HEADER) {
        this.setByteOrder(at);
      } else if (!this.sectionSeen) {
        this.fail(`expected a section header block, found type 0x${type.toString(16)}`);
      }
      const length = this.read32(at + 4);
      if (length < MIN_BLOCK_BYTES || length % 4 !== 0 || length > MAX_BLOCK_BYTES) {
        this.fail(`invalid block length ${length} (must be a multiple of 4 from 12 to ${MAX_BLOCK_BYTES})`);
      }
      if (available < length) return length;
      const trailing = this.read32(at + length - 4);
      if (trailing !== length) {
        this.fail(`trailing block length ${trailing} differs from the leading ${length}`);
      }
      this.handleBlock(type, at, length);
      this.blockNumber += 1;
      this.start += length;
      this.fileOffset += length;
    }
  }

  private setByteOrder(at: number): void {
    const magic = this.buffer.readUInt32BE(at + SHB_OFFSET_BYTE_ORDER);
    if (magic === BYTE_ORDER_MAGIC_BE) this.littleEndian = false;
    else if (magic === BYTE_ORDER_MAGIC_LE) this.littleEndian = true;
    else this.fail(`unknown byte-order magic 0x${magic.toString(16)} in section header`);
  }

  private handleBlock(type: number, at: number, length: number): void {
    switch (type) {
      case BLOCK_ENHANCED_PACKET:
        this.packetBlock(at, length, this.read32(at + EPB_OFFSET_INTERFACE));
        return;
      case BLOCK_SIMPLE_PACKET:
        this.simplePacketBlock(at, length);
        return;
      case BLOCK_PACKET_OBSOLETE:
        this.packetBlock(at, length, this.read16(at + EPB_OFFSET_INTERFACE));
        return;
      case BLOCK_INTERFACE_DESCRIPTION:
        this.interfaceBlock(at, length);
        return;
      case BLOCK_SECTION_HEADER:
        this.sectionHeader(at, length);
        return;
      case BLOCK_DECRYPTION_SECRETS:
        this.secretsBlock(at, length);
        return;
      default:
        return;
    }
  }

  private sectionHeader(at: number, length: number): void {
    if (length < SHB_MIN_BYTES) this.fail(`section header block of ${length} bytes (at least ${SHB_MIN_BYTES})`);
    const major = this.read16(at + SHB_OFFSET_VERSION_MAJOR);
    if (major !== 1) this.fail(`unsupported pcapng version ${major} (only 1.x exists)`);
    this.sectionSeen = true;
    this.interfaces = [];
  }

  private interfaceBlock(at: number, length: number): void {
    if (length < IDB_MIN_BYTES) this.fail(`interface description block of ${length} bytes (at least ${IDB_MIN_BYTES})`);
    const iface: Interface = {
      linkType: this.read16(at + IDB_OFFSET_LINKTYPE),
      snapLength: this.read32(at + IDB_OFFSET_SNAPLEN),
      unitsPerSecond: 1_000_000,
      nsecPerUnit: 1000,
      tsOffsetSec: 0,
    };
    let resolution: 'us' | 'ns' | 'other' = 'us';
    const optionsEnd = at + length - 4;
    let option = at + IDB_OFFSET_OPTIONS;
    while (option + 4 <= optionsEnd) {
      const code = this.read16(option);
      const size = this.read16(option + 2);
      const value = option + 4;
      if (code === OPTION_END) break;
      if (value + size > optionsEnd) this.fail(`interface option ${code} runs past the block`);
      if (code === OPTION_IF_TSRESOL && size >= 1) {
        const tsresol = this.buffer[value]!;
        // Most significant bit set: a negative power of 2; clear: a negative power of 10 (§4.2).
        const exponent = tsresol & 0x7f;
        const base = tsresol & 0x80 ? 2 : 10;
        iface.unitsPerSecond = base ** exponent;
        iface.nsecPerUnit =
          iface.unitsPerSecond <= NSEC_PER_SEC && NSEC_PER_SEC % iface.unitsPerSecond === 0
            ? NSEC_PER_SEC / iface.unitsPerSecond
            : 0;
        resolution = tsresol === 6 ? 'us' : tsresol === 9 ? 'ns' : 'other';
      } else if (code === OPTION_IF_TSOFFSET && size >= 8) {
        iface.tsOffsetSec = Number(
          this.littleEndian ? this.buffer.readBigInt64LE(value) : this.buffer.readBigInt64BE(value),
        );
      }
      option = value + Math.ceil(size / 4) * 4;
    }
    this.interfaces.push(iface);
    this.resolutions.add(resolution);
    if (!this.linkTypes.includes(iface.linkType)) this.linkTypes.push(iface.linkType);
    if (iface.snapLength > this.snapLength) this.snapLength = iface.snapLength;
  }

  private secretsBlock(at: number, length: number): void {
    if (length < DSB_MIN_BYTES) this.fail(`decryption secrets block of ${length} bytes (at least ${DSB_MIN_BYTES})`);
    const secretsLength = this.read32(at + DSB_OFFSET_LENGTH);
    if (secretsLength > length - DSB_MIN_BYTES) {
      this.fail(`secrets length ${secretsLength} does not fit in a block of ${length} bytes`);
    }
    const data = Buffer.from(this.buffer.subarray(at + DSB_OFFSET_DATA, at + DSB_OFFSET_DATA + secretsLength));
    this.onSecrets?.(this.read32(at + DSB_OFFSET_TYPE), data);
  }

  private packetBlock(at: number, length: number, interfaceId: number): void {
    if (length < EPB_MIN_BYTES) this.fail(`packet block of ${length} bytes (at least ${EPB_MIN_BYTES})`);
    const capturedLength = this.read32(at + EPB_OFFSET_CAPTURED);
    if (capturedLength > length - EPB_MIN_BYTES) {
      this.fail(`captured length ${capturedLength} does not fit in a block of ${length} bytes`);
    }
    const iface = this.interfaces[interfaceId];
    if (iface === undefined) {
      this.unknownInterfacePackets += 1;
      return;
    }
    const originalLength = this.read32(at + EPB_OFFSET_ORIGINAL);
    splitTimestamp(iface, this.read32(at + EPB_OFFSET_TS_HIGH), this.read32(at + EPB_OFFSET_TS_LOW), this.timestamp);
    this.deliver(this.timestamp.sec, this.timestamp.nsec, originalLength, iface.linkType, interfaceId, at + EPB_OFFSET_DATA, capturedLength);
  }

  private simplePacketBlock(at: number, length: number): void {
    if (length < SPB_MIN_BYTES) this.fail(`simple packet block of ${length} bytes (at least ${SPB_MIN_BYTES})`);
    const iface = this.interfaces[0];
    if (iface === undefined) {
      this.unknownInterfacePackets += 1;
      return;
    }
    const originalLength = this.read32(at + SPB_OFFSET_ORIGINAL);
    // The SPB has no captured length (§4.4): the smaller of the original length, the snap length and
    // the room in the block (which holds the data padded to 32 bits).
    let capturedLength = Math.min(originalLength, length - SPB_MIN_BYTES);
    if (iface.snapLength > 0 && iface.snapLength < capturedLength) capturedLength = iface.snapLength;
    this.deliver(0, 0, originalLength, iface.linkType, 0, at + SPB_OFFSET_DATA, capturedLength);
  }

  private deliver(
    tsSec: number,
    tsNsec: number,
    originalLength: number,
    linkType: number,
    interfaceId: number,
    offset: number,
    capturedLength: number,
  ): void {
    this.packets += 1;
    if (capturedLength < originalLength) this.truncatedPackets += 1;
    this.onPacket({ tsSec, tsNsec, capturedLength, originalLength, linkType, interfaceId, data: this.buffer, offset });
  }
}
