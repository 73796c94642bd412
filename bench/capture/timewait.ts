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
  private readonly running: Promise<void>[] = [];

  constructor(private readonly serverPort: number) {}

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
