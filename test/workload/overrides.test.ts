/** `--workload`'s sweep axes (issue 12): parsing, applying, and bodies fitted to the byte. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitConfig } from '../../bench/workload/fit.ts';
import { applyWorkloadOverrides, buildSchedule, expectedRequestsPerEndpointMinute, loadWorkload, overridesLabel, parseWorkloadFlag } from '../../bench/workload/index.ts';

const DEFAULT_WORKLOAD = 'fixtures/workloads/osquery-default.json';

describe('parseWorkloadFlag', () => {
  it('takes a file or name, then axes', () => {
    expect(parseWorkloadFlag('small-diffs,config-size=2000,rate=30')).toEqual({ file: 'small-diffs', overrides: { configResponseBytes: 2000, requestsPerMinute: 30 } });
    expect(parseWorkloadFlag('log-body=300')).toEqual({ file: null, overrides: { logBodyBytes: 300 } });
    expect(parseWorkloadFlag('x/w.json')).toEqual({ file: 'x/w.json', overrides: {} });
  });

  it('names the flag in every error', () => {
    for (const bad of ['log-body=1.5', 'log-body=', 'config-size=-3', 'rate=0', 'rate=fast', 'size=3', 'a,b', 'a,,log-body=300']) {
      expect(() => parseWorkloadFlag(bad)).toThrow(/^--workload: /);
    }
  });

  it('writes the axes back as given', () => {
    expect(overridesLabel(parseWorkloadFlag('rate=30,log-body=300').overrides)).toBe('log-body=300,rate=30');
    expect(overridesLabel({})).toBe('');
  });
});

describe('applyWorkloadOverrides', () => {
  it('makes every result post the asked size and leaves status posts alone', async () => {
    const w = applyWorkloadOverrides(await loadWorkload(DEFAULT_WORKLOAD), { logBodyBytes: 400 });
    const logs = buildSchedule(w, { endpoints: 2, virtualMinutes: 3, seed: 7 }).filter((r) => r.api === 'log');
    const results = logs.filter((r) => r.body.includes('"log_type":"result"'));
    expect(results.length).toBeGreaterThan(0);
    for (const r of results) {
      expect(r.body.length).toBe(400);
      expect(JSON.parse(r.body.toString()).data).toHaveLength(1);
    }
    expect(logs.some((r) => r.body.includes('"log_type":"status"') && r.body.length !== 400)).toBe(true);
  });

  it('grows result posts past their lines', async () => {
    const w = applyWorkloadOverrides(await loadWorkload(DEFAULT_WORKLOAD), { logBodyBytes: 8000 });
    for (const r of buildSchedule(w, { endpoints: 1, virtualMinutes: 2, seed: 1 }).filter((x) => x.body.includes('"log_type":"result"'))) expect(r.body.length).toBe(8000);
  });

  it('sets the result posts\' period for a rate', async () => {
    const base = await loadWorkload(DEFAULT_WORKLOAD);
    const w = applyWorkloadOverrides(base, { requestsPerMinute: 30 });
    // 3.1 requests a minute besides result posts: 26.9 posts, one every 2.23 s; status every 27 flushes.
    expect(w.logger.intervalSeconds).toBe(2.23);
    expect(w.logger.statusIntervalSeconds).toBeCloseTo(2.23 * 27, 9);
    expect(expectedRequestsPerEndpointMinute(w)).toBeCloseTo(30, 0);
    expect(() => applyWorkloadOverrides(base, { requestsPerMinute: 3 })).toThrow(/^--workload: rate=3: /);
  });
});

describe('fitConfig', () => {
  const config = JSON.parse(readFileSync('fixtures/api/config.json', 'utf8')) as Record<string, unknown>;
  it('cuts or grows the config to the byte, keeping a schedule', () => {
    for (const target of [62, 100, 500, 2000, 8000, 11_000, 16_000]) {
      const fitted = fitConfig(config, target);
      expect(Buffer.byteLength(JSON.stringify(fitted))).toBe(target);
      expect(Object.keys(fitted.schedule as object).length).toBeGreaterThan(0);
    }
  });
});
