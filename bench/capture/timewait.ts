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

/** Lists TIME_WAIT sockets with `serverPort` on either end, as `local peer` strings. */
export async function listTimeWait(serverPort: number): Promise<string[]> {
  const port = `:${serverPort}`;
  const result = await execa('ss', ['-H', '-t', '-a', '-n', 'state', 'time-wait', '(', 'sport', '=', port, 'or', 'dport', '=', port, ')'], {
    reject: false,
  });
  if (result.failed) {
    throw new CaptureError(`ss failed (${result.shortMessage}); install iproute2 (apt-get install iproute2)`, { cause: result });
  }
  return result.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 4)
    .map((fields) => `${fields[2]} ${fields[3]}`);
}

/** Accumulates TIME_WAIT sockets of one server port over repeated samples. */
export class TimeWaitObserver {
  private readonly seen = new Set<string>();

  constructor(private readonly serverPort: number) {}

  /** Takes one sample. */
  async sample(): Promise<void> {
    for (const socket of await listTimeWait(this.serverPort)) this.seen.add(socket);
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
