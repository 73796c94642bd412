/**
 * TLS 1.3 record protection, from the traffic secrets of a key log: the key schedule's HKDF-Expand-Label
 * (RFC 8446 §7.1), traffic keys (§7.3), key updates (§7.2) and record decryption (§5.2, §5.3). Records are
 * opened only to read their inner content type (and handshake messages); nothing else of the plaintext is used.
 */
import { createDecipheriv, createHmac } from 'node:crypto';
import type { CipherSuite } from './suites.ts';

const HASH_BYTES = { sha256: 32, sha384: 48 } as const;
/** Every TLS 1.3 AEAD uses a 96-bit nonce (RFC 8446 §5.3: iv_length = max(8, N_MIN) = 12). */
const IV_BYTES = 12;

/** HKDF-Expand (RFC 5869 §2.3). Node's hkdf always extracts first, which the TLS 1.3 schedule must not. */
export function hkdfExpand(hash: 'sha256' | 'sha384', prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1, have = 0; have < length; i++) {
    previous = createHmac(hash, prk)
      .update(previous)
      .update(info)
      .update(Buffer.of(i))
      .digest();
    blocks.push(previous);
    have += previous.length;
  }
  return Buffer.concat(blocks).subarray(0, length);
}

/** HKDF-Expand-Label(Secret, Label, Context, Length) with the "tls13 " label prefix (RFC 8446 §7.1). */
export function hkdfExpandLabel(
  hash: 'sha256' | 'sha384',
  secret: Buffer,
  label: string,
  context: Buffer,
  length: number,
): Buffer {
  const fullLabel = Buffer.from(`tls13 ${label}`, 'ascii');
  // struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } HkdfLabel
  const info = Buffer.alloc(2 + 1 + fullLabel.length + 1 + context.length);
  info.writeUInt16BE(length, 0);
  info[2] = fullLabel.length;
  fullLabel.copy(info, 3);
  info[3 + fullLabel.length] = context.length;
  context.copy(info, 4 + fullLabel.length);
  return hkdfExpand(hash, secret, info, length);
}

/** The write key and IV of one traffic secret. */
export interface TrafficKey {
  key: Buffer;
  iv: Buffer;
}

/** Derives a traffic secret's write key and IV (RFC 8446 §7.3). */
export function trafficKey(suite: CipherSuite, secret: Buffer): TrafficKey {
  const noContext = Buffer.alloc(0);
  const keyBytes = suite.protection.kind === 'aead' ? suite.protection.keyBytes : 0;
  return {
    key: hkdfExpandLabel(suite.hash, secret, 'key', noContext, keyBytes),
    iv: hkdfExpandLabel(suite.hash, secret, 'iv', noContext, IV_BYTES),
  };
}

/** application_traffic_secret_N+1 = HKDF-Expand-Label(secret_N, "traffic upd", "", Hash.length) (RFC 8446 §7.2). */
export function nextTrafficSecret(suite: CipherSuite, secret: Buffer): Buffer {
  return hkdfExpandLabel(suite.hash, secret, 'traffic upd', Buffer.alloc(0), HASH_BYTES[suite.hash]);
}

/** A record opened: its inner content type and where its content ends (padding and type stripped). */
export interface OpenedRecord {
  /** TLSInnerPlaintext.type; 0 when the plaintext is all zeros (no type: a protocol violation). */
  type: number;
  /** TLSInnerPlaintext.content, without the type byte and zero padding. */
  content: Buffer;
}

/**
 * Decrypts one TLSCiphertext (RFC 8446 §5.2): nonce = iv XOR the 64-bit sequence number left-padded to
 * iv_length, additional data = the 5-byte record header. Null when the tag does not verify.
 */
export function openRecord(
  suite: CipherSuite,
  key: TrafficKey,
  seq: number,
  header: Buffer,
  body: Buffer,
): OpenedRecord | null {
  const protection = suite.protection;
  if (protection.kind !== 'aead' || body.length < protection.tagBytes) return null;
  const nonce = Buffer.from(key.iv);
  const high = Math.floor(seq / 2 ** 32);
  const low = seq >>> 0;
  for (let i = 0; i < 4; i++) {
    nonce[4 + i] = (nonce[4 + i] as number) ^ ((high >>> (24 - 8 * i)) & 0xff);
    nonce[8 + i] = (nonce[8 + i] as number) ^ ((low >>> (24 - 8 * i)) & 0xff);
  }
  const ciphertext = body.subarray(0, body.length - protection.tagBytes);
  const tag = body.subarray(body.length - protection.tagBytes);
  let plaintext: Buffer;
  try {
    if (protection.algorithm === 'aes-128-ccm' || protection.algorithm === 'aes-256-ccm') {
      const decipher = createDecipheriv(protection.algorithm, key.key, nonce, { authTagLength: protection.tagBytes });
      decipher.setAuthTag(tag);
      decipher.setAAD(header, { plaintextLength: ciphertext.length });
      plaintext = decipher.update(ciphertext);
      decipher.final();
    } else {
      const options = { authTagLength: protection.tagBytes };
      const decipher =
        protection.algorithm === 'chacha20-poly1305'
          ? createDecipheriv(protection.algorithm, key.key, nonce, options)
          : createDecipheriv(protection.algorithm, key.key, nonce, options);
      decipher.setAAD(header, { plaintextLength: ciphertext.length });
      decipher.setAuthTag(tag);
      plaintext = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    }
  } catch (error) {
    // final() throws exactly when the tag does not verify: wrong key, wrong sequence number or damaged bytes.
    // The caller decides what a failure means (try another sequence number, or warn and classify by position).
    if (error instanceof Error && /auth|decrypt/i.test(error.message)) return null;
    throw error;
  }
  let end = plaintext.length;
  while (end > 0 && plaintext[end - 1] === 0) end--;
  if (end === 0) return { type: 0, content: plaintext.subarray(0, 0) };
  return { type: plaintext[end - 1] as number, content: plaintext.subarray(0, end - 1) };
}

/** How far a recovery search looks past the expected sequence number (records lost in a capture gap). */
export const SEQUENCE_SEARCH_WINDOW = 64;

/**
 * The read state of one direction of a TLS 1.3 connection: handshake keys first, then application traffic
 * keys generation 0, 1, ... Sequence numbers restart at 0 with every key (RFC 8446 §5.3). A key log can lack
 * the application secret (the handshake was aborted, or the logger stopped): the handshake records are still
 * opened, and from the sender's Finished on `hasKey` is false.
 */
export class Tls13Decryptor {
  /** Decryption stopped: the keys or the sequence could not be found again. */
  failed = false;
  /**
   * The sequence number or key generation may be off (bytes or records were not captured, or a Finished or
   * KeyUpdate was missed): a record that fails to open starts a bounded search before giving up.
   */
  uncertain = false;
  /** Records opened with this direction's keys. */
  opened = 0;

  private secret: Buffer | null;
  private key: TrafficKey | null;
  private seq = 0;
  private application = false;

  constructor(
    private readonly suite: CipherSuite,
    handshakeSecret: Buffer,
    private readonly applicationSecret0: Buffer | null,
  ) {
    this.secret = handshakeSecret;
    this.key = trafficKey(suite, handshakeSecret);
  }

  /** A key for this direction's current records is known (false past the handshake when the log lacks the application secret). */
  get hasKey(): boolean {
    return this.key !== null;
  }

  /** Opens the next record of this direction; null (and `failed`) when no key or sequence number fits. Only called while `hasKey`. */
  open(header: Buffer, body: Buffer): OpenedRecord | null {
    const key = this.key!;
    let opened = openRecord(this.suite, key, this.seq, header, body);
    if (opened === null && this.uncertain) opened = this.search(header, body);
    if (opened === null) {
      this.failed = true;
      return null;
    }
    this.seq++;
    this.opened++;
    return opened;
  }

  /** A record of this direction that could not be opened (not fully captured): it still used a sequence number. */
  skipRecord(): void {
    this.seq++;
    this.uncertain = true;
  }

  /** The sender's Finished (handshake → application keys) or KeyUpdate (generation N → N+1) ended a record. */
  advance(): void {
    const secret = this.nextSecret();
    this.application = true;
    this.secret = secret;
    this.key = secret === null ? null : trafficKey(this.suite, secret);
    this.seq = 0;
  }

  /** The next generation's secret; null when the key log lacks the application secret it derives from. */
  private nextSecret(): Buffer | null {
    if (!this.application) return this.applicationSecret0;
    return this.secret === null ? null : nextTrafficSecret(this.suite, this.secret);
  }

  /** Tries later sequence numbers under this key, then the next key from sequence 0. */
  private search(header: Buffer, body: Buffer): OpenedRecord | null {
    const key = this.key!;
    for (let seq = this.seq + 1; seq <= this.seq + SEQUENCE_SEARCH_WINDOW; seq++) {
      const opened = openRecord(this.suite, key, seq, header, body);
      if (opened !== null) {
        this.seq = seq;
        return opened;
      }
    }
    const nextSecret = this.nextSecret();
    if (nextSecret === null) return null;
    const nextKey = trafficKey(this.suite, nextSecret);
    for (let seq = 0; seq <= SEQUENCE_SEARCH_WINDOW; seq++) {
      const opened = openRecord(this.suite, nextKey, seq, header, body);
      if (opened !== null) {
        this.application = true;
        this.secret = nextSecret;
        this.key = nextKey;
        this.seq = seq;
        return opened;
      }
    }
    return null;
  }
}
