/**
 * The TLS record layer of one direction of a TCP stream (RFC 8446 §5.1, RFC 5246 §6.2): frames the byte
 * stream into records, whatever the slicing of the pushes, and accounts every byte it is given. Record bodies
 * are only held when the sink asks for them; otherwise a record is skipped by its length.
 */
import { u16be } from '../bytes.ts';
import { emptyTlsCounters, type Direction, type TlsCounters } from '../model/index.ts';

/** type (1) + legacy_record_version (2) + length (2). */
export const RECORD_HEADER_BYTES = 5;
/** TLSCiphertext.length may not exceed 2^14 + 2048 (RFC 5246 §6.2.3; RFC 8446 §5.2 allows only 2^14 + 256). */
export const MAX_RECORD_BODY_BYTES = 2 ** 14 + 2048;

export const CONTENT_CHANGE_CIPHER_SPEC = 20;
export const CONTENT_ALERT = 21;
export const CONTENT_HANDSHAKE = 22;
export const CONTENT_APPLICATION_DATA = 23;
export const CONTENT_HEARTBEAT = 24;

/** What the sink wants done with a record's body. */
export type BodyUse =
  /** Count it by length, never look at it. */
  | 'skip'
  /** Hand each slice to `recordBody` as it arrives (plaintext handshake messages). */
  | 'stream'
  /** Hold the whole body and give it to `recordEnd` (records to decrypt). */
  | 'keep';

/** Receives the records of a stream. */
export interface RecordSink {
  /** A header was read; the record's fields are on `stream`. Zero-length records end right after. */
  recordStart(stream: RecordStream): BodyUse;
  /** A slice of a `stream` body, in order. */
  recordBody(stream: RecordStream, data: Buffer, start: number, end: number): void;
  /** Some body bytes of a `stream` record were not captured, or the record was cut: the slices stop making sense. */
  recordBodyLost(stream: RecordStream): void;
  /**
   * A record completed. `body` is the whole body of a `keep` record (null if some of it was not captured), valid
   * only during the call (it may point into the pushed buffer); `damaged` when some bytes were not captured.
   */
  recordEnd(stream: RecordStream, body: Buffer | null, damaged: boolean): void;
  /** The stream stopped looking like records (an implausible header, or a header inside uncaptured bytes). */
  syncLost(stream: RecordStream): void;
  /**
   * A hello record was found after `length` bytes that are not TLS (STARTTLS, a proxy's CONNECT, a database's
   * SSL request): `sample` holds the first of them (valid during the call only).
   */
  plaintextPrefix(stream: RecordStream, sample: Buffer, length: number): void;
}

type Mode =
  /** Before the first header: an implausible one starts the search for a hello after a plaintext prefix. */
  | 'start'
  /** The stream began with bytes that are not TLS: looking for a hello record within MAX_PREFIX_BYTES. */
  | 'prefix'
  | 'records'
  /** Looking for the next plausible header after losing sync; bytes meanwhile are not TLS. */
  | 'resync'
  | 'not-tls'
  | 'ended';

/**
 * How far into a stream a TLS hello is looked for after a plaintext start. The protocols that upgrade to TLS
 * say little first (an SMTP EHLO exchange, an HTTP CONNECT and its answer, an 8-byte PostgreSQL
 * SSLRequest); past this the stream is taken as not TLS and the search, which holds the bytes it scans,
 * stops.
 */
export const MAX_PREFIX_BYTES = 64 * 1024;
/** Bytes of a plaintext prefix handed to the sink to name its protocol. */
const PREFIX_SAMPLE_BYTES = 512;
/** Record header (5) + handshake type (1) + a 24-bit handshake length (3): what a hello's start shows. */
const HELLO_SIGNATURE_BYTES = 9;
/** Handshake types of the hellos (RFC 8446 §4). */
const HANDSHAKE_CLIENT_HELLO = 1;
const HANDSHAKE_SERVER_HELLO = 2;

/**
 * An SSL 2.0 record header (RFC 6101 §E.2, the "SSLv2 compatible" ClientHello of RFC 5246 §E.2): a 2-byte
 * length with the high bit set, then msg_type 1 and the version the client offers. Only a hello offering
 * SSL 3.0 or later (major version 3) starts a stream this walker accounts.
 */
const SSL2_HEADER_BYTES = 2;
const SSL2_CLIENT_HELLO = 1;
/** msg_type(1) version(2) cipher_spec_length(2) session_id_length(2) challenge_length(2). */
const SSL2_CLIENT_HELLO_MIN_BYTES = 9;

/** A header the walker accepts: a known content type, an SSL 3.0..TLS 1.3 record version, a legal length. */
export function plausibleHeader(type: number, version: number, length: number): boolean {
  return (
    type >= CONTENT_CHANGE_CIPHER_SPEC &&
    type <= CONTENT_HEARTBEAT &&
    version >= 0x0300 &&
    version <= 0x0304 &&
    length <= MAX_RECORD_BODY_BYTES
  );
}

/** Walks the records of one direction. Counts framing (records, non-TLS, incomplete); the sink classifies. */
export class RecordStream {
  readonly counters: TlsCounters = emptyTlsCounters();
  /** Bytes pushed plus bytes skipped: what the counters must add up to once the stream has ended. */
  bytesIn = 0;
  /** A plausible record header was found at some point: this direction carries TLS. */
  synced = false;

  /** Fields of the record in progress (valid from `recordStart` to `recordEnd`). */
  recordType = 0;
  recordVersion = 0;
  recordLength = 0;
  /**
   * The record in progress is an SSL 2.0-format ClientHello: `recordLength` is its body after msg_type and
   * version (the record is 5 + recordLength bytes, like any other), and the body is not v3 handshake framing.
   */
  sslv2Hello = false;

  private mode: Mode = 'start';
  /** A header being assembled across pushes, or the carried-over bytes while resynchronising (a plain array:
   * cheaper to make than a Buffer, and there is one per direction of every connection). */
  private readonly head = [0, 0, 0, 0, 0];
  private headFill = 0;
  private inBody = false;
  private bodyDone = 0;
  private bodyUse: BodyUse = 'skip';
  private damaged = false;
  /** The body of a `keep` record that arrives in pieces; held only while that record is in progress. */
  private bodyBuffer: Buffer | null = null;
  /** The stream's start was not captured and its first header is still being looked for. */
  private midstream = false;
  /** End of the bytes of the push in progress within its buffer. */
  private limit = 0;
  /** The plaintext start being searched for a hello (`prefix` mode), and how much of it is filled. */
  private prefix: Buffer | null = null;
  private prefixFill = 0;
  /** Where the hello search resumes in `prefix`. */
  private prefixScanned = 0;

  constructor(
    readonly dir: Direction,
    private readonly sink: RecordSink,
  ) {}

  /** Stream bytes `data[start, end)`, in order. */
  push(data: Buffer, start = 0, end = data.length): void {
    if (this.mode === 'ended') throw new Error(`TLS ${this.dir} stream: push after end`);
    this.bytesIn += end - start;
    this.walk(data, start, end);
  }

  /** Walks stream bytes `data[start, end)` (already counted in `bytesIn`). */
  private walk(data: Buffer, start: number, end: number): void {
    const length = end;
    this.limit = end;
    let off = start;
    while (off < length) {
      switch (this.mode) {
        case 'not-tls':
          this.counters.nonTlsBytes += length - off;
          off = length;
          break;
        case 'resync':
          off = this.resync(data, off);
          break;
        case 'prefix':
          this.searchPrefix(data, off, length);
          return;
        default:
          off = this.inBody ? this.body(data, off) : this.header(data, off);
      }
    }
  }

  /** `n` stream bytes that were not captured. */
  skip(n: number): void {
    if (this.mode === 'ended') throw new Error(`TLS ${this.dir} stream: skip after end`);
    if (n <= 0) return;
    this.bytesIn += n;
    if (this.mode === 'not-tls') {
      this.counters.nonTlsBytes += n;
      return;
    }
    if (this.mode === 'resync') {
      this.counters.nonTlsBytes += this.headFill + n;
      this.headFill = 0;
      return;
    }
    if (this.mode === 'prefix') {
      // The plaintext start was cut by the capture: what was held and what is missing are not TLS.
      this.counters.nonTlsBytes += this.prefixFill + n;
      this.prefixFill = 0;
      this.prefixScanned = 0;
      return;
    }
    let rest = n;
    if (this.inBody) {
      const take = Math.min(rest, this.recordLength - this.bodyDone);
      this.bodyDone += take;
      rest -= take;
      if (!this.damaged && this.bodyUse === 'stream') this.sink.recordBodyLost(this);
      this.damaged = true;
      if (this.bodyDone === this.recordLength) this.finishRecord(null);
    }
    if (rest > 0) {
      // A header lies in the uncaptured bytes: the next record's length is unknowable.
      this.counters.incompleteBytes += this.headFill;
      this.headFill = 0;
      this.counters.nonTlsBytes += rest;
      this.loseSync();
    }
  }

  /** The capture lost an unknown stretch here: cut the record in progress and look for the next header. */
  gap(): void {
    if (this.mode === 'ended') throw new Error(`TLS ${this.dir} stream: gap after end`);
    this.cutRecord();
    this.counters.exact = false;
    this.mode = 'resync';
  }

  /**
   * The stream began before the capture (its SYN was not captured): look for the first record header. Only
   * bytes passed over to find it make the counts inexact; a capture that missed just the TCP handshake loses
   * nothing.
   */
  beginMidstream(): void {
    if (this.mode !== 'start' || this.bytesIn > 0) throw new Error(`TLS ${this.dir} stream: midstream start after data`);
    this.mode = 'resync';
    this.midstream = true;
  }

  /** The first header after a midstream start was found after `skipped` bytes. */
  private foundMidstreamStart(skipped: number): void {
    this.midstream = false;
    if (skipped > 0) this.loseSync();
  }

  /** End of the stream: a record in progress is incomplete. */
  end(): void {
    if (this.mode === 'ended') return;
    this.cutRecord();
    this.mode = 'ended';
  }

  /** Puts the bytes of the record in progress (or carried resync bytes) into incomplete/non-TLS. */
  private cutRecord(): void {
    if (this.mode === 'resync') {
      this.counters.nonTlsBytes += this.headFill;
    } else if (this.mode === 'prefix') {
      this.counters.nonTlsBytes += this.prefixFill;
      this.endPrefix();
    } else if (this.inBody) {
      this.counters.incompleteBytes += RECORD_HEADER_BYTES + this.bodyDone;
      if (!this.damaged && this.bodyUse === 'stream') this.sink.recordBodyLost(this);
      this.inBody = false;
      this.bodyBuffer = null;
    } else {
      this.counters.incompleteBytes += this.headFill;
    }
    this.headFill = 0;
  }

  private loseSync(): void {
    this.mode = 'resync';
    this.counters.exact = false;
    this.sink.syncLost(this);
  }

  /** Reads header bytes from `off`; returns where it stopped. */
  private header(data: Buffer, off: number): number {
    if (this.mode === 'start' && (this.headFill > 0 ? this.head[0]! : data[off]!) >= 0x80) return this.sslv2Header(data, off);
    if (this.headFill === 0 && this.limit - off >= RECORD_HEADER_BYTES) {
      const type = data[off] as number;
      const version = u16be(data, off + 1);
      const length = u16be(data, off + 3);
      if (!plausibleHeader(type, version, length)) {
        this.implausible();
        return off;
      }
      this.beginRecord(type, version, length);
      return off + RECORD_HEADER_BYTES;
    }
    const byte = data[off] as number;
    if (!this.plausibleNext(byte)) {
      this.implausible();
      return off;
    }
    this.head[this.headFill++] = byte;
    if (this.headFill === RECORD_HEADER_BYTES) {
      this.headFill = 0;
      const head = this.head;
      this.beginRecord(head[0]!, (head[1]! << 8) | head[2]!, (head[3]! << 8) | head[4]!);
    }
    return off + 1;
  }

  /**
   * The stream's first bytes have the high bit set: an SSL 2.0 record header, which is plausible as a
   * stream's start only when it carries a ClientHello offering SSL 3.0 or later. Its 5 header bytes as this
   * walker reads them are the 2-byte SSL 2.0 header and the hello's msg_type and version; the record is
   * accounted as one handshake record of 2 + length bytes.
   */
  private sslv2Header(data: Buffer, off: number): number {
    const byte = data[off]!;
    const position = this.headFill;
    const plausible =
      position === 0 ||
      position === 1 ||
      (position === 2 && byte === SSL2_CLIENT_HELLO) ||
      (position === 3 && byte === 0x03) ||
      (position === 4 && byte <= 0x04);
    if (!plausible) {
      this.implausible();
      return off;
    }
    this.head[this.headFill++] = byte;
    if (this.headFill < RECORD_HEADER_BYTES) return off + 1;
    this.headFill = 0;
    const head = this.head;
    const length = ((head[0]! & 0x7f) << 8) | head[1]!;
    if (length < SSL2_CLIENT_HELLO_MIN_BYTES) {
      this.headFill = RECORD_HEADER_BYTES;
      this.implausible();
      return off + 1;
    }
    this.sslv2Hello = true;
    // The body still to come: the length counts msg_type and version, read here as header bytes.
    this.beginRecord(CONTENT_HANDSHAKE, (head[3]! << 8) | head[4]!, length - (RECORD_HEADER_BYTES - SSL2_HEADER_BYTES));
    return off + 1;
  }

  /** Whether `byte` can be the next byte of the header in `head[0..headFill)`. */
  private plausibleNext(byte: number): boolean {
    switch (this.headFill) {
      case 0:
        return byte >= CONTENT_CHANGE_CIPHER_SPEC && byte <= CONTENT_HEARTBEAT;
      case 1:
        return byte === 0x03;
      case 2:
        return byte <= 0x04;
      case 3:
        return byte <= MAX_RECORD_BODY_BYTES >> 8;
      default:
        return (((this.head[3] as number) << 8) | byte) <= MAX_RECORD_BODY_BYTES;
    }
  }

  /** The bytes at the read position are not a record header; those already taken as header are not TLS. */
  private implausible(): void {
    if (this.mode === 'start') {
      // Bytes taken as a header so far are the plaintext's first: the search for a hello starts with them.
      this.mode = 'prefix';
      this.prefix = Buffer.allocUnsafe(4096);
      for (let k = 0; k < this.headFill; k++) this.prefix[k] = this.head[k]!;
      this.prefixFill = this.headFill;
      this.headFill = 0;
      return;
    }
    this.counters.nonTlsBytes += this.headFill;
    this.headFill = 0;
    this.loseSync();
  }

  /**
   * Holds `data[off, end)` of a plaintext start and looks for a hello record in what is held: a handshake
   * record header (type 22, version 3.x, a legal length) followed by a ClientHello (up) or ServerHello (down)
   * header of a length below 64 KiB. Random text rarely holds those nine bytes; a binary protocol's prefix
   * is a few bytes long. Found: the bytes before it are not TLS and the walk restarts at the hello.
   */
  private searchPrefix(data: Buffer, off: number, end: number): void {
    const n = end - off;
    if (this.prefixFill + n > this.prefix!.length) {
      const grown = Buffer.allocUnsafe(Math.min(MAX_PREFIX_BYTES + RECORD_HEADER_BYTES + n, Math.max(2 * this.prefix!.length, this.prefixFill + n)));
      this.prefix!.copy(grown, 0, 0, this.prefixFill);
      this.prefix = grown;
    }
    data.copy(this.prefix!, this.prefixFill, off, end);
    this.prefixFill += n;
    const held = this.prefix!;
    const wanted = this.dir === 'up' ? HANDSHAKE_CLIENT_HELLO : HANDSHAKE_SERVER_HELLO;
    let at = this.prefixScanned;
    for (; at + HELLO_SIGNATURE_BYTES <= this.prefixFill; at++) {
      if (held[at] !== CONTENT_HANDSHAKE || held[at + 5] !== wanted || held[at + 6] !== 0) continue;
      if (!plausibleHeader(CONTENT_HANDSHAKE, u16be(held, at + 1), u16be(held, at + 3))) continue;
      this.counters.nonTlsBytes += at;
      this.sink.plaintextPrefix(this, held.subarray(0, Math.min(at, PREFIX_SAMPLE_BYTES)), at);
      const rest = held.subarray(at, this.prefixFill);
      this.endPrefix();
      this.mode = 'start';
      this.walk(rest, 0, rest.length);
      return;
    }
    this.prefixScanned = at;
    if (this.prefixFill >= MAX_PREFIX_BYTES) {
      this.counters.nonTlsBytes += this.prefixFill;
      this.endPrefix();
      this.mode = 'not-tls';
    }
  }

  private endPrefix(): void {
    this.prefix = null;
    this.prefixFill = 0;
    this.prefixScanned = 0;
  }

  private beginRecord(type: number, version: number, length: number): void {
    this.mode = 'records';
    this.synced = true;
    this.recordType = type;
    this.recordVersion = version;
    this.recordLength = length;
    this.inBody = true;
    this.bodyDone = 0;
    this.damaged = false;
    this.bodyUse = this.sink.recordStart(this);
    if (length === 0) this.finishRecord(this.bodyUse === 'keep' ? Buffer.alloc(0) : null);
  }

  /** Consumes body bytes from `off`; returns where it stopped. */
  private body(data: Buffer, off: number): number {
    const take = Math.min(this.limit - off, this.recordLength - this.bodyDone);
    if (this.bodyUse === 'stream') {
      if (!this.damaged) this.sink.recordBody(this, data, off, off + take);
    } else if (this.bodyUse === 'keep') {
      if (take === this.recordLength) {
        // The whole body is in this push: hand it over in place, no copy.
        this.bodyDone = take;
        this.finishRecord(data.subarray(off, off + take));
        return off + take;
      }
      this.bodyBuffer ??= Buffer.allocUnsafe(this.recordLength);
      data.copy(this.bodyBuffer, this.bodyDone, off, off + take);
    }
    this.bodyDone += take;
    if (this.bodyDone === this.recordLength) this.finishRecord(this.bodyBuffer);
    return off + take;
  }

  private finishRecord(body: Buffer | null): void {
    this.inBody = false;
    this.bodyBuffer = null;
    this.counters.records++;
    this.sink.recordEnd(this, body, this.damaged);
    this.sslv2Hello = false;
  }

  /**
   * Looks for the next plausible header from `off`, with up to 4 bytes carried in `head` from earlier pushes.
   * Bytes passed over are not TLS. Returns where it stopped.
   */
  private resync(data: Buffer, off: number): number {
    const carried = this.headFill;
    const available = carried + this.limit - off;
    const byteAt = (i: number): number => (i < carried ? this.head[i] : data[off + i - carried]) as number;
    let i = 0;
    for (; i + RECORD_HEADER_BYTES <= available; i++) {
      const type = byteAt(i);
      const version = (byteAt(i + 1) << 8) | byteAt(i + 2);
      const length = (byteAt(i + 3) << 8) | byteAt(i + 4);
      if (plausibleHeader(type, version, length)) {
        this.counters.nonTlsBytes += i;
        this.headFill = 0;
        if (this.midstream) this.foundMidstreamStart(i);
        this.beginRecord(type, version, length);
        return off + i + RECORD_HEADER_BYTES - carried;
      }
      // Once past the carried bytes, scan the push directly: this is the hot loop of a long resync.
      if (i >= carried) return this.scan(data, off + i - carried + 1, i + 1);
    }
    // Too few bytes to decide about candidate i: the ones before it are not TLS, the rest (at most 4) wait.
    this.counters.nonTlsBytes += i;
    for (let k = 0; k < available - i; k++) this.head[k] = byteAt(i + k);
    this.headFill = available - i;
    return this.limit;
  }

  /** The part of `resync` that scans `data` alone; `passed` bytes (carried ones included) were already rejected. */
  private scan(data: Buffer, from: number, passed: number): number {
    let j = from;
    for (; j + RECORD_HEADER_BYTES <= this.limit; j++) {
      const type = data[j] as number;
      if (type < CONTENT_CHANGE_CIPHER_SPEC || type > CONTENT_HEARTBEAT) continue;
      const version = u16be(data, j + 1);
      const length = u16be(data, j + 3);
      if (plausibleHeader(type, version, length)) {
        this.counters.nonTlsBytes += passed + (j - from);
        this.headFill = 0;
        if (this.midstream) this.foundMidstreamStart(passed + (j - from));
        this.beginRecord(type, version, length);
        return j + RECORD_HEADER_BYTES;
      }
    }
    this.counters.nonTlsBytes += passed + (j - from);
    this.headFill = this.limit - j;
    for (let k = 0; j + k < this.limit; k++) this.head[k] = data[j + k]!;
    return this.limit;
  }
}
