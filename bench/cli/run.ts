/** `tls-reuse-bench run`: resolves the scenario matrix, runs it live, prints the headline. */
import path from 'node:path';
import { UsageError } from '../errors.ts';
import type { ScenarioResult, ScenarioSpec } from '../model/index.ts';
import { REPO_ROOT } from '../paths.ts';
import { resolveRun } from '../plan/resolve.ts';
import { buildReportModel, headlineText, renderReports, terminalSummary } from '../report/index.ts';
import { runSuite, type RunEvents } from '../run/suite.ts';
import { parseCommand } from './args.ts';
import { displayPath } from './display.ts';
import { appendStepSummary } from './step-summary.ts';

export const runHelp = `usage: tls-reuse-bench run [--suite quick|default|full] [--out DIR] [flags]

Runs an osquery-like agent workload against a local TLS server in each mode (fresh: a new connection per
request; persistent: one kept-alive connection per channel; resumed: new connections with TLS session
resumption), captures it with tcpdump, accounts every byte and prints what reuse saves.

  --suite NAME              quick (CI smoke, <20 s), default (npm run bench), full
  --out DIR                 write this run into DIR (default reports/<run-id>, and reports/latest)
  --modes LIST              fresh,persistent,resumed
  --tls LIST                1.2,1.3
  --cert LIST|FILE          rsa2048,ecdsa-p256, or your own PEM chain file (then --key and --ca)
  --key FILE --ca FILE      your chain's private key and the root that verifies it
  --server LIST             node (embedded agent API server), nginx
  --network LIST            loopback, lan (1 ms RTT, 1 Gbit/s), wan (60 ms RTT, 20/10 Mbit/s down/up):
                            the path between client and server, emulated packet by packet
  --endpoints N             simulated agents
  --virtual-minutes N       length of each scenario in virtual minutes
  --time-compression X      virtual seconds per real second
  --session-timeout DUR     the agent's --tls_session_timeout (default 3600s; 0 = never)
  --server-idle-timeout DUR server keep-alive idle timeout (default 75s, nginx's)
  --session-tickets on|off  server issues TLS session tickets (default on)
  --seed N                  payload seed (same seed, same bytes)
  --runs N                  run each scenario N times and report mean ± sd, min-max and the 95% CI of
                            every figure (default 1; npm run bench uses 3)
  --latency-samples N       timed requests per API call in each scenario's latency phase
                            (default 30 on loopback, 20 on emulated paths)
  --workload FILE           workload description (default fixtures/workloads/osquery-default.json)
  --no-capture              measure from socket counters only (no tcpdump; no headers, no TLS breakdown)
  --allow-invalid           exit 0 even when a scenario is invalid (kernel drops, reconciliation mismatch)`;

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
  out.write(`tls-reuse-bench: ${run.scenarios.length} scenarios (suite ${run.suite}) → ${displayPath(run.outDir)}\n`);
  try {
    const results = await runSuite(run, progress, controller.signal);
    const model = buildReportModel(results);
    const rendered = await renderReports(model, run.outDir);
    await appendStepSummary(rendered.markdownText);
    out.write(`\n${headlineText(model)}\n\n`);
    out.write(`results: ${displayPath(path.join(run.outDir, 'results.json'))}\n`);
    out.write(`report:  ${displayPath(rendered.html)} (charts in ${displayPath(path.join(run.outDir, 'charts'))}/)\n`);
    // The answer last, where the eye lands when the run ends; as wide as the terminal (80 in a pipe or CI).
    const columns = (out as { columns?: number }).columns;
    out.write(`\n${terminalSummary(model, typeof columns === 'number' && columns > 0 ? columns : 80)}\n`);
    if (results.interrupted) return 130;
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

/**
 * Progress on the terminal: one line rewritten in place on a TTY, plain lines (start and end of each
 * scenario) when output is a file, a pipe or CI.
 */
function progressPrinter(out: NodeJS.WritableStream): RunEvents {
  const live = (out as { isTTY?: boolean }).isTTY === true && process.env.CI !== 'true';
  let prefix = '';
  let lastDraw = 0;
  const describe = (result: ScenarioResult): string => {
    if (result.state === 'failed') return `failed: ${result.error}`;
    const p = result.perEndpointMinute;
    const bytes = (n: number | null, m: number) => `${Math.round(n ?? m).toLocaleString('en-US')} B`;
    const state = result.state === 'invalid' ? `INVALID (${result.invalidReasons.join('; ')})` : result.capture.reconciled === null ? 'not captured' : 'reconciled';
    const summary = result.summary;
    if (summary.runs > 1) {
      const s = summary.perEndpointMinute;
      const spread = (d: 'up' | 'down') => {
        const x = d === 'up' ? (s.upWireBytes ?? s.upTcpPayloadBytes) : (s.downWireBytes ?? s.downTcpPayloadBytes);
        return x === undefined ? '-' : `${Math.round(x.mean).toLocaleString('en-US')} ± ${Math.round(x.sd).toLocaleString('en-US')} B`;
      };
      const seconds = result.repetitions.reduce((a, r) => a + r.realDurationMs, 0) / 1000;
      return `${summary.measuredRuns} runs, ${seconds.toFixed(1)} s, up ${spread('up')}/min, down ${spread('down')}/min, ${state}`;
    }
    return `${(result.realDurationMs / 1000).toFixed(1)} s, up ${bytes(p.upWireBytes, p.upTcpPayloadBytes)}/min, down ${bytes(p.downWireBytes, p.downTcpPayloadBytes)}/min, ${state}`;
  };
  return {
    scenarioStart(index: number, count: number, spec: ScenarioSpec, repetition: number, runs: number) {
      prefix = `[${index + 1}/${count}] ${spec.id}${runs > 1 ? ` run ${repetition}/${runs}` : ''}`;
      out.write(live ? `${prefix} …` : `${prefix} started\n`);
    },
    scenarioProgress(done: number, total: number) {
      if (!live) return;
      const now = Date.now();
      if (now - lastDraw < 100 && done < total) return;
      lastDraw = now;
      out.write(`\r\x1b[2K${prefix} ${done}/${total} requests`);
    },
    scenarioEnd(index: number, count: number, result: ScenarioResult) {
      out.write(`${live ? '\r\x1b[2K' : ''}[${index + 1}/${count}] ${result.id} ${describe(result)}\n`);
    },
  };
}
