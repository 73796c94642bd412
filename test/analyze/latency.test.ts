/**
 * Latency statistics against tinybench's (the oracle: another implementation of the same definitions),
 * and the round-trip model's arithmetic on hand-made requests.
 */
import { Bench } from 'tinybench';
import { describe, expect, it } from 'vitest';
import { roundTripModel, slowStartRounds, summarize, tCritical95 } from '../../bench/analyze/latency.ts';
import type { ScenarioSpec } from '../../bench/model/index.ts';
import { pathOf, WAN } from '../../bench/link/profile.ts';

/** tinybench's statistics of exactly these samples (each iteration reports one as its duration). */
async function tinybenchStatistics(samples: number[]) {
  const bench = new Bench({ iterations: samples.length, time: 0, warmup: false, retainSamples: true });
  let i = 0;
  bench.add('samples', () => ({ overriddenDuration: samples[i++ % samples.length]! }));
  await bench.run();
  const result = bench.tasks[0]!.result;
  if (result.state !== 'completed') throw new Error(`tinybench task ${result.state}`);
  return result.latency;
}

/** A seeded sample set with a long tail, like request latencies. */
function latencies(n: number, seed: number): number[] {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  return Array.from({ length: n }, () => 2 + random() * 3 + (random() > 0.9 ? random() * 40 : 0));
}

describe('summarize', () => {
  it.each([2, 3, 5, 20, 30, 31, 100, 1000])('agrees with tinybench on %i samples', async (n) => {
    const theirs = await tinybenchStatistics(latencies(n, n * 7919));
    // Compared on the samples tinybench kept (it calls a task once more to learn whether it is async).
    const ours = summarize([...theirs.samples!])!;
    expect(ours.samples).toBe(n);
    expect(ours.meanMs).toBeCloseTo(theirs.mean, 9);
    expect(ours.sdMs).toBeCloseTo(theirs.sd, 9);
    expect(ours.p50Ms).toBeCloseTo(theirs.p50, 9);
    expect(ours.p75Ms).toBeCloseTo(theirs.p75, 9);
    expect(ours.p99Ms).toBeCloseTo(theirs.p99, 9);
    // The t quantile is an approximation here and a table or another method there: 0.1% apart at most.
    expect(Math.abs(ours.marginOfErrorMs - theirs.moe) / theirs.moe).toBeLessThan(1e-3);
  });

  it('gives one sample no spread and nothing for none', () => {
    expect(summarize([4])).toEqual({ samples: 1, meanMs: 4, sdMs: 0, p50Ms: 4, p75Ms: 4, p90Ms: 4, p99Ms: 4, marginOfErrorMs: 0 });
    expect(summarize([])).toBeNull();
  });
});

describe('tCritical95', () => {
  it('matches tinybench’s critical value for every degree of freedom it is used with', async () => {
    for (const df of [1, 2, 3, 4, 5, 9, 19, 29, 99, 999]) {
      const theirs = await tinybenchStatistics(latencies(df + 1, df));
      expect(Math.abs(tCritical95(df) - theirs.critical) / theirs.critical, `df ${df}`).toBeLessThan(1e-3);
    }
  });
});

describe('the round-trip model', () => {
  const spec = (over: Partial<ScenarioSpec>): ScenarioSpec => ({
    id: 'x',
    mode: 'fresh',
    tls: 'tls1.2',
    cert: 'rsa2048',
    network: 'wan',
    link: pathOf(WAN),
    server: 'node',
    workload: 'osquery-default',
    endpoints: 1,
    virtualMinutes: 1,
    timeCompression: 10,
    sessionTimeoutVirtualSeconds: 3600,
    serverIdleTimeoutVirtualSeconds: 75,
    sessionTickets: true,
    seed: 1,
    ...over,
  });
  const small = { upBytes: 0, downBytes: 0, responseFlightBytes: 500, serverTimeMs: 2 };

  it('counts the round trips of each transport to the first response byte', () => {
    expect(roundTripModel(spec({ tls: 'tls1.2' }), { ...small, newConnection: true, resumed: false }).roundTrips).toBe(4);
    expect(roundTripModel(spec({ tls: 'tls1.3' }), { ...small, newConnection: true, resumed: false }).roundTrips).toBe(3);
    expect(roundTripModel(spec({ tls: 'tls1.2' }), { ...small, newConnection: true, resumed: true }).roundTrips).toBe(3);
    expect(roundTripModel(spec({ tls: 'tls1.3' }), { ...small, newConnection: true, resumed: true }).roundTrips).toBe(3);
    expect(roundTripModel(spec({ mode: 'persistent' }), { ...small, newConnection: false, resumed: false }).roundTrips).toBe(1);
  });

  it('adds the RTT per round trip, the server time and the serialisation at the rates', () => {
    // 14,480 B of payload = 10 full segments (+520 B of headers) each way: 15,000 B at 10 and 20 Mbit/s.
    const m = roundTripModel(spec({ mode: 'persistent' }), { newConnection: false, resumed: false, upBytes: 14_480, downBytes: 14_480, responseFlightBytes: 14_480, serverTimeMs: 2 });
    expect(m).toEqual({ roundTrips: 1, rttMs: 60, serverTimeMs: 2, transferMs: 12 + 6, ms: 60 + 2 + 18 });
  });

  it('is 0 on loopback without a reference', () => {
    const m = roundTripModel(spec({ network: 'loopback', link: null }), { ...small, newConnection: true, resumed: false, serverTimeMs: null });
    expect(m.ms).toBe(0);
  });

  it('adds a round trip per slow-start doubling beyond the initial window of 10 segments', () => {
    expect(slowStartRounds(0)).toBe(0);
    expect(slowStartRounds(14_480)).toBe(0);
    expect(slowStartRounds(14_481)).toBe(1);
    expect(slowStartRounds(30 * 1448)).toBe(1);
    expect(slowStartRounds(30 * 1448 + 1)).toBe(2);
  });
});
