/**
 * The handshake protocol of one direction (RFC 8446 §4, RFC 5246 §7.4): a stream of messages, each a 4-byte
 * header (type, 24-bit length) and a body, that can span records or share one. Only the hello bodies are
 * kept (bounded); other messages are recognised by type and skipped by length.
 */
import { u16be } from '../bytes.ts';

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

/**
 * Receives each complete message. For hellos within MAX_HELLO_BYTES the body is `body[start, end)`, valid
 * during the call only (it may be the record's own buffer); for other messages `body` is null.
 */
export interface HandshakeListener {
  handshakeMessage(type: number, body: Buffer | null, start: number, end: number): void;
  /**
   * The header of a message that spans slices was read: its type is known before its body (which a short
   * snap length may never deliver, so a Certificate's header can be all the evidence of a full handshake).
   */
  handshakeStarted(type: number): void;
}

/** Reassembles handshake messages from record bodies of one direction. */
export class HandshakeReader {
  /** Bytes went missing: message boundaries are unknown from here on, so nothing more is reported. */
  lost = false;

  /** A header split across record bodies (a plain array: cheaper to make than a Buffer, one per side of every connection). */
  private readonly head = [0, 0, 0, 0];
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
        const length = (data[off + 1]! << 16) | (data[off + 2]! << 8) | data[off + 3]!;
        const bodyStart = off + HANDSHAKE_HEADER_BYTES;
        if (end - bodyStart >= length) {
          const type = data[off] as number;
          const hello = type === HS_CLIENT_HELLO || type === HS_SERVER_HELLO;
          off = bodyStart + length;
          this.listener.handshakeMessage(type, hello && length <= MAX_HELLO_BYTES ? data : null, bodyStart, off);
          continue;
        }
      }
      if (!this.inBody) {
        const take = Math.min(end - off, HANDSHAKE_HEADER_BYTES - this.headFill);
        for (let k = 0; k < take; k++) this.head[this.headFill + k] = data[off + k]!;
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
    const head = this.head;
    this.type = head[0]!;
    this.length = (head[1]! << 16) | (head[2]! << 8) | head[3]!;
    this.done = 0;
    this.inBody = true;
    const hello = this.type === HS_CLIENT_HELLO || this.type === HS_SERVER_HELLO;
    this.body = hello && this.length <= MAX_HELLO_BYTES ? Buffer.allocUnsafe(this.length) : null;
    this.listener.handshakeStarted(this.type);
    if (this.length === 0) this.finishMessage();
  }

  private finishMessage(): void {
    this.inBody = false;
    const body = this.body;
    this.body = null;
    this.listener.handshakeMessage(this.type, body, 0, body === null ? 0 : body.length);
  }
}

/** Extension codes (IANA "TLS ExtensionType Values"). */
const EXT_SERVER_NAME = 0;
const EXT_PRE_SHARED_KEY = 41;
const EXT_EARLY_DATA = 42;
const EXT_SUPPORTED_VERSIONS = 43;

/** What the ClientHello tells (RFC 8446 §4.1.2). */
export interface ClientHello {
  /** As 64 hex digits, the form the key log is keyed by; null when the caller did not ask for it (`withRandom`). */
  random: string | null;
  /** As hex digits ('' when empty). */
  sessionId: string;
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
  /** As hex digits ('' when empty). */
  sessionId: string;
  cipherSuite: number;
  /** This is a HelloRetryRequest, not the real ServerHello. */
  helloRetryRequest: boolean;
  /** The server accepted a pre-shared key (TLS 1.3 resumption). */
  preSharedKey: boolean;
}

/** The high byte of a TLS 1.3 draft's version (0x7F00 + draft number). */
const DRAFT_VERSION_HIGH = 0x7f;

/** SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 §4.1.3). */
const HELLO_RETRY_REQUEST_RANDOM = Buffer.from(
  'cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c',
  'hex',
);

/**
 * The hello parsers below read with plain offsets, one function each, no objects per field: they run once per
 * connection, tens of thousands of times on a large capture. The rule is the same everywhere: a length that
 * runs past its enclosing vector makes the hello malformed (null). Bytes after the extensions block, or after
 * the part of an extension that is read, are ignored.
 */

/**
 * Where the extensions block that may begin at `at` ends: `at` itself when there is none (extensions are
 * optional before TLS 1.3, RFC 5246 §7.4.1.2), -1 when its length runs past `end`.
 */
function extensionsEnd(data: Buffer, at: number, end: number): number {
  if (at === end) return at;
  if (at + 2 > end) return -1;
  const blockEnd = at + 2 + u16be(data, at);
  return blockEnd > end ? -1 : blockEnd;
}

/**
 * Parses the ClientHello body `data[start, end)`; null when it is malformed. The random is only needed to
 * search a key log: without `withRandom` it is not read (a hex string per connection, tens of thousands on a
 * large capture).
 */
export function parseClientHello(data: Buffer, start = 0, end = data.length, withRandom = true): ClientHello | null {
  let at = start + 2; // legacy_version
  if (at + 32 + 1 > end) return null;
  const random = withRandom ? data.toString('hex', at, at + 32) : null;
  at += 32;
  const sessionIdEnd = at + 1 + data[at]!;
  if (sessionIdEnd > end) return null;
  const sessionId = data.toString('hex', at + 1, sessionIdEnd);
  at = sessionIdEnd;
  if (at + 2 > end) return null;
  at += 2 + u16be(data, at); // cipher_suites
  if (at + 1 > end) return null;
  at += 1 + data[at]!; // legacy_compression_methods
  if (at > end) return null;
  const blockEnd = extensionsEnd(data, at, end);
  if (blockEnd < 0) return null;
  let serverName: string | null = null;
  let offersEarlyData = false;
  for (at = at === end ? end : at + 2; at < blockEnd; ) {
    if (at + 4 > blockEnd) return null;
    const type = u16be(data, at);
    const dataEnd = at + 4 + u16be(data, at + 2);
    if (dataEnd > blockEnd) return null;
    if (type === EXT_EARLY_DATA) offersEarlyData = true;
    if (type === EXT_SERVER_NAME) {
      // server_name_list<1..2^16-1> of { name_type (0 = host_name), HostName<1..2^16-1> } (RFC 6066 §3).
      if (at + 6 > dataEnd) return null;
      const listEnd = at + 6 + u16be(data, at + 4);
      if (listEnd > dataEnd) return null;
      for (let entry = at + 6; entry < listEnd && serverName === null; ) {
        if (entry + 3 > listEnd) return null;
        const nameEnd = entry + 3 + u16be(data, entry + 1);
        if (nameEnd > listEnd) return null;
        if (data[entry] === 0) serverName = data.toString('ascii', entry + 3, nameEnd);
        entry = nameEnd;
      }
    }
    at = dataEnd;
  }
  return { random, sessionId, serverName, offersEarlyData };
}

/** The 32 bytes at `at` are the HelloRetryRequest random (a byte loop: Buffer#compare with offsets costs far more per call). */
function isHelloRetryRandom(data: Buffer, at: number): boolean {
  for (let i = 0; i < HELLO_RETRY_REQUEST_RANDOM.length; i++) {
    if (data[at + i] !== HELLO_RETRY_REQUEST_RANDOM[i]) return false;
  }
  return true;
}

/** Parses the ServerHello (or HelloRetryRequest) body `data[start, end)`; null when it is malformed. */
export function parseServerHello(data: Buffer, start = 0, end = data.length): ServerHello | null {
  if (start + 2 + 32 + 1 > end) return null;
  const legacyVersion = u16be(data, start);
  if (legacyVersion >>> 8 === DRAFT_VERSION_HIGH) {
    // Drafts before 22 put their own version here and dropped the session id (draft-ietf-tls-tls13-21
    // §4.1.3): version(2) random(32) cipher_suite(2) extensions. Only the version and suite are read.
    if (start + 2 + 32 + 2 > end) return null;
    const suite = u16be(data, start + 34);
    return { legacyVersion, version: legacyVersion, sessionId: '', cipherSuite: suite, helloRetryRequest: false, preSharedKey: false };
  }
  const helloRetryRequest = isHelloRetryRandom(data, start + 2);
  const sessionIdEnd = start + 35 + data[start + 34]!;
  // session id, cipher_suite(2), legacy_compression_method(1)
  if (sessionIdEnd + 3 > end) return null;
  const sessionId = data.toString('hex', start + 35, sessionIdEnd);
  const cipherSuite = u16be(data, sessionIdEnd);
  const extensionsStart = sessionIdEnd + 3;
  const blockEnd = extensionsEnd(data, extensionsStart, end);
  if (blockEnd < 0) return null;
  let version = legacyVersion;
  let preSharedKey = false;
  for (let at = extensionsStart === end ? end : extensionsStart + 2; at < blockEnd; ) {
    if (at + 4 > blockEnd) return null;
    const type = u16be(data, at);
    const dataEnd = at + 4 + u16be(data, at + 2);
    if (dataEnd > blockEnd) return null;
    if (type === EXT_SUPPORTED_VERSIONS) {
      if (at + 6 > dataEnd) return null;
      version = u16be(data, at + 4);
    }
    if (type === EXT_PRE_SHARED_KEY) preSharedKey = true;
    at = dataEnd;
  }
  return { legacyVersion, version, sessionId, cipherSuite, helloRetryRequest, preSharedKey };
}

/**
 * Parses the body of an SSL 2.0-format ClientHello after its msg_type and version (RFC 5246 §E.2):
 * cipher_spec_length(2) session_id_length(2) challenge_length(2), then the cipher specs (3 bytes each), the
 * session id and the challenge. The challenge is the random, right-aligned in 32 bytes; such a hello has no
 * extensions (no server name). Null when the lengths do not fit the body.
 */
export function parseSslv2ClientHello(body: Buffer): ClientHello | null {
  if (body.length < 6) return null;
  const cipherSpecs = u16be(body, 0);
  const sessionIdLength = u16be(body, 2);
  const challengeLength = u16be(body, 4);
  const sessionIdStart = 6 + cipherSpecs;
  const challengeStart = sessionIdStart + sessionIdLength;
  if (cipherSpecs % 3 !== 0 || challengeLength < 16 || challengeLength > 32 || challengeStart + challengeLength > body.length) return null;
  const random = Buffer.alloc(32);
  body.copy(random, 32 - challengeLength, challengeStart, challengeStart + challengeLength);
  return {
    random: random.toString('hex'),
    sessionId: body.toString('hex', sessionIdStart, challengeStart),
    serverName: null,
    offersEarlyData: false,
  };
}
