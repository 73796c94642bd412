/**
 * The one entry point for capture files: recognises the format by its first bytes and hands the file to
 * the classic pcap reader or the pcapng reader. Every failure to use the file becomes a one-line
 * `InputError`/`PcapFormatError` naming it.
 */
import { PcapFormatError } from '../errors.ts';
import { isClassicPcapMagic, readClassicPcap } from './classic.ts';
import { truncatedFileWarning, type CaptureReadSummary, type CapturedPacket } from './packet.ts';
import { readPcapng, type PcapngSecretsHandler } from './pcapng.ts';
import { openCapture, type ByteSource, type Compression } from './source.ts';

/** A pcapng file starts with a Section Header Block, whose type reads the same in both byte orders. */
const PCAPNG_MAGIC = 0x0a0d0d0a;
/** Recognisable files that are not captures, to say what the file is instead of only "unknown magic". */
const MODIFIED_PCAP_MAGICS = new Set([0xa1b2cd34, 0x34cdb2a1]);

function unknownFormat(path: string, head: Buffer, compression: Compression): PcapFormatError {
  const magic = head.readUInt32BE(0);
  const hex = head.subarray(0, 4).toString('hex');
  const inside = compression === null ? '' : ` (inside its ${compression} compression)`;
  if (MODIFIED_PCAP_MAGICS.has(magic)) {
    return new PcapFormatError(
      `${path}: is a "modified" (Kuznetzov) pcap${inside} (magic ${hex}); convert it with \`editcap -F pcap\``,
    );
  }
  return new PcapFormatError(`${path}: not a pcap or pcapng capture${inside} (unknown magic ${hex})`);
}

/** What the caller may hear of besides packets. */
export interface CaptureReadOptions {
  /** Secrets embedded in a pcapng file (Decryption Secrets Blocks), as they are met in file order. */
  onSecrets?: PcapngSecretsHandler;
  /**
   * Asked between two chunks of the file: a promise makes the read wait for it (the consumer's output is
   * full: `analyze --json | slow-reader` would otherwise hold the whole document in memory).
   */
  backpressure?: () => Promise<void> | null;
}

/**
 * Streams a capture (classic pcap, microsecond or nanosecond, either byte order; or pcapng), gzip- or
 * zstd-compressed or not, from a file, a pipe or standard input (`-`), calling `onPacket` synchronously for
 * each packet, in file order. Memory stays bounded whatever the size. A capture that ends inside a packet
 * yields the complete packets and a `truncated-file` warning.
 *
 * @throws InputError when the file cannot be opened or read; PcapFormatError when it is empty, not a
 *   capture, corrupt compressed data, or structurally broken (truncated global header, absurd packet or
 *   block length). An exception thrown by `onPacket` stops the read and is rethrown as is.
 */
export async function readCapture(
  path: string,
  onPacket: (p: CapturedPacket) => void,
  options: CaptureReadOptions = {},
): Promise<CaptureReadSummary> {
  const { source, head, compression, cutShort } = await openCapture(path);
  try {
    const what = compression === null ? '' : ` once ${compression}-decompressed`;
    if (head.length === 0) throw new PcapFormatError(`${path}: is empty${what}, not a capture`);
    if (head.length < 4) throw new PcapFormatError(`${path}: too short${what} to be a capture (${head.length} bytes)`);
    const magic = head.readUInt32BE(0);
    let summary: CaptureReadSummary;
    const paced = withBackpressure(source, options.backpressure);
    if (magic === PCAPNG_MAGIC) summary = await readPcapng(path, paced, onPacket, options.onSecrets);
    else if (isClassicPcapMagic(magic)) summary = await readClassicPcap(path, paced, head, onPacket);
    else throw unknownFormat(path, head, compression);
    if (compression === null) return summary;
    return { ...withCutShort(path, summary, compression, cutShort()), compression };
  } finally {
    await source.close();
  }
}

/**
 * Bytes read at most between two looks at the consumer's backpressure. The consumer's output is asked about
 * only between reads, and a read's packets can make many times their size in output: a SYN flood's 70-byte
 * records each end a connection whose JSON is 700 bytes, so 1 MiB reads queued 25 MB of JSON on a pipe.
 */
const PACED_READ_BYTES = 128 * 1024;

/**
 * A compressed capture cut short reads like a plain one cut short: the packets before the cut, and a
 * `truncated-file` warning. The reader warned already when the cut fell inside a packet; when it fell
 * between two, the warning says the compressed data ends early.
 */
function withCutShort(path: string, summary: CaptureReadSummary, compression: Compression, cutShort: boolean): CaptureReadSummary {
  if (!cutShort || summary.warnings.some((w) => w.kind === 'truncated-file')) return summary;
  const detail = `its ${compression} data, cut short after packet ${summary.packets}`;
  return { ...summary, warnings: [...summary.warnings, truncatedFileWarning(path, detail)] };
}

/** The source, each read waiting first for the consumer when it asks (see CaptureReadOptions.backpressure). */
function withBackpressure(source: ByteSource, backpressure: (() => Promise<void> | null) | undefined): ByteSource {
  if (backpressure === undefined) return source;
  return {
    async read(buffer, offset, length) {
      const wait = backpressure();
      if (wait !== null) await wait;
      return source.read(buffer, offset, Math.min(length, PACED_READ_BYTES));
    },
    close: () => source.close(),
  };
}
