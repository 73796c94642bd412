/**
 * A whole run: checks everything that can fail before the first connection, runs the scenarios one at a time,
 * writes `results.json` after each (so an interrupted run keeps what finished) with the comparisons so far.
 */
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkCapture, tcpdumpVersion } from '../capture/tcpdump.ts';
import { InputError, OutputError } from '../errors.ts';
import { sweepStale } from '../guard/guard.ts';
import { toolVersion } from '../version.ts';
import { compareScenarios } from '../analyze/compare.ts';
import { combineRepetitions, type RepetitionInput } from '../analyze/repetitions.ts';
import { sensitivityCurves, sensitivityWorkload, type ResponseSizes } from '../analyze/sensitivity.ts';
import { derivationHorizonMinutes } from '../analyze/steady.ts';
import { checkLinkSupport, LinkError, sweepStaleLinks } from '../link/index.ts';
import { RESULTS_SCHEMA, warning, type Environment, type MeasuredScenario, type Results, type ScenarioResult, type ScenarioSpec, type SensitivityWorkload, type Warning } from '../model/index.ts';
import { writeResults } from '../results/write.ts';
import { rerunCommand } from '../plan/command.ts';
import type { ResolvedRun } from '../plan/resolve.ts';
import { REPO_ROOT } from '../paths.ts';
import { nginxVersion } from '../serve/index.ts';
import { DEFAULT_API_DIR, loadResponseBodies } from '../serve/api-bodies.ts';
import { applyWorkloadOverrides, buildSchedule, expectedRequestsPerEndpointMinute, loadWorkload, scheduleInstants, type Workload } from '../workload/index.ts';
import { checkLatestLink, claimRunFolder, pointLatest, releaseRunFolder } from '../results/folder.ts';
import { checkFleetLimits } from './limits.ts';
import { runScenario } from './scenario.ts';

/** Progress events for the terminal; the runner itself never writes to it. */
export interface RunEvents {
  /** `repetition` of `runs` (`--runs`): called once per repetition. */
  scenarioStart?(index: number, count: number, spec: ScenarioSpec, repetition: number, runs: number): void;
  scenarioProgress?(done: number, total: number): void;
  scenarioEnd?(index: number, count: number, result: ScenarioResult): void;
}

/** Runs a resolved plan; resolves with the results (also written to `<outDir>/results.json`). */
export async function runSuite(plan: ResolvedRun, events: RunEvents, signal: AbortSignal): Promise<Results> {
  let run = plan;
  // Fail before measuring (STYLE.md §5): output folder, workload, tools and capture permission first. A check
  // that fails leaves no folder behind.
  // Whatever runs killed outright left behind (their nginx and its temporary folder) goes first.
  await sweepStale();
  if (run.latestLink !== null) await checkLatestLink(run.latestLink, run.force);
  const folder = await claimRunFolder(run.outDir, { exclusive: run.latestLink !== null, force: run.force });
  let environment: Environment;
  let workload: Workload;
  try {
    workload = applyWorkloadOverrides(await loadWorkload(run.workloadPath), run.workloadOverrides ?? {});
    // nginx's version belongs in every run's environment; without nginx, only nginx scenarios cannot run.
    const nginx = await nginxVersion().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
    if (nginx instanceof Error && run.scenarios.some((s) => s.server === 'nginx')) {
      throw new InputError(`--server nginx: ${nginx.message}`, { cause: nginx });
    }
    environment = await describeEnvironment(typeof nginx === 'string' ? nginx : null);
    if (run.capture) await checkCapture('lo', path.join(run.outDir, '.capture-check.pcap')).finally(() => rm(path.join(run.outDir, '.capture-check.pcap'), { force: true }));
    // Limits first: descriptors, ports, TIME_WAIT buckets and memory for the fleet, before any connection.
    const first = run.scenarios[0];
    if (first !== undefined) {
      const perMinute = expectedRequestsPerEndpointMinute(workload);
      await checkFleetLimits({
        endpoints: first.endpoints,
        requestsPerEndpointMinute: perMinute,
        timeCompression: run.pacing.timeCompression,
        scheduledRequests: Math.ceil(first.endpoints * (first.virtualMinutes + 1) * (perMinute + 1)),
      });
    }
    if (run.scenarios.some((s) => s.link !== null)) {
      // Emulated paths: check that links can be made here, and remove what a killed earlier run left. Paths
      // the suite added (not asked for with --network) are left out where links cannot be made.
      const unsupported = await checkLinkSupport().then(
        () => null,
        (error: unknown) => {
          if (error instanceof LinkError && run.pathsOptional) return error;
          throw error;
        },
      );
      if (unsupported === null) await sweepStaleLinks();
      else {
        const left = run.scenarios.filter((s) => s.link !== null);
        const networks = new Set(left.map((s) => s.network));
        const skipped = warning('network-paths-skipped', { count: left.length, networks: [...networks], reason: unsupported.message });
        run = {
          ...run,
          scenarios: run.scenarios.filter((s) => s.link === null),
          // A note about a left-out path (its time compression) no longer applies.
          notes: [...run.notes.filter((n) => n.network === null || !networks.has(n.network)), { network: null, warning: skipped }],
        };
      }
    }
  } catch (error) {
    await releaseRunFolder(folder);
    throw error;
  }
  if (run.latestLink !== null) await pointLatest(run.latestLink, run.outDir);

  const results: Results = {
    schema: RESULTS_SCHEMA,
    runId: run.runId,
    tool: toolVersion(),
    startedAt: new Date().toISOString(),
    finishedAt: '',
    interrupted: false,
    options: {
      suite: run.suite,
      overrides: run.overrides,
      workloadPath: run.workloadPath,
      capture: run.capture,
      allowInvalid: run.allowInvalid,
      runs: run.runs,
      certs: Object.fromEntries(Object.entries(run.certs).map(([kind, files]) => [kind, files.chain])),
    },
    environment,
    scenarios: [],
    comparisons: [],
    warnings: run.notes.map((n) => n.warning),
  };

  try {
    await runScenarios(run, workload, results, events, signal);
  } catch (error) {
    if (!(error instanceof OutputError)) throw error;
    // A full disk: keep what finished. The last good results.json is in place (written atomically); try to
    // replace it with one that says why the run stopped, which may fit now that the failed write's temporary
    // file is gone. Either way the error is what the run ends with (exit 1).
    results.interrupted = true;
    results.warnings.push(warning('output-failed', { done: results.scenarios.length, count: run.scenarios.length, error: error.message }));
    results.finishedAt = new Date().toISOString();
    await writeResults(run.outDir, results).catch(() => undefined);
    throw error;
  }
  results.interrupted = signal.aborted;
  if (results.interrupted) {
    results.warnings.push(interruptedWarning(results.scenarios.length, run.scenarios.length));
  }
  results.finishedAt = new Date().toISOString();
  await writeResults(run.outDir, results);
  return results;
}

/** Runs the scenarios one at a time, writing results.json after each; stops early on abort. */
async function runScenarios(run: ResolvedRun, workload: Workload, results: Results, events: RunEvents, signal: AbortSignal): Promise<void> {
  const count = run.scenarios.length;
  const responses = await responseSizes(workload);
  const sensitivityInputs = new Map<string, SensitivityWorkload>();
  for (const [index, spec] of run.scenarios.entries()) {
    if (signal.aborted) break;
    const schedule = buildSchedule(workload, { endpoints: spec.endpoints, virtualMinutes: spec.virtualMinutes, seed: spec.seed });
    const inputs = responses === null ? null : sensitivityWorkload(schedule, responses, spec.endpoints * spec.virtualMinutes, spec.serverIdleTimeoutVirtualSeconds);
    if (inputs !== null) sensitivityInputs.set(spec.id, inputs);
    const cert = run.certs[spec.cert]!;
    const horizon = derivationHorizonMinutes(spec);
    // The steady state is the captured agents' (the first ones): only theirs is derived, from instants alone.
    const longRunSchedule =
      spec.mode !== 'persistent'
        ? null
        : { virtualMinutes: horizon, requests: scheduleInstants(workload, { endpoints: spec.captureAgents ?? spec.endpoints, virtualMinutes: horizon, seed: spec.seed }) };
    const reference = loopbackTwin(results.scenarios, spec);
    // Like hyperfine: each scenario's repetitions back to back, the load average read around each.
    const repetitions: RepetitionInput[] = [];
    for (let repetition = 1; repetition <= run.runs && !signal.aborted; repetition++) {
      events.scenarioStart?.(index, count, spec, repetition, run.runs);
      const before = os.loadavg()[0]!;
      const single = await runScenario(spec, {
        runDir: run.outDir,
        workload,
        schedule,
        longRunSchedule,
        cert,
        capture: run.capture,
        repetition,
        latencySamples: typeof run.latencySamples === 'number' ? run.latencySamples : run.latencySamples[spec.link === null ? 'loopback' : 'emulated'],
        reference,
        signal,
        rerunCommand: rerunCommand(spec, run, REPO_ROOT),
        pacing: run.pacing,
        fleetSize: run.fleetSize,
        clientThreads: run.clientThreads,
        ...(events.scenarioProgress === undefined ? {} : { onProgress: events.scenarioProgress }),
      });
      repetitions.push({ result: single, loadAverage: { before, after: os.loadavg()[0]! } });
    }
    if (repetitions.length === 0) break;
    const result = combineRepetitions(repetitions, results.environment.cores);
    results.scenarios.push(result);
    results.comparisons = compareScenarios(results.scenarios);
    const curves = sensitivityCurves(results, sensitivityInputs);
    if (curves.length > 0) results.sensitivity = curves;
    events.scenarioEnd?.(index, count, result);
    await writeResults(run.outDir, results);
  }
}

/**
 * The response bodies' sizes the sensitivity model counts (the servers send the same bytes); null for a
 * workload that compresses bodies, where a body byte is no longer a wire byte and the model does not apply.
 */
async function responseSizes(w: Workload): Promise<ResponseSizes | null> {
  if (w.acceptGzip || w.loggerCompress) return null;
  const bodies = await loadResponseBodies(DEFAULT_API_DIR, w.config.responseBytes);
  return {
    config: bodies.config.json.length,
    log: bodies.log.json.length,
    distributedRead: bodies.distributed_read.json.length,
    distributedReadQuery: bodies.distributed_read_query.json.length,
    distributedWrite: bodies.distributed_write.json.length,
    enroll: bodies.enroll.json.length,
  };
}

/**
 * The measured loopback scenario of the same mode, TLS version, chain, server and workload: its p50s are the
 * server's (and both ends' CPU) time in an emulated path's round-trip model. Run length and pacing do not
 * matter to one request's time.
 */
function loopbackTwin(done: readonly ScenarioResult[], spec: ScenarioSpec): MeasuredScenario | null {
  if (spec.link === null) return null;
  const same = (s: ScenarioSpec) =>
    s.link === null && s.mode === spec.mode && s.tls === spec.tls && s.cert === spec.cert && s.server === spec.server && s.workload === spec.workload;
  for (const s of done) if (s.state !== 'failed' && same(s.spec)) return s;
  return null;
}

function interruptedWarning(done: number, count: number): Warning {
  return warning('interrupted', { done, count });
}

/** Node, OpenSSL, kernel, CPU and tool versions. */
async function describeEnvironment(nginx: string | null): Promise<Environment> {
  const cpus = os.cpus();
  return {
    node: process.versions.node,
    openssl: process.versions.openssl,
    kernel: os.release(),
    platform: `${os.platform()} ${os.arch()}`,
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    tcpdump: await tcpdumpVersion(),
    nginx,
    tcpCongestionControl: await readFile('/proc/sys/net/ipv4/tcp_congestion_control', 'utf8').then(
      (text) => text.trim(),
      () => null,
    ),
  };
}
