/**
 * Where a capture's bytes come from: a file, a pipe or standard input (`-`), read strictly forward, and
 * decompressed on the way when they are gzip or zstd (recognised by their magic, not the file name). The
 * readers in `classic.ts` and `pcapng.ts` only ever ask for the next bytes, so nothing needs to seek: `analyze
 * <(zcat capture.pcap.gz)`, `tcpdump -w - | analyze -` and `analyze capture.pcapng.zst` all stream.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';
import { InputError, PcapFormatError } from '../errors.ts';

/** The path that means standard input. */
export const STDIN_PATH = '-';

/** gzip (RFC 1952 §2.3.1) and zstd (RFC 8878 §3.1.1) frame magics, as the first bytes of the stream. */
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** How the capture's bytes were compressed, if at all. */
export type Compression = 'gzip' | 'zstd' | null;

/** The next bytes of a capture, in order. */
export interface ByteSource {
  /** Reads up to `length` bytes into `buffer` at `offset`; resolves to the number read, 0 at the end. */
  read(buffer: Buffer, offset: number, length: number): Promise<number>;
  close(): Promise<void>;
}

/** A file descriptor read forward (`read(2)`, never `pread`: a pipe cannot seek). */
class FileSource implements ByteSource {
  constructor(
    private readonly path: string,
    private readonly file: FileHandle,
  ) {}

  async read(buffer: Buffer, offset: number, length: number): Promise<number> {
    try {
      const { bytesRead } = await this.file.read(buffer, offset, length, null);
      return bytesRead;
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'EISDIR' ? 'is a directory' : (error as Error).message;
      throw new InputError(`${this.path}: cannot read the capture: ${reason}`, { cause: error });
    }
  }

  close(): Promise<void> {
    return this.file.close();
  }
}

/** Bytes already read (to recognise the format) served before the rest of the source. */
class PrefixedSource implements ByteSource {
  constructor(
    private prefix: Buffer,
    private readonly rest: ByteSource,
  ) {}

  async read(buffer: Buffer, offset: number, length: number): Promise<number> {
    if (this.prefix.length === 0) return this.rest.read(buffer, offset, length);
    const n = this.prefix.copy(buffer, offset, 0, Math.min(length, this.prefix.length));
    this.prefix = this.prefix.subarray(n);
    return n;
  }

  close(): Promise<void> {
    return this.rest.close();
  }
}

/**
 * A Node stream's chunks, handed out as the readers ask for them: a decompressor's output, or standard input
 * (which may be a socket, as when a Node parent spawns the command: `/dev/stdin` cannot be opened then).
 */
class StreamSource implements ByteSource {
  private readonly chunks: AsyncIterator<Buffer>;
  private pending: Buffer = Buffer.alloc(0);

  constructor(
    private readonly path: string,
    /** Names a failure of the stream: `the gzip data is corrupt or cut short`, `cannot read the capture`. */
    private readonly failure: string,
    private readonly stream: Readable,
    private readonly input: ByteSource | null,
  ) {
    this.chunks = stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<number> {
    while (this.pending.length === 0) {
      let next: IteratorResult<Buffer>;
      try {
        next = await this.chunks.next();
      } catch (error) {
        if (error instanceof InputError || error instanceof PcapFormatError) throw error;
        const message = `${this.path}: ${this.failure}: ${(error as Error).message}`;
        throw this.input === null ? new InputError(message, { cause: error }) : new PcapFormatError(message, { cause: error });
      }
      if (next.done === true) return 0;
      this.pending = next.value;
    }
    const n = this.pending.copy(buffer, offset, 0, Math.min(length, this.pending.length));
    this.pending = this.pending.subarray(n);
    return n;
  }

  async close(): Promise<void> {
    if (this.input === null) return; // standard input is not this program's to close
    this.stream.destroy();
    await this.input.close();
  }
}

/** Reads from `source` until `buffer` is full or the source ends (a pipe hands out as much as is there). */
export async function readFully(source: ByteSource, buffer: Buffer): Promise<number> {
  let filled = 0;
  while (filled < buffer.length) {
    const n = await source.read(buffer, filled, buffer.length - filled);
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

/** Bytes read to recognise a compression or capture format: the longest magic or header looked at. */
const SNIFF_BYTES = 24;
/** Compressed bytes per read of the input. */
const INPUT_CHUNK_BYTES = 1 << 20;
/** Decompressed bytes queued ahead of the reader: the input is read no further until the queue is below it. */
const QUEUE_BYTES = 4 << 20;
/** fzstd's error code for input that ends inside a frame ("unexpected EOF"); 0-4 are corrupt data. */
const FZSTD_UNEXPECTED_EOF = 5;

/** A decompressor: `write` hands out what it can decompress so far through `onData`; `end` finishes. */
interface Decompressor {
  write(chunk: Buffer): Promise<void>;
  end(): Promise<void>;
}

/**
 * zlib's gunzip stream. Its output is taken from 'data' events as it comes (never paused), so when it fails
 * at the end of a file cut short, nothing it decompressed before is lost in a paused stream's buffer.
 */
function gunzip(onData: (chunk: Buffer) => void): Decompressor {
  const stream = createGunzip();
  let failed: Error | null = null;
  let ended = false;
  let waiting: (() => void) | null = null;
  const wake = (): void => {
    const resolve = waiting;
    waiting = null;
    resolve?.();
  };
  stream.on('data', onData);
  stream.on('drain', wake);
  stream.on('end', () => ((ended = true), wake()));
  stream.on('error', (error) => ((failed = error), wake()));
  const settled = async (done: () => boolean): Promise<void> => {
    while (failed === null && !done()) await new Promise<void>((resolve) => (waiting = resolve));
    if (failed !== null) throw failed;
  };
  return {
    async write(chunk) {
      if (!stream.write(chunk)) await settled(() => !stream.writableNeedDrain);
      else if (failed !== null) throw failed;
    },
    async end() {
      stream.end();
      await settled(() => ended);
    },
  };
}

/** fzstd's streaming decompressor (Node 20's zlib has no zstd; see docs/measurements.md): synchronous. */
function unzstd(onData: (chunk: Buffer) => void): Decompressor {
  const decompress = new Decompress((chunk) => onData(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  return {
    write: async (chunk) => decompress.push(chunk),
    end: async () => decompress.push(new Uint8Array(0), true),
  };
}

/**
 * A compressed source's decompressed bytes, handed out as the readers ask for them. The input is read and
 * decompressed only while less than QUEUE_BYTES wait, so memory stays bounded whatever the ratio.
 *
 * Input that ends before its compressed stream does (a file cut short: zlib's "unexpected end of file",
 * fzstd's "unexpected EOF") ends the capture after everything that could be decompressed, as the end of a
 * plain file does (`cutShort` tells it); corrupt data is a PcapFormatError naming the file.
 */
class DecompressedSource implements ByteSource {
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private pending: Buffer = Buffer.alloc(0);
  private readonly decompressor: Decompressor;
  private inputDone = false;
  /** Bytes handed to the reader. */
  private delivered = 0;
  /** The input ended inside the compressed stream. */
  cutShort = false;

  constructor(
    private readonly path: string,
    private readonly compression: 'gzip' | 'zstd',
    private readonly input: ByteSource,
  ) {
    const onData = (chunk: Buffer): void => {
      this.queue.push(chunk);
      this.queuedBytes += chunk.length;
    };
    this.decompressor = compression === 'gzip' ? gunzip(onData) : unzstd(onData);
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<number> {
    while (this.pending.length === 0) {
      const next = this.queue.shift();
      if (next !== undefined) {
        this.queuedBytes -= next.length;
        this.pending = next;
        break;
      }
      if (this.inputDone) return 0;
      await this.decompressMore();
    }
    const n = this.pending.copy(buffer, offset, 0, Math.min(length, this.pending.length));
    this.pending = this.pending.subarray(n);
    this.delivered += n;
    return n;
  }

  /** Reads input and decompresses it until output is queued or the input is over. */
  private async decompressMore(): Promise<void> {
    try {
      while (this.queuedBytes < QUEUE_BYTES && this.queue.length === 0 && !this.inputDone) {
        const chunk = Buffer.allocUnsafe(INPUT_CHUNK_BYTES);
        const n = await this.input.read(chunk, 0, chunk.length);
        if (n === 0) {
          this.inputDone = true;
          await this.decompressor.end();
        } else {
          await this.decompressor.write(chunk.subarray(0, n));
        }
      }
    } catch (error) {
      this.inputDone = true;
      if (error instanceof InputError || error instanceof PcapFormatError) throw error;
      if (this.isCutShort(error as Error)) {
        // A cut before any byte came out leaves no capture to read: that is reported as the failure it is.
        if (this.delivered + this.queuedBytes === 0) {
          throw new PcapFormatError(`${this.path}: the ${this.compression} data is cut short before any of the capture could be decompressed`, { cause: error });
        }
        this.cutShort = true;
        return;
      }
      const message = `${this.path}: the ${this.compression} data is corrupt or cut short: ${(error as Error).message}`;
      throw new PcapFormatError(message, { cause: error });
    }
  }

  private isCutShort(error: Error): boolean {
    const code = (error as Error & { code?: unknown }).code;
    return this.compression === 'gzip' ? code === 'Z_BUF_ERROR' : code === FZSTD_UNEXPECTED_EOF;
  }

  async close(): Promise<void> {
    await this.input.close();
  }
}

/** An open capture: its bytes (decompressed) and what was learnt on the way. */
export interface OpenedCapture {
  source: ByteSource;
  /** The first bytes of the (decompressed) capture, also still served by `source`. */
  head: Buffer;
  compression: Compression;
  /**
   * Once the source is read to its end: true when the compressed data stopped inside its compressed stream
   * (a file cut short), which then ended the capture as the end of a plain file does.
   */
  cutShort: () => boolean;
}

/**
 * Opens a capture file, `-` for standard input, or any path that reads (a FIFO, `/dev/stdin`, a process
 * substitution), and undoes gzip or zstd compression found by its magic.
 *
 * @throws InputError when it cannot be opened or read.
 */
export async function openCapture(path: string): Promise<OpenedCapture> {
  const raw = path === STDIN_PATH ? new StreamSource(path, 'cannot read the capture', process.stdin, null) : await openFile(path);
  try {
    const sniffed = Buffer.alloc(SNIFF_BYTES);
    const rawHead = sniffed.subarray(0, await readFully(raw, sniffed));
    const compression: Compression = startsWith(rawHead, GZIP_MAGIC) ? 'gzip' : startsWith(rawHead, ZSTD_MAGIC) ? 'zstd' : null;
    if (compression === null) return { source: new PrefixedSource(rawHead, raw), head: rawHead, compression, cutShort: () => false };
    const decompressed = new DecompressedSource(path, compression, new PrefixedSource(rawHead, raw));
    const head = Buffer.alloc(SNIFF_BYTES);
    const headBytes = head.subarray(0, await readFully(decompressed, head));
    return { source: new PrefixedSource(headBytes, decompressed), head: headBytes, compression, cutShort: () => decompressed.cutShort };
  } catch (error) {
    await raw.close();
    throw error;
  }
}

async function openFile(path: string): Promise<FileSource> {
  try {
    return new FileSource(path, await open(path, 'r'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (error as Error).message;
    throw new InputError(`${path}: cannot open the capture: ${reason}`, { cause: error });
  }
}

function startsWith(bytes: Buffer, magic: Buffer): boolean {
  return bytes.length >= magic.length && bytes.subarray(0, magic.length).equals(magic);
}
