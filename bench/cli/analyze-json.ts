/**
 * The `analyze@1` JSON of `tls-reuse-bench analyze --json`, written while the capture is read.
 *
 * A capture of tens of thousands of connections makes tens of MB of JSON. Built as strings (templates, then
 * a chunk, then its UTF-8 copy) it was allocated three times over, and that churn made the garbage collector
 * run and copy the analyzer's live connections more often: writing the JSON cost a third of the whole
 * analysis. So each connection is written field by field as bytes into the chunk that goes to the output:
 * keys and punctuation are copied from bytes encoded once, whole numbers are written digit by digit. The text
 * is exactly JSON.stringify's (same keys, order, number and string forms; a test holds the two equal on every
 * golden connection). Counter keys come from the model's TRAFFIC_FIELDS and TLS_FIELDS tables.
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { TLS_FIELD_NAMES, TRAFFIC_FIELD_NAMES, type AnalyzeSummary, type ConnectionReport, type ConnectionTls, type TlsCounters, type TrafficCounters } from '../model/index.ts';

/** Bytes gathered before one write: few system calls, bounded memory. */
const CHUNK_BYTES = 1 << 16;
/** Room one connection's fields take at most, its strings apart (they reserve their own room). */
const CONNECTION_BYTES = 2048;
/**
 * Whole numbers below this, and fractions below it with up to 6 decimals (packet times in ms), are written
 * digit by digit; other numbers go through String().
 */
const DIGIT_LIMIT = 1e9;
/** JSON.stringify writes at most 6 characters per UTF-16 unit (`\u001f`), each at most 3 bytes in UTF-8. */
const MAX_BYTES_PER_CHAR = 6;

/** ASCII text as bytes, encoded once. */
function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const TRUE = ascii('true');
const FALSE = ascii('false');
const NULL = ascii('null');
const K_INDEX = ascii('{"index":');
const K_CLIENT = ascii(',"client":{"ip":');
const K_PORT = ascii(',"port":');
const K_SERVER = ascii('},"server":{"ip":');
const K_SERVER_SIDE_BY = ascii('},"serverSideBy":');
const K_SYN_SEEN = ascii(',"synSeen":');
const K_CLOSED_BY = ascii(',"closedBy":');
const K_FIRST_MS = ascii(',"firstPacketMs":');
const K_LAST_MS = ascii(',"lastPacketMs":');
const K_UP = ascii(',"up":');
const K_DOWN = ascii(',"down":');
/** A counter object's keys with their punctuation, from the model's tables (`{"frames":`, `,"wireBytes":`, …). */
function counterKeys(names: readonly string[]): Uint8Array[] {
  return names.map((name, i) => ascii(`${i === 0 ? '{' : ','}${JSON.stringify(name)}:`));
}
const TRAFFIC_KEYS = counterKeys(TRAFFIC_FIELD_NAMES);
const TLS_KEYS = counterKeys(TLS_FIELD_NAMES);
const K_TLS_COUNTERS = ascii(',"tls":');
const K_EXACT = ascii(',"exact":');
const K_TLS = ascii(',"tls":');
const K_VERSION = ascii('{"version":');
const K_SUITE = ascii(',"cipherSuite":');
const K_HANDSHAKE = ascii(',"handshake":');
const K_SERVER_NAME = ascii(',"serverName":');
const K_DECRYPTED = ascii(',"decrypted":');
const K_PLAINTEXT_PREFIX = ascii(',"plaintextPrefix":');
const K_REQUESTS = ascii(',"requests":');
const K_CLOSE = ascii('}');
const FIRST_LINE = ascii('\n    ');
const NEXT_LINE = ascii(',\n    ');

/**
 * JSON text of the strings a connection repeats (addresses, suite names, server names, enum values) as UTF-8
 * bytes, cached: there are few distinct ones and tens of thousands of connections. The bound keeps a capture
 * of many hosts from growing it.
 */
const QUOTED_CACHE_LIMIT = 4096;
const quoted = new Map<string, Uint8Array>();

function quotedBytes(s: string): Uint8Array {
  let bytes = quoted.get(s);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(s), 'utf8');
    if (quoted.size >= QUOTED_CACHE_LIMIT) quoted.clear();
    quoted.set(s, bytes);
  }
  return bytes;
}

/** Room a string takes at most, quoted and escaped. */
function stringRoom(s: string | null): number {
  return s === null ? NULL.length : 2 + MAX_BYTES_PER_CHAR * s.length;
}

/** Takes a chunk of output; true when it is done with the chunk's bytes (they may be overwritten). */
type Flush = (chunk: Buffer) => boolean;

/** A Flush for a chunk that is only read before the next write. */
const KEEP: Flush = () => true;

/** An output chunk being filled. */
class Bytes {
  buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES + CONNECTION_BYTES);
  length = 0;

  /** Makes sure `bytes` more fit, handing what is written to `flush` first when they would not. */
  room(bytes: number, flush: Flush): void {
    if (this.length + bytes <= this.buffer.length) return;
    if (this.length > 0) this.flush(flush);
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
  }

  /**
   * Hands the bytes written to `flush`; writing goes on in the same buffer when `flush` is done with them,
   * else in a new one.
   */
  flush(flush: Flush): void {
    const chunk = this.buffer.subarray(0, this.length);
    this.length = 0;
    if (!flush(chunk)) this.buffer = Buffer.allocUnsafe(CHUNK_BYTES + CONNECTION_BYTES);
  }

  bytes(b: Uint8Array): void {
    this.buffer.set(b, this.length);
    this.length += b.length;
  }

  /** A number as JSON.stringify writes it. */
  number(n: number): void {
    if (n >= 0 && n < DIGIT_LIMIT && (n | 0) === n) {
      const buffer = this.buffer;
      const digits = n < 10 ? 1 : n < 100 ? 2 : n < 1e3 ? 3 : n < 1e4 ? 4 : n < 1e5 ? 5 : n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : 9;
      let at = this.length + digits;
      this.length = at;
      do {
        const rest = (n / 10) | 0;
        buffer[--at] = 0x30 + n - rest * 10;
        n = rest;
      } while (n > 0);
    } else if (!(n > 0 && n < DIGIT_LIMIT && (this.decimal(n, 1e3) || this.decimal(n, 1e6)))) {
      this.text(Number.isFinite(n) ? String(n) : 'null');
    }
  }

  /**
   * A positive fraction below DIGIT_LIMIT written as the decimal `k / scale` (scale 1e3 or 1e6), when that
   * decimal is exactly what the number holds (the double nearest to it); false, writing nothing, when not.
   * It is then what String() writes, which is the shortest decimal that reads back as the number: this one
   * has at most 15 significant digits (9 whole, 6 fraction), and two different decimals of at most 15
   * digits never read back as the same double, so no shorter one does. String() of a double is slow
   * (a packet time, two per connection, was a quarter of writing the JSON).
   */
  private decimal(n: number, scale: 1e3 | 1e6): boolean {
    const scaled = Math.round(n * scale);
    if (scaled / scale !== n) return false;
    const whole = Math.floor(n);
    // Below scale and above 0 (n is not whole): the fraction's digits, trailing zeros dropped.
    let fraction = scaled - whole * scale;
    let digits = scale === 1e3 ? 3 : 6;
    while (fraction % 10 === 0) {
      fraction /= 10;
      digits--;
    }
    this.number(whole);
    const buffer = this.buffer;
    buffer[this.length] = 0x2e; // '.'
    let at = this.length + 1 + digits;
    this.length = at;
    for (let i = 0; i < digits; i++) {
      const rest = (fraction / 10) | 0;
      buffer[--at] = 0x30 + fraction - rest * 10;
      fraction = rest;
    }
    return true;
  }

  boolean(b: boolean): void {
    this.bytes(b ? TRUE : FALSE);
  }

  /** A key (with its punctuation) and a number: one call for the commonest pair. */
  field(key: Uint8Array, n: number): void {
    this.buffer.set(key, this.length);
    this.length += key.length;
    this.number(n);
  }

  /** A string or null as JSON.stringify writes it (its room reserved with `stringRoom`). */
  string(s: string | null): void {
    this.bytes(s === null ? NULL : quotedBytes(s));
  }

  /**
   * An IP address as a JSON string: its text (digits, hex, dots, colons) needs no escaping, so it is copied
   * in place. Through the string cache, a flood's spoofed sources (a new address per connection) made a
   * string and a buffer per connection and kept the cache churning.
   */
  address(ip: string): void {
    const buffer = this.buffer;
    let at = this.length;
    buffer[at++] = 0x22; // '"'
    for (let i = 0; i < ip.length; i++) buffer[at++] = ip.charCodeAt(i);
    buffer[at++] = 0x22;
    this.length = at;
  }

  /** ASCII text made at run time (number forms). */
  text(t: string): void {
    const buffer = this.buffer;
    let at = this.length;
    for (let i = 0; i < t.length; i++) buffer[at++] = t.charCodeAt(i);
    this.length = at;
  }
}

function writeTlsCounters(b: Bytes, t: TlsCounters): void {
  for (let i = 0; i < TLS_FIELD_NAMES.length; i++) b.field(TLS_KEYS[i]!, t[TLS_FIELD_NAMES[i]!]);
  b.bytes(K_EXACT);
  b.boolean(t.exact);
  b.bytes(K_CLOSE);
}

/** A direction's counters, keys in the model's table order. */
function writeTraffic(b: Bytes, c: TrafficCounters): void {
  for (let i = 0; i < TRAFFIC_FIELD_NAMES.length; i++) b.field(TRAFFIC_KEYS[i]!, c[TRAFFIC_FIELD_NAMES[i]!]);
  b.bytes(K_TLS_COUNTERS);
  writeTlsCounters(b, c.tls);
  b.bytes(K_CLOSE);
}

function writeConnectionTls(b: Bytes, t: ConnectionTls | null): void {
  if (t === null) {
    b.bytes(NULL);
    return;
  }
  b.bytes(K_VERSION);
  b.string(t.version);
  b.bytes(K_SUITE);
  b.string(t.cipherSuite);
  b.bytes(K_HANDSHAKE);
  b.string(t.handshake);
  b.bytes(K_SERVER_NAME);
  b.string(t.serverName);
  b.bytes(K_DECRYPTED);
  b.boolean(t.decrypted);
  b.bytes(K_PLAINTEXT_PREFIX);
  b.string(t.plaintextPrefix);
  b.bytes(K_CLOSE);
}

function writeConnection(b: Bytes, c: ConnectionReport): void {
  b.field(K_INDEX, c.index);
  b.bytes(K_CLIENT);
  b.address(c.client.ip);
  b.field(K_PORT, c.client.port);
  b.bytes(K_SERVER);
  b.address(c.server.ip);
  b.field(K_PORT, c.server.port);
  b.bytes(K_SERVER_SIDE_BY);
  b.string(c.serverSideBy);
  b.bytes(K_SYN_SEEN);
  b.boolean(c.synSeen);
  b.bytes(K_CLOSED_BY);
  b.string(c.closedBy);
  b.field(K_FIRST_MS, c.firstPacketMs);
  b.field(K_LAST_MS, c.lastPacketMs);
  b.bytes(K_UP);
  writeTraffic(b, c.up);
  b.bytes(K_DOWN);
  writeTraffic(b, c.down);
  b.bytes(K_TLS);
  writeConnectionTls(b, c.tls);
  b.field(K_REQUESTS, c.requests);
  b.bytes(K_CLOSE);
}

/** Room one connection takes at most. */
function connectionRoom(c: ConnectionReport): number {
  const tls = c.tls;
  return (
    CONNECTION_BYTES +
    stringRoom(c.client.ip) +
    stringRoom(c.server.ip) +
    (tls === null ? 0 : stringRoom(tls.version) + stringRoom(tls.cipherSuite) + stringRoom(tls.serverName) + stringRoom(tls.plaintextPrefix))
  );
}

/** `JSON.stringify(c)`, as the writer writes it. */
export function connectionJson(c: ConnectionReport): string {
  const b = new Bytes();
  b.room(connectionRoom(c), KEEP);
  writeConnection(b, c);
  return b.buffer.toString('utf8', 0, b.length);
}

/**
 * Connections written out of order are held as their JSON bytes up to this much; past it they go to a
 * temporary file (sorted runs merged at the end), so one connection open for the whole capture cannot make
 * memory grow with every connection that ends meanwhile.
 */
const HOLD_LIMIT_BYTES = 32 * 1024 * 1024;
/** A held connection in a run file: index(4) length(4) then its JSON bytes. */
const RUN_ENTRY_HEADER_BYTES = 8;
/** Read-ahead of one run file. */
const RUN_READ_BYTES = 1 << 16;

/** One run file being merged: its entries in index order, read ahead in a small buffer. */
class RunReader {
  private buffer = Buffer.alloc(RUN_READ_BYTES);
  private start = 0;
  private end = 0;
  private position = 0;
  /** The entry at the front: its index (Infinity once the run is exhausted) and bytes. */
  index = Number.POSITIVE_INFINITY;
  bytes: Buffer = Buffer.alloc(0);

  constructor(private readonly fd: number) {
    this.next();
  }

  /** Moves to the next entry. */
  next(): void {
    if (!this.fill(RUN_ENTRY_HEADER_BYTES)) {
      this.index = Number.POSITIVE_INFINITY;
      return;
    }
    const index = this.buffer.readUInt32LE(this.start);
    const length = this.buffer.readUInt32LE(this.start + 4);
    this.start += RUN_ENTRY_HEADER_BYTES;
    if (!this.fill(length)) throw new Error(`analyze --json: a run file ended inside connection ${index}`);
    this.index = index;
    this.bytes = Buffer.from(this.buffer.subarray(this.start, this.start + length));
    this.start += length;
  }

  /** Makes `n` bytes available from `start`; false at the end of the file. */
  private fill(n: number): boolean {
    if (this.end - this.start >= n) return true;
    const rest = this.buffer.subarray(this.start, this.end);
    if (n > this.buffer.length) this.buffer = Buffer.alloc(n);
    rest.copy(this.buffer, 0);
    this.end = rest.length;
    this.start = 0;
    while (this.end < n) {
      const read = readSync(this.fd, this.buffer, this.end, this.buffer.length - this.end, this.position);
      if (read === 0) return false;
      this.position += read;
      this.end += read;
    }
    return true;
  }
}

/**
 * True when `out` holds no reference to a written chunk once its queue is empty: process.stdout (a file is
 * written synchronously; a pipe or terminal by libuv at once, or else by a write request that holds the chunk
 * and counts in writableLength until done) and sockets. Other streams may keep chunks (a PassThrough queues
 * them for its reader), so each chunk is then a new buffer. On a SYN flood's 1.8 GB of JSON, a new 66 KB
 * buffer per chunk was garbage outside the heap that the collector let pile up (with 600,000 connections
 * written to a file: 198 MB peak RSS, 184 MB with the chunk reused).
 */
function releasesChunks(out: NodeJS.WritableStream): boolean {
  return out === process.stdout || out instanceof Socket;
}

/**
 * Writes `analyze@1` JSON while the capture is read: connections one per line in index order (the order of
 * their first packet), then the totals. Connections end in another order than they begin: one that ends
 * before a lower index is held (in memory, then in temporary run files past HOLD_LIMIT_BYTES) until every
 * lower index is written. Key order differs from the in-memory result (connections come before the totals),
 * the document does not. Writes to a pipe can be queued (a slow reader: 2.6 M connections of JSON piped
 * through execa reached 2.4 GB RSS): `drained` lets the capture's read wait for the queue to empty.
 */
export class JsonWriter {
  private readonly bytes = new Bytes();
  private count = 0;
  /** The lowest index not written yet. */
  private nextIndex = 0;
  private readonly held = new Map<number, Buffer>();
  /** Where a held connection is written before its bytes are copied out (one buffer for all of them). */
  private readonly scratch = new Bytes();
  private heldBytes = 0;
  private runDir: string | null = null;
  private readonly runs: RunReader[] = [];
  private readonly runFds: number[] = [];
  /** The output lets go of a chunk once written and nothing waits in its queue (see releasesChunks). */
  private readonly reuseChunks: boolean;
  private readonly flush: Flush = (chunk) => {
    this.out.write(chunk);
    return this.reuseChunks && (this.out as NodeJS.WritableStream & { writableLength?: number }).writableLength === 0;
  };

  /** `holdLimitBytes`: held JSON kept in memory before it spills to a run file (smaller in tests). */
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly holdLimitBytes = HOLD_LIMIT_BYTES,
  ) {
    this.reuseChunks = releasesChunks(out);
    this.text(`{\n  "schema": ${JSON.stringify('tls-reuse-bench/analyze@1')},\n  "connections": [`);
  }

  /** A promise for the output's 'drain' while its queue is full, else null (CaptureReadOptions.backpressure). */
  drained(): Promise<void> | null {
    const out = this.out as NodeJS.WritableStream & { writableNeedDrain?: boolean };
    if (out.writableNeedDrain !== true) return null;
    return new Promise((resolve) => {
      const done = (): void => {
        out.off('drain', done);
        out.off('close', done);
        out.off('error', done);
        resolve();
      };
      out.on('drain', done);
      out.on('close', done);
      out.on('error', done);
    });
  }

  connection(c: ConnectionReport): void {
    if (c.index !== this.nextIndex) {
      const scratch = this.scratch;
      scratch.length = 0;
      scratch.room(connectionRoom(c), KEEP);
      writeConnection(scratch, c);
      this.hold(c.index, Buffer.from(scratch.buffer.subarray(0, scratch.length)));
      return;
    }
    const b = this.bytes;
    b.room(connectionRoom(c), this.flush);
    b.bytes(this.count++ === 0 ? FIRST_LINE : NEXT_LINE);
    writeConnection(b, c);
    this.nextIndex++;
    this.drain();
    if (b.length >= CHUNK_BYTES) b.flush(this.flush);
  }

  finish(summary: AnalyzeSummary): void {
    // Every index was handed over: what is held can all go, in order (a gap would be a defect upstream).
    while (this.held.size > 0 || this.runs.some((run) => run.index !== Number.POSITIVE_INFINITY)) {
      this.nextIndex = this.lowestWaiting();
      this.drain();
    }
    const { schema: _schema, ...rest } = summary;
    // `rest` as JSON starts with "{\n" and ends with "\n}": its members continue the open object.
    this.text(`${this.count === 0 ? '' : '\n  '}],\n${JSON.stringify(rest, null, 2).slice(2)}\n`);
    this.bytes.flush(this.flush);
    this.close();
  }

  /** Removes the run files (also when the analysis failed half-way). */
  close(): void {
    for (const fd of this.runFds.splice(0)) closeSync(fd);
    if (this.runDir !== null) rmSync(this.runDir, { recursive: true, force: true });
    this.runDir = null;
  }

  private hold(index: number, json: Buffer): void {
    this.held.set(index, json);
    this.heldBytes += json.length;
    if (this.heldBytes > this.holdLimitBytes) this.spill();
  }

  /** Writes the held connections to a run file, in index order. */
  private spill(): void {
    this.runDir ??= mkdtempSync(join(tmpdir(), 'tls-reuse-bench-json-'));
    const path = join(this.runDir, `run-${this.runs.length}`);
    const fd = openSync(path, 'w+');
    this.runFds.push(fd);
    const header = Buffer.alloc(RUN_ENTRY_HEADER_BYTES);
    let position = 0;
    for (const index of [...this.held.keys()].sort((a, b) => a - b)) {
      const json = this.held.get(index)!;
      header.writeUInt32LE(index, 0);
      header.writeUInt32LE(json.length, 4);
      position += writeSync(fd, header, 0, header.length, position);
      position += writeSync(fd, json, 0, json.length, position);
    }
    this.held.clear();
    this.heldBytes = 0;
    this.runs.push(new RunReader(fd));
  }

  /** The lowest index held in memory or at a run's front. */
  private lowestWaiting(): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const index of this.held.keys()) if (index < lowest) lowest = index;
    for (const run of this.runs) if (run.index < lowest) lowest = run.index;
    return lowest;
  }

  /** Writes the held connections that are next in order. */
  private drain(): void {
    for (;;) {
      let json = this.held.get(this.nextIndex);
      if (json !== undefined) {
        this.held.delete(this.nextIndex);
        this.heldBytes -= json.length;
      } else {
        const run = this.runs.find((r) => r.index === this.nextIndex);
        if (run === undefined) return;
        json = run.bytes;
        run.next();
      }
      const b = this.bytes;
      b.room(NEXT_LINE.length + json.length, this.flush);
      b.bytes(this.count++ === 0 ? FIRST_LINE : NEXT_LINE);
      b.bytes(json);
      this.nextIndex++;
    }
  }

  /** Text of any kind (the document's opening and its totals), in UTF-8. */
  private text(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.bytes.room(bytes.length, this.flush);
    this.bytes.bytes(bytes);
  }
}
