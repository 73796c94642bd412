/**
 * The largest fleet this machine drives at the agents' real pace (issue 11): which fleet size to try next,
 * and what stopped the first one that did not hold. Pure; scripts/fleet-limit.ts runs the probes.
 */

/** One probe: a `run` of one mode with `endpoints` agents, as its results.json (or its refusal) tells it. */
export interface Probe {
  mode: string;
  endpoints: number;
  /** `valid`: completed and the client kept its schedule; `invalid`: the run said so, or fell behind;
   * `refused`: the run stopped before measuring (exit 2: a system limit it names); `failed`: no results. */
  outcome: 'valid' | 'invalid' | 'refused' | 'failed';
  /** The run's invalid reasons, its refusal or failure line, and falling behind its schedule. */
  reasons: string[];
  requests: { scheduled: number; ok: number; failed: number } | null;
  /** Cores busy over the drive: client, server, the whole machine; `of` the machine's cores. */
  coresBusy: { client: number; server: number; machine: number; of: number } | null;
  clientThreads: number | null;
  /** Event loop utilisation (0-1) of the runner's main thread and each client thread over the drive. */
  clientEventLoop: { main: number; threads: number[] } | null;
  /** The server's processes that can run at once (nginx's workers; 1 for the embedded server). */
  serverProcesses: number;
  droppedByKernel: number;
  sentLateP99Ms: number | null;
  clientCpuMsPerRequest: number | null;
  serverCpuMsPerRequest: number | null;
  /** Real requests per second the schedule asked for. */
  requestsPerSecond: number | null;
  wallSeconds: number;
  loadAverage: { before: number; after: number };
}

/** How the search steps. */
export interface SearchOptions {
  start: number;
  max: number;
  /** Each size after a fleet that held is this many times the last. */
  growth: number;
  /** The search stops once the largest that held and the smallest that did not are this close (a fraction
   * of the former), or `granularity` agents apart. */
  precision: number;
  granularity: number;
}

export const DEFAULT_SEARCH: SearchOptions = { start: 1000, max: 10_000, growth: 1.5, precision: 0.15, granularity: 250 };

/** `n` rounded to the search's granularity (never below it). */
function rounded(n: number, o: SearchOptions): number {
  return Math.max(o.granularity, Math.round(n / o.granularity) * o.granularity);
}

/**
 * The next fleet size to probe for one mode, or null when the search is done: grow from `start` while fleets
 * hold (up to `max`), then bisect between the largest that held and the smallest that did not. A fleet
 * refused for a system limit (open files, memory) is one that did not hold: the search bisects below it (a
 * refusal costs a second), so the answer is the largest fleet that fits the limit, and the limit is named.
 */
export function nextSize(probes: readonly Probe[], o: SearchOptions = DEFAULT_SEARCH): number | null {
  if (probes.length === 0) return Math.min(o.start, o.max);
  const held = probes.filter((p) => p.outcome === 'valid').map((p) => p.endpoints);
  const notHeld = probes.filter((p) => p.outcome !== 'valid').map((p) => p.endpoints);
  const best = held.length > 0 ? Math.max(...held) : null;
  const worst = notHeld.length > 0 ? Math.min(...notHeld) : null;
  const tried = new Set(probes.map((p) => p.endpoints));
  if (worst === null) {
    if (best! >= o.max) return null;
    return Math.min(o.max, rounded(best! * o.growth, o));
  }
  if (best === null) {
    // Even the first did not hold: halve down to the granularity.
    const lower = rounded(worst / 2, o);
    return lower < worst && !tried.has(lower) ? lower : null;
  }
  if (worst - best <= Math.max(o.granularity, o.precision * best)) return null;
  const mid = rounded((best + worst) / 2, o);
  return mid > best && mid < worst && !tried.has(mid) ? mid : null;
}

/**
 * At or past this share of its ceiling, a side counts as saturated. Not 1: a machine whose client fell
 * behind still has idle moments (a core waiting on the other's lock, the kernel's softirq on one core), and
 * measured 1.77 of 2 cores busy over a 1750-agent drive that fell 5.7 s behind.
 */
const SATURATED = 0.85;

/** What stopped a probe that did not hold, in a label and a sentence with its figures. */
export function limitOf(p: Probe): { by: 'capture' | 'client CPU' | 'server CPU' | 'machine CPU' | 'system limit' | 'other'; detail: string } {
  if (p.outcome === 'refused') return { by: 'system limit', detail: p.reasons[0] ?? 'the run refused to start' };
  if (p.droppedByKernel > 0) return { by: 'capture', detail: `tcpdump dropped ${p.droppedByKernel} packets: the capture could not keep up` };
  const c = p.coresBusy;
  if (c === null) return { by: 'other', detail: p.reasons[0] ?? 'no figures' };
  const cores = (x: number) => x.toFixed(2);
  const figures = `client ${cores(c.client)} cores (${p.clientThreads ?? '?'} thread${p.clientThreads === 1 ? '' : 's'}), server ${cores(c.server)} (${p.serverProcesses} process${p.serverProcesses === 1 ? '' : 'es'}), machine ${cores(c.machine)} of ${c.of}`;
  const clientCeiling = Math.min(p.clientThreads ?? c.of, c.of);
  const serverCeiling = Math.min(p.serverProcesses, c.of);
  if (c.machine >= SATURATED * c.of) {
    const other = Math.max(0, c.machine - c.client - c.server);
    const largest = c.client >= c.server && c.client >= other ? 'the client' : c.server >= other ? 'the server' : 'other work (tcpdump, the kernel, other processes)';
    return { by: 'machine CPU', detail: `every core busy, most of it ${largest}'s: ${figures}, other ${cores(other)}` };
  }
  // Probes of a search made before event loops were measured have none.
  const el = p.clientEventLoop ?? null;
  const loops = el === null ? [] : [el.main, ...el.threads];
  const busiest = Math.max(0, ...loops);
  if (busiest >= SATURATED) {
    const which = el !== null && busiest === el.main ? "the runner's main thread" : 'a client thread';
    return { by: 'client CPU', detail: `${which}'s event loop busy ${Math.round(100 * busiest)}% of the drive, with cores to spare: ${figures}` };
  }
  if (c.client >= SATURATED * clientCeiling) return { by: 'client CPU', detail: `the client's threads at their ceiling: ${figures}` };
  if (c.server >= SATURATED * serverCeiling) return { by: 'server CPU', detail: `the server's processes at their ceiling: ${figures}` };
  return { by: 'other', detail: `no side at its CPU ceiling (${figures}): ${p.reasons[0] ?? ''}` };
}

/** Per mode: the largest fleet that held, the smallest that did not, and what limited it. */
export interface ModeLimit {
  mode: string;
  largestValid: Probe | null;
  firstInvalid: Probe | null;
  limit: ReturnType<typeof limitOf> | null;
}

export function modeLimit(mode: string, probes: readonly Probe[]): ModeLimit {
  const mine = probes.filter((p) => p.mode === mode);
  const held = mine.filter((p) => p.outcome === 'valid').sort((a, b) => b.endpoints - a.endpoints)[0] ?? null;
  const notHeld = mine.filter((p) => p.outcome !== 'valid').sort((a, b) => a.endpoints - b.endpoints)[0] ?? null;
  return { mode, largestValid: held, firstInvalid: notHeld, limit: notHeld === null ? null : limitOf(notHeld) };
}

/**
 * The last error a run printed, with the indented lines that go on with it (a refusal lists each system limit
 * it would hit on a line of its own, with what to raise), as one line.
 */
export function runError(output: string): string | undefined {
  const lines = output.split('\n');
  const at = lines.findLastIndex((l) => l.startsWith('error'));
  if (at < 0) return undefined;
  const more: string[] = [];
  for (let i = at + 1; i < lines.length && /^\s+\S/.test(lines[i]!); i++) more.push(lines[i]!.trim());
  return [lines[at]!, ...more].join(' ');
}
