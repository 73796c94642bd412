/**
 * Issue 12: the sensitivity model against a live run. The quick suite with the default workload gives the
 * model; the quick suite with the small-diffs workload (400 B result posts) measures the point the model
 * predicts. docs/measurements.md records more points (config size, request rate, large posts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeUnless } from '../support/skip.ts';
import { modelSavings } from '../../bench/analyze/sensitivity.ts';
import type { Results } from '../../bench/model/index.ts';
import { loadResults } from '../../bench/results/read.ts';
import { cli, liveRunSkipReason } from './support.ts';

const skip = liveRunSkipReason();

/** Model and live run agree to within this many percentage points: the client's pure ACKs, coalesced or not
 * by delayed ACK, move persistent's upstream bytes per request by up to 45 B between runs (docs/measurements.md),
 * up to 2 points of the saving in either run; model and live differed by 1.0-2.0 points over four pairs. */
const TOLERANCE_PP = 3;

describeUnless(skip, 'sensitivity model against a live run', () => {
  const dirs: string[] = [];
  const runs = {} as Record<'model' | 'live', Results>;

  beforeAll(async () => {
    for (const [name, args] of [['model', []], ['live', ['--workload', 'small-diffs']]] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), `trb-sensitivity-${name}-`));
      dirs.push(dir);
      const run = await cli(['run', '--suite', 'quick', ...args, '--out', dir]);
      if (run.exitCode !== 0) console.log(run.stdout, run.stderr);
      expect(run.exitCode).toBe(0);
      // Through the reader: the new field passes its shape check.
      runs[name] = await loadResults(path.join(dir, 'results.json'));
    }
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it("predicts the small-diffs run's steady-state savings from the default run's figures", () => {
    const curve = runs.model.sensitivity![0]!;
    const live = runs.live.sensitivity![0]!.workload;
    expect(live.resultBodyBytes).toBe(400);
    const predicted = modelSavings(curve.modes.fresh, curve.modes.persistent!, curve.workload, {
      logBodyBytes: live.resultBodyBytes,
      configResponseBytes: live.configResponseBytes,
      requestsPerMinute: live.requestsPerMinute,
    });
    const measured = runs.live.comparisons[0]!.steady!;
    console.log(
      `model ${predicted.upSavedPct.toFixed(2)}% up, ${predicted.downSavedPct.toFixed(2)}% down; live ${measured.upSavedPct.toFixed(2)}% up, ${measured.downSavedPct.toFixed(2)}% down`,
    );
    expect(Math.abs(predicted.upSavedPct - measured.upSavedPct)).toBeLessThan(TOLERANCE_PP);
    expect(Math.abs(predicted.downSavedPct - measured.downSavedPct)).toBeLessThan(TOLERANCE_PP);
    // The large posts of the default workload save far less upstream: the model is not flat.
    expect(runs.model.comparisons[0]!.steady!.upSavedPct).toBeLessThan(measured.upSavedPct - 10);
  });

  it("small diffs reproduce the field report's upstream saving, and the curve passes through the run", () => {
    const measured = runs.live.comparisons[0]!.steady!;
    // Within 5 points of the field report's 50%: one 66-byte pure ACK per request more or fewer (delayed ACK
    // coalescing, which moves with the machine's load) is about 4.5 points of this saving; a clean-clone CI
    // run on the busy machine measured 3.1 points off. The default workload saves ~35% and 2 kB posts ~26%, so a
    // workload that lost its small bodies still fails here.
    expect(Math.abs(measured.upSavedPct - 50)).toBeLessThan(5);
    const axis = runs.live.sensitivity![0]!.axes.logBodyBytes;
    const own = axis.points.find((p) => p.x === axis.measuredX)!.persistent!;
    expect(Math.abs(own.upSavedPct - measured.upSavedPct)).toBeLessThanOrEqual(0.005);
    expect(Math.abs(own.downSavedPct - measured.downSavedPct)).toBeLessThanOrEqual(0.005);
    for (const name of ['log-body', 'config-size', 'rate']) expect(existsSync(path.join(dirs[1]!, 'charts', `sensitivity-${name}.png`))).toBe(true);
  });
});
