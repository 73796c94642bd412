/** Pacing, the sample's address blocks and the limits check: pure functions on hand-worked inputs. */
import { describe, expect, it } from 'vitest';
import { agentAddress, agentIndexOf, agentNetworks } from '../../bench/drive/addresses.ts';
import { choosePacing, requestsPerSecondAt } from '../../bench/plan/pacing.ts';
import { limitProblems, type SystemLimits } from '../../bench/run/limits.ts';
import { fleetLength, resolveRun } from '../../bench/plan/resolve.ts';
import { REPO_ROOT } from '../../bench/paths.ts';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The addresses a CIDR block covers, as 32-bit numbers. */
function covered(block: string): number[] {
  const [address, bits] = block.split('/');
  const base = address!.split('.').reduce((n, p) => n * 256 + Number(p), 0);
  return Array.from({ length: 2 ** (32 - Number(bits)) }, (_, i) => base + i);
}
const numberOf = (address: string) => address.split('.').reduce((n, p) => n * 256 + Number(p), 0);

describe('agent addresses', () => {
  it('gives each agent its own loopback address, never 127.0.0.1, and maps it back', () => {
    expect(agentAddress(0)).toBe('127.16.0.1');
    expect(agentAddress(254)).toBe('127.16.0.255');
    expect(agentAddress(255)).toBe('127.16.1.0');
    expect(agentAddress(999)).toBe('127.16.3.232');
    for (const i of [0, 1, 255, 999, 65_535, 1_000_000]) expect(agentIndexOf(agentAddress(i))).toBe(i);
    expect(agentIndexOf('127.0.0.1')).toBeNull();
  });

  it('covers exactly the first N agents with CIDR blocks', () => {
    for (const n of [1, 2, 3, 50, 255, 256, 1000, 4097]) {
      const blocks = agentNetworks(n);
      const addresses = blocks.flatMap(covered).sort((a, b) => a - b);
      const want = Array.from({ length: n }, (_, i) => numberOf(agentAddress(i)));
      expect(addresses, `${n} agents`).toEqual(want);
      expect(blocks.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n + 1)));
    }
  });
});

describe('pacing', () => {
  const base = { requestsPerEndpointMinute: 15.1, maxRatePerSecond: 250, maxRateSource: 'default' as const };

  it('keeps the requested compression when it fits the budget', () => {
    const p = choosePacing({ ...base, endpoints: 1, requestedCompression: 120, compressionFromFlag: false });
    expect('overBudget' in p).toBe(false);
    if ('overBudget' in p) return;
    expect(p.timeCompression).toBe(120);
    // 1 agent × (15.1 + 1 enroll) requests a virtual minute × 120 / 60 s.
    expect(p.requestsPerSecond).toBeCloseTo(32.2, 9);
  });

  it('lowers a suite compression to the budget, rounded down to two digits', () => {
    const p = choosePacing({ ...base, endpoints: 1000, requestedCompression: 120, compressionFromFlag: false });
    if ('overBudget' in p) throw new Error('expected a pace');
    // 250 × 60 / (1000 × 16.1) = 0.9317… → 0.93
    expect(p.timeCompression).toBe(0.93);
    expect(p.requestsPerSecond).toBeLessThanOrEqual(250);
    expect(p.reason).toMatch(/0\.93x keeps them within the budget of 250 requests\/s/);
  });

  it('refuses an explicit compression over the budget, naming what fits', () => {
    const p = choosePacing({ ...base, endpoints: 200, requestedCompression: 120, compressionFromFlag: true });
    expect(p).toEqual({ overBudget: true, fitting: 4.6, requestsPerSecond: requestsPerSecondAt(200, 15.1, 120) });
  });
});

describe('limits', () => {
  const roomy: SystemLimits = { openFiles: 20_000, portRange: [32_768, 60_999], maxTimeWaitBuckets: 131_072, memAvailableBytes: 20 * 2 ** 30 };
  const needs = { endpoints: 1000, requestsPerEndpointMinute: 15.1, timeCompression: 0.93, scheduledRequests: 100_000 };

  it('lets a 1000-agent fleet through on this machine\'s limits', () => {
    expect(limitProblems(needs, roomy)).toEqual([]);
  });

  it('says what to raise for each limit a fleet would hit', () => {
    const tight: SystemLimits = { openFiles: 1024, portRange: [60_000, 60_009], maxTimeWaitBuckets: 1000, memAvailableBytes: 100 * 2 ** 20 };
    const problems = limitProblems(needs, tight);
    expect(problems).toHaveLength(4);
    expect(problems[0]).toMatch(/ulimit -n is 1024; raise it \(ulimit -n \d+\)/);
    expect(problems[1]).toMatch(/ip_local_port_range has 10 ports; widen it/);
    expect(problems[2]).toMatch(/tcp_max_tw_buckets is 1000 .* raise it/);
    expect(problems[3]).toMatch(/^memory: .* MiB are available/);
  });
});

describe('a fleet and the suite\'s emulated paths', () => {
  it('a sampled fleet stays on loopback and says why; a small run keeps the paths', async () => {
    const fleet = await resolveRun({ endpoints: '200', out: path.join(tmpdir(), 'trb-plan-fleet') }, REPO_ROOT);
    expect(new Set(fleet.scenarios.map((s) => s.network))).toEqual(new Set(['loopback']));
    expect(fleet.scenarios.every((s) => s.captureAgents === 50)).toBe(true);
    const note = fleet.notes.find((n) => n.warning.kind === 'network-paths-skipped');
    expect(note?.warning.message).toContain('a fleet of 200 agents is captured by a sample');
    expect(fleet.pathsOptional).toBe(false);

    const small = await resolveRun({ endpoints: '4', out: path.join(tmpdir(), 'trb-plan-small') }, REPO_ROOT);
    expect(new Set(small.scenarios.map((s) => s.network))).toEqual(new Set(['loopback', 'lan', 'wan']));
    expect(small.scenarios.every((s) => s.captureAgents === undefined)).toBe(true);
  });

  it('refuses a proxy or a sample on an emulated path, naming the flag', async () => {
    await expect(resolveRun({ proxy: 'embedded', network: 'wan' }, REPO_ROOT)).rejects.toThrow(/^--proxy: runs on loopback only, not on wan/);
    await expect(resolveRun({ endpoints: '100', captureAgents: '10', network: 'lan' }, REPO_ROOT)).rejects.toThrow(/^--capture-agents: samples agents by their loopback addresses/);
  });
});

describe('a paced fleet\'s length', () => {
  const workload = { startSpreadSeconds: 60 };
  it('shortens a scenario that would last past 5 real minutes, never below the start spread and a steady minute', () => {
    // 1000 agents at 0.37x: the suite's 5 virtual minutes would be 13.5 real minutes.
    const l = fleetLength(5, false, { timeCompression: 0.37 }, workload);
    expect(l.virtualMinutes).toBe(2);
    expect(l.note).toContain("each scenario runs 2 virtual minutes, not the suite's 5");
    // 200 agents at 1.8x: 5 virtual minutes last under 3 real minutes; kept.
    expect(fleetLength(5, false, { timeCompression: 1.8 }, workload).virtualMinutes).toBe(5);
    // 400 agents at 0.9x: 4 virtual minutes fit in 5 real ones.
    expect(fleetLength(5, false, { timeCompression: 0.9 }, workload).virtualMinutes).toBe(4);
  });
  it('keeps --virtual-minutes as given', () => {
    expect(fleetLength(5, true, { timeCompression: 0.37 }, workload)).toEqual({ virtualMinutes: 5, note: '' });
  });
});
