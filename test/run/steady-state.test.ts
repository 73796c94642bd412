/**
 * Issue 12: steady-state figures do not depend on how long a run lasts. The quick configuration (fresh and
 * persistent, TLS 1.3, RSA chain, one agent) at 5 and at 20 virtual minutes, through the real command line:
 * whole-run savings move with the length (the same start-up spread over more minutes), steady-state savings
 * agree within 1 percentage point.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeUnless } from '../support/skip.ts';
import type { Comparison, Results } from '../../bench/model/index.ts';
import { cli, liveRunSkipReason, readResults } from './support.ts';

const skip = liveRunSkipReason();

describeUnless(skip, 'steady state across run lengths', () => {
  const dirs: string[] = [];
  const runs: Record<'short' | 'long', Results> = {} as Record<'short' | 'long', Results>;

  beforeAll(async () => {
    for (const [name, minutes] of [['short', 5], ['long', 20]] as const) {
      const dir = mkdtempSync(path.join(tmpdir(), `trb-steady-${minutes}-`));
      dirs.push(dir);
      // 240x: a 20-minute scenario lasts 5 s; the logger's 5 s period is still 21 ms of real time.
      const run = await cli(['run', '--suite', 'quick', '--virtual-minutes', String(minutes), '--time-compression', '240', '--out', dir]);
      if (run.exitCode !== 0) console.log(run.stdout, run.stderr);
      expect(run.exitCode).toBe(0);
      runs[name] = readResults(dir);
    }
  });
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const comparison = (r: Results): Comparison => {
    expect(r.comparisons).toHaveLength(1);
    return r.comparisons[0]!;
  };

  it('steady-state savings of a 5- and a 20-minute run agree within 1 percentage point', () => {
    const short = comparison(runs.short).steady!;
    const long = comparison(runs.long).steady!;
    console.log(`steady up ${short.upSavedPct.toFixed(2)}% vs ${long.upSavedPct.toFixed(2)}%, down ${short.downSavedPct.toFixed(2)}% vs ${long.downSavedPct.toFixed(2)}%`);
    expect(Math.abs(short.upSavedPct - long.upSavedPct)).toBeLessThan(1);
    expect(Math.abs(short.downSavedPct - long.downSavedPct)).toBeLessThan(1);
  });

  it('whole-run savings move with the length: start-up spread over more minutes', () => {
    const short = comparison(runs.short);
    const long = comparison(runs.long);
    expect(long.downSavedPct - short.downSavedPct).toBeGreaterThan(1);
    // The steady state is what a long run tends to: the 20-minute whole run is nearer to it than the 5-minute one.
    expect(Math.abs(long.steady!.downSavedPct - long.downSavedPct)).toBeLessThan(Math.abs(short.steady!.downSavedPct - short.downSavedPct));
  });

  it('persistent connections are derived from the schedule, fresh ones measured, both labelled', () => {
    for (const r of [runs.short, runs.long]) {
      for (const s of r.scenarios) {
        if (s.state === 'failed') throw new Error(s.error);
        const steady = s.steadyState!;
        if (s.spec.mode === 'persistent') {
          expect(steady.connections.basis).toBe('derived');
          // One reconnect per channel (config, logger, distributed) every 3600 s and a period: ~3/60 a minute.
          expect(steady.perEndpointMinute.connections).toBeGreaterThan(2.9 / 61.1);
          expect(steady.perEndpointMinute.connections).toBeLessThan(3 / 60);
          expect(steady.oneTimePerEndpoint.connections).toBe(4);
        } else {
          expect(steady.connections.basis).toBe('measured');
          expect(steady.perEndpointMinute.connections).toBeCloseTo(steady.perEndpointMinute.requests, 6);
        }
      }
    }
  });
});
