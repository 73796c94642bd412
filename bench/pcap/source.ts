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
/** Decompressed bytes per chunk handed from the input to the decompressor. */
const INPUT_CHUNK_BYTES = 1 << 20;

/** The input as a stream of chunks, for a decompressor: the sniffed bytes first, then the rest. */
function inputStream(source: ByteSource): Readable {
  return Readable.from(
    (async function* chunks() {
      for (;;) {
        const chunk = Buffer.allocUnsafe(INPUT_CHUNK_BYTES);
        const n = await source.read(chunk, 0, chunk.length);
        if (n === 0) return;
        yield chunk.subarray(0, n);
      }
    })(),
    { objectMode: false },
  );
}

/** fzstd's streaming decompressor as a Node stream (Node 20's zlib has no zstd; see docs/measurements.md). */
function zstdStream(input: Readable): Readable {
  const output = new Readable({ read() {} });
  const decompress = new Decompress((chunk) => {
    output.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  });
  input.on('data', (chunk: Buffer) => {
    try {
      decompress.push(chunk);
    } catch (error) {
      output.destroy(error as Error);
      input.destroy();
    }
  });
  input.on('end', () => {
    try {
      decompress.push(new Uint8Array(0), true);
      output.push(null);
    } catch (error) {
      output.destroy(error as Error);
    }
  });
  input.on('error', (error) => output.destroy(error));
  return output;
}

/** An open capture: its bytes (decompressed) and what was learnt on the way. */
export interface OpenedCapture {
  source: ByteSource;
  /** The first bytes of the (decompressed) capture, also still served by `source`. */
  head: Buffer;
  compression: Compression;
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
    if (compression === null) return { source: new PrefixedSource(rawHead, raw), head: rawHead, compression };
    const input = inputStream(new PrefixedSource(rawHead, raw));
    const stream = compression === 'gzip' ? input.pipe(createGunzip()) : zstdStream(input);
    // The gunzip stream does not hear of its input's errors through pipe(): pass them on.
    input.on('error', (error) => stream.destroy(error));
    const decompressed = new StreamSource(path, `the ${compression} data is corrupt or cut short`, stream, raw);
    const head = Buffer.alloc(SNIFF_BYTES);
    const headBytes = head.subarray(0, await readFully(decompressed, head));
    return { source: new PrefixedSource(headBytes, decompressed), head: headBytes, compression };
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
