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

/** An output chunk being filled. */
class Bytes {
  buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES + CONNECTION_BYTES);
  length = 0;

  /** Makes sure `bytes` more fit, handing what is written to `flush` first when they would not. */
  room(bytes: number, flush: (chunk: Buffer) => void): void {
    if (this.length + bytes <= this.buffer.length) return;
    if (this.length > 0) flush(this.take());
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
  }

  /** The bytes written; writing goes on in a new buffer (the output may still hold the taken one). */
  take(): Buffer {
    const chunk = this.buffer.subarray(0, this.length);
    this.buffer = Buffer.allocUnsafe(CHUNK_BYTES + CONNECTION_BYTES);
    this.length = 0;
    return chunk;
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
  b.bytes(K_CLOSE);
}

function writeConnection(b: Bytes, c: ConnectionReport): void {
  b.field(K_INDEX, c.index);
  b.bytes(K_CLIENT);
  b.string(c.client.ip);
  b.field(K_PORT, c.client.port);
  b.bytes(K_SERVER);
  b.string(c.server.ip);
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
    (tls === null ? 0 : stringRoom(tls.version) + stringRoom(tls.cipherSuite) + stringRoom(tls.serverName))
  );
}

/** `JSON.stringify(c)`, as the writer writes it. */
export function connectionJson(c: ConnectionReport): string {
  const b = new Bytes();
  b.room(connectionRoom(c), () => undefined);
  writeConnection(b, c);
  return b.take().toString('utf8');
}

/**
 * Writes `analyze@1` JSON while the capture is read: each connection as it ends, one per line, then the
 * totals. Key order differs from the in-memory result (connections come before the totals), the document
 * does not: memory stays bounded whatever the number of connections. Writes to stdout are synchronous for
 * files and pipes on Linux, so chunks never pile up.
 */
export class JsonWriter {
  private readonly bytes = new Bytes();
  private count = 0;
  private readonly flush = (chunk: Buffer): void => {
    this.out.write(chunk);
  };

  constructor(private readonly out: NodeJS.WritableStream) {
    this.text(`{\n  "schema": ${JSON.stringify('tls-reuse-bench/analyze@1')},\n  "connections": [`);
  }

  connection(c: ConnectionReport): void {
    const b = this.bytes;
    b.room(connectionRoom(c), this.flush);
    b.bytes(this.count++ === 0 ? FIRST_LINE : NEXT_LINE);
    writeConnection(b, c);
    if (b.length >= CHUNK_BYTES) this.flush(b.take());
  }

  finish(summary: AnalyzeSummary): void {
    const { schema: _schema, ...rest } = summary;
    // `rest` as JSON starts with "{\n" and ends with "\n}": its members continue the open object.
    this.text(`${this.count === 0 ? '' : '\n  '}],\n${JSON.stringify(rest, null, 2).slice(2)}\n`);
    this.flush(this.bytes.take());
  }

  /** Text of any kind (the document's opening and its totals), in UTF-8. */
  private text(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    this.bytes.room(bytes.length, this.flush);
    this.bytes.bytes(bytes);
  }
}
