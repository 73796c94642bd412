/** Repetitions (`--runs N`): statistics on hand-made values, and how runs combine into one scenario. */
import { describe, expect, it } from 'vitest';
import { combineRepetitions, spread } from '../../bench/analyze/repetitions.ts';
import { comparisonSummary } from '../../bench/analyze/compare.ts';
import type { MeasuredScenario, PerEndpointMinute } from '../../bench/model/index.ts';
import { scenario } from '../check/results.ts';

const figures = (upWireBytes: number): PerEndpointMinute => ({
  upWireBytes, downWireBytes: 20_000, upTcpPayloadBytes: 18_000, downTcpPayloadBytes: 19_000, upHandshakeBytes: 400,
  downHandshakeBytes: 5_000, connections: 1, fullHandshakes: 1, resumedHandshakes: 0, requests: 15, timeWait: 1,
});

/** One run of a persistent scenario: the check tests' hand-made scenario without its summary. */
function run(upWireBytes: number, logP50Ms = 1) {
  const { repetitions: _r, summary: _s, ...single } = scenario('persistent', figures(upWireBytes), logP50Ms, 0.5);
  return single;
}

describe('spread', () => {
  it('is mean, sample sd, min, max and the t-based 95% CI half-width', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum 32, sd √(32/7) = 2.13809; t(7) = 2.36462.
    const s = spread([2, 4, 4, 4, 5, 5, 7, 9])!;
    expect(s.n).toBe(8);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(2.138089935, 8);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    expect(s.ci95).toBeCloseTo((2.138089935 / Math.sqrt(8)) * 2.364624252, 3);
  });

  it('has no spread for one value and is null for none', () => {
    expect(spread([3])).toEqual({ n: 1, mean: 3, sd: 0, min: 3, max: 3, ci95: 0 });
    expect(spread([])).toBeNull();
  });
});

describe('combineRepetitions', () => {
  it('keeps every run, summarises them, and keeps the first run\'s measurement', () => {
    const combined = combineRepetitions(
      [
        { result: run(20_000), loadAverage: { before: 0.5, after: 0.7 } },
        { result: run(20_400), loadAverage: { before: 0.7, after: 0.9 } },
        { result: run(20_200), loadAverage: { before: 0.9, after: 0.8 } },
      ],
      2,
    ) as MeasuredScenario;
    expect(combined.state).toBe('completed');
    expect(combined.perEndpointMinute.upWireBytes).toBe(20_000);
    expect(combined.repetitions.map((r) => r.perEndpointMinute!.upWireBytes)).toEqual([20_000, 20_400, 20_200]);
    expect(combined.summary.runs).toBe(3);
    expect(combined.summary.perEndpointMinute.upWireBytes).toMatchObject({ n: 3, mean: 20_200, sd: 200, min: 20_000, max: 20_400 });
    // t(2) = 4.302653: 200 / √3 × 4.302653.
    expect(combined.summary.perEndpointMinute.upWireBytes!.ci95).toBeCloseTo((200 / Math.sqrt(3)) * 4.302652730, 6);
    expect(combined.summary.loadAverage.mean).toBeCloseTo((0.7 + 0.9 + 0.9) / 3, 10);
    expect(combined.warnings.map((w) => w.kind)).toEqual([]);
  });

  it('warns about a load above the core count and about a wide latency spread', () => {
    const combined = combineRepetitions(
      [
        { result: run(20_000, 1), loadAverage: { before: 1.2, after: 2.5 } },
        { result: run(20_000, 3), loadAverage: { before: 1.0, after: 1.1 } },
      ],
      2,
    );
    const kinds = combined.warnings.map((w) => w.kind);
    expect(kinds).toContain('busy-machine');
    expect(kinds).toContain('large-spread');
    expect(combined.warnings.find((w) => w.kind === 'busy-machine')!.message).toContain('2.50 on 2 cores during run 1');
  });

  it('makes the scenario invalid when a later run failed, naming the run', () => {
    const failed = { id: 'persistent/tls1.3/rsa2048/loopback/node', state: 'failed' as const, spec: run(1).spec, warnings: [], error: 'server died' };
    const combined = combineRepetitions(
      [
        { result: run(20_000), loadAverage: { before: 0.5, after: 0.5 } },
        { result: failed, loadAverage: { before: 0.5, after: 0.5 } },
      ],
      2,
    );
    expect(combined.state).toBe('invalid');
    expect(combined.state === 'invalid' && combined.invalidReasons).toEqual(['run 2: server died']);
    expect(combined.state !== 'failed' && combined.summary.measuredRuns).toBe(1);
  });
});

describe('comparisonSummary', () => {
  it('pairs run k with run k and summarises the savings', () => {
    const fresh = (up: number) => {
      const { repetitions: _r, summary: _s, ...single } = scenario('fresh', { ...figures(up), downWireBytes: 80_000 }, 4, 1);
      return single;
    };
    const both = (runs: number[][]) =>
      runs.map(([f, p]) => [{ result: fresh(f!), loadAverage: { before: 0, after: 0 } }, { result: run(p!), loadAverage: { before: 0, after: 0 } }] as const);
    const pairs = both([[30_000, 20_000], [30_000, 21_000]]);
    const b = combineRepetitions(pairs.map((p) => p[0]), 2) as MeasuredScenario;
    const c = combineRepetitions(pairs.map((p) => p[1]), 2) as MeasuredScenario;
    const s = comparisonSummary(b, c);
    expect(s.pairs).toBe(2);
    // 1 − 20/30 = 33.33%, 1 − 21/30 = 30%: mean 31.67, sd √((1.667² × 2) / 1) = 2.357.
    expect(s.upSavedPct!.mean).toBeCloseTo((100 / 3 + 30) / 2, 10);
    expect(s.upSavedPct!.sd).toBeCloseTo(Math.SQRT2 * (100 / 6 / 10), 6);
    expect(s.downSavedPct!.mean).toBe(75);
    expect(s.steadyUpSavedPct).toBeNull();
  });
});
