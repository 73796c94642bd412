/** `tls-reuse-bench run`: resolves the scenario matrix, runs it live, prints the headline. */
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { SPEC_LIMITS, type ScenarioResult, type ScenarioSpec } from '../model/index.ts';
import { REPO_ROOT } from '../paths.ts';
import { parseNetworkList } from '../link/profile.ts';
import { AGENT_SESSION_TIMEOUT_S, DEFAULT_SEED, DEFAULT_WORKLOAD, NGINX_IDLE_TIMEOUT_S, pacedCompression, resolveRun } from '../plan/resolve.ts';
import { SUITES, type SuiteName } from '../plan/suites.ts';
import { buildReportModel, headlineText, renderReports, terminalSummary } from '../report/index.ts';
import { formatBytes, wrap, wrapped } from '../report/format.ts';
import { runSuite, type RunEvents } from '../run/suite.ts';
import { parseCommand } from './args.ts';
import { displayPath } from './display.ts';
import { suiteLabel } from '../report/labels.ts';
import { appendStepSummary } from './step-summary.ts';

/** The shortest channel period of the default workload (its logger's 5 s), which paces emulated paths. */
const AGENT_SHORTEST_INTERVAL_MS = 5000;

const suiteLines = (Object.keys(SUITES) as SuiteName[])
  .map((name) => {
    const [size, matrix] = describeSuite(name);
    return `  ${name.padEnd(8)} ${size}\n${matrix.replace(/^/gm, ' '.repeat(11))}`;
  })
  .join('\n');

export const runHelp = `usage: tls-reuse-bench run [--suite quick|default|full] [--out DIR] [flags]

Runs an osquery-like agent workload against a local TLS server in each mode (fresh: a new connection per
request; persistent: one kept-alive connection per channel; resumed: new connections with TLS session
resumption), captures it with tcpdump, accounts every byte and prints what reuse saves.

suites (a matrix flag below replaces that axis of the suite; times are rough, on 2 cores):
${suiteLines}

  --suite NAME              quick, default or full (default: default, what npm run bench runs)
  --out DIR                 write this run into DIR, a new or empty folder (default: reports/<run-id>, and
                            reports/latest links to it)
  --force                   replace the previous run found in --out (or a folder in the place of
                            reports/latest) (default: refuse a folder that holds anything)
  --modes LIST              fresh,persistent,resumed (default: the suite's)
  --tls LIST                1.2,1.3 (default: the suite's)
  --cert LIST|FILE          rsa2048,ecdsa-p256, or your own PEM chain file, then with --key and --ca
                            (default: the suite's)
  --key FILE --ca FILE      your chain's private key and the root that verifies it (no default)
  --server LIST             node (embedded agent API server), nginx (default: the suite's)
  --network LIST            loopback, lan (1 ms RTT, 1 Gbit/s), wan (60 ms RTT, 20/10 Mbit/s down/up) or a
                            custom path (rtt=80ms,down=5mbit,up=1mbit,...): emulated packet by packet
                            (default: the suite's)
  --endpoints N             simulated agents, ${SPEC_LIMITS.endpoints.min}-${SPEC_LIMITS.endpoints.max} (default: the suite's)
  --virtual-minutes N       length of each scenario in virtual minutes, ${SPEC_LIMITS.virtualMinutes.min}-${SPEC_LIMITS.virtualMinutes.max} (default: the suite's)
  --time-compression X      virtual seconds per real second, ${SPEC_LIMITS.timeCompression.min}-${SPEC_LIMITS.timeCompression.max} (default: the suite's)
  --session-timeout DUR     the agent's --tls_session_timeout; 0 = never (default: ${AGENT_SESSION_TIMEOUT_S}s)
  --server-idle-timeout DUR server keep-alive idle timeout (default: ${NGINX_IDLE_TIMEOUT_S}s, nginx's)
  --session-tickets on|off  server issues TLS session tickets (default: on)
  --seed N                  payload seed, same seed same bytes (default: ${DEFAULT_SEED})
  --runs N                  run each scenario N times and report mean ± sd, min-max and the 95% CI of
                            every figure, 1-100 (default: 1; npm run bench uses 3)
  --latency-samples N       timed requests per API call in each scenario's latency phase
                            (default: 30 on loopback, 20 on emulated paths)
  --workload [FILE|NAME][,AXIS=VALUE...]
                            workload file or fixtures/workloads name, then sweep axes: log-body=BYTES,
                            config-size=BYTES, rate=REQUESTS-PER-MINUTE (default: ${DEFAULT_WORKLOAD})
  --max-rate N              budget of real requests (in fresh: new TLS connections) per second; the time
                            compression is chosen to stay within it (default: 50 per core)
  --capture-agents N|all    capture this many agents in full, by source address; socket counters cover
                            every agent, reconciliation the captured ones (default: all up to 50)
  --client-threads N|auto   spread the agents over N worker threads (default: auto, one per 150
                            requests/s, up to the cores)
  --fleet-size N            scale the measured figures to a fleet of N agents, labelled derived
                            (default: 10000)
  --proxy embedded|tinyproxy  every new connection goes through an HTTP CONNECT proxy first; the capture
                            is of the client-proxy leg (loopback only) (default: direct)
  --no-capture              measure from socket counters only: no tcpdump, no headers, no TLS breakdown
                            (default: capture)
  --allow-invalid           exit 0 even when a scenario is invalid (kernel drops, reconciliation mismatch)
                            (default: exit 1)

Exit codes: 0 every scenario completed; 1 a scenario failed or is invalid, or output could not be written;
2 bad flags or files (nothing was measured); 130 after Ctrl-C (SIGINT), 143 after SIGTERM, with the finished
scenarios kept in results.json.`;

/**
 * A suite in one line: its matrix, its size and roughly how long it runs. The time is each scenario's
 * virtual length over its time compression, plus about 1.5 s per scenario for starting the server and tcpdump
 * and accounting the capture (2 s with nginx), measured on this project's 2-core machine. A scenario on an
 * emulated path runs at its paced compression and adds its latency phase: 20 samples of a new connection's
 * four round trips.
 */
export function describeSuite(name: SuiteName): [size: string, matrix: string] {
  const s = SUITES[name];
  const overheadS = s.servers.map((server) => (server === 'nginx' ? 2 : 1.5)).reduce((a, b) => a + b, 0) / s.servers.length;
  let count = s.modes.length * s.tls.length * s.certs.length * s.servers.length;
  let seconds = count * ((s.virtualMinutes * 60) / s.timeCompression + overheadS) + 5;
  const paths = s.paths === undefined ? [] : parseNetworkList(s.paths.networks).filter((p) => p.kind === 'emulated');
  for (const profile of paths) {
    const pathCount = s.modes.length * s.paths!.tls.length * s.paths!.certs.length * s.servers.length;
    const compression = pacedCompression(s.timeCompression, profile, AGENT_SHORTEST_INTERVAL_MS);
    const latencyS = (20 * 4 * profile.rttMs) / 1000;
    count += pathCount;
    seconds += pathCount * ((s.paths!.virtualMinutes * 60) / compression + latencyS + overheadS);
  }
  const rough = seconds < 60 ? `about ${Math.max(10, Math.round(seconds / 10) * 10)} s` : `about ${Math.round(seconds / 60)} min`;
  const tls = `TLS ${s.tls.map((t) => t.replace('tls', '')).join('+')}`;
  return [
    `${count} scenarios, ${rough}`,
    `${s.modes.join('/')} x ${tls} x ${s.certs.join('+')} x ${s.servers.join('+')} on loopback\n${s.endpoints} endpoint${s.endpoints === 1 ? '' : 's'}, ${s.virtualMinutes} virtual minutes at ${s.timeCompression}x` +
      (s.paths === undefined
        ? ''
        : `\nand ${s.modes.join('/')} x TLS ${s.paths.tls.map((t) => t.replace('tls', '')).join('+')} x ${s.paths.certs.join('+')} on ${s.paths.networks.replace(',', ', ')}, ${s.paths.virtualMinutes} virtual minute${s.paths.virtualMinutes === 1 ? '' : 's'}`),
  ];
}

/** Runs the command; returns the exit code. */
export async function runCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseCommand('run', args, {
    suite: { type: 'string' },
    out: { type: 'string' },
    modes: { type: 'string' },
    tls: { type: 'string' },
    cert: { type: 'string' },
    key: { type: 'string' },
    ca: { type: 'string' },
    server: { type: 'string' },
    endpoints: { type: 'string' },
    'virtual-minutes': { type: 'string' },
    'time-compression': { type: 'string' },
    'session-timeout': { type: 'string' },
    'server-idle-timeout': { type: 'string' },
    'session-tickets': { type: 'string' },
    seed: { type: 'string' },
    network: { type: 'string' },
    'latency-samples': { type: 'string' },
    runs: { type: 'string' },
    workload: { type: 'string' },
    'no-capture': { type: 'boolean' },
    'allow-invalid': { type: 'boolean' },
    'max-rate': { type: 'string' },
    'capture-agents': { type: 'string' },
    'client-threads': { type: 'string' },
    'fleet-size': { type: 'string' },
    proxy: { type: 'string' },
    force: { type: 'boolean' },
  });
  if (values.help) {
    out.write(`${runHelp}\n`);
    return 0;
  }
  if (positionals.length > 0) {
    throw new UsageError(`run: unexpected argument "${positionals[0]}" (see tls-reuse-bench run --help)`);
  }
  const run = await resolveRun(
    {
      suite: values.suite,
      out: values.out,
      modes: values.modes,
      tls: values.tls,
      cert: values.cert,
      key: values.key,
      ca: values.ca,
      server: values.server,
      endpoints: values.endpoints,
      virtualMinutes: values['virtual-minutes'],
      timeCompression: values['time-compression'],
      sessionTimeout: values['session-timeout'],
      serverIdleTimeout: values['server-idle-timeout'],
      sessionTickets: values['session-tickets'],
      seed: values.seed,
      network: values.network,
      latencySamples: values['latency-samples'],
      runs: values.runs,
      workload: values.workload,
      capture: !values['no-capture'],
      allowInvalid: values['allow-invalid'] ?? false,
      maxRate: values['max-rate'],
      captureAgents: values['capture-agents'],
      clientThreads: values['client-threads'],
      fleetSize: values['fleet-size'],
      proxy: values.proxy,
      force: values.force ?? false,
    },
    REPO_ROOT,
  );

  const controller = new AbortController();
  const stop = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    out.write(`\n${signal}: stopping after cleaning up; results so far are kept\n`);
    controller.abort(signal);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const progress = progressPrinter(out);
  out.write(`${wrapped(`tls-reuse-bench: ${run.scenarios.length} scenarios (${suiteLabel(run)}) → ${displayPath(run.outDir)}`, DEFAULT_COLUMNS)}\n`);
  out.write(`${wrapped(`pace: ${run.pacing.timeCompression}x (${run.pacing.reason})`, DEFAULT_COLUMNS)}\n`);
  try {
    const results = await runSuite(run, progress, controller.signal);
    const model = buildReportModel(results);
    const rendered = await renderReports(model, run.outDir);
    await appendStepSummary(rendered.markdownText);
    // The tables as wide as the terminal (80 in a pipe or CI): a wider one is printed as panels.
    const columns = (out as { columns?: number }).columns;
    const width = typeof columns === 'number' && columns > 0 ? columns : DEFAULT_COLUMNS;
    out.write(`\n${headlineText(model, width)}\n\n`);
    // The run's own warnings (a path left out, a compression lowered, an interruption), not a scenario's.
    for (const w of results.warnings) out.write(`${wrapped(`warning: ${w.message}`, DEFAULT_COLUMNS)}\n`);
    if (results.warnings.length > 0) out.write('\n');
    out.write(`results: ${displayPath(path.join(run.outDir, 'results.json'))}\n`);
    out.write(`report:  ${displayPath(rendered.html)} (charts in ${displayPath(path.join(run.outDir, 'charts'))}/)\n`);
    // The answer last, where the eye lands when the run ends; as wide as the terminal (80 in a pipe or CI).
    out.write(`\n${terminalSummary(model, width)}\n`);
    // The shell's convention for a command ended by a signal: 128 + its number (SIGINT 2 → 130, SIGTERM 15 → 143).
    if (results.interrupted) return controller.signal.reason === 'SIGTERM' ? 143 : 130;
    const failed = results.scenarios.filter((s) => s.state === 'failed').length;
    const invalid = results.scenarios.filter((s) => s.state === 'invalid').length;
    if (failed > 0 || (invalid > 0 && !run.allowInvalid)) {
      out.write(`${failed} failed and ${invalid} invalid scenarios${invalid > 0 ? ' (--allow-invalid accepts invalid ones)' : ''}\n`);
      return 1;
    }
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** Columns progress lines may use: the terminal's width, 80 elsewhere (a log, a pipe, CI). */
const DEFAULT_COLUMNS = 80;
/** Indent of a scenario's second and further lines, under its id. */
const INDENT = '        ';

/**
 * Progress on the terminal: one line rewritten in place on a TTY (cut to its width), plain lines (start and end
 * of each scenario) when output is a file, a pipe or CI; no escape sequence then. Every line fits the terminal,
 * 80 columns when there is none: a scenario's figures and any reason it failed go on lines of their own.
 */
export function progressPrinter(out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): RunEvents {
  const tty = out as { isTTY?: boolean; columns?: number };
  const live = tty.isTTY === true && env.CI !== 'true' && env.TERM !== 'dumb';
  const width = live ? Math.max(40, tty.columns ?? DEFAULT_COLUMNS) : DEFAULT_COLUMNS;
  let prefix = '';
  let lastDraw = 0;
  const describe = (result: ScenarioResult): string[] => {
    // The first line starts at the margin; what does not fit goes on indented lines.
    const head = (text: string) => wrap(text, width, INDENT).map((line, i) => (i === 0 ? line.slice(INDENT.length) : line));
    if (result.state === 'failed') return [...head(`${prefix} failed:`), ...wrap(result.error, width, INDENT)];
    const p = result.perEndpointMinute;
    const rate = (n: number | null, m: number) => `${formatBytes(n ?? m)}/min`;
    const state = result.state === 'invalid' ? 'INVALID:' : result.capture.reconciled === null ? 'not captured' : 'reconciled';
    const warnings = result.warnings.length === 0 ? '' : `, ${result.warnings.length} warning${result.warnings.length === 1 ? '' : 's'} (see the report)`;
    const summary = result.summary;
    // Over several runs: each direction's mean ± sd.
    const spread = (d: 'up' | 'down') => {
      const s = summary.perEndpointMinute;
      const x = d === 'up' ? (s.upWireBytes ?? s.upTcpPayloadBytes) : (s.downWireBytes ?? s.downTcpPayloadBytes);
      return x === undefined ? '-' : `${formatBytes(x.mean)} ± ${formatBytes(x.sd)}/min`;
    };
    const runs = summary.runs > 1 ? ` ${summary.measuredRuns} runs,` : '';
    const realSeconds = summary.runs > 1 ? result.repetitions.reduce((a, r) => a + r.realDurationMs, 0) / 1000 : result.realDurationMs / 1000;
    const traffic =
      summary.runs > 1
        ? `up ${spread('up')}, down ${spread('down')}`
        : `up ${rate(p.upWireBytes, p.upTcpPayloadBytes)}, down ${rate(p.downWireBytes, p.downTcpPayloadBytes)}`;
    return [
      ...head(`${prefix}${runs} ${realSeconds.toFixed(1)} s, ${state}`),
      ...(result.state === 'invalid' ? result.invalidReasons.flatMap((r) => wrap(r, width, INDENT)) : []),
      ...wrap(`${traffic}${warnings}`, width, INDENT),
    ];
  };
  const fit = (line: string) => (line.length <= width - 1 ? line : `${line.slice(0, width - 2)}…`);
  return {
    scenarioStart(index: number, count: number, spec: ScenarioSpec, repetition: number, runs: number) {
      prefix = `[${index + 1}/${count}] ${spec.id}${runs > 1 ? ` run ${repetition}/${runs}` : ''}`;
      out.write(live ? fit(`${prefix} …`) : `${prefix} started\n`);
    },
    scenarioProgress(done: number, total: number) {
      if (!live) return;
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      out.write(`\r\x1b[2K${fit(`${prefix} ${done}/${total} requests`)}`);
    },
    scenarioEnd(index: number, count: number, result: ScenarioResult) {
      // The scenario as a whole, all its runs.
      prefix = `[${index + 1}/${count}] ${result.id}`;
      out.write(`${live ? '\r\x1b[2K' : ''}${describe(result).join('\n')}\n`);
    },
  };
}
