/**
 * Sockets in TIME_WAIT as the kernel lists them (`ss`), per side of a server port. Sampled during a scenario
 * and unioned by 4-tuple, so a socket counts once even when a scenario outlasts the 60 s TIME_WAIT period.
 */
import { execa } from 'execa';
import { CaptureError } from '../errors.ts';

/** Which side of the connection holds a TIME_WAIT socket. */
export interface TimeWaitCounts {
  /** Sockets whose local port is not the server port: the client closed first. */
  client: number;
  /** Sockets whose local port is the server port: the server closed first. */
  server: number;
}

/** One TIME_WAIT socket: `local peer`, and the time its TIME_WAIT timer has left. */
export interface TimeWaitSocket {
  socket: string;
  remainingMs: number;
}

/** Runs a command where the sockets are: as it is in this namespace, or wrapped to run in another one. */
export type CommandPlace = (argv: string[]) => string[];

/** This process's own network namespace. */
export const HERE: CommandPlace = (argv) => argv;

/**
 * Lists TIME_WAIT sockets with `serverPort` on either end, in the network namespace `place` runs `ss` in (a
 * server behind an emulated link has its own namespace, so its side's sockets are listed there).
 */
export async function listTimeWait(serverPort: number, place: CommandPlace = HERE): Promise<TimeWaitSocket[]> {
  const port = `:${serverPort}`;
  const [file, ...args] = place(['ss', '-H', '-t', '-a', '-n', '-o', 'state', 'time-wait', '(', 'sport', '=', port, 'or', 'dport', '=', port, ')']);
  const result = await execa(file!, args, { reject: false });
  if (result.failed) {
    throw new CaptureError(`ss failed (${result.shortMessage}); install iproute2 (apt-get install iproute2)`, { cause: result });
  }
  const sockets: TimeWaitSocket[] = [];
  for (const line of result.stdout.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 4) continue;
    sockets.push({ socket: `${fields[2]} ${fields[3]}`, remainingMs: timerMs(line) });
  }
  return sockets;
}

/** The TIME_WAIT timer `ss -o` prints, e.g. `timer:(timewait,33sec,0)`, in ms (NaN when absent). */
function timerMs(line: string): number {
  const match = /timer:\(timewait,(\d+(?:\.\d+)?)(ms|sec|min)/.exec(line);
  if (match === null) return Number.NaN;
  return Number(match[1]) * { ms: 1, sec: 1000, min: 60_000 }[match[2] as 'ms' | 'sec' | 'min'];
}

/** ss prints whole seconds: a socket's timer is trusted to this much. */
const TIMER_SLACK_MS = 2_000;

/**
 * Accumulates the TIME_WAIT sockets of one server port that a scenario caused. The kernel may hand a scenario
 * a port number an earlier run used a moment ago, whose sockets are still in TIME_WAIT: `begin()` notes them
 * so they are not counted, unless their timer restarted (the 4-tuple was reused and closed again).
 */
export class TimeWaitObserver {
  private readonly seen = new Set<string>();
  private readonly before = new Map<string, { remainingMs: number; atMs: number }>();
  private readonly running: Promise<void>[] = [];

  /** `places`: the namespaces where the two sides' sockets live (one, unless the server has its own). */
  constructor(
    private readonly serverPort: number,
    private readonly places: readonly CommandPlace[] = [HERE],
  ) {}

  private async list(): Promise<TimeWaitSocket[]> {
    return (await Promise.all(this.places.map((place) => listTimeWait(this.serverPort, place)))).flat();
  }

  /** Notes the TIME_WAIT sockets that exist before the scenario's first connection. */
  async begin(): Promise<void> {
    const atMs = performance.now();
    for (const s of await this.list()) this.before.set(s.socket, { remainingMs: s.remainingMs, atMs });
  }

  /** Starts a sample without waiting for it; `sample()` waits for it (and reports its failure). */
  sampleInBackground(): void {
    const sampling = this.take();
    sampling.catch(() => undefined); // awaited, and its error thrown, by the next sample()
    this.running.push(sampling);
  }

  /** Takes one sample, after every background sample has finished. */
  async sample(): Promise<void> {
    await Promise.all(this.running.splice(0));
    await this.take();
  }

  private async take(): Promise<void> {
    const nowMs = performance.now();
    for (const s of await this.list()) {
      const earlier = this.before.get(s.socket);
      // Still the earlier socket when its timer ran down as time passed (or ss printed no timer).
      const restarted = earlier !== undefined && s.remainingMs > earlier.remainingMs - (nowMs - earlier.atMs) + TIMER_SLACK_MS;
      if (earlier === undefined || restarted) this.seen.add(s.socket);
    }
  }

  /** Counts per side over every sample so far. */
  counts(): TimeWaitCounts {
    let server = 0;
    for (const socket of this.seen) {
      const local = socket.split(' ')[0]!;
      if (local.endsWith(`:${this.serverPort}`)) server++;
    }
    return { client: this.seen.size - server, server };
  }
}
