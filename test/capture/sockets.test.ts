/**
 * The /proc socket reader against `ss`, on sockets this test makes: a server on 127.0.0.1, connections held
 * open, closed by the client and closed by the server (TIME_WAIT on each side), in this namespace and, as root,
 * in a network namespace of the test's own read through the pid of a process inside it.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointText, listTcpSockets, type TcpSocket } from '../../bench/capture/sockets.ts';
import { socketStates } from '../../bench/capture/server-usage.ts';
import { describeUnless } from '../support/skip.ts';

/** A socket as `ss -o` prints it: state, local and peer endpoints, and the TIME_WAIT timer's time left in ms. */
interface SsSocket {
  state: string;
  local: string;
  remote: string;
  timeWaitLeftMs: number | null;
}

/** `ss -H -t -a -n -o` on `port` (either end), run as `command` says (in this namespace, or via `ip netns exec`). */
async function ss(port: number, command: string[] = []): Promise<SsSocket[]> {
  const p = `:${port}`;
  const [file, ...args] = [...command, 'ss', '-H', '-t', '-a', '-n', '-o', '(', 'sport', '=', p, 'or', 'dport', '=', p, ')'];
  const { stdout } = await execa(file!, args);
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [state, , , local, remote] = line.trim().split(/\s+/);
      const timer = /timer:\(timewait,([^,]*),/.exec(line);
      return { state: state!, local: local!, remote: remote!, timeWaitLeftMs: timer === null ? null : ssTimerMs(timer[1]!) };
    });
}

/**
 * ss's print_ms_timer: minutes, then seconds with `sec` or, when milliseconds follow, a dot, then milliseconds
 * with `ms` (`sec` in newer releases): `1min`, `59sec`, `5.123ms` (5.123 s), `7.865sec`, `476ms`, or nothing at 0.
 */
function ssTimerMs(text: string): number {
  const m = /^(?:(\d+)min)?(?:(\d+)(?:sec|\.))?(?:(\d+)(?:ms|sec))?$/.exec(text);
  if (m === null) throw new Error(`ss printed a timer this test cannot read: ${text}`);
  return Number(m[1] ?? 0) * 60_000 + Number(m[2] ?? 0) * 1000 + Number(m[3] ?? 0);
}

/** The sockets with `endpoint` at one end: the ones the test made (another program may use the port number elsewhere). */
function at<T extends { local: string; remote: string }>(sockets: T[], endpoint: string): T[] {
  return sockets.filter((s) => s.local === endpoint || s.remote === endpoint);
}

function asText(sockets: TcpSocket[]): SsSocket[] {
  return sockets.map((s) => ({ state: s.state, local: endpointText(s.local), remote: endpointText(s.remote), timeWaitLeftMs: s.timeWaitLeftMs }));
}

/** Sorted `state local remote` lines, to compare two listings. */
function lines(sockets: SsSocket[]): string[] {
  return sockets.map((s) => `${s.state} ${s.local} ${s.remote}`).sort();
}

/** Counts per state and side from ss's listing, as the sampler counted them when it ran ss. */
function ssCounts(port: number, sockets: SsSocket[]): ReturnType<typeof socketStates> {
  const counts = { established: { server: 0, client: 0 }, timeWait: { server: 0, client: 0 } };
  for (const s of sockets) {
    const side = s.local.endsWith(`:${port}`) ? 'server' : 'client';
    if (s.state === 'ESTAB') counts.established[side] += 1;
    if (s.state === 'TIME-WAIT') counts.timeWait[side] += 1;
  }
  return counts;
}

/**
 * Expects the reader and ss to list the same sockets at `endpoint`, with TIME_WAIT timers within 2 s of each
 * other (ss prints milliseconds but reads them at another moment; /proc counts 10 ms ticks).
 */
function expectSameAsSs(mine: TcpSocket[], theirs: SsSocket[], endpoint: string): void {
  const ours = at(asText(mine), endpoint);
  const oracle = at(theirs, endpoint);
  expect(lines(ours)).toEqual(lines(oracle));
  const port = Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));
  expect(socketStates(port, mine.filter((s) => endpointText(s.local) === endpoint || endpointText(s.remote) === endpoint))).toEqual(ssCounts(port, oracle));
  const timers = new Map(oracle.map((s) => [`${s.local} ${s.remote}`, s.timeWaitLeftMs]));
  for (const s of ours.filter((x) => x.state === 'TIME-WAIT')) {
    const theirsMs = timers.get(`${s.local} ${s.remote}`);
    expect(theirsMs, `${s.local} ${s.remote}`).not.toBeNull();
    expect(Math.abs(s.timeWaitLeftMs! - theirsMs!), `${s.local} ${s.remote}: ${s.timeWaitLeftMs} ms here, ${theirsMs} ms by ss`).toBeLessThanOrEqual(2_000);
  }
}

/**
 * Makes the sockets, in a process of its own (so the namespace test can run it inside a namespace), and prints
 * the server's port: a server on 127.0.0.1 that closes first when a connection's first byte is `s`, waits for
 * the client to close on `c` and holds the connection on `k`; then, one after the other, connections of
 * each kind.
 */
const SOCKETS_SCRIPT = `
const net = require('node:net');
const { once } = require('node:events');
const counts = JSON.parse(process.argv[1]);
(async () => {
  const server = net.createServer((s) => {
    s.once('data', (b) => { if (b.toString() === 's') s.end(); });
    s.on('end', () => s.end());
    s.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const held = [];
  for (const [kind, n] of Object.entries(counts)) {
    for (let i = 0; i < n; i++) {
      const socket = net.connect(server.address().port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(kind);
      if (kind === 'k') { held.push(socket); continue; }
      if (kind === 'c') socket.end();
      await once(socket, 'close');
    }
  }
  console.log(server.address().port);
})();
`;

/** What the script makes: 4 held, 3 closed by the client, 2 closed by the server. */
const COUNTS = { k: 4, c: 3, s: 2 };
const EXPECTED = { established: { server: 4, client: 4 }, timeWait: { server: 2, client: 3 } };

/** Runs the script as `command` says (here, or via `ip netns exec`); resolves with the process and the port. */
async function makeSockets(command: string[]): Promise<{ child: ResultPromise; port: number }> {
  // `ip netns exec` execs node in its place: the child's pid is the process inside the namespace.
  const [file, ...args] = [...command, process.execPath, '-e', SOCKETS_SCRIPT, JSON.stringify(COUNTS)];
  const child = execa(file!, args, { reject: false, stdin: 'ignore' });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { child, port: Number(line.toString().trim()) };
}

/** Until the server's side of its closes has reached TIME_WAIT (its socket waits in FIN_WAIT2 for the client's FIN). */
async function settled(list: () => TcpSocket[], endpoint: string): Promise<TcpSocket[]> {
  for (let tries = 0; ; tries++) {
    const sockets = list().filter((s) => endpointText(s.local) === endpoint || endpointText(s.remote) === endpoint);
    if (tries >= 100 || sockets.every((s) => s.state === 'ESTAB' || s.state === 'TIME-WAIT' || s.state === 'LISTEN')) return sockets;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('TCP sockets from /proc/<pid>/net/tcp', () => {
  let made: { child: ResultPromise; port: number } | undefined;

  beforeAll(async () => {
    made = await makeSockets([]);
  });
  afterAll(async () => {
    made?.child.kill('SIGKILL');
    await made?.child;
  });

  it('lists the sockets of a port, with their states and TIME_WAIT timers, as ss does', async () => {
    const { port } = made!;
    const endpoint = `127.0.0.1:${port}`;
    const mine = await settled(() => listTcpSockets(process.pid, port), endpoint);
    expectSameAsSs(mine, await ss(port), endpoint);
    expect(socketStates(port, mine)).toEqual(EXPECTED);
    // The timers started a moment ago: TIME_WAIT lasts 60 s on Linux.
    for (const s of mine.filter((x) => x.state === 'TIME-WAIT')) expect(s.timeWaitLeftMs).toBeGreaterThan(50_000);
  });

  it('answers a CaptureError once the process is gone', async () => {
    const child = execa('true');
    const pid = child.pid!;
    await child;
    expect(() => listTcpSockets(pid, made!.port)).toThrow(/process \d+ is gone/);
  });
});

const ROOT = process.getuid?.() === 0 ? null : 'needs root to create a network namespace (ip netns add)';

describeUnless(ROOT, 'TCP sockets of another network namespace, read through a pid inside it', () => {
  /** Not the link's `trb<pid>n<i>` names, which a run's sweep of stale links would take for its own. */
  const namespace = `sockets-test-${process.pid}-${randomBytes(3).toString('hex')}`;
  let created = false;
  let made: { child: ResultPromise; port: number } | undefined;

  beforeAll(async () => {
    await execa('ip', ['netns', 'add', namespace]);
    created = true;
    await execa('ip', ['-n', namespace, 'link', 'set', 'lo', 'up']);
    made = await makeSockets(['ip', 'netns', 'exec', namespace]);
  });
  afterAll(async () => {
    made?.child.kill('SIGKILL');
    await made?.child;
    if (created) await execa('ip', ['netns', 'delete', namespace]);
  });

  it("lists the namespace's sockets as ss run inside it does, and none of them here", async () => {
    const { child, port } = made!;
    const endpoint = `127.0.0.1:${port}`;
    const mine = await settled(() => listTcpSockets(child.pid!, port), endpoint);
    expectSameAsSs(mine, await ss(port, ['ip', 'netns', 'exec', namespace]), endpoint);
    expect(socketStates(port, mine)).toEqual(EXPECTED);
    const tuples = new Set(asText(mine).map((s) => `${s.local} ${s.remote}`));
    expect(asText(listTcpSockets(process.pid, port)).filter((s) => tuples.has(`${s.local} ${s.remote}`))).toEqual([]);
  });
});
