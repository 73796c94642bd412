/**
 * Classic libpcap files (https://www.tcpdump.org/manpages/pcap-savefile.5.html), read through pcap-parser.
 *
 * pcap-parser knows only the microsecond magic and buffers until a whole packet is present, so this file
 * validates the global header itself, presents the microsecond magic to pcap-parser for nanosecond files
 * (remembering to read the fraction as nanoseconds), and rejects an absurd captured length as soon as its
 * record header is parsed, before pcap-parser would wait for (and buffer) that many bytes.
 */
import { createReadStream } from 'node:fs';
import { PassThrough } from 'node:stream';
import pcapParser from 'pcap-parser';
import type { PacketHeader, ParsedPacket } from 'pcap-parser';
import type { Warning } from '../model.ts';
import { InputError, PcapFormatError } from '../errors.ts';
import {
  effectiveSnapLength,
  truncatedFileWarning,
  type CapturedPacket,
  type CaptureReadSummary,
  type PacketHandler,
} from './packet.ts';

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

/** Chunk size of the file stream: large enough that per-chunk costs vanish, small enough to keep RSS flat. */
const READ_CHUNK_BYTES = 1 << 20;

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
 * The header bytes pcap-parser should see: the file's own, with a nanosecond magic replaced by the
 * microsecond magic of the same byte order (pcap-parser rejects any other magic).
 */
function headerForPcapParser(head: Buffer, facts: GlobalHeaderFacts): Buffer {
  const header = Buffer.from(head.subarray(0, GLOBAL_HEADER_BYTES));
  if (facts.nanoseconds) {
    header.writeUInt32BE(facts.littleEndian ? MAGIC_US_LE : MAGIC_US_BE, 0);
  }
  return header;
}

/**
 * Streams a classic pcap file through pcap-parser.
 *
 * @param head - the file's first bytes (at least the global header when the file has one), already read
 *   by the caller to recognise the format.
 * @throws PcapFormatError for a bad global header or a packet whose captured length exceeds the snap length.
 */
export async function readClassicPcap(
  path: string,
  head: Buffer,
  onPacket: PacketHandler,
): Promise<CaptureReadSummary> {
  const facts = parseGlobalHeader(path, head);
  const maxCapturedLength = effectiveSnapLength(facts.snapLength);
  const fractionToNsec = facts.nanoseconds ? 1 : 1000;
  const linkType = facts.linkType;

  // pcap-parser reads the global header itself: it gets our (possibly re-labelled) copy, then the file from
  // the first packet on. The file stream reads ahead into the pass-through while pcap-parser works on the
  // chunk before, so reading and parsing overlap.
  const header = headerForPcapParser(head, facts);
  let bytesStreamed = header.length;
  const file = createReadStream(path, { start: GLOBAL_HEADER_BYTES, highWaterMark: READ_CHUNK_BYTES });
  const input = new PassThrough({ highWaterMark: READ_CHUNK_BYTES });
  file.on('data', (chunk) => {
    bytesStreamed += chunk.length;
  });
  file.on('error', (error) => input.destroy(error));
  input.write(header);
  file.pipe(input);
  const parser = pcapParser.parse(input);

  const packet: CapturedPacket = { tsSec: 0, tsNsec: 0, capturedLength: 0, originalLength: 0, linkType, interfaceId: 0, data: header };
  let headersSeen = 0;
  let lastCapturedLength = 0;
  let packets = 0;
  let truncatedPackets = 0;
  let bytesConsumed = GLOBAL_HEADER_BYTES;

  return new Promise<CaptureReadSummary>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      file.destroy();
      input.destroy();
      reject(error);
    };

    parser.on('packetHeader', (header: PacketHeader) => {
      if (settled) return;
      headersSeen += 1;
      lastCapturedLength = header.capturedLength;
      if (header.capturedLength > maxCapturedLength) {
        const limit =
          maxCapturedLength === facts.snapLength ? `the snap length ${facts.snapLength}` : `${maxCapturedLength} bytes`;
        fail(
          new PcapFormatError(
            `${path}: packet ${headersSeen} claims ${header.capturedLength} captured bytes, more than ${limit}; ` +
              'the file is corrupt from there on',
          ),
        );
      }
    });

    parser.on('packet', ({ header, data }: ParsedPacket) => {
      if (settled) return;
      packets += 1;
      bytesConsumed += RECORD_HEADER_BYTES + header.capturedLength;
      if (header.capturedLength < header.originalLength) truncatedPackets += 1;
      // One packet object, refilled per packet: the handler may not keep it (see CapturedPacket.data).
      packet.tsSec = header.timestampSeconds;
      packet.tsNsec = header.timestampMicroseconds * fractionToNsec;
      packet.capturedLength = header.capturedLength;
      packet.originalLength = header.originalLength;
      packet.data = data;
      try {
        onPacket(packet);
      } catch (error) {
        fail(error);
      }
    });

    parser.on('error', (error: Error) => {
      fail(new InputError(`${path}: cannot read the capture: ${error.message}`, { cause: error }));
    });

    parser.on('end', () => {
      if (settled) return;
      settled = true;
      const warnings: Warning[] = [];
      const leftover = bytesStreamed - bytesConsumed;
      if (leftover > 0) {
        const detail =
          headersSeen > packets
            ? `packet ${headersSeen} (${leftover - RECORD_HEADER_BYTES} of ${lastCapturedLength} bytes)`
            : `the record header of packet ${packets + 1} (${leftover} of ${RECORD_HEADER_BYTES} bytes)`;
        warnings.push(truncatedFileWarning(path, detail));
      }
      resolve({
        format: 'pcap',
        timestampResolution: facts.nanoseconds ? 'ns' : 'us',
        linkTypes: [linkType],
        snapLength: facts.snapLength,
        packets,
        truncatedPackets,
        warnings,
      });
    });
  });
}
