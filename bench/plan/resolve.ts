/**
 * Options → the resolved run: the scenario matrix and every setting downstream stages need, validated once
 * (STYLE.md §4, §5). Errors name the flag; nothing here touches the network.
 */
import { access, constants } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import os from 'node:os';
import { parseNetworkList, pathOf, type LinkProfile, type NetworkProfile } from '../link/profile.ts';
import { FIXTURE_CERTS, MODES, PROXIES, scenarioId, SERVERS, SPEC_LIMITS, warning, type CertKind, type Pacing, type ScenarioSpec, type TlsVersion, type Warning } from '../model/index.ts';
import { expectedRequestsPerEndpointMinute, type Workload, type WorkloadOverrides } from '../workload/index.ts';
import { checkCertFiles } from './certs.ts';
import { choosePacing, DEFAULT_MAX_RATE_PER_CORE } from './pacing.ts';
import { SUITES, type SuiteName } from './suites.ts';
import { resolveWorkload } from './workload.ts';

/** Flag values as the command line gave them (strings), before validation. */
export interface RunFlags {
  suite?: string;
  out?: string;
  modes?: string;
  tls?: string;
  cert?: string;
  key?: string;
  ca?: string;
  server?: string;
  endpoints?: string;
  virtualMinutes?: string;
  timeCompression?: string;
  sessionTimeout?: string;
  serverIdleTimeout?: string;
  sessionTickets?: string;
  seed?: string;
  network?: string;
  latencySamples?: string;
  runs?: string;
  workload?: string;
  capture?: boolean;
  allowInvalid?: boolean;
  maxRate?: string;
  captureAgents?: string;
  fleetSize?: string;
  clientThreads?: string;
  proxy?: string;
  force?: boolean;
}

/** The files of one certificate chain: what the server sends, its key, and the root the client trusts. */
export interface CertFiles {
  chain: string;
  key: string;
  ca: string;
}

/** Everything a run needs, validated. */
export interface ResolvedRun {
  suite: SuiteName;
  runId: string;
  /** This run's folder. */
  outDir: string;
  /** `reports/latest` to point at this run, or null when `--out` chose the folder. */
  latestLink: string | null;
  /** `--force`: replace a previous run found in `--out` (or a folder in the place of `reports/latest`). */
  force: boolean;
  /** The flags that changed the suite's matrix or conditions, as given (`--modes persistent`); empty for the suite as it is. */
  overrides: string[];
  workloadPath: string;
  /** The sweep axes `--workload` set on the file (issue 12); absent or empty: the file as it is. */
  workloadOverrides?: WorkloadOverrides;
  certs: Partial<Record<CertKind, CertFiles>>;
  scenarios: ScenarioSpec[];
  /** False with `--no-capture`: traffic then comes from socket counters only. */
  capture: boolean;
  /** Latency-phase iterations per API call and scenario, on loopback and on emulated paths. */
  latencySamples: number | { loopback: number; emulated: number };
  /** Repetitions of each scenario (`--runs`, default 1). */
  runs: number;
  /** Decisions to tell the user about, each with the network it concerns (null: the whole run), e.g. a time
   * compression lowered for an emulated path. */
  notes: { network: string | null; warning: Warning }[];
  /**
   * The emulated paths came from the suite, not from `--network`: where links cannot be made (not root),
   * the run leaves those scenarios out with a warning instead of refusing to start.
   */
  pathsOptional: boolean;
  allowInvalid: boolean;
  /** The time compression every scenario runs at, and why (the budget of real requests per second). */
  pacing: Pacing;
  /** `--fleet-size`: the fleet the derived "at fleet scale" figures are scaled to. */
  fleetSize: number;
  /** Client threads the agents are spread over (1: the main thread only). */
  clientThreads: number;
}

/** Agents captured in full by default: what this machine captures without drops at the fleet's pace. */
export const DEFAULT_CAPTURE_AGENTS = 50;
/** `--fleet-size` default: the fleet the "so what" line speaks of. */
export const DEFAULT_FLEET_SIZE = 10_000;
/**
 * Requests per second one client thread keeps up with (TLS client work of `fresh` on this machine's cores);
 * `--client-threads auto` adds a thread per this much of the schedule's rate, up to the cores.
 */
export const CLIENT_RATE_PER_THREAD = 150;
/**
 * Latency-phase iterations per API call: enough that no percentile rests on fewer than 20 samples; on an
 * emulated path, where every iteration waits for real round trips, the 20 themselves.
 */
const DEFAULT_LATENCY_SAMPLES = { loopback: 30, emulated: 20 };

/** The agent's default `--tls_session_timeout` (AGENT-FACTS.md). */
export const AGENT_SESSION_TIMEOUT_S = 3600;
/** nginx's default `keepalive_timeout`. */
export const NGINX_IDLE_TIMEOUT_S = 75;

/** The payload seed without `--seed`. */
export const DEFAULT_SEED = 1;
/** The workload without `--workload`, relative to the project folder. */
export const DEFAULT_WORKLOAD = 'fixtures/workloads/osquery-default.json';


/** Resolves flags against a suite; `root` is the project folder (fixtures, reports). */
export async function resolveRun(flags: RunFlags, root: string, now = new Date()): Promise<ResolvedRun> {
  const suite = parseSuite(flags.suite ?? 'default');
  const defaults = SUITES[suite];
  const modes = flags.modes === undefined ? defaults.modes : parseList('--modes', flags.modes, MODES);
  const tls = flags.tls === undefined ? defaults.tls : parseList('--tls', flags.tls, ['1.2', '1.3', 'tls1.2', 'tls1.3']).map(toTlsVersion);
  const servers = flags.server === undefined ? defaults.servers : parseList('--server', flags.server, SERVERS);
  const endpoints = flags.endpoints === undefined ? defaults.endpoints : parseInteger('--endpoints', flags.endpoints, SPEC_LIMITS.endpoints.min, SPEC_LIMITS.endpoints.max);
  const virtualMinutes =
    flags.virtualMinutes === undefined ? defaults.virtualMinutes : parseNumber('--virtual-minutes', flags.virtualMinutes, SPEC_LIMITS.virtualMinutes.min, SPEC_LIMITS.virtualMinutes.max);
  const timeCompression =
    flags.timeCompression === undefined ? defaults.timeCompression : parseNumber('--time-compression', flags.timeCompression, SPEC_LIMITS.timeCompression.min, SPEC_LIMITS.timeCompression.max);
  const sessionTimeout =
    flags.sessionTimeout === undefined ? AGENT_SESSION_TIMEOUT_S : parseDurationSeconds('--session-timeout', flags.sessionTimeout);
  const idleTimeout =
    flags.serverIdleTimeout === undefined ? NGINX_IDLE_TIMEOUT_S : parseDurationSeconds('--server-idle-timeout', flags.serverIdleTimeout);
  if (idleTimeout === 0) throw new UsageError('--server-idle-timeout: must be above 0 (a server always times idle connections out)');
  const sessionTickets = flags.sessionTickets === undefined ? true : parseOnOff('--session-tickets', flags.sessionTickets);
  const seed = flags.seed === undefined ? DEFAULT_SEED : parseInteger('--seed', flags.seed, SPEC_LIMITS.seed.min, SPEC_LIMITS.seed.max);
  const networks = parseNetworkList(flags.network ?? defaults.networks, '--network');
  const latencySamples =
    flags.latencySamples === undefined ? null : parseInteger('--latency-samples', flags.latencySamples, 1, 10_000);
  const runs = flags.runs === undefined ? 1 : parseInteger('--runs', flags.runs, 1, MAX_RUNS);

  const { certKinds, certs } = await resolveCerts(flags, root, defaults.certs);
  for (const files of Object.values(certs)) await checkCertFiles(files, servers);
  const resolvedWorkload = await resolveWorkload(flags.workload, root, path.join(root, DEFAULT_WORKLOAD));
  const workloadPath = resolvedWorkload.path;
  const loadedWorkload = resolvedWorkload.workload;
  const maxRate = flags.maxRate === undefined ? DEFAULT_MAX_RATE_PER_CORE * os.cpus().length : parseNumber('--max-rate', flags.maxRate, 1, 1_000_000);
  const pacing = choosePacing({
    endpoints,
    requestsPerEndpointMinute: expectedRequestsPerEndpointMinute(loadedWorkload),
    requestedCompression: timeCompression,
    compressionFromFlag: flags.timeCompression !== undefined,
    maxRatePerSecond: maxRate,
    maxRateSource: flags.maxRate === undefined ? 'default' : 'flag',
  });
  if ('overBudget' in pacing) {
    throw new UsageError(
      `--time-compression ${timeCompression}: ${endpoints} agents would ask for ${Math.round(pacing.requestsPerSecond)} requests/s (each a new TLS connection in fresh mode), over the budget of ${Math.round(maxRate)}/s; use --time-compression ${pacing.fitting} or less, leave it out to have it chosen, or raise --max-rate`,
    );
  }
  const captureAgents =
    flags.captureAgents === undefined || flags.captureAgents === 'all'
      ? flags.captureAgents === 'all' ? endpoints : Math.min(endpoints, DEFAULT_CAPTURE_AGENTS)
      : parseInteger('--capture-agents', flags.captureAgents, 1, endpoints);
  if (flags.captureAgents !== undefined && flags.capture === false) throw new UsageError('--capture-agents: needs a capture (drop --no-capture)');
  const fleetSize = flags.fleetSize === undefined ? DEFAULT_FLEET_SIZE : parseInteger('--fleet-size', flags.fleetSize, 1, 1_000_000_000);
  const cores = os.cpus().length;
  const clientThreads =
    flags.clientThreads === undefined || flags.clientThreads === 'auto'
      ? Math.min(cores, Math.max(1, Math.ceil(pacing.requestsPerSecond / CLIENT_RATE_PER_THREAD)), endpoints)
      : parseInteger('--client-threads', flags.clientThreads, 1, Math.min(64, endpoints));
  const shortestIntervalMs = shortestChannelIntervalMs(loadedWorkload);
  const length = fleetLength(virtualMinutes, flags.virtualMinutes !== undefined, pacing, loadedWorkload);
  if (length.virtualMinutes !== virtualMinutes) pacing.reason += `; ${length.note}`;
  const proxy = flags.proxy === undefined ? undefined : parseOne('--proxy', flags.proxy, PROXIES);
  // Agents have their own loopback addresses, and the proxy listens on loopback: behind an emulated link the
  // client has the link's one address, so neither a sample by address nor the proxy path applies there.
  const emulated = networks.filter((n) => n.kind !== 'loopback').map((n) => n.name);
  if (proxy !== undefined && emulated.length > 0) throw new UsageError(`--proxy: runs on loopback only, not on ${emulated.join(', ')} (drop --network or give --network loopback)`);
  if (flags.captureAgents !== undefined && flags.captureAgents !== 'all' && emulated.length > 0) {
    throw new UsageError(`--capture-agents: samples agents by their loopback addresses, which agents behind ${emulated.join(', ')} do not have (every agent is captured there)`);
  }

  const runId = makeRunId(now);
  const outDir = path.resolve(flags.out ?? path.join(root, 'reports', runId));
  const latestLink = flags.out === undefined ? path.join(root, 'reports', 'latest') : null;
  const workload = resolvedWorkload.name;

  // The matrices: the suite's (or the flags') axes on each network; a suite may add a smaller matrix on
  // emulated paths, where each request waits for round trips. Loopback comes first: an emulated path's
  // round-trip model takes the server's time from its loopback twin.
  const matrices: { networks: NetworkProfile[]; tls: TlsVersion[]; certs: CertKind[]; virtualMinutes: number }[] = [
    { networks, tls, certs: certKinds, virtualMinutes: length.virtualMinutes },
  ];
  const extra = defaults.paths;
  const notes: ResolvedRun['notes'] = [];
  if (flags.network === undefined && extra !== undefined) {
    const paths = {
      networks: parseNetworkList(extra.networks, 'suite paths'),
      tls: flags.tls === undefined ? extra.tls : tls,
      certs: flags.cert === undefined ? extra.certs : certKinds,
      virtualMinutes: flags.virtualMinutes === undefined ? extra.virtualMinutes : virtualMinutes,
    };
    // The suite's emulated paths are for round trips, with every agent captured: a fleet that needs a
    // sample, or goes through a proxy, stays on loopback (both need the agents' loopback addresses).
    const reason =
      proxy !== undefined
        ? '--proxy runs on loopback only'
        : captureAgents < endpoints
          ? `a fleet of ${endpoints} agents is captured by a sample of their loopback addresses; on an emulated path every agent's traffic crosses one link and one capture: ask for a path with --network, with at most ${DEFAULT_CAPTURE_AGENTS} agents`
          : null;
    if (reason === null) matrices.push(paths);
    else {
      const count = modes.length * paths.tls.length * paths.certs.length * servers.length * paths.networks.length;
      notes.push({ network: null, warning: warning('network-paths-skipped', { count, networks: paths.networks.map((n) => n.name), reason }) });
    }
  }
  const paced = new Map<string, number>();
  const compressionOn = (network: NetworkProfile): number => {
    if (network.kind === 'loopback') return pacing.timeCompression;
    let c = paced.get(network.name);
    if (c === undefined) {
      c = pacedCompression(pacing.timeCompression, network, shortestIntervalMs);
      paced.set(network.name, c);
      if (c < pacing.timeCompression) {
        const lowered = warning('time-compression-lowered', { network: network.name, from: pacing.timeCompression, to: c, rttMs: network.rttMs, intervalSeconds: shortestIntervalMs / 1000 });
        notes.push({ network: network.name, warning: lowered });
      }
    }
    return c;
  };
  // The matrix, innermost axis last: modes of one configuration stand together.
  const byNetwork = (m: (typeof matrices)[number], network: NetworkProfile) =>
    servers.flatMap((server) =>
      m.tls.flatMap((t) =>
        m.certs.flatMap((cert) =>
          modes.map(
            (mode): ScenarioSpec => ({
              id: scenarioId({ mode, tls: t, cert, network: network.name, server, ...(proxy === undefined ? {} : { proxy }) }),
              mode,
              tls: t,
              cert,
              network: network.name,
              link: pathOf(network),
              server,
              workload,
              endpoints,
              virtualMinutes: m.virtualMinutes,
              timeCompression: compressionOn(network),
              sessionTimeoutVirtualSeconds: sessionTimeout,
              serverIdleTimeoutVirtualSeconds: idleTimeout,
              sessionTickets,
              seed,
              ...(network.kind === 'loopback' && captureAgents < endpoints && (flags.capture ?? true) ? { captureAgents } : {}),
              ...(proxy === undefined ? {} : { proxy }),
            }),
          ),
        ),
      ),
    );
  const all = matrices.flatMap((m) => m.networks.map((network) => ({ m, network })));
  const ordered = [...all.filter((x) => x.network.kind === 'loopback'), ...all.filter((x) => x.network.kind !== 'loopback')];
  const scenarios = ordered.flatMap(({ m, network }) => byNetwork(m, network));
  const duplicate = scenarios.find((s, i) => scenarios.findIndex((o) => o.id === s.id) !== i);
  if (duplicate !== undefined) throw new UsageError(`--network: the scenario ${duplicate.id} would run twice (a network named twice?)`);
  return {
    suite,
    runId,
    outDir,
    latestLink,
    workloadPath,
    workloadOverrides: resolvedWorkload.overrides,
    certs,
    scenarios,
    capture: flags.capture ?? true,
    latencySamples: latencySamples ?? DEFAULT_LATENCY_SAMPLES,
    runs,
    notes,
    pathsOptional: matrices.length > 1,
    allowInvalid: flags.allowInvalid ?? false,
    pacing,
    fleetSize,
    clientThreads,
    force: flags.force ?? false,
    overrides: overrides(flags),
  };
}

function parseOne<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag}: expected one of ${allowed.join(', ')}, got "${value}"`);
  return value as T;
}

/** Real seconds a paced scenario may last before its virtual length is shortened (without --virtual-minutes). */
export const MAX_PACED_SCENARIO_SECONDS = 300;

/**
 * A fleet paced below the suite's compression runs slower than real time (1000 agents: 0.37x), and the suite's
 * virtual minutes would make each scenario last long (5 minutes at 0.37x: 13.5 real minutes). Without
 * --virtual-minutes a scenario is shortened to last about MAX_PACED_SCENARIO_SECONDS, never below what its
 * steady state needs: every agent started (the workload's start spread) and one whole virtual minute after.
 * The steady-state figures do not depend on the run's length (issue 12); the whole-run ones are labelled so.
 */
export function fleetLength(
  virtualMinutes: number,
  fromFlag: boolean,
  pacing: Pick<Pacing, 'timeCompression'>,
  workload: Pick<Workload, 'startSpreadSeconds'>,
): { virtualMinutes: number; note: string } {
  const realSeconds = (virtualMinutes * 60) / pacing.timeCompression;
  if (fromFlag || realSeconds <= MAX_PACED_SCENARIO_SECONDS) return { virtualMinutes, note: '' };
  const floor = Math.ceil(workload.startSpreadSeconds / 60) + 1;
  const fitting = Math.floor((MAX_PACED_SCENARIO_SECONDS * pacing.timeCompression) / 60);
  const shortened = Math.min(virtualMinutes, Math.max(floor, fitting));
  if (shortened === virtualMinutes) return { virtualMinutes, note: '' };
  const real = (m: number) => `${Math.round((m * 60) / pacing.timeCompression / 60)} real minutes`;
  return {
    virtualMinutes: shortened,
    note: `each scenario runs ${shortened} virtual minutes, not the suite's ${virtualMinutes} (about ${real(shortened)}, not ${real(virtualMinutes)}; every agent has started by minute ${floor - 1} and the steady state is measured after it; --virtual-minutes sets the length)`,
  };
}

/** Most repetitions `--runs` takes: beyond this a suite runs for hours and the CI barely narrows. */
const MAX_RUNS = 100;

/** The shortest period of the agent's channels: its requests must not wait behind each other's round trips. */
function shortestChannelIntervalMs(w: Workload): number {
  return Math.min(w.config.intervalSeconds, w.logger.intervalSeconds, w.distributed.intervalSeconds) * 1000;
}

/**
 * Time compression never lets a channel's requests queue on an emulated path: the shortest channel period,
 * compressed, must stay at least 1.5 times a slow request's real time. A slow request is a new TLS 1.2
 * connection (4 round trips to the response), 10 ms of both ends' CPU, and 20 kB each way at the path's
 * rates. At `wan` (60 ms RTT) and the agent's 5 s logger period that is 12.1x; `lan` keeps 120x.
 */
export function pacedCompression(requested: number, path: LinkProfile, shortestIntervalMs: number): number {
  const slowRequestMs = 4 * path.rttMs + 10 + ((20_000 * 8) / path.downBitsPerSecond + (20_000 * 8) / path.upBitsPerSecond) * 1000;
  const limit = shortestIntervalMs / (1.5 * slowRequestMs);
  // One decimal: a compression a person can read in the report, never above the limit.
  return Math.min(requested, Math.max(1, Math.floor(limit * 10) / 10));
}

/** The flags of `flags` that change what the suite measures, as `--flag value`. */
function overrides(flags: RunFlags): string[] {
  const given: [string, string | undefined][] = [
    ['--modes', flags.modes],
    ['--tls', flags.tls],
    ['--cert', flags.cert],
    ['--server', flags.server],
    ['--network', flags.network],
    ['--endpoints', flags.endpoints],
    ['--virtual-minutes', flags.virtualMinutes],
    ['--time-compression', flags.timeCompression],
    ['--session-timeout', flags.sessionTimeout],
    ['--server-idle-timeout', flags.serverIdleTimeout],
    ['--session-tickets', flags.sessionTickets],
    ['--seed', flags.seed],
    ['--latency-samples', flags.latencySamples],
    ['--workload', flags.workload],
    ['--max-rate', flags.maxRate],
    ['--capture-agents', flags.captureAgents],
    ['--fleet-size', flags.fleetSize],
    ['--client-threads', flags.clientThreads],
    ['--proxy', flags.proxy],
  ];
  return [...given.flatMap(([flag, value]) => (value === undefined ? [] : [`${flag} ${value}`])), ...(flags.capture === false ? ['--no-capture'] : [])];
}

/**
 * A run id: the start time to the millisecond and four random hex digits (`2026-01-05T10-31-07.123Z-3fa9`), so
 * two runs started in the same second, or even millisecond, get their own folders; the folder is also made
 * exclusively, so a clash could only stop a run, never mix two.
 */
export function makeRunId(now: Date, random = randomBytes(2)): string {
  return `${now.toISOString().replace(/:/g, '-')}-${random.toString('hex')}`;
}

function parseSuite(value: string): SuiteName {
  if (value === 'quick' || value === 'default' || value === 'full') return value;
  throw new UsageError(`--suite: expected quick, default or full, got "${value}"`);
}

/** A comma-separated list whose every item is one of `allowed`; duplicates removed, order kept. */
function parseList<T extends string>(flag: string, value: string, allowed: readonly T[]): T[] {
  const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`${flag}: expected one or more of ${allowed.join(', ')}, got "${value}"`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) {
      throw new UsageError(`${flag}: expected one or more of ${allowed.join(', ')} (comma-separated), got "${item}"`);
    }
  }
  return [...new Set(items)] as T[];
}

function toTlsVersion(v: string): TlsVersion {
  return v === '1.2' || v === 'tls1.2' ? 'tls1.2' : 'tls1.3';
}

function parseInteger(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function parseNumber(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
    throw new UsageError(`${flag}: expected a number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

function parseOnOff(flag: string, value: string): boolean {
  if (value === 'on' || value === 'true') return true;
  if (value === 'off' || value === 'false') return false;
  throw new UsageError(`${flag}: expected on or off, got "${value}"`);
}

/** A duration in virtual seconds: `90`, `90s`, `15m`, `1h`; 0 allowed (the agent's "never time out"). */
export function parseDurationSeconds(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (match === null) throw new UsageError(`${flag}: expected a duration like 3600s, 15m or 1h, got "${value}"`);
  const scale = { ms: 0.001, s: 1, m: 60, h: 3600 }[match[2] ?? 's']!;
  return Number(match[1]) * scale;
}

async function mustRead(flag: string, file: string): Promise<void> {
  try {
    await access(file, constants.R_OK);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

/**
 * `--cert` takes fixture chain names (rsa2048, ecdsa-p256) or the path of the user's own PEM chain; a path
 * needs `--key` (its private key) and `--ca` (the root that verifies it) too.
 */
async function resolveCerts(
  flags: RunFlags,
  root: string,
  suiteCerts: CertKind[],
): Promise<{ certKinds: CertKind[]; certs: Partial<Record<CertKind, CertFiles>> }> {
  const certs: Partial<Record<CertKind, CertFiles>> = {};
  const items = flags.cert === undefined ? suiteCerts : flags.cert.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) throw new UsageError(`--cert: expected rsa2048, ecdsa-p256 or a PEM chain file, got "${flags.cert}"`);
  const kinds: CertKind[] = [];
  for (const item of items) {
    if ((FIXTURE_CERTS as readonly string[]).includes(item)) {
      const kind = item as CertKind;
      const dir = path.join(root, 'fixtures/certs', kind);
      certs[kind] = { chain: path.join(dir, 'chain.pem'), key: path.join(dir, 'leaf.key'), ca: path.join(dir, 'root.pem') };
      kinds.push(kind);
    } else if (item.includes('/') || item.includes('.')) {
      if (certs.custom !== undefined) throw new UsageError('--cert: only one custom chain file can be given');
      if (flags.key === undefined) throw new UsageError(`--key: required with --cert ${item} (the chain's private key, PEM)`);
      if (flags.ca === undefined) throw new UsageError(`--ca: required with --cert ${item} (the root certificate that verifies the chain, PEM)`);
      certs.custom = { chain: path.resolve(item), key: path.resolve(flags.key), ca: path.resolve(flags.ca) };
      kinds.push('custom');
    } else {
      throw new UsageError(`--cert: expected rsa2048, ecdsa-p256 or a PEM chain file, got "${item}"`);
    }
  }
  if (certs.custom === undefined && (flags.key !== undefined || flags.ca !== undefined)) {
    throw new UsageError(`${flags.key !== undefined ? '--key' : '--ca'}: only used with --cert FILE (your own chain)`);
  }
  for (const files of Object.values(certs)) {
    await mustRead('--cert', files.chain);
    await mustRead('--key', files.key);
    await mustRead('--ca', files.ca);
  }
  return { certKinds: [...new Set(kinds)], certs };
}
