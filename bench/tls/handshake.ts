/**
 * The handshake protocol of one direction (RFC 8446 §4, RFC 5246 §7.4): a stream of messages, each a 4-byte
 * header (type, 24-bit length) and a body, that can span records or share one. Only the hello bodies are
 * kept (bounded); other messages are recognised by type and skipped by length.
 */

export const HANDSHAKE_HEADER_BYTES = 4;

export const HS_CLIENT_HELLO = 1;
export const HS_SERVER_HELLO = 2;
export const HS_CERTIFICATE = 11;
export const HS_SERVER_KEY_EXCHANGE = 12;
export const HS_SERVER_HELLO_DONE = 14;
export const HS_FINISHED = 20;
export const HS_KEY_UPDATE = 24;

/** Hellos larger than this are counted but not parsed (real ones are a few KB, post-quantum key shares included). */
export const MAX_HELLO_BYTES = 64 * 1024;

/** Receives each complete message; `body` only for hellos within MAX_HELLO_BYTES, valid during the call. */
export type HandshakeListener = (type: number, body: Buffer | null) => void;

/** Reassembles handshake messages from record bodies of one direction. */
export class HandshakeReader {
  /** Bytes went missing: message boundaries are unknown from here on, so nothing more is reported. */
  lost = false;

  private readonly head = Buffer.alloc(HANDSHAKE_HEADER_BYTES);
  private headFill = 0;
  private inBody = false;
  private type = 0;
  private length = 0;
  private done = 0;
  private body: Buffer | null = null;

  constructor(private readonly listener: HandshakeListener) {}

  /** Handshake bytes `data[start..end)`, in order. */
  feed(data: Buffer, start: number, end: number): void {
    let off = start;
    while (off < end && !this.lost) {
      if (!this.inBody && this.headFill === 0 && end - off >= HANDSHAKE_HEADER_BYTES) {
        // A whole message in this slice (the common case): hand its body over in place, no copy.
        const length = data.readUIntBE(off + 1, 3);
        const bodyStart = off + HANDSHAKE_HEADER_BYTES;
        if (end - bodyStart >= length) {
          const type = data[off] as number;
          const hello = type === HS_CLIENT_HELLO || type === HS_SERVER_HELLO;
          off = bodyStart + length;
          this.listener(type, hello && length <= MAX_HELLO_BYTES ? data.subarray(bodyStart, off) : null);
          continue;
        }
      }
      if (!this.inBody) {
        const take = Math.min(end - off, HANDSHAKE_HEADER_BYTES - this.headFill);
        data.copy(this.head, this.headFill, off, off + take);
        this.headFill += take;
        off += take;
        if (this.headFill === HANDSHAKE_HEADER_BYTES) this.beginMessage();
        continue;
      }
      const take = Math.min(end - off, this.length - this.done);
      if (this.body !== null) data.copy(this.body, this.done, off, off + take);
      this.done += take;
      off += take;
      if (this.done === this.length) this.finishMessage();
    }
  }

  /** Stops parsing: part of the stream was not captured. */
  lose(): void {
    this.lost = true;
    this.body = null;
  }

  private beginMessage(): void {
    this.headFill = 0;
    this.type = this.head[0] as number;
    this.length = this.head.readUIntBE(1, 3);
    this.done = 0;
    this.inBody = true;
    const hello = this.type === HS_CLIENT_HELLO || this.type === HS_SERVER_HELLO;
    this.body = hello && this.length <= MAX_HELLO_BYTES ? Buffer.allocUnsafe(this.length) : null;
    if (this.length === 0) this.finishMessage();
  }

  private finishMessage(): void {
    this.inBody = false;
    const body = this.body;
    this.body = null;
    this.listener(this.type, body);
  }
}

/** Bounds-checked big-endian reads over a message body; a read past the end marks it failed. */
class Cursor {
  ok = true;
  constructor(
    private readonly buf: Buffer,
    public pos = 0,
    private readonly end = buf.length,
  ) {}

  remaining(): number {
    return this.end - this.pos;
  }

  private take(n: number): number {
    if (this.pos + n > this.end) {
      this.ok = false;
      this.pos = this.end;
      return -1;
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  u8(): number {
    const at = this.take(1);
    return at < 0 ? 0 : (this.buf[at] as number);
  }

  u16(): number {
    const at = this.take(2);
    return at < 0 ? 0 : this.buf.readUInt16BE(at);
  }

  bytes(n: number): Buffer {
    const at = this.take(n);
    return at < 0 ? Buffer.alloc(0) : this.buf.subarray(at, at + n);
  }

  /** A sub-cursor over the next `n` bytes; this one moves past them. */
  sub(n: number): Cursor {
    const at = this.take(n);
    return at < 0 ? new Cursor(this.buf, 0, 0) : new Cursor(this.buf, at, at + n);
  }
}

/** Extension codes (IANA "TLS ExtensionType Values"). */
const EXT_SERVER_NAME = 0;
const EXT_PRE_SHARED_KEY = 41;
const EXT_EARLY_DATA = 42;
const EXT_SUPPORTED_VERSIONS = 43;

/** What the ClientHello tells (RFC 8446 §4.1.2). */
export interface ClientHello {
  /** Copied: the key log is keyed by it. */
  random: Buffer;
  sessionId: Buffer;
  serverName: string | null;
  /** The client offered 0-RTT data (early_data extension). */
  offersEarlyData: boolean;
}

/** What the ServerHello tells (RFC 8446 §4.1.3). */
export interface ServerHello {
  /** legacy_version field. */
  legacyVersion: number;
  /** supported_versions' selected_version when present, else legacyVersion. */
  version: number;
  sessionId: Buffer;
  cipherSuite: number;
  /** This is a HelloRetryRequest, not the real ServerHello. */
  helloRetryRequest: boolean;
  /** The server accepted a pre-shared key (TLS 1.3 resumption). */
  preSharedKey: boolean;
}

/** SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

/** Walks an extensions block; `visit` gets each extension's type and a cursor over its data. */
function eachExtension(c: Cursor, visit: (type: number, data: Cursor) => void): void {
  // Extensions are optional before TLS 1.3 (RFC 5246 §7.4.1.2): a hello may end after compression.
  if (c.remaining() === 0) return;
  const block = c.sub(c.u16());
  while (block.ok && block.remaining() > 0) {
    const type = block.u16();
    const data = block.sub(block.u16());
    if (!block.ok) break;
    visit(type, data);
    if (!data.ok) {
      block.ok = false;
      break;
    }
  }
  if (!block.ok) c.ok = false;
}

/** Parses a ClientHello body; null when it is malformed. */
export function parseClientHello(body: Buffer): ClientHello | null {
  const c = new Cursor(body);
  c.u16(); // legacy_version
  const random = Buffer.from(c.bytes(32));
  const sessionId = Buffer.from(c.bytes(c.u8()));
  c.bytes(c.u16()); // cipher_suites
  c.bytes(c.u8()); // legacy_compression_methods
  let serverName: string | null = null;
  let offersEarlyData = false;
  eachExtension(c, (type, data) => {
    if (type === EXT_EARLY_DATA) offersEarlyData = true;
    if (type !== EXT_SERVER_NAME) return;
    // server_name_list<1..2^16-1> of { name_type (0 = host_name), HostName<1..2^16-1> } (RFC 6066 §3).
    const list = data.sub(data.u16());
    while (list.ok && list.remaining() > 0 && serverName === null) {
      const nameType = list.u8();
      const name = list.bytes(list.u16());
      if (list.ok && nameType === 0) serverName = name.toString('ascii');
    }
    if (!list.ok) data.ok = false;
  });
  return c.ok ? { random, sessionId, serverName, offersEarlyData } : null;
}

/** Parses a ServerHello (or HelloRetryRequest) body; null when it is malformed. */
export function parseServerHello(body: Buffer): ServerHello | null {
  const c = new Cursor(body);
  const legacyVersion = c.u16();
  const random = c.bytes(32);
  const sessionId = Buffer.from(c.bytes(c.u8()));
  const cipherSuite = c.u16();
  c.u8(); // legacy_compression_method
  let version = legacyVersion;
  let preSharedKey = false;
  eachExtension(c, (type, data) => {
    if (type === EXT_SUPPORTED_VERSIONS) version = data.u16();
    if (type === EXT_PRE_SHARED_KEY) preSharedKey = true;
  });
  if (!c.ok) return null;
  return {
    legacyVersion,
    version,
    sessionId,
    cipherSuite,
    helloRetryRequest: random.equals(HELLO_RETRY_REQUEST_RANDOM),
    preSharedKey,
  };
}
