/**
 * TLS accounting of one TCP connection: both directions' records walked in capture order, each record's bytes
 * put in one bucket (DESIGN.md "Measurement definitions"), the handshake classified (version, suite, SNI,
 * full or resumed), TLS 1.3 records opened with a key log when one is given, and requests estimated.
 */
import { WarningSet, type ConnectionTls, type Direction, type HandshakeKind, type TlsCounters, type Warning, type WarningKind, type WarningParams } from '../model/index.ts';
import {
  HandshakeReader,
  parseSslv2ClientHello,
  type HandshakeListener,
  HS_CERTIFICATE,
  HS_CLIENT_HELLO,
  HS_FINISHED,
  HS_KEY_UPDATE,
  HS_SERVER_HELLO,
  HS_SERVER_HELLO_DONE,
  HS_SERVER_KEY_EXCHANGE,
  parseClientHello,
  parseServerHello,
  type ClientHello,
  type ServerHello,
} from './handshake.ts';
import type { KeyLog } from './keylog.ts';
import {
  CONTENT_ALERT,
  CONTENT_APPLICATION_DATA,
  CONTENT_CHANGE_CIPHER_SPEC,
  CONTENT_HANDSHAKE,
  RECORD_HEADER_BYTES,
  RecordStream,
  type BodyUse,
  type RecordSink,
} from './records.ts';
import { namePlaintextPrefix } from './prefix.ts';
import { cipherSuite, cipherSuiteName, isTls13Draft, versionName, type CipherSuite } from './suites.ts';
import { Tls13Decryptor } from './tls13.ts';

const TLS_1_1 = 0x0302;
const TLS_1_3 = 0x0304;
/** TLSInnerPlaintext adds one content-type byte to every TLS 1.3 record (RFC 8446 §5.2). */
const INNER_TYPE_BYTES = 1;
/** Tag length assumed for TLS 1.3 records when the suite is unknown (every registered TLS 1.3 AEAD but CCM_8). */
const DEFAULT_TAG_BYTES = 16;

const NO_WARNINGS: readonly Readonly<Warning>[] = Object.freeze([]);

/** Per-direction state; it hears its handshake reader's messages and hands them to the walker. */
class Side implements HandshakeListener {
  readonly stream: RecordStream;
  readonly reader: HandshakeReader = new HandshakeReader(this);
  /** TLS 1.2 and earlier: this side sent ChangeCipherSpec, so its later handshake records are encrypted. */
  changedCipherSpec = false;
  /** TLS 1.3 with keys: opens this side's records. */
  decryptor: Tls13Decryptor | null = null;
  /** A Finished or KeyUpdate was read in the record being opened: this side's key changes after it. */
  keyChangePending = false;

  constructor(
    readonly dir: Direction,
    private readonly walker: TlsStreamWalker,
  ) {
    this.stream = new RecordStream(dir, walker);
  }

  /** The plaintext this direction began with before its hello (STARTTLS, CONNECT, ...): its length and first bytes. */
  prefixLength = 0;
  prefixSample: Buffer | null = null;

  handshakeMessage(type: number, body: Buffer | null, start: number, end: number): void {
    this.walker.handshakeMessage(this, type, body, start, end);
  }

  handshakeStarted(type: number): void {
    this.walker.handshakeStarted(this, type);
  }
}

/**
 * The TLS record walker of one TCP connection (not the client's live socket of bench/drive): feed it both directions in capture order.
 *
 * It is itself the sink of its two record streams (the `RecordSink` methods below are their callbacks, not
 * for other callers): a connection is a handful of objects, not a closure per callback, which matters on
 * captures of tens of thousands of connections.
 */
export class TlsStreamWalker implements RecordSink {
  private readonly keyLog: KeyLog | undefined;
  private readonly up: Side;
  private readonly down: Side;
  /** Made on the first warning: most connections have none. */
  private warningSet: WarningSet | null = null;

  private requestCount = 0;
  /** Client application data was seen that no server application data has answered yet. */
  private clientFlight = false;
  private appDataSeen = false;

  private clientHello: ClientHello | null = null;
  private serverHello: ServerHello | null = null;
  private suite: CipherSuite | null = null;
  private tls13 = false;
  /** TLS 1.2 and earlier: the server sent Certificate, ServerKeyExchange or ServerHelloDone (a full handshake). */
  private serverFullFlight = false;
  /** TLS 1.2 and earlier: the server sent ChangeCipherSpec. */
  private serverChangedCipherSpec = false;
  /** TLS 1.2 and earlier: part of the server's handshake stream was not captured before its ChangeCipherSpec. */
  private serverFlightCut = false;
  /** The ServerHello names a TLS 1.3 draft (0x7F00 + n): its records are walked as TLS 1.3, its handshake not judged. */
  private draft = false;
  /** TLS 1.3: the client's first encrypted record (its Finished flight) completed; the position rule turns on it. */
  private clientEncrypted = false;
  /** TLS 1.3 without usable keys: why, for the warning. */
  private noKeysReason = '';
  /** A 5-byte record header rebuilt for AEAD additional data; made on the first decryption. */
  private aad: Buffer | null = null;

  constructor(options: { keyLog?: KeyLog } = {}) {
    this.keyLog = options.keyLog;
    this.up = new Side('up', this);
    this.down = new Side('down', this);
  }

  /** In-order stream bytes of one direction (any slice: partial records, several records). */
  push(dir: Direction, data: Buffer, start = 0, end = data.length): void {
    this.side(dir).stream.push(data, start, end);
  }

  /**
   * `n` bytes that are in the stream but were not captured (short snap length). Inside a record body of known
   * length they are accounted to that record; if a record header falls inside them, the walker loses sync.
   */
  skip(dir: Direction, n: number): void {
    this.side(dir).stream.skip(n);
  }

  /**
   * The capture lost an unknown stretch of this direction: the record in progress is cut (incompleteBytes), the
   * walker resynchronises on the next plausible record header (bytes meanwhile are nonTlsBytes) and the
   * direction's counters are no longer exact.
   */
  gap(dir: Direction): void {
    const side = this.side(dir);
    side.stream.gap();
    this.loseHandshakeStream(side);
  }

  /**
   * This direction began before the capture (no SYN captured): the walker looks for the first record header
   * and stays exact when it finds one at the first byte (only the TCP handshake was missed).
   */
  startMidstream(dir: Direction): void {
    this.side(dir).stream.beginMidstream();
  }

  /** End of capture or connection: partial records become incompleteBytes. */
  end(): void {
    this.up.stream.end();
    this.down.stream.end();
  }

  /**
   * One direction's counters. Once `end()` was called they add up to every byte pushed and skipped; before,
   * the record in progress is not counted yet.
   */
  counters(dir: Direction): TlsCounters {
    return { ...this.side(dir).stream.counters };
  }

  /** `counters(dir).handshakeBytes` without copying the counters (read per connection phase). */
  handshakeBytes(dir: Direction): number {
    return this.side(dir).stream.counters.handshakeBytes;
  }

  /** Bytes pushed plus bytes skipped in one direction: what `counters(dir)` adds up to after `end()`. */
  bytesIn(dir: Direction): number {
    return this.side(dir).stream.bytesIn;
  }

  /** What the handshake told; null when neither direction looked like TLS (all its bytes are nonTlsBytes). */
  info(): ConnectionTls | null {
    if (!this.up.stream.synced && !this.down.stream.synced) return null;
    const hello = this.serverHello;
    const handshake = this.handshakeKind();
    if (handshake === 'unknown') this.warn('tls-handshake-unknown', this.unknownHandshakeFacts);
    const prefixed = this.up.prefixSample !== null || this.down.prefixSample !== null;
    return {
      version: hello === null ? null : versionName(hello.version),
      cipherSuite: hello === null ? null : cipherSuiteName(hello.cipherSuite),
      handshake,
      serverName: this.clientHello?.serverName ?? null,
      decrypted: (this.up.decryptor?.opened ?? 0) + (this.down.decryptor?.opened ?? 0) > 0,
      plaintextPrefix: prefixed ? namePlaintextPrefix(this.up.prefixSample, this.down.prefixSample) : null,
    };
  }

  private unknownHandshakeFacts(): WarningParams<'tls-handshake-unknown'> {
    return {
      reason: this.draft
        ? `the server chose ${versionName(this.serverHello!.version)}, a TLS 1.3 draft whose handshake this analyzer does not parse`
        : 'the server\'s handshake messages after its ServerHello were not captured (a short snap length or a capture gap), so neither a Certificate nor an abbreviated handshake was seen',
    };
  }

  /**
   * Estimated requests: application-data exchanges, each a client flight of application-data records answered
   * by a server flight, in capture order.
   */
  get requests(): number {
    return this.requestCount;
  }

  /** An application-data record has completed in either direction: the handshake is over. */
  get applicationDataSeen(): boolean {
    return this.appDataSeen;
  }

  /** This connection's warnings, one per kind with a count: read-only views, copy to keep or change them. */
  get warnings(): readonly Readonly<Warning>[] {
    return this.warningSet === null ? NO_WARNINGS : this.warningSet.toArray();
  }

  private side(dir: Direction): Side {
    return dir === 'up' ? this.up : this.down;
  }

  /** Full or resumed from what the capture shows; `unknown` when it does not show enough to tell. */
  private handshakeKind(): HandshakeKind {
    const hello = this.serverHello;
    if (hello === null) return 'incomplete';
    if (this.draft) return 'unknown';
    if (this.tls13) return hello.preSharedKey ? 'resumed' : 'full';
    if (this.serverFullFlight) return 'full';
    // ServerHello → (NewSessionTicket) → ChangeCipherSpec with every byte between them read and no
    // certificate: an abbreviated handshake.
    if (this.serverChangedCipherSpec && !this.serverFlightCut) return 'resumed';
    // A session ID echoed from the ClientHello means resumption (RFC 5246 §7.4.1.3).
    const offered = this.clientHello?.sessionId;
    if (offered !== undefined && offered.length > 0 && offered === hello.sessionId) return 'resumed';
    // The flight went uncaptured, or ended (the capture did) before either sign.
    return 'unknown';
  }

  /**
   * Counts one occurrence; the message is built only for the first. This runs per record on hot paths, so a
   * caller there passes a method of this class as `facts` (called with this connection) rather than a
   * closure, which would be made anew on every call.
   */
  private warn<K extends WarningKind>(kind: K, facts: (this: TlsStreamWalker) => WarningParams<K>): void {
    (this.warningSet ??= new WarningSet()).note(kind, this, facts);
  }

  /** Part of this side's handshake stream is missing: stop parsing it, and let its decryptor search. */
  private loseHandshakeStream(side: Side): void {
    if (side.dir === 'down' && !this.serverChangedCipherSpec) this.serverFlightCut = true;
    side.reader.lose();
    if (side.decryptor !== null) side.decryptor.uncertain = true;
  }

  /** RecordSink. */
  recordStart(stream: RecordStream): BodyUse {
    const side = this.side(stream.dir);
    switch (stream.recordType) {
      case CONTENT_HANDSHAKE:
        if (stream.sslv2Hello) return 'keep';
        return side.changedCipherSpec || side.reader.lost ? 'skip' : 'stream';
      case CONTENT_APPLICATION_DATA:
        return this.tls13 && side.decryptor !== null && !side.decryptor.failed && side.decryptor.hasKey ? 'keep' : 'skip';
      default:
        return 'skip';
    }
  }

  /** RecordSink. */
  recordBody(stream: RecordStream, data: Buffer, start: number, end: number): void {
    this.side(stream.dir).reader.feed(data, start, end);
  }

  /** RecordSink. */
  recordBodyLost(stream: RecordStream): void {
    this.loseHandshakeStream(this.side(stream.dir));
  }

  /** RecordSink. */
  syncLost(stream: RecordStream): void {
    this.loseHandshakeStream(this.side(stream.dir));
    this.warn('tls-lost-sync', () => ({ dir: stream.dir }));
  }

  /** RecordSink. */
  plaintextPrefix(stream: RecordStream, sample: Buffer, length: number): void {
    const side = this.side(stream.dir);
    side.prefixLength = length;
    side.prefixSample = Buffer.from(sample);
  }

  /** RecordSink. */
  recordEnd(stream: RecordStream, body: Buffer | null, damaged: boolean): void {
    const side = this.side(stream.dir);
    const size = RECORD_HEADER_BYTES + stream.recordLength;
    const counters = stream.counters;
    switch (stream.recordType) {
      case CONTENT_CHANGE_CIPHER_SPEC:
        counters.handshakeBytes += size;
        this.changeCipherSpec(side);
        break;
      case CONTENT_ALERT:
        counters.alertBytes += size;
        break;
      case CONTENT_HANDSHAKE:
        counters.handshakeBytes += size;
        if (stream.sslv2Hello && side.dir === 'up' && this.clientHello === null && body !== null) {
          this.clientHello = this.helloOrWarn(body, parseSslv2ClientHello(body));
        }
        break;
      case CONTENT_APPLICATION_DATA:
        if (this.tls13) {
          this.protectedRecord(side, body, damaged);
        } else {
          this.applicationData(side, size, this.tls12Overhead());
        }
        break;
      default:
        counters.otherBytes += size;
    }
  }

  private changeCipherSpec(side: Side): void {
    // TLS 1.3's ChangeCipherSpec is a middlebox-compatibility no-op (RFC 8446 §D.4); before a ServerHello
    // the version is unknown and no TLS 1.2 peer sends one.
    if (this.serverHello === null || this.tls13) return;
    side.changedCipherSpec = true;
    if (side.dir === 'down') this.serverChangedCipherSpec = true;
  }

  /** The header of a message of `side` was read (called by the side's handshake reader). */
  handshakeStarted(side: Side, type: number): void {
    if (side.dir === 'down' && !this.tls13 && (type === HS_CERTIFICATE || type === HS_SERVER_KEY_EXCHANGE || type === HS_SERVER_HELLO_DONE)) {
      this.serverFullFlight = true;
    }
  }

  /** A complete handshake message of `side` (called by the side's handshake reader). */
  handshakeMessage(side: Side, type: number, body: Buffer | null, start: number, end: number): void {
    switch (type) {
      case HS_CLIENT_HELLO:
        // A second ClientHello answers a HelloRetryRequest with the same random.
        if (side.dir === 'up' && this.clientHello === null) {
          // The random is read only to search the key log.
          this.clientHello = this.helloOrWarn(body, body === null ? null : parseClientHello(body, start, end, this.keyLog !== undefined));
        }
        break;
      case HS_SERVER_HELLO:
        if (side.dir === 'down' && this.serverHello === null) this.serverHelloReceived(body, start, end);
        break;
      case HS_CERTIFICATE:
      case HS_SERVER_KEY_EXCHANGE:
      case HS_SERVER_HELLO_DONE:
        if (side.dir === 'down' && !this.tls13) this.serverFullFlight = true;
        break;
      case HS_FINISHED:
      case HS_KEY_UPDATE:
        if (this.tls13) side.keyChangePending = true;
        break;
    }
  }

  /** The parsed hello, or null with a warning when its `body` was too large to hold (null) or malformed. */
  private helloOrWarn<T>(body: Buffer | null, hello: T | null): T | null {
    if (hello === null) {
      this.warn('tls-hello-unparsed', () => ({ tooLarge: body === null }));
    }
    return hello;
  }

  private serverHelloReceived(body: Buffer | null, start: number, end: number): void {
    const hello = this.helloOrWarn(body, body === null ? null : parseServerHello(body, start, end));
    if (hello === null || hello.helloRetryRequest) return;
    this.serverHello = hello;
    this.suite = cipherSuite(hello.cipherSuite);
    this.draft = isTls13Draft(hello.version);
    // A draft's records are protected as TLS 1.3's (walked by position); its key schedule is not the RFC's.
    this.tls13 = hello.version === TLS_1_3 || this.draft;
    if (this.draft) this.noKeysReason = `${versionName(hello.version)} is a TLS 1.3 draft, not decrypted`;
    else if (this.tls13) this.prepareDecryption();
  }

  /** Looks up this connection's TLS 1.3 traffic secrets; without them, records will be classified by position. */
  private prepareDecryption(): void {
    const suite = this.suite;
    // Read from the ClientHello whenever there is a key log (and only then).
    const random = this.clientHello?.random ?? undefined;
    const secrets = random === undefined ? undefined : this.keyLog?.get(random);
    if (this.keyLog === undefined) {
      this.noKeysReason = 'no key log was given';
    } else if (random === undefined) {
      this.noKeysReason = 'the ClientHello was not captured, so the key log cannot be searched';
    } else if (secrets === undefined) {
      this.noKeysReason = `the key log has no entry for client random ${random}`;
    } else if (secrets.clientHandshakeTrafficSecret === undefined || secrets.serverHandshakeTrafficSecret === undefined) {
      this.noKeysReason = `the key log lacks the handshake traffic secrets for client random ${random}`;
    } else if (suite === null || !suite.tls13) {
      this.noKeysReason = `cipher suite ${cipherSuiteName(this.serverHello?.cipherSuite ?? 0)} cannot be decrypted`;
    } else {
      // Each direction uses the keys that exist: with the handshake secrets alone (an aborted handshake, a
      // logger stopped early) the handshake flights, and any alert sent under their keys, are still read.
      const { clientHandshakeTrafficSecret, clientTrafficSecret0 } = secrets;
      const { serverHandshakeTrafficSecret, serverTrafficSecret0 } = secrets;
      if (clientTrafficSecret0 === undefined || serverTrafficSecret0 === undefined) {
        this.noKeysReason = `the key log has the handshake secrets but not the application traffic secrets for client random ${random}`;
      }
      this.up.decryptor = new Tls13Decryptor(suite, clientHandshakeTrafficSecret, clientTrafficSecret0 ?? null);
      this.down.decryptor = new Tls13Decryptor(suite, serverHandshakeTrafficSecret, serverTrafficSecret0 ?? null);
      this.up.decryptor.uncertain = this.up.reader.lost;
      this.down.decryptor.uncertain = this.down.reader.lost;
    }
  }

  /** A TLS 1.3 application_data record: the inner type decides its bucket. */
  private protectedRecord(side: Side, body: Buffer | null, damaged: boolean): void {
    const stream = side.stream;
    const counters = stream.counters;
    const size = RECORD_HEADER_BYTES + stream.recordLength;
    const decryptor = side.decryptor;
    let innerType = -1;
    let overhead = RECORD_HEADER_BYTES + INNER_TYPE_BYTES + this.tagBytes();
    if (decryptor !== null && !decryptor.failed && decryptor.hasKey) {
      if (body === null || damaged) {
        decryptor.skipRecord();
      } else {
        const opened = decryptor.open(this.recordHeader(stream), body);
        if (opened === null) {
          this.warn('tls13-decrypt-failed', () => ({ dir: side.dir }));
        } else {
          innerType = opened.type;
          overhead = size - opened.content.length;
          if (innerType === CONTENT_HANDSHAKE) side.reader.feed(opened.content, 0, opened.content.length);
        }
      }
    }
    if (innerType < 0) {
      innerType = this.typeByPosition(side);
      counters.exact = false;
    }
    switch (innerType) {
      case CONTENT_HANDSHAKE:
        counters.handshakeBytes += size;
        break;
      case CONTENT_APPLICATION_DATA:
        this.applicationData(side, size, overhead);
        break;
      case CONTENT_ALERT:
        counters.alertBytes += size;
        break;
      default:
        counters.otherBytes += size;
    }
    if (side.keyChangePending) {
      side.keyChangePending = false;
      if (decryptor !== null && !decryptor.failed) decryptor.advance();
    }
    if (side.dir === 'up') this.clientEncrypted = true;
  }

  /**
   * Without keys: the server's encrypted records before the client's first encrypted record are its handshake
   * flight (EncryptedExtensions .. Finished), the client's first encrypted record is its Finished flight, and
   * everything after is application data (post-handshake NewSessionTickets and close_notify alerts included,
   * which is why this is not exact).
   */
  private typeByPosition(side: Side): number {
    if (side.decryptor === null || !side.decryptor.hasKey) {
      this.warn('tls13-no-keys', this.noKeysFacts);
    }
    return this.clientEncrypted ? CONTENT_APPLICATION_DATA : CONTENT_HANDSHAKE;
  }

  private noKeysFacts(): WarningParams<'tls13-no-keys'> {
    return { reason: this.noKeysReason };
  }

  private tagBytes(): number {
    const protection = this.suite?.protection;
    return protection?.kind === 'aead' ? protection.tagBytes : DEFAULT_TAG_BYTES;
  }

  private recordHeader(stream: RecordStream): Buffer {
    const aad = (this.aad ??= Buffer.alloc(RECORD_HEADER_BYTES));
    aad[0] = stream.recordType;
    aad.writeUInt16BE(stream.recordVersion, 1);
    aad.writeUInt16BE(stream.recordLength, 3);
    return aad;
  }

  /**
   * Framing of a TLS 1.2 (or earlier) application-data record: header, explicit nonce and tag for AEAD suites;
   * for CBC suites the explicit IV (TLS 1.1+), the MAC and at least one padding byte. CBC padding hides the
   * payload length to within a block without decryption, so its overhead is a lower bound (and warned about).
   */
  private tls12Overhead(): number {
    const suite = this.suite;
    if (suite === null) {
      this.warn('tls-suite-unknown', () => {
        const hello = this.serverHello;
        return { reason: hello === null ? 'ServerHello not captured' : `${cipherSuiteName(hello.cipherSuite)} not known` };
      });
      return RECORD_HEADER_BYTES;
    }
    const protection = suite.protection;
    if (protection.kind === 'aead') return RECORD_HEADER_BYTES + protection.explicitNonceBytes + protection.tagBytes;
    this.warn('tls-cbc-overhead-estimated', () => ({ suite: suite.name, maxExtraBytes: protection.blockBytes - 1 }));
    // TLS 1.0 chains the IV from the previous record; TLS 1.1 and later send it (RFC 4346 §6.2.3.2).
    const explicitIv = (this.serverHello?.version ?? 0) >= TLS_1_1 ? protection.blockBytes : 0;
    return RECORD_HEADER_BYTES + explicitIv + protection.macBytes + 1;
  }

  private applicationData(side: Side, size: number, overhead: number): void {
    const counters = side.stream.counters;
    counters.appDataBytes += size;
    counters.appDataOverheadBytes += Math.min(overhead, size);
    this.appDataSeen = true;
    if (side.dir === 'up') {
      this.clientFlight = true;
    } else if (this.clientFlight) {
      this.requestCount++;
      this.clientFlight = false;
    }
  }
}
