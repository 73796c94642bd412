/**
 * The one entry point for capture files: recognises the format by its first bytes and hands the file to
 * the classic pcap reader or the pcapng reader. Every failure to use the file becomes a one-line
 * `InputError`/`PcapFormatError` naming it.
 */
import { open } from 'node:fs/promises';
import { InputError, PcapFormatError } from '../errors.ts';
import { GLOBAL_HEADER_BYTES, isClassicPcapMagic, readClassicPcap } from './classic.ts';
import type { CaptureReadSummary, CapturedPacket } from './packet.ts';
import { readPcapng } from './pcapng.ts';

/** A pcapng file starts with a Section Header Block, whose type reads the same in both byte orders. */
const PCAPNG_MAGIC = 0x0a0d0d0a;
/** Recognisable files that are not captures, to say what the file is instead of only "unknown magic". */
const GZIP_MAGIC = 0x1f8b;
const MODIFIED_PCAP_MAGICS = new Set([0xa1b2cd34, 0x34cdb2a1]);

async function readHead(path: string): Promise<Buffer> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new InputError(`${path}: cannot open the capture: ${reason}`, { cause: error });
  }
  try {
    const head = Buffer.alloc(GLOBAL_HEADER_BYTES);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    return head.subarray(0, bytesRead);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : (error as Error).message;
    throw new InputError(`${path}: cannot read the capture: ${reason}`, { cause: error });
  } finally {
    await file.close();
  }
}

function unknownFormat(path: string, head: Buffer): PcapFormatError {
  const magic = head.readUInt32BE(0);
  const hex = head.subarray(0, 4).toString('hex');
  if (head.readUInt16BE(0) === GZIP_MAGIC) {
    return new PcapFormatError(`${path}: is gzip-compressed (magic ${hex}); decompress it first`);
  }
  if (MODIFIED_PCAP_MAGICS.has(magic)) {
    return new PcapFormatError(
      `${path}: is a "modified" (Kuznetzov) pcap (magic ${hex}); convert it with \`editcap -F pcap\``,
    );
  }
  return new PcapFormatError(`${path}: not a pcap or pcapng capture (unknown magic ${hex})`);
}

/**
 * Streams a capture file (classic pcap, microsecond or nanosecond, either byte order; or pcapng), calling
 * `onPacket` synchronously for each packet, in file order. Memory stays bounded whatever the file size.
 * A file that ends inside a packet yields the complete packets and a `truncated-file` warning.
 *
 * @throws InputError when the file cannot be opened or read; PcapFormatError when it is empty, not a
 *   capture, or structurally broken (truncated global header, absurd packet or block length).
 *   An exception thrown by `onPacket` stops the read and is rethrown as is.
 */
export async function readCapture(
  path: string,
  onPacket: (p: CapturedPacket) => void,
): Promise<CaptureReadSummary> {
  const head = await readHead(path);
  if (head.length === 0) throw new PcapFormatError(`${path}: is empty, not a capture`);
  if (head.length < 4) throw new PcapFormatError(`${path}: too short to be a capture (${head.length} bytes)`);
  const magic = head.readUInt32BE(0);
  if (magic === PCAPNG_MAGIC) return readPcapng(path, onPacket);
  if (isClassicPcapMagic(magic)) return readClassicPcap(path, head, onPacket);
  throw unknownFormat(path, head);
}
