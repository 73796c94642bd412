/**
 * Node's TLS stack as one side of a golden capture (fixtures/pcaps/README.md). Run with `npx tsx`:
 *
 *   server --host H --port P --cert FILE --key FILE --keylog FILE
 *       HTTPS server: `GET /bytes/N` answers a JSON body of exactly N bytes, keep-alive. Appends every
 *       connection's secrets to the key log (NSS format, Node's 'keylog' event). Prints `listening H P`
 *       once bound; exits on SIGTERM or SIGINT after closing its sockets.
 *   client --host H --port P --sizes N,N,...
 *       TLS 1.3 client: one `GET /bytes/N` per size, in order, all over ONE kept-alive connection, then
 *       closes it. Certificates are not verified (the server's is a throwaway made for the capture).
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseArgs } from 'node:util';

/** A JSON document of exactly `bytes` bytes (at least 12), so response sizes are chosen by the caller. */
function jsonOfSize(bytes: number): string {
  const frame = '{"pad":""}\n';
  const padding = Math.max(0, bytes - frame.length);
  return `{"pad":"${'x'.repeat(padding)}"}\n`;
}

function runServer(host: string, port: number, certPath: string, keyPath: string, keylogPath: string): void {
  const server = createServer(
    { cert: readFileSync(certPath), key: readFileSync(keyPath), minVersion: 'TLSv1.2' },
    (req: IncomingMessage, res: ServerResponse) => {
      const match = /^\/bytes\/(\d+)$/.exec(req.url ?? '');
      const body = jsonOfSize(match ? Number(match[1]) : 64);
      req.resume();
      req.on('end', () => {
        res.writeHead(match ? 200 : 404, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      });
    },
  );
  server.on('keylog', (line: Buffer) => appendFileSync(keylogPath, line));
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  server.listen(port, host, () => process.stdout.write(`listening ${host} ${port}\n`));
}

function get(agent: Agent, host: string, port: number, size: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: `/bytes/${size}`, agent, rejectUnauthorized: false }, (res) => {
      let received = 0;
      res.on('data', (chunk: Buffer) => (received += chunk.length));
      res.on('end', () =>
        received === size ? resolve() : reject(new Error(`GET /bytes/${size}: received ${received} bytes`)),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function runClient(host: string, port: number, sizes: number[]): Promise<void> {
  // One socket, kept alive, no session cache: every request after the first rides the same connection.
  const agent = new Agent({ keepAlive: true, maxSockets: 1, maxCachedSessions: 0, minVersion: 'TLSv1.3' });
  for (const size of sizes) await get(agent, host, port, size);
  agent.destroy();
}

function usage(message: string): never {
  process.stderr.write(`node-tls-peer: ${message}\nusage: server|client --host H --port P ...\n`);
  process.exit(2);
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    keylog: { type: 'string' },
    sizes: { type: 'string' },
  },
});
const host = values.host ?? usage('--host is required');
const port = Number(values.port ?? usage('--port is required'));
if (!Number.isInteger(port) || port <= 0 || port > 65535) usage(`--port: expected a port number, got "${values.port}"`);

if (positionals[0] === 'server') {
  runServer(
    host,
    port,
    values.cert ?? usage('--cert is required'),
    values.key ?? usage('--key is required'),
    values.keylog ?? usage('--keylog is required'),
  );
} else if (positionals[0] === 'client') {
  const sizes = (values.sizes ?? usage('--sizes is required')).split(',').map(Number);
  if (sizes.some((size) => !Number.isInteger(size) || size < 12)) usage(`--sizes: expected integers >= 12`);
  await runClient(host, port, sizes);
} else {
  usage(`unknown mode "${positionals[0] ?? ''}"`);
}
