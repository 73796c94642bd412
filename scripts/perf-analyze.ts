/**
 * `npm run perf:analyze -- [--file FILE] [--server-port N] [--size-mb N] [--keep]`: times
 * `tls-reuse-bench analyze` against tshark and a bare pcap-parser loop on one large capture (issue 2,
 * "Speed"). A benchmark script, not a test: it prints the verdict and exits 0 when both targets are met,
 * 1 when not, 2 on bad usage.
 *
 * Without --file it makes a real capture (scripts/perf/capture.ts) of about --size-mb MB, or reuses the one
 * an earlier run kept in the cache with --keep.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BenchError } from '../bench/errors.ts';
import type { AnalyzeResult } from '../bench/model/index.ts';
import { Cleanup } from './perf/cleanup.ts';
import { makeCapture, type MadeCapture } from './perf/capture.ts';
import { TRAFFIC_VERSION } from './perf/traffic.ts';
import { measureRun } from './perf/measure.ts';
import { analyzeCommand, formatMiB, timeTools, tsharkVersion } from './perf/tools.ts';
import { judge } from './perf/verdict.ts';

const USAGE = `usage: npm run perf:analyze -- [--file FILE] [--server-port N] [--size-mb N] [--keep]

Times \`tls-reuse-bench analyze FILE --json\` next to tshark (extracting frame.len, tls.record.content_type
and tls.record.length) and a bare pcap-parser loop on the same capture: median of 5 runs, peak RSS.
Targets: analyze at least 15x faster than tshark, analyze peak RSS under 200 MB. Exit 0 when both are met.

  --file FILE       capture to use (classic pcap for the pcap-parser loop); otherwise one is made on
                    loopback (root or CAP_NET_RAW for tcpdump) or taken from the cache
  --server-port N   with --file: the TLS server port for tshark (default: analyze's most common server port)
  --size-mb N       size of the capture to make, in MB (default 200)
  --keep            keep the capture this run makes in the cache, so the next run reuses it`;

const DEFAULT_SIZE_MB = 200;
const CACHE_DIR = join(tmpdir(), 'tls-reuse-bench-perf');
const REPO_ROOT = resolve(import.meta.dirname, '..');

/** The resolved command line. */
interface PerfOptions {
  file: string | null;
  serverPort: number | null;
  sizeMb: number;
  keep: boolean;
}

/** A usage problem: printed with the usage, exit 2. */
class PerfUsageError extends Error {}

function parseOptions(argv: string[]): PerfOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        file: { type: 'string' },
        'server-port': { type: 'string' },
        'size-mb': { type: 'string' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new PerfUsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  const { values } = parsed;
  if (values.help) return 'help';
  const whole = (flag: string, text: string, min: number, max: number): number => {
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max) {
      throw new PerfUsageError(`--${flag}: expected a whole number from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };
  const file = values.file ?? null;
  if (file === null && values['server-port'] !== undefined) {
    throw new PerfUsageError('--server-port: only with --file (a capture made here knows its server port)');
  }
  if (file !== null && (values['size-mb'] !== undefined || values.keep)) {
    throw new PerfUsageError(`--${values.keep ? 'keep' : 'size-mb'}: only without --file (it is about the capture made here)`);
  }
  return {
    file: file === null ? null : resolve(file),
    serverPort: values['server-port'] === undefined ? null : whole('server-port', values['server-port'], 1, 65535),
    sizeMb: values['size-mb'] === undefined ? DEFAULT_SIZE_MB : whole('size-mb', values['size-mb'], 1, 100_000),
    keep: values.keep ?? false,
  };
}

/** A count with thousands separators. */
const count = (n: number): string => n.toLocaleString('en-US');

const log = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** The server port seen most often in analyze's connections, or null when it saw none. */
function mostCommonServerPort(result: AnalyzeResult): number | null {
  const counts = new Map<number, number>();
  for (const connection of result.connections) counts.set(connection.server.port, (counts.get(connection.server.port) ?? 0) + 1);
  let best: number | null = null;
  for (const [port, count] of counts) if (best === null || count > (counts.get(best) ?? 0)) best = port;
  return best;
}

/** Takes the capture given, the cached one, or makes one; says which and what it holds. */
async function obtainCapture(options: PerfOptions, cleanup: Cleanup): Promise<{ file: string; made: MadeCapture | null }> {
  if (options.file !== null) {
    const info = await stat(options.file).catch((error: unknown) => {
      throw new PerfUsageError(`--file: cannot read ${options.file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    if (!info.isFile()) throw new PerfUsageError(`--file: ${options.file} is not a file`);
    log(`capture: ${options.file} (given, ${(info.size / 1e6).toFixed(1)} MB)`);
    return { file: options.file, made: null };
  }
  await mkdir(CACHE_DIR, { recursive: true });
  // Named by the traffic's version: a capture kept before the load changed is not taken for one of it.
  const file = join(CACHE_DIR, `capture-${TRAFFIC_VERSION}-${options.sizeMb}mb.pcap`);
  const cached = await stat(file).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  });
  if (cached !== null) {
    log(`capture: ${file} (cached by an earlier --keep run, ${(cached.size / 1e6).toFixed(1)} MB; delete it to make a new one)`);
    return { file, made: null };
  }
  log(`capture: making ${file}: the agent's requests (log posts, now and then the config), one per new TLS 1.2 or 1.3 connection (5% kept alive for several), on 127.0.0.1, captured by tcpdump until ${options.sizeMb} MB`);
  if (!options.keep) cleanup.add(() => rm(file, { force: true }));
  const made = await makeCapture(file, options.sizeMb * 1e6, { repoRoot: REPO_ROOT, cleanup, log });
  const { tcpdump, traffic } = made;
  log(`  made in ${made.seconds.toFixed(1)} s: ${(made.fileBytes / 1e6).toFixed(1)} MB, ${count(tcpdump.packetsCaptured)} packets (tcpdump), ` +
    `${count(tcpdump.packetsDroppedByKernel)} dropped by the kernel${tcpdump.packetsDroppedByKernel > 0 ? ' (fine for a perf input; the TLS accounting of some connections is then inexact)' : ''}`);
  log(`  ${count(traffic.connections)} connections (${(traffic.connections / made.seconds).toFixed(0)}/s; ` +
    `${count(traffic.tls12Connections)} TLS 1.2, ${count(traffic.tls13Connections)} TLS 1.3, ` +
    `${count(traffic.keptAliveConnections)} kept alive), ${count(traffic.requests)} requests, ` +
    `${traffic.failedConnections} failed${traffic.firstFailure === null ? '' : ` (first: ${traffic.firstFailure})`}; server port ${made.serverPort}`);
  return { file, made };
}

async function run(options: PerfOptions, cleanup: Cleanup): Promise<number> {
  const tshark = await tsharkVersion();
  log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), Node ${process.version}, ${tshark ?? 'tshark not installed'}`);
  const { file, made } = await obtainCapture(options, cleanup);
  const fileBytes = (await stat(file)).size;

  // An untimed first run of analyze: it reads the file into the page cache for every tool alike, and its
  // JSON says what the file holds and, for a given file, which port is the TLS server's.
  const jsonPath = join(CACHE_DIR, `analyze-${process.pid}.json`);
  if (!options.keep) cleanup.add(() => rm(jsonPath, { force: true }));
  const warmup = analyzeCommand(REPO_ROOT, file);
  const warm = await measureRun(warmup.command, warmup.args, { cwd: REPO_ROOT, stdout: { to: 'file', path: jsonPath }, cleanup });
  const analysis = JSON.parse(await readFile(jsonPath, 'utf8')) as AnalyzeResult;
  log(`analyze (untimed warm-up, ${warm.wallSeconds.toFixed(2)} s, ${formatMiB(warm.peakRssBytes)} MiB): ${count(analysis.file.packets)} packets, ` +
    `${count(analysis.total.connections)} connections (${count(analysis.total.fullHandshakes)} full, ` +
    `${count(analysis.total.resumedHandshakes)} resumed handshakes), ${count(analysis.total.requests)} requests, ` +
    `${analysis.warnings.length} kind(s) of warning${options.keep ? `; JSON kept at ${jsonPath}` : ''}`);
  for (const warning of analysis.warnings) log(`  warning ${warning.kind}${warning.count === undefined ? '' : ` x${warning.count}`}: ${warning.message}`);

  const serverPort = options.serverPort ?? made?.serverPort ?? mostCommonServerPort(analysis);
  const tsharkPort = tshark === null || serverPort === null ? null : serverPort;
  const skipReason = tshark === null ? 'tshark is not installed (apt-get install tshark)' : 'no TCP connection to take a server port from (--server-port N)';
  log(`timing ${fileBytes === 0 ? 'an empty file' : `${(fileBytes / 1e6).toFixed(1)} MB`}${tsharkPort === null ? '' : `, tshark decoding tcp.port==${tsharkPort} as TLS`}:`);
  const { results, loopPackets } = await timeTools({ repoRoot: REPO_ROOT, file, tsharkPort, tsharkSkipReason: skipReason, cleanup, log });

  const packets = analysis.file.packets;
  const counted: [string, number][] = [
    ['analyze', packets],
    ...(loopPackets === null ? [] : [['pcap-parser', loopPackets] as [string, number]]),
    ...(made === null ? [] : [['tcpdump', made.tcpdump.packetsCaptured] as [string, number]]),
  ];
  const agreement = counted.length < 2 ? '' : new Set(counted.map(([, n]) => n)).size === 1 ? ' (agree)' : ' — DISAGREE: a reader lost or invented packets';
  const verdict = judge(results, fileBytes, packets);
  log('');
  log(verdict.table);
  log('');
  log(`packets counted: ${counted.map(([who, n]) => `${who} ${count(n)}`).join(', ')}${agreement}`);
  log(`connections in the file (analyze): ${count(analysis.total.connections)}${made === null ? '' : `; opened by the load: ${count(made.traffic.connections)}`}`);
  for (const note of verdict.notes) log(`note: ${note}`);
  log('peak RSS is the largest of the runs; times are medians of the runs; MB = 10^6 bytes, MiB = 2^20');
  for (const line of verdict.lines) log(line);
  if (made !== null) log(options.keep ? `capture kept at ${file} for the next run` : `capture removed (--keep keeps it for the next run)`);
  return verdict.met ? 0 : 1;
}

async function main(): Promise<number> {
  let options: PerfOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof PerfUsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    log(USAGE);
    return 0;
  }
  const cleanup = new Cleanup();
  // `on`, not `once`: execa's exit hook re-raises a signal nobody else listens to, which would end this
  // process before the cleanup has stopped tcpdump and removed the partial capture. A repeated signal
  // during the cleanup is ignored: the cleanup is bounded (tcpdump is killed 10 s after SIGINT).
  let stopping = false;
  const interrupted = (signal: NodeJS.Signals, code: number) => () => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n${signal}: stopping every process this script started\n`);
    void cleanup.run().finally(() => process.exit(code));
  };
  process.on('SIGINT', interrupted('SIGINT', 130));
  process.on('SIGTERM', interrupted('SIGTERM', 143));
  try {
    return await run(options, cleanup);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`error: ${message}\n`);
    if (error instanceof PerfUsageError) return 2;
    return error instanceof BenchError ? error.exitCode : 1;
  } finally {
    await cleanup.run();
  }
}

process.exitCode = await main();
