/**
 * Real TLS traffic for the tests: a Node TLS server and client on 127.0.0.1, with the client's TCP socket
 * made by hand and teed, so the test holds every byte each way in the order the client saw them, the raw
 * socket's own byte counters, the key log (Node's `keylog` event, NSS format) and what OpenSSL negotiated.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { execa } from 'execa';
import type { Direction } from '../../../bench/model/index.ts';

/** One read or write on the raw socket. */
export interface Chunk {
  dir: Direction;
  data: Buffer;
}

/** A recorded connection. */
export interface Transcript {
  chunks: Chunk[];
  /** NSS key log lines of this connection. */
  keyLogLines: string[];
  /** The raw TCP socket's own counters (client side: bytesWritten = up, bytesRead = down). */
  socketBytes: Record<Direction, number>;
  /** OpenSSL's view. */
  protocol: string | null;
  cipherStandardName: string;
  reused: boolean;
  /** Session to resume from, when the server sent one. */
  session: Buffer | undefined;
}

/** A self-signed RSA certificate for `localhost`, made with the openssl CLI. */
export async function makeCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), 'tls-test-cert-'));
  try {
    await execa('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ]);
    return { key: await readFile(join(dir, 'key.pem')), cert: await readFile(join(dir, 'cert.pem')) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A duplex over a raw socket that logs what passes through it: what is written goes out as `outbound`,
 * what is read comes in as the other direction; `onChunk` is called after each logged chunk.
 */
export class TapSocket extends Duplex {
  constructor(
    private readonly raw: Socket,
    private readonly log: Chunk[],
    private readonly outbound: Direction,
    private readonly onChunk: () => void = () => undefined,
  ) {
    super();
    const inbound: Direction = outbound === 'up' ? 'down' : 'up';
    raw.on('data', (data: Buffer) => {
      log.push({ dir: inbound, data: Buffer.from(data) });
      onChunk();
      if (!this.push(data)) raw.pause();
    });
    raw.on('end', () => this.push(null));
    raw.on('error', (error) => this.destroy(error));
    raw.on('close', () => this.destroy());
  }

  override _read(): void {
    this.raw.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.log.push({ dir: this.outbound, data: Buffer.from(chunk) });
    this.onChunk();
    this.raw.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.raw.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.raw.destroy();
    callback(error);
  }
}

/** One application-data exchange: the client sends `request` bytes, the server answers `response` bytes. */
export interface Exchange {
  request: number;
  response: number;
}

/** Deterministic payload bytes (not all zero, so nothing can compress or pad them away). */
export function payload(n: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return b;
}

/** A TLS server that answers each exchange of a script once the whole request arrived. */
export class ScriptServer {
  readonly server: tls.Server;
  constructor(
    options: tls.TlsOptions,
    private readonly script: Exchange[],
  ) {
    this.server = tls.createServer(options, (socket) => this.serve(socket));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private serve(socket: tls.TLSSocket): void {
    let received = 0;
    let step = 0;
    let due = this.script[0]?.request ?? Infinity;
    socket.on('data', (data: Buffer) => {
      received += data.length;
      while (received >= due) {
        const exchange = this.script[step] as Exchange;
        socket.write(payload(exchange.response, step + 100));
        step++;
        due += this.script[step]?.request ?? Infinity;
      }
    });
    // A client that aborts resets the connection; what the test checks is on the client's side of the tee.
    socket.on('error', () => socket.destroy());
  }
}

/** Runs the script as a client over a teed socket; resolves when the TCP connection closed. */
export async function runClient(
  port: number,
  script: Exchange[],
  options: tls.ConnectionOptions & { renegotiateAfter?: number } = {},
): Promise<Transcript> {
  const chunks: Chunk[] = [];
  const keyLogLines: string[] = [];
  const raw = netConnect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    raw.once('connect', resolve);
    raw.once('error', reject);
  });
  const tap = new TapSocket(raw, chunks, 'up');
  const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
  const socket = tls.connect({ rejectUnauthorized: false, servername: 'localhost', ...options, socket: tap });
  socket.on('keylog', (line: Buffer) => keyLogLines.push(line.toString('utf8').trim()));
  let session: Buffer | undefined;
  socket.on('session', (s: Buffer) => {
    session = s;
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', resolve);
    socket.once('error', reject);
  });
  let pending = 0;
  let onResponse: (() => void) | null = null;
  socket.on('data', (data: Buffer) => {
    pending -= data.length;
    if (pending <= 0 && onResponse !== null) onResponse();
  });
  for (let step = 0; step < script.length; step++) {
    const exchange = script[step] as Exchange;
    if (options.renegotiateAfter === step) {
      await new Promise<void>((resolve, reject) =>
        socket.renegotiate({ rejectUnauthorized: false }, (error) => (error ? reject(error) : resolve())),
      );
    }
    pending += exchange.response;
    const answered = new Promise<void>((resolve) => {
      onResponse = resolve;
    });
    socket.write(payload(exchange.request, step));
    await answered;
  }
  const result = {
    protocol: socket.getProtocol(),
    cipherStandardName: socket.getCipher().standardName,
    reused: socket.isSessionReused(),
  };
  socket.end();
  await closed;
  return {
    chunks,
    keyLogLines,
    socketBytes: { up: raw.bytesWritten, down: raw.bytesRead },
    ...result,
    session,
  };
}
