/**
 * A whole run: checks everything that can fail before the first connection, runs the scenarios one at a time,
 * writes `results.json` after each (so an interrupted run keeps what finished) with the comparisons so far.
 */
import { mkdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkCapture, tcpdumpVersion } from '../capture/tcpdump.ts';
import { InputError } from '../errors.ts';
import { compareScenarios } from '../analyze/compare.ts';
import { combineRepetitions, type RepetitionInput } from '../analyze/repetitions.ts';
import { derivationHorizonMinutes } from '../analyze/steady.ts';
import { checkLinkSupport, sweepStaleLinks } from '../link/index.ts';
import { RESULTS_SCHEMA, warning, type Environment, type MeasuredScenario, type Results, type ScenarioResult, type ScenarioSpec, type Warning } from '../model/index.ts';
import { writeResults } from '../results/write.ts';
import type { ResolvedRun } from '../plan/resolve.ts';
import { nginxVersion } from '../serve/index.ts';
import { buildSchedule, loadWorkload } from '../workload/index.ts';
import { runScenario } from './scenario.ts';

/** Progress events for the terminal; the runner itself never writes to it. */
export interface RunEvents {
  /** `repetition` of `runs` (`--runs`): called once per repetition. */
  scenarioStart?(index: number, count: number, spec: ScenarioSpec, repetition: number, runs: number): void;
  scenarioProgress?(done: number, total: number): void;
  scenarioEnd?(index: number, count: number, result: ScenarioResult): void;
}

/** Runs a resolved plan; resolves with the results (also written to `<outDir>/results.json`). */
export async function runSuite(run: ResolvedRun, events: RunEvents, signal: AbortSignal): Promise<Results> {
  // Fail before measuring (STYLE.md §5): output folder, workload, tools and capture permission first.
  await mkdir(run.outDir, { recursive: true });
  await assertWritable(run.outDir);
  const workload = await loadWorkload(run.workloadPath);
  // nginx's version belongs in every run's environment; without nginx, only nginx scenarios cannot run.
  const nginx = await nginxVersion().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  if (nginx instanceof Error && run.scenarios.some((s) => s.server === 'nginx')) {
    throw new InputError(`--server nginx: ${nginx.message}`, { cause: nginx });
  }
  const environment = await describeEnvironment(typeof nginx === 'string' ? nginx : null);
  if (run.capture) await checkCapture('lo', path.join(run.outDir, '.capture-check.pcap')).finally(() => rm(path.join(run.outDir, '.capture-check.pcap'), { force: true }));
  if (run.scenarios.some((s) => s.link !== null)) {
    // Emulated paths: check that links can be made here, and remove what a killed earlier run left.
    await checkLinkSupport();
    await sweepStaleLinks();
  }
  if (run.latestLink !== null) await pointLatest(run.latestLink, run.outDir);

  const results: Results = {
    schema: RESULTS_SCHEMA,
    runId: run.runId,
    startedAt: new Date().toISOString(),
    finishedAt: '',
    interrupted: false,
    options: {
      suite: run.suite,
      workloadPath: run.workloadPath,
      capture: run.capture,
      allowInvalid: run.allowInvalid,
      runs: run.runs,
      certs: Object.fromEntries(Object.entries(run.certs).map(([kind, files]) => [kind, files.chain])),
    },
    environment,
    scenarios: [],
    comparisons: [],
    warnings: [...run.notes],
  };

  const count = run.scenarios.length;
  for (const [index, spec] of run.scenarios.entries()) {
    if (signal.aborted) break;
    const schedule = buildSchedule(workload, { endpoints: spec.endpoints, virtualMinutes: spec.virtualMinutes, seed: spec.seed });
    const cert = run.certs[spec.cert]!;
    const horizon = derivationHorizonMinutes(spec);
    const longRunSchedule =
      spec.mode !== 'persistent'
        ? null
        : {
            virtualMinutes: horizon,
            requests: (horizon === spec.virtualMinutes ? schedule : buildSchedule(workload, { endpoints: spec.endpoints, virtualMinutes: horizon, seed: spec.seed })).map(
              (r) => ({ endpointIndex: r.endpointIndex, channel: r.channel, atVirtualMs: r.atVirtualMs }),
            ),
          };
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
        ...(events.scenarioProgress === undefined ? {} : { onProgress: events.scenarioProgress }),
      });
      repetitions.push({ result: single, loadAverage: { before, after: os.loadavg()[0]! } });
    }
    if (repetitions.length === 0) break;
    const result = combineRepetitions(repetitions, environment.cores);
    results.scenarios.push(result);
    results.comparisons = compareScenarios(results.scenarios);
    events.scenarioEnd?.(index, count, result);
    await writeResults(run.outDir, results);
  }
  results.interrupted = signal.aborted;
  if (results.interrupted) {
    results.warnings.push(interruptedWarning(results.scenarios.length, count));
  }
  results.finishedAt = new Date().toISOString();
  await writeResults(run.outDir, results);
  return results;
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

async function assertWritable(dir: string): Promise<void> {
  const probe = path.join(dir, '.write-check');
  try {
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw new InputError(`--out: cannot write to ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, { cause: error });
  }
}

/** Makes `reports/latest` a relative symlink to this run's folder. */
async function pointLatest(link: string, target: string): Promise<void> {
  await unlink(link).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await symlink(path.relative(path.dirname(link), target), link);
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
  };
}
