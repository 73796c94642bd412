/**
 * The regression gate: a run's results against a baseline run, metric by metric, under thresholds. Pure:
 * no I/O, no clock; the CLI reads the files and renders the report.
 *
 * Policy:
 * - A **regression** is a change in the bad direction (more bytes, connections, handshakes or TIME_WAIT,
 *   a lower saving, a higher latency or CPU ratio) beyond the metric's limit, a floor or ceiling of the
 *   thresholds file not met, a scenario of this run that `failed` or is `invalid`, or a metric the baseline
 *   has and this run could not measure. Any regression fails the check (exit 1).
 * - An **improvement** beyond the limit passes but is listed, so the baseline gets refreshed and the gate
 *   holds the new level instead of letting the harness drift back unnoticed.
 * - **Bad input** (exit 2, InputError): a baseline scenario missing from the run (a gate that skips what it
 *   cannot find would pass a run that silently dropped a scenario), no scenario in common, a paired scenario
 *   run under different conditions (workload, seed, ...), capture on in one run and off in the other, a
 *   baseline that is not a clean run, or a floor rule that matches nothing (a floor that can never fail is
 *   not a gate). Scenarios of the run that the baseline lacks are listed and not compared.
 */
import { InputError } from '../errors.ts';
import { pairingKey, specFieldsOf, type Results, type ScenarioResult } from '../model/index.ts';
import { METRICS, REPEATED_RUNS, scenarioMetrics, type MetricUnit, type ScenarioMetrics, type Tolerance } from './metrics.ts';
import { floorsFor, globMatches, resolveTolerance, type ThresholdRule, type Thresholds } from './thresholds.ts';

/** How one row came out. */
export type Verdict = 'ok' | 'improved' | 'regressed';

interface RowBase {
  /** Scenario id. */
  scenario: string;
  /** Metric name (`state` for a scenario's state). */
  metric: string;
  verdict: Verdict;
}

/** A metric compared with the baseline under a tolerance. */
export interface ChangeRow extends RowBase {
  kind: 'change';
  unit: MetricUnit;
  worse: 'higher' | 'lower';
  baseline: number;
  current: number;
  /** current − baseline, in the metric's unit. */
  change: number;
  /** The change in percent of the baseline; null when the baseline is 0. */
  changePct: number | null;
  tolerance: Tolerance;
  /** The change the tolerance allows, in the metric's unit: max(absolute, relativePct % of |baseline|). */
  allowed: number;
  /** `default`, or the JSON path of the thresholds rule that set the tolerance. */
  source: string;
}

/** A metric held to an absolute floor or ceiling of the thresholds file. */
export interface FloorRow extends RowBase {
  kind: 'floor';
  unit: MetricUnit;
  /** The baseline's value, for context; null when the baseline lacks the scenario. */
  baseline: number | null;
  current: number;
  min: number | null;
  max: number | null;
  /** JSON path of the rule. */
  source: string;
}

/** A scenario of this run that failed or is invalid. */
export interface StateRow extends RowBase {
  kind: 'state';
  verdict: 'regressed';
  /** The baseline's state for the scenario; null when the baseline lacks it. */
  baseline: ScenarioResult['state'] | null;
  current: 'failed' | 'invalid';
  reason: string;
}

/** A metric the baseline has and this run could not measure. */
export interface MissingRow extends RowBase {
  kind: 'missing';
  verdict: 'regressed';
  unit: MetricUnit;
  baseline: number;
  reason: string;
}

/** One line of the check table. */
export type CheckRow = ChangeRow | FloorRow | StateRow | MissingRow;

/** The outcome of a check: every row, notes for the reader, and the verdict. */
export interface CheckReport {
  current: { runId: string; suite: string };
  baseline: { runId: string; suite: string };
  /** The thresholds file; null when only the defaults applied. */
  thresholdsFile: string | null;
  rows: CheckRow[];
  /** Things the reader should know that are not rows: scenarios not in the baseline, environment changes. */
  notes: string[];
  counts: {
    /** Scenarios paired with the baseline. */
    scenarios: number;
    /** Metrics compared with the baseline (change rows). */
    compared: number;
    floors: number;
    regressed: number;
    improved: number;
  };
  passed: boolean;
}

/** The spec fields scenarios pair on (mode and configuration), and those a pair must share (model/scenario.ts). */
const IDENTITY = [...specFieldsOf('mode'), ...specFieldsOf('configuration')];
const CONDITIONS = specFieldsOf('condition');

/** A value derived by division may differ in its last bits between equal inputs; never call that a change. */
const FLOAT_SLACK = 1e-9;

/**
 * Compares `current` with `baseline` under `thresholds` (see the module comment for the policy).
 * Throws InputError for input that cannot be compared.
 */
export function checkResults(current: Results, baseline: Results, thresholds: Thresholds): CheckReport {
  finishedRun(current, 'the run being checked');
  const baselineScenarios = cleanBaseline(baseline);
  if (current.options.capture !== baseline.options.capture) {
    const mode = (r: Results) => (r.options.capture ? 'with a packet capture' : 'with --no-capture');
    throw new InputError(
      `the results were measured ${mode(current)} and the baseline ${mode(baseline)}: wire and handshake bytes are not comparable (run as the baseline was run, or refresh the baseline)`,
    );
  }
  const paired = pairScenarios(current, baseline, baselineScenarios);

  const rows: CheckRow[] = [];
  const notes: string[] = [];
  const compared: { scenario: string; metric: string }[] = [];
  const liveFloors = new Set<ThresholdRule>();
  let ignored = 0;

  const floorRules = thresholds.rules.filter((r) => r.min !== undefined || r.max !== undefined);
  for (const scenario of current.scenarios) {
    const base = paired.get(scenario.id);
    if (scenario.state !== 'completed') {
      rows.push(stateRow(scenario, base));
      // A floor on a scenario that did not complete cannot be evaluated, but it is not dead: the state row fails the check.
      for (const rule of floorRules) if (globMatches(rule.scenario, scenario.id)) liveFloors.add(rule);
      continue;
    }
    const now = scenarioMetrics(current, scenario);
    const before = base === undefined ? null : scenarioMetrics(baseline, base);
    const notInBaseline: string[] = [];
    for (const def of METRICS) {
      // Absent (does not apply) and null (not measurable) read the same from here on.
      const n = now.values.get(def.name) ?? null;
      const b = before?.values.get(def.name) ?? null;
      if (before !== null && b === null && n !== null) notInBaseline.push(def.name);
      if (before !== null && b !== null) {
        compared.push({ scenario: scenario.id, metric: def.name });
        const repeated = scenario.summary.measuredRuns >= REPEATED_RUNS && base!.summary.measuredRuns >= REPEATED_RUNS;
        const resolved = resolveTolerance(thresholds, scenario.id, def.name, repeated ? def.repeatedTolerance : def.defaultTolerance);
        if (resolved.ignored) ignored++;
        else if (n !== null) rows.push(changeRow(scenario.id, def.name, def.unit, def.worse, b, n, resolved.tolerance, resolved.source));
        else if (!partnerFailed(now)) rows.push(missingRow(scenario.id, def.name, def.unit, b, now));
      }
      if (n === null) continue;
      for (const rule of floorsFor(thresholds, scenario.id, def.name)) {
        liveFloors.add(rule);
        rows.push(floorRow(scenario.id, def.name, def.unit, b, n, rule));
      }
    }
    if (base === undefined) notes.push(`${scenario.id}: not in the baseline, not compared (refresh the baseline to gate it)`);
    else if (notInBaseline.length > 0) notes.push(`${scenario.id}: not in the baseline, not compared: ${notInBaseline.join(', ')}`);
  }

  for (const rule of floorRules) {
    if (!liveFloors.has(rule)) {
      throw new InputError(
        `--thresholds ${thresholds.file ?? ''} ${rule.source}: the floor on scenario "${rule.scenario}" metric "${rule.metric}" matches no value of this run, so it could never fail (scenarios: ${current.scenarios.map((s) => s.id).join(', ')})`,
      );
    }
  }
  for (const rule of thresholds.rules) {
    const setsTolerance = rule.ignore === true || rule.relativePct !== undefined || rule.absolute !== undefined;
    if (setsTolerance && !compared.some((c) => globMatches(rule.scenario, c.scenario) && globMatches(rule.metric, c.metric))) {
      notes.push(`thresholds ${rule.source} (scenario "${rule.scenario}", metric "${rule.metric}") matched no compared metric`);
    }
  }
  if (ignored > 0) notes.push(`${ignored} metric${ignored === 1 ? '' : 's'} not compared, as the thresholds file says ("ignore": true)`);
  notes.push(...environmentNotes(current, baseline));

  const regressed = rows.filter((r) => r.verdict === 'regressed').length;
  const improved = rows.filter((r) => r.verdict === 'improved').length;
  if (improved > 0) {
    notes.push(`${improved} metric${improved === 1 ? '' : 's'} improved beyond the limit: refresh the baseline so the gate holds the new level (docs/ci.md)`);
  }
  return {
    current: { runId: current.runId, suite: current.options.suite },
    baseline: { runId: baseline.runId, suite: baseline.options.suite },
    thresholdsFile: thresholds.file,
    rows,
    notes,
    counts: {
      scenarios: paired.size,
      compared: rows.filter((r) => r.kind === 'change').length,
      floors: rows.filter((r) => r.kind === 'floor').length,
      regressed,
      improved,
    },
    passed: regressed === 0,
  };
}

type CompletedScenario = Extract<ScenarioResult, { state: 'completed' }>;

/** A baseline is what "good" means: a whole run whose every scenario completed. Returns its scenarios. */
function cleanBaseline(baseline: Results): CompletedScenario[] {
  const refresh = 'a baseline must be a whole run whose every scenario completed; refresh it (docs/ci.md)';
  finishedRun(baseline, 'the baseline', refresh);
  const bad = baseline.scenarios.filter((s) => s.state !== 'completed');
  if (bad.length > 0) {
    throw new InputError(`the baseline (run ${baseline.runId}) has ${bad.map((s) => `${s.id} ${s.state}`).join(', ')}: ${refresh}`);
  }
  if (baseline.scenarios.length === 0) throw new InputError(`the baseline (run ${baseline.runId}) has no scenarios: ${refresh}`);
  return baseline.scenarios.filter((s): s is CompletedScenario => s.state === 'completed');
}

/**
 * A run that did not finish is neither a run to judge nor a baseline: one stopped by Ctrl-C or SIGTERM says
 * so (`interrupted`), and one killed outright (SIGKILL, a crash, a power cut) never wrote its `finishedAt`.
 * Either may lack scenarios, and the last one it wrote may be cut short.
 */
function finishedRun(results: Results, which: string, remedy = 'run it again to the end'): void {
  const run = `${which} (run ${results.runId})`;
  if (results.interrupted) throw new InputError(`${run} was interrupted before every scenario ran: ${remedy}`);
  if (results.finishedAt === '') {
    throw new InputError(`${run} did not finish: its finishedAt is empty, so the run was killed or crashed while it ran (${results.scenarios.length} scenarios written): ${remedy}`);
  }
}

/** Pairs each baseline scenario with the run's scenario of the same identity; keyed by the run's scenario id. */
function pairScenarios(current: Results, baseline: Results, baselineScenarios: CompletedScenario[]): Map<string, CompletedScenario> {
  const byKey = <S extends ScenarioResult>(scenarios: S[], which: string) => {
    const map = new Map<string, S>();
    for (const s of scenarios) {
      const key = pairingKey(s.spec);
      const other = map.get(key);
      if (other !== undefined) {
        throw new InputError(`the ${which} has two scenarios with the same ${IDENTITY.join('/')} (${other.id} and ${s.id}): they cannot be paired`);
      }
      map.set(key, s);
    }
    return map;
  };
  const now = byKey(current.scenarios, 'results');
  const before = byKey(baselineScenarios, 'baseline');
  const common = [...before.keys()].filter((k) => now.has(k));
  if (common.length === 0) {
    const ids = (r: Results) => r.scenarios.map((s) => s.id).join(', ') || 'none';
    throw new InputError(`no scenario of the results matches the baseline: the results have ${ids(current)}; the baseline has ${ids(baseline)}`);
  }
  const missing = [...before.entries()].filter(([k]) => !now.has(k)).map(([, s]) => s.id);
  if (missing.length > 0) {
    throw new InputError(
      `the results lack ${missing.length} scenario${missing.length === 1 ? '' : 's'} of the baseline: ${missing.join(', ')} (run the suite and flags the baseline was made with, suite "${baseline.options.suite}", or refresh the baseline)`,
    );
  }
  const paired = new Map<string, CompletedScenario>();
  for (const key of common) {
    const s = now.get(key)!;
    const b = before.get(key)!;
    const differences = CONDITIONS.filter((k) => JSON.stringify(s.spec[k]) !== JSON.stringify(b.spec[k])).map(
      (k) => `${k} ${JSON.stringify(b.spec[k])} in the baseline, ${JSON.stringify(s.spec[k])} now`,
    );
    if (differences.length > 0) {
      throw new InputError(`${s.id} ran under other conditions than the baseline (${differences.join('; ')}): run it as the baseline was run, or refresh the baseline`);
    }
    paired.set(s.id, b);
  }
  return paired;
}

function changeRow(
  scenario: string,
  metric: string,
  unit: MetricUnit,
  worse: 'higher' | 'lower',
  baseline: number,
  current: number,
  tolerance: Tolerance,
  source: string,
): ChangeRow {
  const change = current - baseline;
  const allowed = Math.max(tolerance.absolute, (tolerance.relativePct / 100) * Math.abs(baseline));
  const worsening = worse === 'higher' ? change : -change;
  const slack = FLOAT_SLACK * Math.max(1, Math.abs(baseline));
  const verdict: Verdict = worsening > allowed + slack ? 'regressed' : -worsening > allowed + slack ? 'improved' : 'ok';
  return {
    kind: 'change',
    scenario,
    metric,
    unit,
    worse,
    baseline,
    current,
    change,
    changePct: baseline === 0 ? null : (change / Math.abs(baseline)) * 100,
    tolerance,
    allowed,
    source,
    verdict,
  };
}

function floorRow(
  scenario: string,
  metric: string,
  unit: MetricUnit,
  baseline: number | null,
  current: number,
  rule: ThresholdRule,
): FloorRow {
  const below = rule.min !== undefined && current < rule.min;
  const above = rule.max !== undefined && current > rule.max;
  return {
    kind: 'floor',
    scenario,
    metric,
    unit,
    baseline,
    current,
    min: rule.min ?? null,
    max: rule.max ?? null,
    source: rule.source,
    verdict: below || above ? 'regressed' : 'ok',
  };
}

function stateRow(scenario: Exclude<ScenarioResult, { state: 'completed' }>, base: ScenarioResult | undefined): StateRow {
  return {
    kind: 'state',
    scenario: scenario.id,
    metric: 'state',
    baseline: base?.state ?? null,
    current: scenario.state,
    reason: scenario.state === 'failed' ? scenario.error : scenario.invalidReasons.join('; '),
    verdict: 'regressed',
  };
}

function missingRow(scenario: string, metric: string, unit: MetricUnit, baseline: number, now: ScenarioMetrics): MissingRow {
  const reason =
    now.partner === null ? 'this run has no fresh scenario to compare it with' : 'the baseline has it, this run could not measure it';
  return { kind: 'missing', scenario, metric, unit, baseline, reason, verdict: 'regressed' };
}

/** A savings or ratio metric is absent because its fresh partner failed: that partner's state row says so. */
function partnerFailed(metrics: ScenarioMetrics): boolean {
  return metrics.partner !== null && metrics.partner.state !== 'completed';
}

/** Differences in what makes bytes and timings (TLS library, Node, kernel) explain changes: say so. */
function environmentNotes(current: Results, baseline: Results): string[] {
  const fields = [
    ['OpenSSL', 'openssl'],
    ['Node', 'node'],
    ['kernel', 'kernel'],
  ] as const;
  const changed = fields
    .filter(([, k]) => current.environment[k] !== baseline.environment[k])
    .map(([label, k]) => `${label} ${baseline.environment[k]} → ${current.environment[k]}`);
  if (changed.length === 0) return [];
  return [
    `environment differs from the baseline (${changed.join(', ')}): handshake and wire bytes can change with the TLS library and the kernel`,
  ];
}
