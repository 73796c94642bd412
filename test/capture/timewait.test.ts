/** TIME_WAIT counting: on hand-made listings, and against the kernel's own socket table on a real loopback server. */
import net from 'node:net';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPortSockets, type SocketListing, type TcpSocket } from '../../bench/capture/sockets.ts';
import { TimeWaitObserver } from '../../bench/capture/timewait.ts';

const PORT = 443;

/** A socket of a hand-made listing: TIME-WAIT with `leftMs` to go, or ESTAB. */
function socket(localPort: number, remotePort: number, leftMs: number | null): TcpSocket {
  return {
    state: leftMs === null ? 'ESTAB' : 'TIME-WAIT',
    local: { address: '127.0.0.1', port: localPort },
    remote: { address: '127.0.0.1', port: remotePort },
    timeWaitLeftMs: leftMs,
  };
}

function listing(atMs: number, sockets: TcpSocket[]): SocketListing {
  return { atMs, sockets };
}

describe('TimeWaitObserver on hand-made listings', () => {
  it('counts each socket once, on the side whose local port it is, and no socket in another state', () => {
    const observer = new TimeWaitObserver(PORT);
    observer.begin(listing(0, []));
    observer.add(listing(1_000, [socket(50_000, PORT, 59_000), socket(PORT, 50_001, 59_500), socket(50_002, PORT, null)]));
    observer.add(listing(2_000, [socket(50_000, PORT, 58_000), socket(50_003, PORT, 59_900)]));
    expect(observer.counts()).toEqual({ client: 2, server: 1 });
  });

  it("leaves out an earlier run's sockets whose timers ran down, and counts one whose timer restarted", () => {
    const observer = new TimeWaitObserver(PORT);
    observer.begin(listing(0, [socket(50_000, PORT, 30_000), socket(50_001, PORT, 30_000)]));
    // 10 s later: the first has 20 s left (the same socket); the second's 4-tuple was reused and closed again.
    observer.add(listing(10_000, [socket(50_000, PORT, 20_000), socket(50_001, PORT, 59_000)]));
    expect(observer.counts()).toEqual({ client: 1, server: 0 });
  });
});

let server: net.Server;
let port: number;

/** One connection that the client closes first (so the client's socket enters TIME_WAIT). */
async function clientClosesFirst(): Promise<void> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.end();
  await once(socket, 'close');
}

/**
 * The sockets of the server's port in this namespace now, those of its endpoint alone: on a busy machine another
 * program's socket can have the same port number on another address.
 */
function list(): SocketListing {
  const { atMs, sockets } = listPortSockets(port, [process.pid]);
  const ours = (e: TcpSocket['local']) => e.address === '127.0.0.1' && e.port === port;
  return { atMs, sockets: sockets.filter((s) => ours(s.local) || ours(s.remote)) };
}

beforeAll(async () => {
  server = net.createServer((s) => s.on('end', () => s.end()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('TimeWaitObserver on the kernel table', () => {
  it('counts the sockets a scenario left in TIME_WAIT, on the side that closed first', async () => {
    const observer = new TimeWaitObserver(port);
    observer.begin(list());
    for (let i = 0; i < 3; i++) await clientClosesFirst();
    observer.add(list());
    expect(observer.counts()).toEqual({ client: 3, server: 0 });
  });

  it('does not count sockets an earlier run left on the same port', async () => {
    await clientClosesFirst();
    const observer = new TimeWaitObserver(port);
    observer.begin(list());
    await clientClosesFirst();
    observer.add(list());
    observer.add(list());
    expect(observer.counts()).toEqual({ client: 1, server: 0 });
  });
});
