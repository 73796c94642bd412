/**
 * Traffic across a link, to check what it does to packets: the far end (`probe-main.ts`) runs inside the
 * server namespace; the functions here are the client side. Used by the link's tests and by
 * scripts/perf-link.ts; a runner can use them to check a link before measuring over it.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { randomStream } from '../workload/prng.ts';
import { REPO_ROOT, repoPath } from '../paths.ts';
import { LinkError } from './errors.ts';
import { probeStream } from './probe-bytes.ts';

const PROBE_MAIN = repoPath('bench/link/probe-main.ts');
const START_TIMEOUT_MS = 60_000;

/** A running probe peer. */
export interface ProbePeer {
  host: string;
  port: number;
  /** Stops the peer and waits for it. */
  close(): Promise<void>;
}

/**
 * Starts the probe's far end with `command` (e.g. a link's `serverCommand`) listening on `host`, and
 * resolves once it listens.
 *
 * @throws LinkError when it exits or does not listen within 60 s.
 */
export async function startProbePeer(host: string, command: (argv: string[]) => string[] = (argv) => argv): Promise<ProbePeer> {
  const [file, ...args] = command([process.execPath, '--import', 'tsx', PROBE_MAIN, '--host', host, '--port', '0']);
  const child = execa(file!, args, { cwd: REPO_ROOT, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, buffer: false, cleanup: true });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2048)));
  child.stdout.setEncoding('utf8');
  let stdout = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new LinkError(`probe peer did not listen within ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening (\d+)/.exec(stdout);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    void child.then((r) => {
      clearTimeout(timer);
      reject(new LinkError(`probe peer exited (${r.signal ?? `code ${r.exitCode}`}) before listening: ${stderr.trim()}`));
    });
  });
  return {
    host,
    port,
    async close() {
      child.stdin.end();
      await child;
    },
  };
}

async function connect(peer: Pick<ProbePeer, 'host' | 'port'>, request: object): Promise<net.Socket> {
  const socket = net.connect({ host: peer.host, port: peer.port, noDelay: true });
  await once(socket, 'connect');
  socket.write(`${JSON.stringify(request)}\n`);
  return socket;
}

/** Durations of `count` TCP connects in a row (SYN sent to SYN-ACK answered: one round trip). */
export async function connectTimesMs(peer: Pick<ProbePeer, 'host' | 'port'>, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const socket = net.connect({ host: peer.host, port: peer.port });
    await once(socket, 'connect');
    times.push(performance.now() - start);
    socket.end();
    await once(socket, 'close');
  }
  return times;
}

/** Round-trip times of `count` exchanges of `bytes` bytes on one established echo connection. */
export async function pingPongMs(peer: Pick<ProbePeer, 'host' | 'port'>, count: number, bytes = 1): Promise<number[]> {
  const socket = await connect(peer, { op: 'echo' });
  const times: number[] = [];
  const message = Buffer.alloc(bytes, 0x61);
  for (let i = 0; i < count; i++) {
    let received = 0;
    const start = performance.now();
    const echoed = new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        received += chunk.length;
        if (received >= bytes) {
          socket.off('data', onData);
          resolve();
        }
      };
      socket.on('data', onData);
    });
    socket.write(message);
    await echoed;
    times.push(performance.now() - start);
  }
  socket.end();
  await once(socket, 'close');
  return times;
}

/** What went out and what came back, as SHA-256 and byte counts. */
export interface EchoResult {
  sentBytes: number;
  sentSha256: string;
  receivedBytes: number;
  receivedSha256: string;
}

/**
 * Sends `totalBytes` seeded random bytes in writes of random sizes (1 to `maxWriteBytes`) on an echo
 * connection, reading back concurrently, and hashes both streams.
 */
export async function echoTransfer(peer: Pick<ProbePeer, 'host' | 'port'>, totalBytes: number, seed: number, maxWriteBytes = 9000): Promise<EchoResult> {
  const socket = await connect(peer, { op: 'echo' });
  const random = randomStream(seed, 'probe', 'echo');
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let receivedBytes = 0;
  socket.on('data', (chunk: Buffer) => {
    received.update(chunk);
    receivedBytes += chunk.length;
    if (receivedBytes >= totalBytes) socket.end();
  });
  const closed = once(socket, 'close');
  const data = Buffer.concat(await probeStream(seed, totalBytes).toArray());
  sent.update(data);
  for (let offset = 0; offset < data.length; ) {
    const n = Math.min(random.int(1, maxWriteBytes), data.length - offset);
    if (!socket.write(data.subarray(offset, offset + n))) await once(socket, 'drain');
    offset += n;
  }
  await closed;
  return { sentBytes: totalBytes, sentSha256: sent.digest('hex'), receivedBytes, receivedSha256: received.digest('hex') };
}

/** A one-way bulk transfer as its receiver saw it. */
export interface BulkResult {
  bytes: number;
  sha256: string;
  /** From the first to the last data chunk at the receiver: the steady transfer, without the handshake. */
  activeMs: number;
}

/** Sends `bytes` bytes of the probe payload for `seed` to the peer (up); the peer reports what it received. */
export async function upload(peer: Pick<ProbePeer, 'host' | 'port'>, bytes: number, seed: number): Promise<BulkResult> {
  const socket = await connect(peer, { op: 'sink' });
  let reply = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (reply += chunk));
  const closed = once(socket, 'close');
  probeStream(seed, bytes).pipe(socket);
  await closed;
  return JSON.parse(reply) as BulkResult;
}

/** Receives `bytes` bytes of the probe payload for `seed` from the peer (down). */
export async function download(peer: Pick<ProbePeer, 'host' | 'port'>, bytes: number, seed: number): Promise<BulkResult> {
  const socket = await connect(peer, { op: 'source', bytes, seed });
  const hash = createHash('sha256');
  let received = 0;
  let firstMs = 0;
  let lastMs = 0;
  socket.on('data', (chunk: Buffer) => {
    lastMs = performance.now();
    if (received === 0) firstMs = lastMs;
    received += chunk.length;
    hash.update(chunk);
  });
  await once(socket, 'close');
  return { bytes: received, sha256: hash.digest('hex'), activeMs: lastMs - firstMs };
}
