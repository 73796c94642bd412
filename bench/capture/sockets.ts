/**
 * TCP sockets as the kernel lists them in /proc/<pid>/net/tcp and tcp6 (proc(5)): the table of the network
 * namespace that process <pid> is in, so the server's sockets behind an emulated link are read through the
 * server's pid. A file read, where `ss` was a child process: forking the runner (a large Node process, about
 * 46 ms a spawn) was counted in the client's CPU, the figure that says whether client or server was the
 * bottleneck.
 */
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { CaptureError } from '../errors.ts';
import { ticksToMs, vanished } from './processes.ts';

/** States by the number /proc prints (include/net/tcp_states.h), named as `ss` names them. */
const TCP_STATES = ['UNKNOWN', 'ESTAB', 'SYN-SENT', 'SYN-RECV', 'FIN-WAIT-1', 'FIN-WAIT-2', 'TIME-WAIT', 'UNCONN', 'CLOSE-WAIT', 'LAST-ACK', 'LISTEN', 'CLOSING'] as const;

/** A TCP socket's state, as `ss` names it. */
export type TcpState = (typeof TCP_STATES)[number];

/** One end of a socket. */
export interface TcpEndpoint {
  /** Dotted IPv4, or IPv6 as RFC 5952 writes it (`::ffff:7f00:1`). */
  address: string;
  port: number;
}

/** One socket of the table. */
export interface TcpSocket {
  state: TcpState;
  local: TcpEndpoint;
  remote: TcpEndpoint;
  /** In TIME-WAIT, the time its timer has left before the kernel frees it (in clock ticks, 10 ms); null in other states. */
  timeWaitLeftMs: number | null;
}

/** `address:port`, IPv6 in brackets and port 0 (a listener's peer) as `*`, as `ss -n` prints an endpoint. */
export function endpointText(e: TcpEndpoint): string {
  const port = e.port === 0 ? '*' : String(e.port);
  return e.address.includes(':') ? `[${e.address}]:${port}` : `${e.address}:${port}`;
}

/** The sockets of a port in one or more namespaces, and when they were read. */
export interface SocketListing {
  /** `performance.now()` just before the read. */
  atMs: number;
  sockets: TcpSocket[];
}

/**
 * The sockets with `port` at either end (what `ss '( sport = :PORT or dport = :PORT )'` lists), in the network
 * namespace of each of `namespacePids`: `process.pid` for this process's own, a server's pid for the namespace it
 * runs in.
 *
 * @throws CaptureError when a pid's process is gone (its namespace can no longer be read through it), or a
 *   line of the table is not in the format proc(5) gives.
 */
export function listPortSockets(port: number, namespacePids: readonly number[]): SocketListing {
  const atMs = performance.now();
  return { atMs, sockets: namespacePids.flatMap((pid) => listTcpSockets(pid, port)) };
}

/** The TCP sockets (IPv4 and IPv6) of `pid`'s network namespace with `port` at either end. */
export function listTcpSockets(pid: number, port: number): TcpSocket[] {
  const v4 = readTable(`/proc/${pid}/net/tcp`);
  if (v4 === null) throw new CaptureError(`/proc/${pid}/net/tcp: process ${pid} is gone, and with it the way to its network namespace's sockets`);
  const sockets = portLines(v4, port).map((line) => parseLine(line, `/proc/${pid}/net/tcp`));
  // Without IPv6 (disabled at boot) there is no tcp6.
  const v6 = readTable(`/proc/${pid}/net/tcp6`);
  if (v6 !== null) sockets.push(...portLines(v6, port).map((line) => parseLine(line, `/proc/${pid}/net/tcp6`)));
  return sockets.filter((s) => s.local.port === port || s.remote.port === port);
}

/**
 * A /proc table whole, as text (its lines are ASCII); null when the file does not exist.
 *
 * Read synchronously: the kernel hands out about a page a read (seq_file), so a table of 10,000 sockets takes
 * some 400 reads, and each asynchronous read is a trip through libuv's thread pool, which doubled the CPU of a
 * listing (43 ms against 20 ms for 4,900 sockets); that CPU is counted as the client's. The main thread waits
 * for the read instead (those 20 ms), where spawning `ss` held it for about 46 ms.
 */
function readTable(file: string): string | null {
  try {
    return readFileSync(file, 'latin1');
  } catch (error) {
    if (vanished(error)) return null;
    throw new CaptureError(`${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
}

/**
 * The lines of a table with `port` at either end, found without splitting the whole table: a port is printed
 * `:%04X` followed by a space only after the local and remote addresses (the queue and timer fields that also
 * follow a colon have 8 digits).
 */
function portLines(table: string, port: number): string[] {
  const needle = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const lines: string[] = [];
  for (let at = table.indexOf(needle); at !== -1; ) {
    const start = table.lastIndexOf('\n', at) + 1;
    const newline = table.indexOf('\n', at);
    const end = newline === -1 ? table.length : newline;
    lines.push(table.slice(start, end));
    at = table.indexOf(needle, end);
  }
  return lines;
}

/**
 * One line of the table (proc(5); net/ipv4/tcp_ipv4.c and net/ipv6/tcp_ipv6.c print it):
 * `sl: local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode …`, an address in
 * 8 hex digits (IPv4) or 32 (IPv6) and its port in 4, the state in 2, the queues in 8 each, `tr` (which timer
 * runs) in 2 and `tm->when` (its time left in clock ticks, %08lX) in 8 to 16. One anchored expression: splitting
 * the line into fields cost ten times as much on a table of 12,000 sockets.
 */
const LINE = /^ *\d+: ([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4}) ([0-9A-F]{8}|[0-9A-F]{32}):([0-9A-F]{4}) ([0-9A-F]{2}) [0-9A-F]{8}:[0-9A-F]{8} [0-9A-F]{2}:([0-9A-F]{8,16}) /;

/** One line; the search for the port's text only found candidates, so the ports are compared here. */
function parseLine(line: string, file: string): TcpSocket {
  const m = LINE.exec(line);
  if (m === null) throw new CaptureError(`${file}: a line not in proc(5)'s format: ${JSON.stringify(line)}`);
  const [, localAddress, localPort, remoteAddress, remotePort, stateNumber, timerLeft] = m as unknown as string[];
  const state = TCP_STATES[Number.parseInt(stateNumber!, 16)] ?? 'UNKNOWN';
  return {
    state,
    local: { address: decodeAddress(localAddress!), port: Number.parseInt(localPort!, 16) },
    remote: { address: decodeAddress(remoteAddress!), port: Number.parseInt(remotePort!, 16) },
    // A TIME_WAIT socket's line is printed by get_timewait4_sock (get_timewait6_sock): `tr` 3, its timer, and
    // `tm->when` its time left, jiffies_delta_to_clock_t (clock ticks, never below 0).
    timeWaitLeftMs: state === 'TIME-WAIT' ? ticksToMs(Number.parseInt(timerLeft!, 16)) : null,
  };
}

const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * An address as /proc prints it: each 32-bit word of the address (network byte order in memory) as the host
 * reads it (`%08X`), so on a little-endian host each word's bytes come reversed: 127.0.0.1 is `0100007F`.
 */
function decodeAddress(hex: string): string {
  if (hex.length === 8) {
    const [a, b, c, d] = wordBytes(hex, 0);
    return `${a}.${b}.${c}.${d}`;
  }
  const bytes = [0, 8, 16, 24].flatMap((at) => wordBytes(hex, at));
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!).toString(16));
  // The URL parser writes IPv6 the RFC 5952 way (zeros compressed, lower case); strip its brackets.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

/** The four bytes, in network order, of the word printed at `at`. */
function wordBytes(hex: string, at: number): [number, number, number, number] {
  const word = Number.parseInt(hex.slice(at, at + 8), 16);
  const high = [word >>> 24, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff] as const;
  return LITTLE_ENDIAN ? [high[3], high[2], high[1], high[0]] : [...high];
}
