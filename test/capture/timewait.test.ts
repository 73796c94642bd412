/** TIME_WAIT counting against the kernel's own socket table, on a real loopback server. */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeWaitObserver } from '../../bench/capture/timewait.ts';

let server: net.Server;
let port: number;

/** One connection that the client closes first (so the client's socket enters TIME_WAIT). */
async function clientClosesFirst(): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end();
  await once(socket, 'close');
}

beforeAll(async () => {
  server = net.createServer((s) => s.on('end', () => s.end()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('TimeWaitObserver', () => {
  it('counts the sockets a scenario left in TIME_WAIT, on the side that closed first', async () => {
    const observer = new TimeWaitObserver(port);
    await observer.begin();
    for (let i = 0; i < 3; i++) await clientClosesFirst();
    await observer.sample();
    expect(observer.counts()).toEqual({ client: 3, server: 0 });
  });

  it('does not count sockets an earlier run left on the same port', async () => {
    await clientClosesFirst();
    const observer = new TimeWaitObserver(port);
    await observer.begin();
    await clientClosesFirst();
    observer.sampleInBackground();
    await observer.sample();
    expect(observer.counts()).toEqual({ client: 1, server: 0 });
  });
});
