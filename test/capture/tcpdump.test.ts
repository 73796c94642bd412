/** tcpdump's lifecycle as the run sees it: a capture file only its owner reads, and a tcpdump that died on its own. */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { once } from 'node:events';
import net from 'node:net';
import { analyzeCapture } from '../../bench/analyze/capture.ts';
import { captureFilter, TcpdumpCapture } from '../../bench/capture/tcpdump.ts';
import { liveRunSkipReason } from '../run/support.ts';
import { describeUnless } from '../support/skip.ts';

const skip = liveRunSkipReason();
const dir = mkdtempSync(path.join(tmpdir(), 'trb-tcpdump-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A TCP server on `host`, port chosen by the kernel unless given. */
async function listen(host: string, port = 0): Promise<net.Server> {
  const server = net.createServer((socket) => socket.on('data', (d) => socket.write(d)));
  server.listen(port, host);
  await once(server, 'listening');
  return server;
}

describe('the capture filter', () => {
  it('keeps the server endpoint itself, address and port together', () => {
    expect(captureFilter({ ports: [443], host: '127.0.0.1' })).toBe('tcp and ((src host 127.0.0.1 and src port 443) or (dst host 127.0.0.1 and dst port 443))');
    expect(captureFilter({ ports: [] })).toBe('tcp');
  });
});

describeUnless(skip, 'tcpdump', () => {
  it("leaves out another program's connection whose end on another loopback address has the server's port number", async () => {
    // Our server on 127.0.0.1:P; a foreign connection 127.0.0.2:P -> 127.0.0.1:Q (bind allows it: another address).
    const ours = await listen('127.0.0.1');
    const port = (ours.address() as net.AddressInfo).port;
    const foreign = await listen('127.0.0.1');
    const file = path.join(dir, 'foreign.pcap');
    const capture = await TcpdumpCapture.start({ iface: 'lo', host: '127.0.0.1', ports: [port], file });
    const socket = net.connect({ host: '127.0.0.1', port: (foreign.address() as net.AddressInfo).port, localAddress: '127.0.0.2', localPort: port });
    await once(socket, 'connect');
    socket.write('hello');
    await once(socket, 'data');
    socket.destroy();
    const mine = net.connect({ host: '127.0.0.1', port });
    await once(mine, 'connect');
    mine.write('ours');
    await once(mine, 'data');
    mine.destroy();
    await sleep(200);
    await capture.stop();
    ours.close();
    foreign.close();
    const analysis = await analyzeCapture(file, { serverPorts: [port] });
    expect(analysis.connections.map((c) => `${c.client.ip} -> ${c.server.ip}:${c.server.port}`)).toEqual([`127.0.0.1 -> 127.0.0.1:${port}`]);
  });

  it('writes the capture 0600, and stops with its counts', async () => {
    const file = path.join(dir, 'ok.pcap');
    const capture = await TcpdumpCapture.start({ iface: 'lo', ports: [9], file });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await expect(capture.stop()).resolves.toMatchObject({ packetsDroppedByKernel: 0 });
  });

  it('killed from outside during the scenario, it is reported as that, not as a tcpdump that ignored SIGINT', async () => {
    const file = path.join(dir, 'killed.pcap');
    const capture = await TcpdumpCapture.start({ iface: 'lo', ports: [9], file });
    process.kill(capture.pid!, 'SIGKILL');
    await sleep(100);
    await expect(capture.stop()).rejects.toThrow(
      `tcpdump stopped during the scenario, before it was asked to (killed by SIGKILL; not by this run)`,
    );
  });
});
