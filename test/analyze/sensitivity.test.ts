/**
 * The sensitivity model (issue 12) on hand-made figures, each expectation worked out by hand in the comments,
 * and its workload figures from a real schedule.
 */
import { describe, expect, it } from 'vitest';
import { modelSavings, sensitivityCurves, sensitivityMode, sensitivityWorkload } from '../../bench/analyze/sensitivity.ts';
import type { MeasuredScenario, SensitivityWorkload } from '../../bench/model/index.ts';
import { buildSchedule, loadWorkload } from '../../bench/workload/index.ts';

const DEFAULT_WORKLOAD = 'fixtures/workloads/osquery-default.json';

// 10 requests a minute: 8 result posts of 600 B, a config (5000 B answer) and a read, bodies 100 B each.
const workload: SensitivityWorkload = {
  requestsPerMinute: 10,
  resultPostsPerMinute: 8,
  resultBodyBytes: 600,
  configsPerMinute: 1,
  configResponseBytes: 5000,
  logResponseBytes: 20,
  requestBodyBytesPerMinute: 8 * 600 + 2 * 100, // 5000
  responseBodyBytesPerMinute: 5000 + 8 * 20 + 30, // 5190
  serverIdleTimeoutSeconds: 75,
};

/** A scenario with only what the model reads. */
function scenario(mode: 'fresh' | 'persistent', up: number, down: number, connections: number, overhead: { up: number; down: number }): MeasuredScenario {
  return {
    id: `${mode}/x`,
    state: 'completed',
    spec: { mode },
    steadyState: {
      perEndpointMinute: { upWireBytes: up, downWireBytes: down, connections },
      connectionOverhead: { upWireBytes: overhead.up, downWireBytes: overhead.down },
    },
    summary: { steady: null },
  } as unknown as MeasuredScenario;
}

// fresh: one connection per request at 500 B up, 2000 B down.
const fresh = sensitivityMode(scenario('fresh', 12_000, 30_000, 10, { up: 500, down: 2000 }), workload);
const persistent = sensitivityMode(scenario('persistent', 7000, 10_000, 0, { up: 500, down: 2000 }), workload);

describe('sensitivityMode', () => {
  it("derives a request's bytes beyond its body from the steady state", () => {
    // (12000 - 10·500 - 5000) / 10 and (30000 - 10·2000 - 5190) / 10
    expect(fresh.requestUpWireBytes).toBeCloseTo(200, 9);
    expect(fresh.requestDownWireBytes).toBeCloseTo(481, 9);
    expect(fresh.connectionsPerRequest).toBe(1);
    // (7000 - 5000) / 10 and (10000 - 5190) / 10; persistent adds no connection per request
    expect(persistent.requestUpWireBytes).toBeCloseTo(200, 9);
    expect(persistent.requestDownWireBytes).toBeCloseTo(481, 9);
    expect(persistent.connectionsPerRequest).toBe(0);
  });
});

describe('modelSavings', () => {
  it("gives the run's own savings at the run's values", () => {
    const s = modelSavings(fresh, persistent, workload, {});
    expect(s.upSavedPct).toBeCloseTo((1 - 7000 / 12_000) * 100, 9);
    expect(s.downSavedPct).toBeCloseTo((1 - 10_000 / 30_000) * 100, 9);
    expect(s.allBytesSavedPct).toBeCloseTo((1 - 17_000 / 42_000) * 100, 9);
  });

  it('smaller result posts take the same bytes off both modes', () => {
    // 8 posts × 300 B less: fresh 9600, persistent 4600 up; downstream unchanged.
    const s = modelSavings(fresh, persistent, workload, { logBodyBytes: 300 });
    expect(s.upSavedPct).toBeCloseTo((1 - 4600 / 9600) * 100, 9);
    expect(s.downSavedPct).toBeCloseTo((1 - 10_000 / 30_000) * 100, 9);
  });

  it('a smaller config takes its bytes off downstream', () => {
    // 1 config × 4000 B less: fresh 26000, persistent 6000 down.
    expect(modelSavings(fresh, persistent, workload, { configResponseBytes: 1000 }).downSavedPct).toBeCloseTo((1 - 6000 / 26_000) * 100, 9);
  });

  it('more requests add result posts, and a connection each for fresh', () => {
    // 10 more posts: fresh up 12000 + 10·600 + 10·200 + 10·500 = 25000, persistent 7000 + 6000 + 2000 = 15000;
    // down fresh 30000 + 10·(20 + 481) + 10·2000 = 55010, persistent 10000 + 5010 = 15010.
    const s = modelSavings(fresh, persistent, workload, { requestsPerMinute: 20 });
    expect(s.upSavedPct).toBeCloseTo(40, 9);
    expect(s.downSavedPct).toBeCloseTo((1 - 15_010 / 55_010) * 100, 9);
  });

  it('a log period past the idle timeout makes persistent reconnect at every post', () => {
    // 2.5 requests a minute leave 0.5 result posts, one every 120 s (past the 75 s idle timeout): 7.5 posts
    // fewer; persistent up 7000 + 0.5·600 - 8·600 - 7.5·200 + 0.5 reconnects·500 = 1250; fresh 2250.
    const at = { requestsPerMinute: 2.5 };
    const f = 12_000 + 0.5 * 600 - 4800 - 7.5 * 200 - 7.5 * 500;
    expect(modelSavings(fresh, persistent, workload, at).upSavedPct).toBeCloseTo((1 - 1250 / f) * 100, 9);
  });
});

describe('sensitivityCurves', () => {
  it('sweeps each axis through the run and puts the field report where it falls', () => {
    const f = { ...scenario('fresh', 12_000, 30_000, 10, { up: 500, down: 2000 }), spec: { mode: 'fresh', tls: 'tls1.3' } } as unknown as MeasuredScenario;
    const p = { ...scenario('persistent', 7000, 10_000, 0, { up: 500, down: 2000 }), spec: { mode: 'persistent', tls: 'tls1.3' } } as unknown as MeasuredScenario;
    const [curve] = sensitivityCurves({ scenarios: [f, p], comparisons: [] }, new Map([[f.id, workload]]));
    expect(curve!.basis).toBe('model-from-measured');
    const body = curve!.axes.logBodyBytes;
    expect(body.measuredX).toBe(600);
    // 41.666…%, to 0.01 points.
    expect(body.points.find((x) => x.x === 600)!.persistent!.upSavedPct).toBe(41.67);
    // 50% up: (7000 + 8(B - 600)) / (12000 + 8(B - 600)) = 1/2 → B = 600 - (12000 - 14000) / 8 = 350.
    expect(body.fieldReport.x).toBe(350);
    expect(curve!.axes.configResponseBytes.fieldReport.x).toBe(11_000);
    expect(curve!.axes.requestsPerMinute.fieldReport.x).toBe(14);
    expect(curve!.modes.resumed).toBeNull();
  });
});

describe('sensitivityWorkload', () => {
  it("counts the default agent's steady requests and bodies from its schedule", async () => {
    const w = await loadWorkload(DEFAULT_WORKLOAD);
    const schedule = buildSchedule(w, { endpoints: 2, virtualMinutes: 5, seed: 1 });
    const sizes = { config: 10_844, log: 22, distributedRead: 35, distributedReadQuery: 200, distributedWrite: 22, enroll: 68 };
    const s = sensitivityWorkload(schedule, sizes, 10, 75)!;
    const steady = schedule.filter((r) => r.api !== 'enroll');
    expect(s.requestsPerMinute).toBe(steady.length / 10);
    expect(s.resultPostsPerMinute).toBe(12);
    expect(s.configsPerMinute).toBe(1);
    expect(s.requestBodyBytesPerMinute).toBe(steady.reduce((a, r) => a + r.body.length, 0) / 10);
    const writes = steady.filter((r) => r.api === 'distributed_write').length;
    const reads = steady.filter((r) => r.api === 'distributed_read').length;
    const logs = steady.filter((r) => r.api === 'log').length;
    expect(s.responseBodyBytesPerMinute).toBe((10 * 10_844 + logs * 22 + writes * (200 + 22) + (reads - writes) * 35) / 10);
  });
});
