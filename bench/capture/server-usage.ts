/**
 * The server's side while a scenario runs (issue 11): CPU and resident memory of the server's processes
 * (nginx: master and workers) and the sockets of its port by state and side, all from /proc, sampled on a
 * timer. Each sample's socket listing also feeds the TIME_WAIT observer, so the socket table is read once a
 * sample. Observations only; the assessment makes peak, steady and per-connection figures of them.
 */
import { processTreeUsage } from './processes.ts';
import { listPortSockets, type TcpSocket } from './sockets.ts';
import { TimeWaitObserver, type TimeWaitCounts } from './timewait.ts';
import type { ServerSample } from '../model/index.ts';

/** Unix epoch ms (sub-ms), the clock every thread of the runner shares. */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Sockets by state and side: `server` is the socket whose local port is the server's. */
export function socketStates(port: number, sockets: readonly TcpSocket[]): Pick<ServerSample, 'established' | 'timeWait'> {
  const counts = { established: { server: 0, client: 0 }, timeWait: { server: 0, client: 0 } };
  for (const s of sockets) {
    const side = s.local.port === port ? 'server' : 'client';
    if (s.state === 'ESTAB') counts.established[side] += 1;
    else if (s.state === 'TIME-WAIT') counts.timeWait[side] += 1;
  }
  return counts;
}

/**
 * Samples a server every `intervalMs` from `start()` until `stop()`, plus samples taken on demand (before the
 * first request, after the last response). A sample's `atMs` is Unix epoch ms until the caller rebases it.
 */
export class ServerSampler {
  private readonly samples: ServerSample[] = [];
  private timer: NodeJS.Timeout | null = null;
  private cpuBaseMs = 0;
  private inFlight: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private readonly timeWait: TimeWaitObserver;

  constructor(
    private readonly pid: number,
    private readonly port: number,
    readonly intervalMs: number,
    /**
     * A process in each network namespace where the two sides' sockets live: this process's alone, or with the
     * server's when the server runs in its own (behind an emulated link).
     */
    private readonly namespacePids: readonly number[] = [process.pid],
  ) {
    this.timeWait = new TimeWaitObserver(port);
  }

  /**
   * Takes the first sample (time 0, CPU counted from here; the TIME_WAIT sockets already there are an earlier
   * run's) and starts the timer. Call it before the scenario's first connection.
   */
  async start(): Promise<void> {
    this.cpuBaseMs = (await processTreeUsage(this.pid)).cpuMs;
    await this.sample('before');
    this.timer = setInterval(() => {
      // One sample at a time: a slow sample on a loaded machine delays the next tick rather than piling up.
      this.inFlight = this.inFlight.then(async () => {
        await this.sample();
      }).catch((error: unknown) => {
        this.failure ??= error;
      });
    }, this.intervalMs);
  }

  /** Takes one sample now (after any in flight) and returns it (find it in `stop()`'s list by identity). */
  async sampleNow(): Promise<ServerSample> {
    await this.inFlight;
    return this.sample();
  }

  /** Stops the timer; resolves with every sample in time order. Throws the first failed sample's error. */
  async stop(): Promise<ServerSample[]> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.inFlight;
    if (this.failure !== null) throw this.failure;
    return [...this.samples].sort((a, b) => a.atMs - b.atMs);
  }

  /** The TIME_WAIT sockets per side that the samples so far saw the scenario cause (complete after `stop()`). */
  timeWaitCounts(): TimeWaitCounts {
    return this.timeWait.counts();
  }

  /** `before`: the first sample, whose TIME_WAIT sockets the scenario did not cause. */
  private async sample(when: 'before' | 'during' = 'during'): Promise<ServerSample> {
    const listing = listPortSockets(this.port, this.namespacePids);
    if (when === 'before') this.timeWait.begin(listing);
    else this.timeWait.add(listing);
    const usage = await processTreeUsage(this.pid);
    const sample = { atMs: epochMs(), cpuMs: usage.cpuMs - this.cpuBaseMs, rssBytes: usage.rssBytes, ...socketStates(this.port, listing.sockets) };
    this.samples.push(sample);
    return sample;
  }
}
