import { describe, expect, it } from 'vitest';
import { checkResults, type ChangeRow, type CheckReport, type CheckRow } from '../../bench/check/compare.ts';
import { DEFAULT_THRESHOLDS, validateThresholds, type Thresholds } from '../../bench/check/thresholds.ts';
import { InputError } from '../../bench/errors.ts';
import type { Results } from '../../bench/model/index.ts';
import { sampleResults, withScenario } from './results.ts';
import { combineRepetitions } from '../../bench/analyze/repetitions.ts';
import { compareScenarios } from '../../bench/analyze/compare.ts';

const PERSISTENT = 'persistent/tls1.3/rsa2048/loopback/node';
const FRESH = 'fresh/tls1.3/rsa2048/loopback/node';
const RESUMED = 'resumed/tls1.3/rsa2048/loopback/node';

function thresholds(rules: unknown[]): Thresholds {
  return validateThresholds({ schema: 'tls-reuse-bench/thresholds@1', rules }, 'thresholds.json');
}

function row(report: CheckReport, scenario: string, metric: string): CheckRow {
  const found = report.rows.find((r) => r.scenario === scenario && r.metric === metric);
  if (found === undefined) throw new Error(`no row ${scenario} ${metric}`);
  return found;
}

function regressions(report: CheckReport): string[] {
  return report.rows.filter((r) => r.verdict === 'regressed').map((r) => `${r.scenario} ${r.metric}`);
}

function inputError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).message;
  }
  throw new Error('expected an InputError');
}

describe('checkResults on identical runs', () => {
  const report = checkResults(sampleResults(), sampleResults(), DEFAULT_THRESHOLDS);

  it('passes with every row ok', () => {
    expect(report.passed).toBe(true);
    expect(report.rows.every((r) => r.verdict === 'ok')).toBe(true);
    expect(report.counts).toEqual({ scenarios: 3, compared: 3 * 10 + 2 * 5, floors: 0, regressed: 0, improved: 0 });
  });

  it('compares the ten per-scenario metrics everywhere and savings and ratios on non-fresh scenarios only', () => {
    expect(report.rows.filter((r) => r.scenario === FRESH).map((r) => r.metric)).toEqual([
      'upWireBytes', 'downWireBytes', 'upTcpPayloadBytes', 'downTcpPayloadBytes', 'upHandshakeBytes',
      'downHandshakeBytes', 'connections', 'fullHandshakes', 'resumedHandshakes', 'timeWait',
    ]);
    expect(report.rows.filter((r) => r.scenario === PERSISTENT).map((r) => r.metric).slice(10)).toEqual([
      'upSavedPct', 'downSavedPct', 'connectionsSavedPct', 'p50LatencyRatio.log', 'cpuMsPerRequestRatio',
    ]);
  });

  it('reads savings from the comparisons and ratios from the fresh partner of the same run', () => {
    expect(row(report, PERSISTENT, 'downSavedPct')).toMatchObject({ baseline: 75, current: 75 });
    expect(row(report, PERSISTENT, 'p50LatencyRatio.log')).toMatchObject({ baseline: 0.25, current: 0.25 });
    expect(row(report, RESUMED, 'cpuMsPerRequestRatio')).toMatchObject({ baseline: 0.5, current: 0.5 });
  });
});

describe('checkResults: a doctored regression of each kind fails', () => {
  const baseline = sampleResults();
  const cases: [string, Results, string[]][] = [
    ['upstream bytes up 5%', withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.upWireBytes = 10_500)), [`${PERSISTENT} upWireBytes`, `${PERSISTENT} upSavedPct`]],
    // 75% → 74% saved is 1 percentage point less: inside the saving's own ±2 pp.
    ['downstream bytes up 4%', withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.downWireBytes = 10_400)), [`${PERSISTENT} downWireBytes`]],
    ['downstream saving down 2.5 points', withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.downWireBytes = 11_000)), [`${PERSISTENT} downWireBytes`, `${PERSISTENT} downSavedPct`]],
    ['TCP payload up', withScenario(baseline, 'fresh', (s) => (s.perEndpointMinute.downTcpPayloadBytes = 34_000)), [`${FRESH} downTcpPayloadBytes`]],
    ['upstream handshake bytes up', withScenario(baseline, 'fresh', (s) => (s.perEndpointMinute.upHandshakeBytes = 6_100)), [`${FRESH} upHandshakeBytes`]],
    ['downstream handshake bytes up', withScenario(baseline, 'resumed', (s) => (s.perEndpointMinute.downHandshakeBytes = 7_000)), [`${RESUMED} downHandshakeBytes`]],
    ['more connections', withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.connections = 2)), [`${PERSISTENT} connections`, `${PERSISTENT} connectionsSavedPct`]],
    ['more full handshakes', withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.fullHandshakes = 2)), [`${PERSISTENT} fullHandshakes`]],
    ['fewer resumed handshakes', withScenario(baseline, 'resumed', (s) => (s.perEndpointMinute.resumedHandshakes = 10)), [`${RESUMED} resumedHandshakes`]],
    ['TIME_WAIT from 0 to 1', withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.timeWait = 1)), [`${PERSISTENT} timeWait`]],
    ['latency ratio 0.25 → 0.75 (+200%)', withScenario(baseline, 'persistent', (s) => (s.latency.log!.total.p50Ms = 3)), [`${PERSISTENT} p50LatencyRatio.log`]],
    ['CPU ratio 0.25 → 0.45 (+80%)', withScenario(baseline, 'persistent', (s) => (s.server.cpuMsPerRequest = 0.9)), [`${PERSISTENT} cpuMsPerRequestRatio`]],
  ];
  it.each(cases)('%s', (_name, current, expected) => {
    const report = checkResults(current, baseline, DEFAULT_THRESHOLDS);
    expect(report.passed).toBe(false);
    expect(regressions(report)).toEqual(expected);
  });

  it('gives the change, the limit and the allowed amount of a byte regression', () => {
    const report = checkResults(cases[0]![1], baseline, DEFAULT_THRESHOLDS);
    expect(row(report, PERSISTENT, 'upWireBytes')).toEqual({
      kind: 'change', scenario: PERSISTENT, metric: 'upWireBytes', unit: 'bytes', worse: 'higher', baseline: 10_000, current: 10_500,
      change: 500, changePct: 5, tolerance: { relativePct: 3, absolute: 0 }, allowed: 300, source: 'default', verdict: 'regressed',
    } satisfies ChangeRow);
    // 50% → 47.5% saved: 2.5 percentage points, beyond the saving's ±2.
    const saved = row(report, PERSISTENT, 'upSavedPct') as ChangeRow;
    expect(saved.current).toBeCloseTo(47.5, 10);
    expect(saved.change).toBeCloseTo(-2.5, 10);
    expect(saved).toMatchObject({ tolerance: { relativePct: 0, absolute: 2 }, allowed: 2, verdict: 'regressed' });
  });

  it('fails on a scenario that failed, and on one that is invalid', () => {
    const failed = structuredClone(baseline);
    failed.scenarios[1] = { id: PERSISTENT, state: 'failed', spec: failed.scenarios[1]!.spec, warnings: [], error: 'server exited' };
    failed.comparisons = failed.comparisons.filter((c) => c.candidate !== PERSISTENT);
    const r1 = checkResults(failed, baseline, DEFAULT_THRESHOLDS);
    expect(regressions(r1)).toEqual([`${PERSISTENT} state`]);
    expect(row(r1, PERSISTENT, 'state')).toMatchObject({ kind: 'state', baseline: 'completed', current: 'failed', reason: 'server exited' });

    const invalid = structuredClone(baseline);
    const s = invalid.scenarios[0]!;
    if (s.state !== 'completed') throw new Error('fixture');
    invalid.scenarios[0] = { ...s, state: 'invalid', invalidReasons: ['tcpdump reported 3 packets dropped by the kernel'] };
    const r2 = checkResults(invalid, baseline, DEFAULT_THRESHOLDS);
    // The savings and ratios of persistent and resumed need fresh: its state row speaks for them.
    expect(regressions(r2)).toEqual([`${FRESH} state`]);
    expect(r2.rows.some((r) => r.scenario === PERSISTENT && r.metric === 'downSavedPct')).toBe(false);
  });

  it('fails on a metric the baseline has and the run could not measure', () => {
    const current = withScenario(baseline, 'persistent', (s) => (s.server.cpuMsPerRequest = 0));
    const noFreshCpu = withScenario(current, 'fresh', (s) => (s.server.cpuMsPerRequest = 0));
    const report = checkResults(noFreshCpu, baseline, DEFAULT_THRESHOLDS);
    expect(regressions(report)).toEqual([`${PERSISTENT} cpuMsPerRequestRatio`, `${RESUMED} cpuMsPerRequestRatio`]);
    expect(row(report, PERSISTENT, 'cpuMsPerRequestRatio')).toMatchObject({ kind: 'missing', baseline: 0.25 });
  });

  it('fails a savings floor of the thresholds file, checked on the current value alone', () => {
    const floor = thresholds([{ scenario: 'persistent/*', metric: 'downSavedPct', min: 80 }]);
    const report = checkResults(sampleResults(), baseline, floor);
    expect(regressions(report)).toEqual([`${PERSISTENT} downSavedPct`]);
    expect(report.rows.filter((r) => r.kind === 'floor')).toEqual([
      { kind: 'floor', scenario: PERSISTENT, metric: 'downSavedPct', unit: 'pct', baseline: 75, current: 75, min: 80, max: null, source: '$.rules[0]', verdict: 'regressed' },
    ]);
    expect(checkResults(sampleResults(), baseline, thresholds([{ scenario: 'persistent/*', metric: 'downSavedPct', min: 60 }])).passed).toBe(true);
  });
});

describe('checkResults: what passes', () => {
  const baseline = sampleResults();

  it('passes a change inside the tolerance (0.5% more bytes, a 20% higher latency ratio)', () => {
    const current = withScenario(
      withScenario(baseline, 'fresh', (s) => (s.perEndpointMinute.downWireBytes = 40_200)),
      'persistent',
      (s) => (s.latency.log!.total.p50Ms = 1.2),
    );
    const report = checkResults(current, baseline, DEFAULT_THRESHOLDS);
    expect(report.passed).toBe(true);
    expect(row(report, FRESH, 'downWireBytes')).toMatchObject({ changePct: 0.5, allowed: 1200, verdict: 'ok' });
  });

  it('passes an improvement beyond the limit, reports it, and asks for a baseline refresh', () => {
    const current = withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.downWireBytes = 9_000));
    const report = checkResults(current, baseline, DEFAULT_THRESHOLDS);
    expect(report.passed).toBe(true);
    expect(report.rows.filter((r) => r.verdict === 'improved').map((r) => r.metric)).toEqual(['downWireBytes', 'downSavedPct']);
    expect(report.counts.improved).toBe(2);
    expect(report.notes.some((n) => n.includes('refresh the baseline'))).toBe(true);
  });

  it('cancels machine speed out of latency and CPU: everything twice as slow is no change', () => {
    const slower = structuredClone(baseline);
    for (const s of slower.scenarios) {
      if (s.state !== 'completed') continue;
      for (const l of Object.values(s.latency)) l.total.p50Ms *= 2;
      s.server.cpuMsPerRequest *= 2;
    }
    const report = checkResults(slower, baseline, DEFAULT_THRESHOLDS);
    expect(report.passed).toBe(true);
    expect(report.counts.improved).toBe(0);
  });

  it('skips latency ratios of APIs with fewer than 20 samples (config has 3)', () => {
    const current = withScenario(baseline, 'persistent', (s) => (s.latency.config!.total.p50Ms = 100));
    const report = checkResults(current, baseline, DEFAULT_THRESHOLDS);
    expect(report.passed).toBe(true);
    expect(report.rows.some((r) => r.metric === 'p50LatencyRatio.config')).toBe(false);
  });

  it('lists scenarios of the run that the baseline lacks without comparing them', () => {
    const smaller = structuredClone(baseline);
    smaller.scenarios = smaller.scenarios.filter((s) => s.spec.mode !== 'resumed');
    smaller.comparisons = smaller.comparisons.filter((c) => c.candidate !== RESUMED);
    const report = checkResults(baseline, smaller, DEFAULT_THRESHOLDS);
    expect(report.passed).toBe(true);
    expect(report.rows.some((r) => r.scenario === RESUMED)).toBe(false);
    expect(report.notes).toContain(`${RESUMED}: not in the baseline, not compared (refresh the baseline to gate it)`);
  });

  it('notes a different TLS library', () => {
    const current = structuredClone(baseline);
    current.environment.openssl = '3.5.0';
    expect(checkResults(current, baseline, DEFAULT_THRESHOLDS).notes.join('\n')).toContain('OpenSSL 3.0.17 → 3.5.0');
  });
});

describe('checkResults with a thresholds file', () => {
  const baseline = sampleResults();
  const fivePctMore = withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.upWireBytes = 10_500));

  it('applies a relative tolerance to the scenarios and metrics its globs match', () => {
    const t = thresholds([{ scenario: 'persistent/*/rsa2048/*', metric: '*WireBytes', relativePct: 6 }]);
    const report = checkResults(fivePctMore, baseline, t);
    expect(row(report, PERSISTENT, 'upWireBytes')).toMatchObject({ verdict: 'ok', allowed: 600, source: '$.rules[0]' });
    // The saving is another metric, still at its default.
    expect(regressions(report)).toEqual([`${PERSISTENT} upSavedPct`]);
  });

  it('lets the last matching rule decide, and a rule states the whole tolerance', () => {
    const t = thresholds([
      { metric: '*', relativePct: 50 },
      { scenario: 'persistent/*', metric: 'upWireBytes', absolute: 100 },
    ]);
    const report = checkResults(fivePctMore, baseline, t);
    expect(row(report, PERSISTENT, 'upWireBytes')).toMatchObject({ tolerance: { relativePct: 0, absolute: 100 }, allowed: 100, verdict: 'regressed', source: '$.rules[1]' });
    expect(row(report, PERSISTENT, 'upSavedPct')).toMatchObject({ verdict: 'ok', source: '$.rules[0]' });
  });

  it('gives a zero baseline room with an absolute tolerance', () => {
    const current = withScenario(baseline, 'persistent', (s) => (s.perEndpointMinute.timeWait = 0.5));
    expect(checkResults(current, baseline, DEFAULT_THRESHOLDS).passed).toBe(false);
    const report = checkResults(current, baseline, thresholds([{ metric: 'timeWait', absolute: 1 }]));
    expect(row(report, PERSISTENT, 'timeWait')).toMatchObject({ changePct: null, allowed: 1, verdict: 'ok' });
  });

  it('ignores a metric, counts it in the notes, and still applies floors on it', () => {
    const t = thresholds([
      { metric: 'upWireBytes', ignore: true },
      { metric: 'upSavedPct', ignore: true },
      { scenario: 'persistent/*', metric: 'upWireBytes', max: 10_400 },
    ]);
    const report = checkResults(fivePctMore, baseline, t);
    expect(regressions(report)).toEqual([`${PERSISTENT} upWireBytes`]);
    expect(row(report, PERSISTENT, 'upWireBytes').kind).toBe('floor');
    expect(report.notes).toContain('5 metrics not compared, as the thresholds file says ("ignore": true)');
  });

  it('notes a tolerance rule that matched nothing', () => {
    const report = checkResults(baseline, baseline, thresholds([{ scenario: 'fresh/tls1.2/*', metric: 'upWireBytes', relativePct: 2 }]));
    expect(report.notes).toContain('thresholds $.rules[0] (scenario "fresh/tls1.2/*", metric "upWireBytes") matched no compared metric');
  });
});

describe('checkResults: input that cannot be compared', () => {
  const baseline = sampleResults();

  it('a baseline scenario missing from the run', () => {
    const current = structuredClone(baseline);
    current.scenarios = current.scenarios.filter((s) => s.spec.mode !== 'resumed');
    current.comparisons = current.comparisons.filter((c) => c.candidate !== RESUMED);
    expect(inputError(() => checkResults(current, baseline, DEFAULT_THRESHOLDS))).toBe(
      `the results lack 1 scenario of the baseline: ${RESUMED} (run the suite and flags the baseline was made with, suite "quick", or refresh the baseline)`,
    );
  });

  it('no scenario in common', () => {
    const current = structuredClone(baseline);
    for (const s of current.scenarios) {
      s.spec.tls = 'tls1.2';
      s.spec.id = s.id = s.id.replace('tls1.3', 'tls1.2');
    }
    for (const c of current.comparisons) {
      c.baseline = c.baseline.replace('tls1.3', 'tls1.2');
      c.candidate = c.candidate.replace('tls1.3', 'tls1.2');
    }
    expect(inputError(() => checkResults(current, baseline, DEFAULT_THRESHOLDS))).toMatch(/^no scenario of the results matches the baseline: the results have fresh\/tls1\.2/);
  });

  it('a paired scenario run under other conditions', () => {
    const current = withScenario(baseline, 'fresh', (s) => (s.spec.seed = 7));
    expect(inputError(() => checkResults(current, baseline, DEFAULT_THRESHOLDS))).toBe(
      `${FRESH} ran under other conditions than the baseline (seed 1 in the baseline, 7 now): run it as the baseline was run, or refresh the baseline`,
    );
  });

  it('but not a different time compression, which only paces the run', () => {
    const current = withScenario(baseline, 'fresh', (s) => (s.spec.timeCompression = 60));
    expect(checkResults(current, baseline, DEFAULT_THRESHOLDS).passed).toBe(true);
  });

  it('capture on in one run and off in the other', () => {
    const current = structuredClone(baseline);
    current.options.capture = false;
    expect(inputError(() => checkResults(current, baseline, DEFAULT_THRESHOLDS))).toMatch(/^the results were measured with --no-capture and the baseline with a packet capture/);
  });

  it('a baseline with a failed scenario, or an interrupted one', () => {
    const bad = structuredClone(baseline);
    bad.scenarios[2] = { id: RESUMED, state: 'failed', spec: bad.scenarios[2]!.spec, warnings: [], error: 'boom' };
    expect(inputError(() => checkResults(baseline, bad, DEFAULT_THRESHOLDS))).toBe(
      `the baseline (run run-a) has ${RESUMED} failed: a baseline must be a whole run whose every scenario completed; refresh it (docs/ci.md)`,
    );
    const interrupted = structuredClone(baseline);
    interrupted.interrupted = true;
    expect(inputError(() => checkResults(baseline, interrupted, DEFAULT_THRESHOLDS))).toMatch(/^the baseline \(run run-a\) was interrupted/);
  });

  it('a run that did not finish, as the results or as the baseline: killed (no finishedAt) or interrupted', () => {
    const killed = structuredClone(baseline);
    killed.finishedAt = '';
    expect(inputError(() => checkResults(killed, killed, DEFAULT_THRESHOLDS))).toMatch(
      /^the run being checked \(run run-a\) did not finish: its finishedAt is empty, so the run was killed or crashed while it ran \(3 scenarios written\)/,
    );
    expect(inputError(() => checkResults(baseline, killed, DEFAULT_THRESHOLDS))).toMatch(/^the baseline \(run run-a\) did not finish: .*refresh it/);
    const interrupted = structuredClone(baseline);
    interrupted.interrupted = true;
    expect(inputError(() => checkResults(interrupted, baseline, DEFAULT_THRESHOLDS))).toMatch(/^the run being checked \(run run-a\) was interrupted before every scenario ran/);
  });

  it('a floor that matches no value of the run', () => {
    const t = thresholds([{ scenario: 'fresh/*', metric: 'downSavedPct', min: 60 }]);
    expect(inputError(() => checkResults(baseline, baseline, t))).toBe(
      `--thresholds thresholds.json $.rules[0]: the floor on scenario "fresh/*" metric "downSavedPct" matches no value of this run, so it could never fail (scenarios: ${FRESH}, ${PERSISTENT}, ${RESUMED})`,
    );
  });
});

describe('checkResults on means of repeated runs (--runs 3)', () => {
  /** Every scenario run three times alike; persistent's upstream wire bytes scaled by `factor`. */
  function threeRuns(factor: number): Results {
    const scaled = withScenario(sampleResults(), 'persistent', (s) => {
      s.perEndpointMinute.upWireBytes = s.perEndpointMinute.upWireBytes! * factor;
    });
    const scenarios = scaled.scenarios.map((s) => {
      if (s.state !== 'completed') return s;
      const { repetitions: _r, summary: _s, ...single } = s;
      return combineRepetitions([1, 2, 3].map(() => ({ result: single, loadAverage: { before: 0.5, after: 0.5 } })), 2);
    });
    return { ...scaled, options: { ...scaled.options, runs: 3 }, scenarios, comparisons: compareScenarios(scenarios) };
  }

  it('holds wire bytes to ±1.5% instead of ±3%: a 2% rise passes one run against one, fails means of three', () => {
    const single = checkResults(withScenario(sampleResults(), 'persistent', (s) => {
      s.perEndpointMinute.upWireBytes = s.perEndpointMinute.upWireBytes! * 1.02;
    }), sampleResults(), DEFAULT_THRESHOLDS);
    expect(row(single, PERSISTENT, 'upWireBytes')).toMatchObject({ verdict: 'ok', tolerance: { relativePct: 3 } });
    const repeated = checkResults(threeRuns(1.02), threeRuns(1), DEFAULT_THRESHOLDS);
    expect(row(repeated, PERSISTENT, 'upWireBytes')).toMatchObject({ verdict: 'regressed', tolerance: { relativePct: 1.5 } });
    expect(row(repeated, PERSISTENT, 'upSavedPct')).toMatchObject({ tolerance: { absolute: 1.2 } });
  });

  it('keeps the single-run limits when only one side is a mean of three', () => {
    const mixed = checkResults(threeRuns(1.02), sampleResults(), DEFAULT_THRESHOLDS);
    expect(row(mixed, PERSISTENT, 'upWireBytes')).toMatchObject({ verdict: 'ok', tolerance: { relativePct: 3 } });
  });
});
