/**
 * NSS key log files (the SSLKEYLOGFILE format that OpenSSL, Node, curl, browsers and Wireshark share): one
 * secret per line, `LABEL <client random, 64 hex digits> <secret, hex>`, `#` comments allowed.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { warning, type Warning } from '../model/index.ts';

/** The secrets logged for one connection (one client random). */
export interface KeyLogSecrets {
  /** `CLIENT_RANDOM`: the TLS 1.2 (and earlier) master secret. */
  masterSecret?: Buffer;
  clientHandshakeTrafficSecret?: Buffer;
  serverHandshakeTrafficSecret?: Buffer;
  clientTrafficSecret0?: Buffer;
  serverTrafficSecret0?: Buffer;
  exporterSecret?: Buffer;
  clientEarlyTrafficSecret?: Buffer;
  earlyExporterSecret?: Buffer;
}

/** Labels keyed by client random, and where each one is kept. */
const LABELS: Readonly<Record<string, keyof KeyLogSecrets>> = {
  CLIENT_RANDOM: 'masterSecret',
  CLIENT_HANDSHAKE_TRAFFIC_SECRET: 'clientHandshakeTrafficSecret',
  SERVER_HANDSHAKE_TRAFFIC_SECRET: 'serverHandshakeTrafficSecret',
  CLIENT_TRAFFIC_SECRET_0: 'clientTrafficSecret0',
  SERVER_TRAFFIC_SECRET_0: 'serverTrafficSecret0',
  EXPORTER_SECRET: 'exporterSecret',
  CLIENT_EARLY_TRAFFIC_SECRET: 'clientEarlyTrafficSecret',
  EARLY_EXPORTER_SECRET: 'earlyExporterSecret',
};

const CLIENT_RANDOM_HEX = /^[0-9a-fA-F]{64}$/;
const SECRET_HEX = /^(?:[0-9a-fA-F]{2})+$/;
/** `RSA <8 bytes of the encrypted pre-master secret> <pre-master secret>`: valid, but not keyed by client random. */
const RSA_LINE = /^RSA\s+[0-9a-fA-F]{16}\s+[0-9a-fA-F]+$/;

/** Secrets by client random. */
export class KeyLog {
  private readonly entries = new Map<string, KeyLogSecrets>();

  /** Number of connections (client randoms) with at least one secret. */
  get size(): number {
    return this.entries.size;
  }

  /** The secrets logged for this client random (32 bytes, or 64 hex digits in either case). */
  get(clientRandom: Buffer | string): KeyLogSecrets | undefined {
    return this.entries.get(randomKey(clientRandom));
  }

  /** Every client random (64 lower-case hex digits) with its secrets. */
  entriesByRandom(): IterableIterator<[string, KeyLogSecrets]> {
    return this.entries.entries();
  }

  /** Records one secret; a label logged twice for the same random keeps the later value. */
  set(field: keyof KeyLogSecrets, clientRandom: Buffer | string, secret: Buffer): void {
    const key = randomKey(clientRandom);
    let secrets = this.entries.get(key);
    if (secrets === undefined) {
      secrets = {};
      this.entries.set(key, secrets);
    }
    secrets[field] = secret;
  }
}

/** Adds every secret of `other` to `into` (a label logged again for the same random keeps `other`'s value). */
export function mergeKeyLog(into: KeyLog, other: KeyLog): void {
  for (const [random, secrets] of other.entriesByRandom()) {
    for (const field of Object.keys(secrets) as (keyof KeyLogSecrets)[]) into.set(field, random, secrets[field]!);
  }
}

function randomKey(clientRandom: Buffer | string): string {
  return typeof clientRandom === 'string' ? clientRandom.toLowerCase() : clientRandom.toString('hex');
}

/**
 * Parses key log text. Blank lines, `#` comments, `RSA` lines and well-formed lines with labels this module
 * does not use are skipped silently; any other line is malformed: all of them together give one counted
 * warning that names `source` and the first bad line. Never throws for content.
 */
export function parseKeyLog(text: string, source: string): { keyLog: KeyLog; warnings: Warning[] } {
  const keyLog = new KeyLog();
  let malformed = 0;
  let firstMalformedLine = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '' || line.startsWith('#') || RSA_LINE.test(line)) continue;
    const fields = line.split(/\s+/);
    const [label, random, secret] = fields;
    const wellFormed =
      fields.length === 3 &&
      label !== undefined &&
      /^[A-Z0-9_]+$/.test(label) &&
      random !== undefined &&
      CLIENT_RANDOM_HEX.test(random) &&
      secret !== undefined &&
      SECRET_HEX.test(secret);
    if (!wellFormed) {
      malformed++;
      if (firstMalformedLine === 0) firstMalformedLine = i + 1;
      continue;
    }
    const field = LABELS[label];
    if (field !== undefined) keyLog.set(field, random, Buffer.from(secret, 'hex'));
  }
  const warnings: Warning[] = [];
  if (malformed > 0) {
    warnings.push(warning('keylog-malformed-lines', { source, lines: malformed, firstLine: firstMalformedLine }, malformed));
  }
  return { keyLog, warnings };
}

/** Reads and parses a key log file. A missing or unreadable file is an InputError naming it. */
export async function loadKeyLog(path: string): Promise<{ keyLog: KeyLog; warnings: Warning[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'read error';
    throw new InputError(
      `key log file ${path}: cannot read it (${code}); pass the SSLKEYLOGFILE your TLS client wrote`,
      { cause: error },
    );
  }
  return parseKeyLog(text, path);
}
