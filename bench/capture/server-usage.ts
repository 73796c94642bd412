/**
 * The server's side while a scenario runs (issue 11): CPU and resident memory of the server's processes
 * (nginx: master and workers) from /proc, and the sockets of its port by state and side from `ss`, sampled
 * on a timer. Observations only; the assessment makes peak, steady and per-connection figures of them.
 */
import { execa } from 'execa';
import { CaptureError } from '../errors.ts';
import { HERE, type CommandPlace } from './timewait.ts';
import { processTreeUsage } from './processes.ts';
import type { ServerSample } from '../model/index.ts';

/** Unix epoch ms (sub-ms), the clock every thread of the runner shares. */
function epochMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Sockets of `port` by state and side, as `ss` lists them in each of `places` (the client's namespace, and
 * the server's when it runs behind an emulated link), summed.
 */
export async function socketStates(port: number, places: readonly CommandPlace[] = [HERE]): Promise<Pick<ServerSample, 'established' | 'timeWait'>> {
  const p = `:${port}`;
  const outputs = await Promise.all(
    places.map(async (place) => {
      const [file, ...args] = place(['ss', '-H', '-t', '-a', '-n', '(', 'sport', '=', p, 'or', 'dport', '=', p, ')']);
      const result = await execa(file!, args, { reject: false });
      if (result.failed) throw new CaptureError(`ss failed (${result.shortMessage}); install iproute2 (apt-get install iproute2)`, { cause: result });
      return result.stdout;
    }),
  );
  const counts = { established: { server: 0, client: 0 }, timeWait: { server: 0, client: 0 } };
  for (const line of outputs.join('\n').split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5) continue;
    const side = fields[3]!.endsWith(p) ? 'server' : 'client';
    if (fields[0] === 'ESTAB') counts.established[side] += 1;
    else if (fields[0] === 'TIME-WAIT') counts.timeWait[side] += 1;
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

  constructor(
    private readonly pid: number,
    private readonly port: number,
    readonly intervalMs: number,
    /** Where the two sides' sockets live (one namespace, unless the server has its own). */
    private readonly places: readonly CommandPlace[] = [HERE],
  ) {}

  /** Takes the first sample (time 0, CPU counted from here) and starts the timer. */
  async start(): Promise<void> {
    this.cpuBaseMs = (await processTreeUsage(this.pid)).cpuMs;
    await this.sample();
    this.timer = setInterval(() => {
      // One sample at a time: a slow `ss` on a loaded machine delays the next tick rather than piling up.
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

  private async sample(): Promise<ServerSample> {
    const [usage, sockets] = await Promise.all([processTreeUsage(this.pid), socketStates(this.port, this.places)]);
    const sample = { atMs: epochMs(), cpuMs: usage.cpuMs - this.cpuBaseMs, rssBytes: usage.rssBytes, ...sockets };
    this.samples.push(sample);
    return sample;
  }
}
