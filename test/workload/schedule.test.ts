import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AgentRequest } from '../../bench/model/index.ts';
import type { Workload } from '../../bench/workload/index.ts';
import {
  AGENT_API_PATHS, buildSchedule, distributedQueryDue, expectedRequestsPerEndpointMinute, loadWorkload, nodeKeyFor, scheduleInstants,
} from '../../bench/workload/index.ts';

const DEFAULT_WORKLOAD = 'fixtures/workloads/osquery-default.json';
let w: Workload;
beforeAll(async () => {
  w = await loadWorkload(DEFAULT_WORKLOAD);
});

function digest(schedule: AgentRequest[]): string {
  const h = createHash('sha256');
  for (const r of schedule) {
    h.update(JSON.stringify([r.endpointIndex, r.channel, r.api, r.path, r.atVirtualMs, r.headers]));
    h.update(r.body);
  }
  return h.digest('hex');
}

function json(r: AgentRequest): Record<string, unknown> {
  const raw = r.headers.some(([name]) => name === 'Content-Encoding') ? gunzipSync(r.body) : r.body;
  return JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
}

function logType(r: AgentRequest): string | null {
  return r.api === 'log' ? (json(r)['log_type'] as string) : null;
}

describe('buildSchedule determinism', () => {
  it('gives byte-identical requests for the same seed', () => {
    const a = buildSchedule(w, { endpoints: 5, virtualMinutes: 3, seed: 42 });
    const b = buildSchedule(w, { endpoints: 5, virtualMinutes: 3, seed: 42 });
    expect(a.length).toBe(b.length);
    a.forEach((r, i) => expect(Buffer.compare(r.body, b[i]!.body)).toBe(0));
    expect(digest(a)).toBe(digest(b));
  });

  it('changes timings and bodies with the seed', () => {
    const a = buildSchedule(w, { endpoints: 5, virtualMinutes: 3, seed: 42 });
    const b = buildSchedule(w, { endpoints: 5, virtualMinutes: 3, seed: 43 });
    expect(digest(a)).not.toBe(digest(b));
    const enrollAt = (s: AgentRequest[]) => s.filter((r) => r.api === 'enroll').map((r) => r.atVirtualMs);
    expect(enrollAt(a)).not.toEqual(enrollAt(b));
    const firstResult = (s: AgentRequest[]) => s.find((r) => r.endpointIndex === 0 && logType(r) === 'result')!.body;
    expect(firstResult(a).equals(firstResult(b))).toBe(false);
  });

  it('keeps an endpoint\'s requests independent of how many endpoints run', () => {
    const few = buildSchedule(w, { endpoints: 2, virtualMinutes: 2, seed: 7 }).filter((r) => r.endpointIndex === 1);
    const many = buildSchedule(w, { endpoints: 9, virtualMinutes: 2, seed: 7 }).filter((r) => r.endpointIndex === 1);
    expect(digest(few)).toBe(digest(many));
  });

  it('is gzip-stable when logger bodies are compressed', () => {
    const gz = { ...w, loggerCompress: true };
    expect(digest(buildSchedule(gz, { endpoints: 3, virtualMinutes: 2, seed: 5 })))
      .toBe(digest(buildSchedule(gz, { endpoints: 3, virtualMinutes: 2, seed: 5 })));
  });
});

describe('scheduleInstants', () => {
  it('are the full schedule\'s instants, in its order, for every call including distributed writes', () => {
    for (const seed of [1, 42]) {
      const full = buildSchedule(w, { endpoints: 20, virtualMinutes: 12, seed });
      const instants = scheduleInstants(w, { endpoints: 20, virtualMinutes: 12, seed });
      expect(full.some((r) => r.api === 'distributed_write')).toBe(true);
      expect(instants).toEqual(full.map((r) => ({ endpointIndex: r.endpointIndex, channel: r.channel, atVirtualMs: r.atVirtualMs })));
    }
  });
});

describe('buildSchedule counts', () => {
  const endpoints = 7;
  const virtualMinutes = 10;

  it('implies 15.1 requests per endpoint-minute for the default workload, inside the field report\'s 12-16', () => {
    // 1 config + 12 result posts + 1 status post + 1 distributed read + 0.1 distributed write.
    expect(expectedRequestsPerEndpointMinute(w)).toBeCloseTo(15.1, 10);
    expect(expectedRequestsPerEndpointMinute(w)).toBeGreaterThanOrEqual(12);
    expect(expectedRequestsPerEndpointMinute(w)).toBeLessThanOrEqual(16);
  });

  it('matches expectedRequestsPerEndpointMinute exactly, enroll excluded', () => {
    const s = buildSchedule(w, { endpoints, virtualMinutes, seed: 11 });
    const periodic = s.filter((r) => r.api !== 'enroll');
    expect(periodic.length / (endpoints * virtualMinutes)).toBeCloseTo(expectedRequestsPerEndpointMinute(w), 10);
  });

  it('gives each endpoint one enroll and the per-API counts of its intervals', () => {
    const s = buildSchedule(w, { endpoints, virtualMinutes, seed: 11 });
    for (let e = 0; e < endpoints; e += 1) {
      const mine = s.filter((r) => r.endpointIndex === e);
      const count = (pred: (r: AgentRequest) => boolean) => mine.filter(pred).length;
      expect(count((r) => r.api === 'enroll')).toBe(1);
      expect(count((r) => r.api === 'config')).toBe(10);
      expect(count((r) => logType(r) === 'result')).toBe(120);
      expect(count((r) => logType(r) === 'status')).toBe(10);
      expect(count((r) => r.api === 'distributed_read')).toBe(10);
      // queryFraction 0.1 over 10 reads: the error-diffusion rule gives exactly one.
      expect(count((r) => r.api === 'distributed_write')).toBe(1);
      // Enroll comes first and config follows it by firstAfterEnrollSeconds.
      expect(mine[0]!.api).toBe('enroll');
      const firstConfig = mine.find((r) => r.api === 'config')!;
      expect(firstConfig.atVirtualMs - mine[0]!.atVirtualMs).toBe(1000);
    }
  });

  it('sorts by atVirtualMs, then endpointIndex, keeping result before status at one instant', () => {
    const s = buildSchedule(w, { endpoints, virtualMinutes: 3, seed: 3 });
    for (let i = 1; i < s.length; i += 1) {
      const [p, c] = [s[i - 1]!, s[i]!];
      expect(p.atVirtualMs < c.atVirtualMs || (p.atVirtualMs === c.atVirtualMs && p.endpointIndex <= c.endpointIndex)).toBe(true);
      if (p.atVirtualMs === c.atVirtualMs && p.endpointIndex === c.endpointIndex && p.api === 'log' && c.api === 'log') {
        expect([logType(p), logType(c)]).toEqual(['result', 'status']);
      }
    }
  });

  it('writes after exactly the reads the shared rule marks, on the distributed channel', () => {
    const s = buildSchedule({ ...w, distributed: { ...w.distributed, queryFraction: 0.35 } }, { endpoints: 4, virtualMinutes: 20, seed: 9 });
    for (let e = 0; e < 4; e += 1) {
      const key = nodeKeyFor(9, e);
      const reads = s.filter((r) => r.endpointIndex === e && r.api === 'distributed_read');
      const writes = s.filter((r) => r.endpointIndex === e && r.api === 'distributed_write');
      const due = reads.filter((_, k) => distributedQueryDue(key, k, 0.35));
      expect(writes.length).toBe(due.length);
      expect(writes.length === 7 || writes.length === 8).toBe(true);
      writes.forEach((write, i) => {
        expect(write.channel).toBe('distributed');
        expect(write.atVirtualMs - due[i]!.atVirtualMs).toBeGreaterThanOrEqual(20);
        expect(write.atVirtualMs - due[i]!.atVirtualMs).toBeLessThanOrEqual(500);
      });
    }
  });
});

describe('buildSchedule stagger', () => {
  it('spreads agent starts over startSpreadSeconds and dephases each agent\'s channels', () => {
    const endpoints = 40;
    const s = buildSchedule(w, { endpoints, virtualMinutes: 2, seed: 21 });
    const starts = s.filter((r) => r.api === 'enroll').map((r) => r.atVirtualMs);
    expect(new Set(starts).size).toBe(endpoints);
    for (const at of starts) expect(at >= 0 && at < 60_000).toBe(true);
    // Spread, not clumped: every 15-second quarter of the spread holds some starts.
    for (let q = 0; q < 4; q += 1) expect(starts.some((at) => at >= q * 15_000 && at < (q + 1) * 15_000)).toBe(true);
    let samePhase = 0;
    for (let e = 0; e < endpoints; e += 1) {
      const firstOf = (api: string) => s.find((r) => r.endpointIndex === e && r.api === api)!.atVirtualMs;
      if (firstOf('log') === firstOf('distributed_read')) samePhase += 1;
    }
    expect(samePhase).toBe(0);
    // No instant carries more than a few requests across 40 agents.
    const perInstant = new Map<number, number>();
    for (const r of s) perInstant.set(r.atVirtualMs, (perInstant.get(r.atVirtualMs) ?? 0) + 1);
    expect(Math.max(...perInstant.values())).toBeLessThanOrEqual(3);
  });

  it('keeps every request inside the window plus the start spread', () => {
    const s = buildSchedule(w, { endpoints: 10, virtualMinutes: 4, seed: 2 });
    for (const r of s) expect(r.atVirtualMs).toBeLessThan(4 * 60_000 + 60_000 + 500);
  });
});

describe('buildSchedule requests', () => {
  it('sends osquery 5.12\'s headers and no Authorization or Connection header', () => {
    const s = buildSchedule(w, { endpoints: 2, virtualMinutes: 2, seed: 1 });
    for (const r of s) {
      expect(r.headers).toEqual([['Content-Type', 'application/json'], ['Accept', 'application/json'], ['User-Agent', 'osquery/5.12.1']]);
      expect(r.path).toBe(AGENT_API_PATHS[r.api]);
    }
  });

  it('adds Authorization: NodeKey from 5.23 on, except on enroll', () => {
    const s = buildSchedule({ ...w, agentVersion: '5.23.0' }, { endpoints: 2, virtualMinutes: 1, seed: 1 });
    for (const r of s) {
      const auth = r.headers.find(([name]) => name === 'Authorization');
      if (r.api === 'enroll') expect(auth).toBeUndefined();
      else expect(auth).toEqual(['Authorization', `NodeKey ${nodeKeyFor(1, r.endpointIndex)}`]);
    }
    const older = buildSchedule({ ...w, agentVersion: '5.22.9' }, { endpoints: 1, virtualMinutes: 1, seed: 1 });
    expect(older.some((r) => r.headers.some(([name]) => name === 'Authorization'))).toBe(false);
  });

  it('gzips only logger bodies when loggerCompress, and asks for gzip when acceptGzip', () => {
    const s = buildSchedule({ ...w, loggerCompress: true, acceptGzip: true }, { endpoints: 2, virtualMinutes: 1, seed: 1 });
    for (const r of s) {
      const names = r.headers.map(([name]) => name);
      expect(names).toContain('Accept-Encoding');
      const gz = r.body[0] === 0x1f && r.body[1] === 0x8b;
      expect(gz).toBe(r.api === 'log');
      expect(names.includes('Content-Encoding')).toBe(r.api === 'log');
      expect(json(r)).toBeTypeOf('object');
    }
  });

  it('builds realistic osquery JSON bodies with the derived node key', () => {
    const s = buildSchedule(w, { endpoints: 3, virtualMinutes: 5, seed: 8 });
    for (const r of s) {
      const body = json(r);
      if (r.api === 'enroll') {
        expect(Object.keys(body)).toEqual(['enroll_secret', 'host_identifier', 'platform_type', 'host_details']);
        expect(r.body.length).toBeGreaterThan(1000);
        continue;
      }
      expect(body['node_key']).toBe(nodeKeyFor(8, r.endpointIndex));
      if (r.api === 'log') {
        const data = body['data'] as Record<string, unknown>[];
        if (body['log_type'] === 'result') {
          expect(data.length).toBeGreaterThanOrEqual(1);
          expect(data.length).toBeLessThanOrEqual(3);
          expect(r.body.length).toBeGreaterThan(450);
          expect(r.body.length).toBeLessThan(2200);
          for (const line of data) expect(line['numerics']).toBe(false);
        } else {
          for (const line of data) {
            const size = JSON.stringify(line).length;
            expect(size).toBeGreaterThanOrEqual(200);
            expect(size).toBeLessThanOrEqual(400);
          }
        }
      }
      if (r.api === 'distributed_write') expect(Object.keys(body)).toEqual(['node_key', 'queries', 'statuses', 'messages', 'stats']);
    }
  });

  it('rejects bad options with the option\'s name', () => {
    expect(() => buildSchedule(w, { endpoints: 0, virtualMinutes: 1, seed: 1 })).toThrow(/endpoints: expected a positive integer/);
    expect(() => buildSchedule(w, { endpoints: 1, virtualMinutes: 0, seed: 1 })).toThrow(/virtualMinutes/);
    expect(() => buildSchedule(w, { endpoints: 1, virtualMinutes: 1, seed: 1.5 })).toThrow(/seed/);
  });
});
