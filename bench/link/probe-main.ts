/**
 * The far end of a link probe (`probe.ts`), run inside the server namespace:
 * `node --import tsx probe-main.ts --host IP --port N` (0: any port), prints `listening PORT` once it
 * listens. Each TCP connection starts with one JSON line naming what it wants:
 *
 * - `{"op":"echo"}`: every byte after the line comes back.
 * - `{"op":"sink"}`: reads until the client ends, then answers `{"bytes":N,"sha256":"...","activeMs":T}` (T: first
 *   to last data chunk) and ends.
 * - `{"op":"source","bytes":N,"seed":S}`: sends N bytes of `probeBytes(S)` and ends.
 *
 * UDP datagrams to the same port are read and discarded (a target for packet-rate floods that draws no
 * ICMP port-unreachable back across the link).
 */
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { probeStream } from './probe-bytes.ts';

const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string', default: '0' } } });
const host = values.host ?? '0.0.0.0';

/** The longest request line accepted before the connection is dropped as garbage. */
const MAX_LINE_BYTES = 1024;

const server = net.createServer((socket) => {
  socket.setNoDelay(true);
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    const newline = head.indexOf(0x0a);
    if (newline < 0) {
      if (head.length > MAX_LINE_BYTES) socket.destroy();
      return;
    }
    socket.off('data', onData);
    const request = JSON.parse(head.subarray(0, newline).toString('utf8')) as { op: string; bytes?: number; seed?: number };
    const rest = head.subarray(newline + 1);
    serve(socket, request, rest);
  };
  socket.on('data', onData);
  // A client that resets or vanishes ends only its own connection; the probe keeps serving the others.
  socket.on('error', () => socket.destroy());
});

function serve(socket: net.Socket, request: { op: string; bytes?: number; seed?: number }, rest: Buffer): void {
  if (request.op === 'echo') {
    if (rest.length > 0) socket.write(rest);
    socket.pipe(socket);
  } else if (request.op === 'sink') {
    const hash = createHash('sha256').update(rest);
    let bytes = rest.length;
    let firstMs = performance.now();
    let lastMs = firstMs;
    socket.on('data', (chunk: Buffer) => {
      lastMs = performance.now();
      if (bytes === 0) firstMs = lastMs;
      hash.update(chunk);
      bytes += chunk.length;
    });
    socket.on('end', () => socket.end(`${JSON.stringify({ bytes, sha256: hash.digest('hex'), activeMs: lastMs - firstMs })}\n`));
  } else if (request.op === 'source') {
    probeStream(request.seed ?? 0, request.bytes ?? 0).pipe(socket);
  } else {
    socket.destroy();
  }
}

const udp = dgram.createSocket('udp4');
udp.on('message', () => undefined);

server.listen(Number(values.port), host, () => {
  const port = (server.address() as net.AddressInfo).port;
  udp.bind(port, host, () => process.stdout.write(`listening ${port}\n`));
});

// Ends with its parent's signal, or with its stdin (the parent closing it or dying).
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
process.on('SIGTERM', () => process.exit(0));
