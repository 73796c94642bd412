/**
 * Sockets in TIME_WAIT per side of a server port, from the listings the server sampler takes (one read of the
 * socket table serves both). Unioned by 4-tuple, so a socket counts once even when a scenario outlasts the
 * 60 s TIME_WAIT period.
 */
import { endpointText, type SocketListing, type TcpSocket } from './sockets.ts';

/** Which side of the connection holds a TIME_WAIT socket. */
export interface TimeWaitCounts {
  /** Sockets whose local port is not the server port: the client closed first. */
  client: number;
  /** Sockets whose local port is the server port: the server closed first. */
  server: number;
}

/**
 * How far a socket's timer may read above what it had left at `begin()` less the time since, and still be the
 * same socket: the listing's time is taken before the table is read, and reading a large table on a loaded
 * machine takes a while. A restarted timer (the 4-tuple reused and closed again) reads close to 60 s again.
 */
const TIMER_SLACK_MS = 2_000;

/** `local remote`: a socket's 4-tuple. */
function key(s: TcpSocket): string {
  return `${endpointText(s.local)} ${endpointText(s.remote)}`;
}

/**
 * Accumulates the TIME_WAIT sockets of one server port that a scenario caused. The kernel may hand a scenario
 * a port number an earlier run used a moment ago, whose sockets are still in TIME_WAIT: `begin()` notes them
 * so they are not counted, unless their timer restarted (the 4-tuple was reused and closed again).
 */
export class TimeWaitObserver {
  /** Every socket counted, by 4-tuple, with the side that holds it. */
  private readonly seen = new Map<string, keyof TimeWaitCounts>();
  private readonly before = new Map<string, { leftMs: number; atMs: number }>();

  constructor(private readonly serverPort: number) {}

  /** Notes the TIME_WAIT sockets of a listing taken before the scenario's first connection. */
  begin(listing: SocketListing): void {
    for (const s of listing.sockets) {
      if (s.timeWaitLeftMs !== null) this.before.set(key(s), { leftMs: s.timeWaitLeftMs, atMs: listing.atMs });
    }
  }

  /** Counts the TIME_WAIT sockets of a listing taken during or after the scenario. */
  add(listing: SocketListing): void {
    for (const s of listing.sockets) {
      if (s.timeWaitLeftMs === null) continue;
      const socket = key(s);
      const earlier = this.before.get(socket);
      // Still the earlier socket when its timer ran down as time passed.
      const restarted = earlier !== undefined && s.timeWaitLeftMs > earlier.leftMs - (listing.atMs - earlier.atMs) + TIMER_SLACK_MS;
      if (earlier === undefined || restarted) this.seen.set(socket, s.local.port === this.serverPort ? 'server' : 'client');
    }
  }

  /** Counts per side over every listing so far. */
  counts(): TimeWaitCounts {
    const counts = { client: 0, server: 0 };
    for (const side of this.seen.values()) counts[side] += 1;
    return counts;
  }
}
