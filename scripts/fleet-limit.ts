/**
 * `npm run fleet:limit -- [--modes fresh,persistent,resumed] [--start 1000] [--max 10000] [--out DIR] ...`:
 * the largest fleet this machine drives at the agents' real pace, per mode, and what limited it (issue 11).
 *
 * Each probe is `tls-reuse-bench run` as a user would type it, one mode and one fleet size at a time, at
 * time compression 1 (a virtual minute lasts a real one: 15 requests per agent-minute, as the agent sends
 * them) with the request budget lifted (`--max-rate`), since finding where the machine stops is the point.
 * A fleet holds when its scenario is valid (every request answered, no kernel drops, the sampled agents
 * reconciled to the byte) and the client kept its schedule (99% of requests sent within a second of their
 * due time). Sizes grow by 1.5x from --start while fleets hold, then bisect between the largest that held and
 * the smallest that did not, to about 15%. What stopped the first fleet that did not hold is read from its
 * own figures: tcpdump's drops, or which of the client's threads, the server's worker and the machine's
 * cores was at its ceiling over the drive (fleet.coresBusy), or the system limit a refused run named.
 *
 * Writes `limits.json` (after every probe) and `limits.md` into --out (default reports/fleet-limit/<time>),
 * each probe's run in a folder beside them; run again with the same --out to go on with a search that was
 * interrupted (its probes are kept, not run again). Exit 0 when every probe ran (held or not), 1 when one could not run, 2 on bad
 * flags, 130 when interrupted (the probes that finished are kept).
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { CLIENT_BEHIND_P99_MS } from '../bench/analyze/assess.ts';
import { NGINX_WORKERS } from '../bench/serve/nginx.ts';
import { DEFAULT_SEARCH, modeLimit, nextSize, runError, type ModeLimit, type Probe, type SearchOptions } from './fleet/limit.ts';

const REPO_ROOT = resolve(import.meta.dirname, '..');
const BIN = join(REPO_ROOT, 'bin/tls-reuse-bench.js');
/** The budget lifted: the search is for where the machine stops, not for a pace it surely holds. */
const NO_BUDGET = '1000000';

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

function wholeNumber(flag: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) fail(`${flag} takes a whole number from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

const { values } = parseArgs({
  options: {
    modes: { type: 'string' },
    server: { type: 'string' },
    tls: { type: 'string' },
    cert: { type: 'string' },
    start: { type: 'string' },
    max: { type: 'string' },
    'virtual-minutes': { type: 'string' },
    'time-compression': { type: 'string' },
    'capture-agents': { type: 'string' },
    out: { type: 'string' },
  },
});
const modes = (values.modes ?? 'fresh,persistent,resumed').split(',');
for (const m of modes) if (!['fresh', 'persistent', 'resumed'].includes(m)) fail(`--modes: unknown mode ${JSON.stringify(m)} (fresh, persistent, resumed)`);
const server = values.server ?? 'nginx';
if (server !== 'nginx' && server !== 'node') fail(`--server takes nginx or node, got ${JSON.stringify(server)}`);
const search: SearchOptions = {
  ...DEFAULT_SEARCH,
  start: wholeNumber('--start', values.start, DEFAULT_SEARCH.start, 51, 10_000),
  max: wholeNumber('--max', values.max, DEFAULT_SEARCH.max, 51, 10_000),
};
if (search.max < search.start) fail('--max must not be below --start');
const virtualMinutes = wholeNumber('--virtual-minutes', values['virtual-minutes'], 2, 2, 60);
const compression = values['time-compression'] ?? '1';
if (!(Number(compression) > 0)) fail(`--time-compression takes a number above 0, got ${JSON.stringify(compression)}`);
const out = resolve(values.out ?? join(REPO_ROOT, 'reports', 'fleet-limit', new Date().toISOString().replace(/[:.]/g, '-')));
await mkdir(out, { recursive: true });

const common = [
  '--server', server, '--tls', values.tls ?? '1.2', '--cert', values.cert ?? 'rsa2048', '--network', 'loopback',
  '--virtual-minutes', String(virtualMinutes), '--time-compression', compression, '--max-rate', NO_BUDGET, '--runs', '1', '--allow-invalid', '--force',
  ...(values['capture-agents'] === undefined ? [] : ['--capture-agents', values['capture-agents']]),
];

let interrupted = false;
let running: ReturnType<typeof execa> | null = null;
process.on('SIGINT', () => {
  interrupted = true;
  // The run handles its own Ctrl-C (its finished scenarios kept, nothing left behind); only forward it.
  if (running?.pid !== undefined) process.kill(running.pid, 'SIGINT');
});

/** Runs one probe and reads what it measured. */
async function probe(mode: string, endpoints: number): Promise<Probe> {
  const dir = join(out, `${mode}-${endpoints}`);
  const before = os.loadavg()[0]!;
  const started = performance.now();
  running = execa(process.execPath, [BIN, 'run', '--modes', mode, '--endpoints', String(endpoints), ...common, '--out', dir], {
    cwd: REPO_ROOT, reject: false, stdin: 'ignore', all: true, env: { NO_COLOR: '1' },
  });
  const result = await running;
  running = null;
  const base = {
    mode, endpoints, serverProcesses: server === 'nginx' ? NGINX_WORKERS : 1,
    wallSeconds: (performance.now() - started) / 1000, loadAverage: { before, after: os.loadavg()[0]! },
  };
  const empty = { requests: null, coresBusy: null, clientThreads: null, clientEventLoop: null, droppedByKernel: 0, sentLateP99Ms: null, clientCpuMsPerRequest: null, serverCpuMsPerRequest: null, requestsPerSecond: null };
  const lastError = runError(String(result.all ?? '')) ?? `exit code ${result.exitCode ?? result.signal}`;
  if (result.exitCode === 2) return { ...base, ...empty, outcome: 'refused', reasons: [lastError] };
  let scenario;
  try {
    scenario = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).scenarios[0];
  } catch {
    scenario = undefined;
  }
  if (scenario === undefined || scenario.state === 'failed') {
    return { ...base, ...empty, outcome: 'failed', reasons: [scenario?.error ?? lastError] };
  }
  const fleet = scenario.fleet;
  const late: number | null = fleet?.sentLate?.p99Ms ?? null;
  const reasons: string[] = [...(scenario.invalidReasons ?? [])];
  if (late !== null && late > CLIENT_BEHIND_P99_MS) reasons.push(`the client fell behind its schedule: 1% of requests sent over ${(late / 1000).toFixed(1)} s late`);
  return {
    ...base,
    outcome: reasons.length === 0 && scenario.state === 'completed' ? 'valid' : 'invalid',
    reasons,
    requests: scenario.requests === undefined ? null : { scheduled: scenario.requests.scheduled, ok: scenario.requests.ok, failed: scenario.requests.failed },
    coresBusy: fleet?.coresBusy ?? null,
    clientThreads: fleet?.clientThreads ?? null,
    clientEventLoop: fleet?.clientEventLoop ?? null,
    droppedByKernel: scenario.capture?.droppedByKernel ?? 0,
    sentLateP99Ms: late,
    clientCpuMsPerRequest: fleet?.clientCpuMsPerRequest ?? null,
    serverCpuMsPerRequest: scenario.serverCost?.cpuMsPerRequest ?? null,
    requestsPerSecond: fleet?.pacing?.requestsPerSecond ?? null,
  };
}

const f = (x: number | null | undefined, digits: number) => (x === null || x === undefined ? '-' : x.toFixed(digits));

function probeLine(p: Probe): string {
  const c = p.coresBusy;
  const cores = c === null ? '' : `, cores client ${f(c.client, 2)} server ${f(c.server, 2)} machine ${f(c.machine, 2)}/${c.of}`;
  const late = p.sentLateP99Ms === null ? '' : `, sent late p99 ${f(p.sentLateP99Ms, 0)} ms`;
  const loops = (p.clientEventLoop ?? null) === null ? '' : `, event loops main ${f(100 * p.clientEventLoop!.main, 0)}%${p.clientEventLoop!.threads.map((x) => ` ${f(100 * x, 0)}%`).join('')}`;
  const why = p.outcome === 'valid' ? '' : `: ${p.reasons.join('; ')}`;
  return `${p.mode} ${p.endpoints} agents (${f(p.requestsPerSecond, 0)} requests/s): ${p.outcome.toUpperCase()} in ${f(p.wallSeconds, 0)} s${cores}${late}${loops}, load ${f(p.loadAverage.before, 1)}→${f(p.loadAverage.after, 1)}${why}`;
}

function markdown(limits: ModeLimit[], probes: Probe[]): string {
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  const lines = [
    `# Largest fleet ${Number(compression) === 1 ? "at the agents' real pace" : `at ${compression}x the agents' pace`} (${os.availableParallelism()} cores, ${server}, ${virtualMinutes} virtual minutes)`,
    '',
    row(['mode', 'largest that held', 'smallest that did not', 'limited by', 'why']),
    row(['---', '---', '---', '---', '---']),
    ...limits.map((l) => row([
      l.mode,
      l.largestValid === null ? 'none' : `${l.largestValid.endpoints} (${f(l.largestValid.requestsPerSecond, 0)} requests/s)`,
      l.firstInvalid === null ? `none up to ${search.max}` : String(l.firstInvalid.endpoints),
      l.limit?.by ?? '-',
      l.limit?.detail ?? '-',
    ])),
    '',
    '## Probes',
    '',
    row(['mode', 'agents', 'requests/s', 'outcome', 'client CPU ms/request', 'server CPU ms/request', 'cores client / server / machine', 'sent late p99', 'load before → after', 'wall', 'reasons']),
    row(['---', '---', '---', '---', '---', '---', '---', '---', '---', '---', '---']),
    ...probes.map((p) => row([
      p.mode, String(p.endpoints), f(p.requestsPerSecond, 0), p.outcome, f(p.clientCpuMsPerRequest, 2), f(p.serverCpuMsPerRequest, 3),
      p.coresBusy === null ? '-' : `${f(p.coresBusy.client, 2)} / ${f(p.coresBusy.server, 2)} / ${f(p.coresBusy.machine, 2)} of ${p.coresBusy.of}`,
      p.sentLateP99Ms === null ? '-' : `${f(p.sentLateP99Ms, 0)} ms`, `${f(p.loadAverage.before, 1)} → ${f(p.loadAverage.after, 1)}`, `${f(p.wallSeconds, 0)} s`,
      p.reasons.join('; ').replace(/\|/g, '\\|') || '-',
    ])),
    '',
  ];
  return lines.join('\n');
}

/** The probes an earlier search into the same --out made (it was interrupted, or is being read again): kept. */
async function earlierProbes(): Promise<Probe[]> {
  try {
    const earlier = JSON.parse(await readFile(join(out, 'limits.json'), 'utf8'));
    if (earlier.server !== server || earlier.compression !== Number(compression) || earlier.virtualMinutes !== virtualMinutes) {
      fail(`--out ${out} holds a search of another configuration (${earlier.server}, ${earlier.compression}x, ${earlier.virtualMinutes} virtual minutes): choose another folder`);
    }
    // A probe that could not run (no results) is tried again.
    return (earlier.probes as Probe[]).filter((p) => modes.includes(p.mode) && p.outcome !== 'failed');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

async function save(probes: Probe[]): Promise<ModeLimit[]> {
  const limits = modes.map((m) => modeLimit(m, probes));
  await writeFile(join(out, 'limits.json'), `${JSON.stringify({ server, compression: Number(compression), virtualMinutes, cores: os.availableParallelism(), search, limits, probes }, null, 2)}\n`);
  return limits;
}

const probes: Probe[] = await earlierProbes();
let couldNotRun = false;
for (const p of probes) process.stdout.write(`${probeLine(p)} (an earlier search's)\n`);
process.stdout.write(`fleet limit: ${modes.join(', ')} against ${server} at ${compression}x, from ${search.start} agents up to ${search.max}; probes in ${out}\n`);
for (const mode of modes) {
  for (let size = nextSize(probes.filter((p) => p.mode === mode), search); size !== null && !interrupted; size = nextSize(probes.filter((p) => p.mode === mode), search)) {
    const p = await probe(mode, size);
    if (interrupted) break;
    probes.push(p);
    await save(probes);
    process.stdout.write(`${probeLine(p)}\n`);
    if (p.outcome === 'failed') couldNotRun = true;
    if (p.outcome === 'failed') break;
  }
  if (interrupted) break;
}
const limits = await save(probes);
const md = markdown(limits, probes);
await writeFile(join(out, 'limits.md'), md);
process.stdout.write(`\n${md.split('\n## Probes')[0]}\nlimits: ${join(out, 'limits.md')}\n`);
process.exitCode = interrupted ? 130 : couldNotRun ? 1 : 0;
