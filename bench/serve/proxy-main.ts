/**
 * The embedded HTTP CONNECT proxy's process (`--proxy embedded`): what an agent's `--proxy_hostname` points
 * at. For each client connection it reads one `CONNECT host:port HTTP/1.1` request head, refuses any target
 * but the one it was started for (loopback only), connects there, answers `HTTP/1.1 200 Connection
 * established`, then relays bytes both ways until either side closes. It never reads or changes the tunnel.
 *
 * Started by `startProxy()`: `node <bundle>/connect-proxy.js --target 127.0.0.1:<port>`; prints `listening
 * <port>` on stdout once bound, then one `connects <n>` line per CONNECT answered; exits on SIGTERM or when
 * its stdin closes (the parent died).
 */
import net from 'node:net';

/** Longest request head accepted. */
const MAX_HEAD_BYTES = 8192;

const at = process.argv.indexOf('--target');
const target = process.argv[at + 1] ?? '';
const match = /^(127\.\d+\.\d+\.\d+):(\d+)$/.exec(target);
if (at === -1 || match === null) {
  process.stderr.write(`connect-proxy: --target must be 127.x.y.z:port, got ${JSON.stringify(target)}\n`);
  process.exit(2);
}
const [, targetHost, targetPort] = match as RegExpExecArray;
let connects = 0;

const server = net.createServer({ allowHalfOpen: true }, (client) => {
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) {
      if (head.length > MAX_HEAD_BYTES) client.end('HTTP/1.1 431 Request Header Fields Too Large\r\n\r\n');
      return;
    }
    client.off('data', onData);
    client.pause();
    const line = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
    const request = /^CONNECT (\S+) HTTP\/1\.[01]$/.exec(line);
    if (request === null || request[1] !== `${targetHost}:${targetPort}`) {
      client.end(`HTTP/1.1 ${request === null ? '405 Method Not Allowed' : '403 Forbidden'}\r\n\r\n`);
      return;
    }
    const rest = head.subarray(end + 4);
    const upstream = net.connect({ host: targetHost, port: Number(targetPort), allowHalfOpen: true });
    upstream.once('connect', () => {
      connects += 1;
      process.stdout.write(`connects ${connects}\n`);
      client.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (rest.length > 0) upstream.write(rest);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    // A reset on either side resets the other: the tunnel carries the connection's fate through.
    upstream.on('error', () => client.resetAndDestroy());
    client.on('error', () => upstream.resetAndDestroy());
    upstream.on('close', () => client.destroySoon());
    client.on('close', () => upstream.destroySoon());
  };
  client.on('data', onData);
  client.on('error', () => client.destroy());
});

server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') process.exit(1);
  process.stdout.write(`listening ${address.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
