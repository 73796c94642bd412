/** Hand-built TLS bytes for tests, written from the RFC layouts (RFC 8446 §4.1.2-4.1.3, §5.1). */
import type { Direction } from '../../../bench/model/index.ts';
import type { TlsStreamWalker } from '../../../bench/tls/walker.ts';

/** A record: type, version, 16-bit length, body. */
export function record(type: number, body: Buffer, version = 0x0303): Buffer {
  const header = Buffer.alloc(5);
  header[0] = type;
  header.writeUInt16BE(version, 1);
  header.writeUInt16BE(body.length, 3);
  return Buffer.concat([header, body]);
}

/** A handshake message: type, 24-bit length, body. */
export function handshake(type: number, body: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header[0] = type;
  header.writeUIntBE(body.length, 1, 3);
  return Buffer.concat([header, body]);
}

function vector(lengthBytes: number, data: Buffer): Buffer {
  const length = Buffer.alloc(lengthBytes);
  length.writeUIntBE(data.length, 0, lengthBytes);
  return Buffer.concat([length, data]);
}

function extension(type: number, data: Buffer): Buffer {
  return Buffer.concat([Buffer.from([type >> 8, type & 0xff]), vector(2, data)]);
}

/** A ClientHello message (with its 4-byte header) offering `suites`, with SNI when `serverName` is given. */
export function clientHello(
  options: { random?: Buffer; sessionId?: Buffer; serverName?: string; suites?: number[] } = {},
): Buffer {
  const suites = Buffer.alloc(2 * (options.suites ?? [0xc02f]).length);
  (options.suites ?? [0xc02f]).forEach((s, i) => suites.writeUInt16BE(s, 2 * i));
  const extensions: Buffer[] = [];
  if (options.serverName !== undefined) {
    const name = Buffer.from(options.serverName, 'ascii');
    extensions.push(extension(0, vector(2, Buffer.concat([Buffer.from([0]), vector(2, name)]))));
  }
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    options.random ?? Buffer.alloc(32, 0xab),
    vector(1, options.sessionId ?? Buffer.alloc(0)),
    vector(2, suites),
    vector(1, Buffer.from([0])),
    vector(2, Buffer.concat(extensions)),
  ]);
  return handshake(1, body);
}

/** A ServerHello message (with its 4-byte header); TLS 1.3 adds supported_versions, `psk` pre_shared_key. */
export function serverHello(options: {
  suite: number;
  tls13?: boolean;
  /** A TLS 1.3 draft number (22 and later: in supported_versions, as 0x7F00 + n). */
  draft?: number;
  psk?: boolean;
  sessionId?: Buffer;
}): Buffer {
  const extensions: Buffer[] = [];
  if (options.tls13 === true) extensions.push(extension(43, Buffer.from([0x03, 0x04])));
  if (options.draft !== undefined) extensions.push(extension(43, Buffer.from([0x7f, options.draft])));
  if (options.psk === true) extensions.push(extension(41, Buffer.from([0x00, 0x00])));
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 0xcd),
    vector(1, options.sessionId ?? Buffer.alloc(0)),
    Buffer.from([options.suite >> 8, options.suite & 0xff, 0]),
    extensions.length > 0 ? vector(2, Buffer.concat(extensions)) : Buffer.alloc(0),
  ]);
  return handshake(2, body);
}

/** A stream event, in capture order. */
export type Step =
  | { dir: Direction; data: Buffer }
  | { dir: Direction; skip: number }
  | { dir: Direction; gap: true };

/**
 * Feeds steps to a connection, each data step cut into pieces of `pieceBytes` (Infinity: whole), then ends it;
 * returns what each direction was fed (pushed + skipped), for the invariant.
 */
export function feed(walker: TlsStreamWalker, steps: Step[], pieceBytes = Infinity): Record<Direction, number> {
  const fed = { up: 0, down: 0 };
  for (const step of steps) {
    if ('data' in step) {
      const size = Math.min(pieceBytes, step.data.length);
      for (let off = 0; off < step.data.length; off += size) walker.push(step.dir, step.data.subarray(off, off + size));
      fed[step.dir] += step.data.length;
    } else if ('skip' in step) {
      walker.skip(step.dir, step.skip);
      fed[step.dir] += step.skip;
    } else {
      walker.gap(step.dir);
    }
  }
  walker.end();
  return fed;
}
