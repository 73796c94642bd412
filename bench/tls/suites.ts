/**
 * Cipher suites: IANA names, and what each one adds to a record (the part of an application-data record that
 * is framing, not payload). The protection is read from the IANA name itself, so the table is just codes and
 * names, taken from `openssl ciphers -stdname -V` (OpenSSL 3.0) plus the TLS 1.3 CCM suites.
 */

/** How a suite protects a record's payload. */
export type RecordProtection =
  | {
      kind: 'aead';
      /** Node's cipher name, for decryption. */
      algorithm: 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305' | 'aes-128-ccm' | 'aes-256-ccm';
      keyBytes: number;
      tagBytes: number;
      /** TLS 1.2 sends 8 nonce bytes per record (RFC 5288 §3, RFC 6655 §3); ChaCha20 does not (RFC 7905 §2). */
      explicitNonceBytes: number;
    }
  | {
      kind: 'cbc';
      blockBytes: number;
      /** HMAC output length: SHA-1 20, SHA-256 32, SHA-384 48. */
      macBytes: number;
    };

/** A cipher suite this module knows. */
export interface CipherSuite {
  code: number;
  /** IANA name, e.g. `TLS_AES_128_GCM_SHA256`. */
  name: string;
  /** A TLS 1.3 suite (RFC 8446 §B.4): its hash drives the key schedule. */
  tls13: boolean;
  hash: 'sha256' | 'sha384';
  protection: RecordProtection;
}

const SUITE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x1301, 'TLS_AES_128_GCM_SHA256'],
  [0x1302, 'TLS_AES_256_GCM_SHA384'],
  [0x1303, 'TLS_CHACHA20_POLY1305_SHA256'],
  [0x1304, 'TLS_AES_128_CCM_SHA256'],
  [0x1305, 'TLS_AES_128_CCM_8_SHA256'],
  [0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256'],
  [0xc02c, 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384'],
  [0xc02f, 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0xc030, 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0x009e, 'TLS_DHE_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009f, 'TLS_DHE_RSA_WITH_AES_256_GCM_SHA384'],
  [0x009c, 'TLS_RSA_WITH_AES_128_GCM_SHA256'],
  [0x009d, 'TLS_RSA_WITH_AES_256_GCM_SHA384'],
  [0xcca8, 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xccaa, 'TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256'],
  [0xc0ac, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM'],
  [0xc0ad, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM'],
  [0xc0ae, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8'],
  [0xc0af, 'TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8'],
  [0xc09c, 'TLS_RSA_WITH_AES_128_CCM'],
  [0xc09d, 'TLS_RSA_WITH_AES_256_CCM'],
  [0xc09e, 'TLS_DHE_RSA_WITH_AES_128_CCM'],
  [0xc09f, 'TLS_DHE_RSA_WITH_AES_256_CCM'],
  [0xc0a0, 'TLS_RSA_WITH_AES_128_CCM_8'],
  [0xc0a1, 'TLS_RSA_WITH_AES_256_CCM_8'],
  [0xc0a2, 'TLS_DHE_RSA_WITH_AES_128_CCM_8'],
  [0xc0a3, 'TLS_DHE_RSA_WITH_AES_256_CCM_8'],
  [0xc009, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA'],
  [0xc00a, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA'],
  [0xc013, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA'],
  [0xc014, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA'],
  [0xc023, 'TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256'],
  [0xc024, 'TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384'],
  [0xc027, 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0xc028, 'TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'],
  [0x0033, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA'],
  [0x0039, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA'],
  [0x0067, 'TLS_DHE_RSA_WITH_AES_128_CBC_SHA256'],
  [0x006b, 'TLS_DHE_RSA_WITH_AES_256_CBC_SHA256'],
  [0x002f, 'TLS_RSA_WITH_AES_128_CBC_SHA'],
  [0x0035, 'TLS_RSA_WITH_AES_256_CBC_SHA'],
  [0x003c, 'TLS_RSA_WITH_AES_128_CBC_SHA256'],
  [0x003d, 'TLS_RSA_WITH_AES_256_CBC_SHA256'],
  [0x000a, 'TLS_RSA_WITH_3DES_EDE_CBC_SHA'],
];

const MAC_BYTES: Record<string, number> = { SHA: 20, SHA256: 32, SHA384: 48 };

/** Reads a suite's record protection from its IANA name (`..._WITH_<cipher>_<mac or prf>`). */
function protectionOf(name: string): RecordProtection {
  const tls12Nonce = name.startsWith('TLS_AES_') ? 0 : 8;
  if (name.includes('CHACHA20_POLY1305')) {
    return { kind: 'aead', algorithm: 'chacha20-poly1305', keyBytes: 32, tagBytes: 16, explicitNonceBytes: 0 };
  }
  const wide = name.includes('AES_256');
  if (name.includes('_GCM_')) {
    const algorithm = wide ? 'aes-256-gcm' : 'aes-128-gcm';
    return { kind: 'aead', algorithm, keyBytes: wide ? 32 : 16, tagBytes: 16, explicitNonceBytes: tls12Nonce };
  }
  if (name.includes('_CCM')) {
    const algorithm = wide ? 'aes-256-ccm' : 'aes-128-ccm';
    const tagBytes = name.includes('CCM_8') ? 8 : 16;
    return { kind: 'aead', algorithm, keyBytes: wide ? 32 : 16, tagBytes, explicitNonceBytes: tls12Nonce };
  }
  const mac = MAC_BYTES[name.slice(name.lastIndexOf('_') + 1)];
  if (!name.includes('_CBC_') || mac === undefined) throw new Error(`suite table: cannot read protection from ${name}`);
  return { kind: 'cbc', blockBytes: name.includes('3DES') ? 8 : 16, macBytes: mac };
}

const SUITES = new Map<number, CipherSuite>(
  SUITE_NAMES.map(([code, name]) => [
    code,
    {
      code,
      name,
      tls13: code >= 0x1301 && code <= 0x1305,
      hash: name.endsWith('SHA384') ? 'sha384' : 'sha256',
      protection: protectionOf(name),
    },
  ]),
);

/** The suite with this code, or null when it is not in the table. */
export function cipherSuite(code: number): CipherSuite | null {
  return SUITES.get(code) ?? null;
}

/** IANA name of a suite, or `0xXXXX` for one the table does not hold. */
export function cipherSuiteName(code: number): string {
  return SUITES.get(code)?.name ?? `0x${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** TLS 1.3 drafts were numbered 0x7F00 + the draft number (draft-ietf-tls-tls13-NN §4.2.1). */
export function isTls13Draft(version: number): boolean {
  return version >>> 8 === 0x7f;
}

/** Protocol version names as reports show them (`TLS1.3-draft23`); unknown → `0xXXXX`. */
export function versionName(version: number): string {
  if (isTls13Draft(version)) return `TLS1.3-draft${version & 0xff}`;
  switch (version) {
    case 0x0300:
      return 'SSL3.0';
    case 0x0301:
      return 'TLS1.0';
    case 0x0302:
      return 'TLS1.1';
    case 0x0303:
      return 'TLS1.2';
    case 0x0304:
      return 'TLS1.3';
    default:
      return `0x${version.toString(16).toUpperCase().padStart(4, '0')}`;
  }
}
