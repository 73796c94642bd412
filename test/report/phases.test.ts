import { describe, expect, it } from 'vitest';
import type { ApiLatency, LatencySummary, MeasuredScenario } from '../../bench/model/index.ts';
import { requestPhases } from '../../bench/report/phases.ts';
import { scenario } from './fixtures.ts';

// A fixture's call, whatever else the results' types hold; only counts and means matter here.
const base = (scenario({ mode: 'fresh' }) as MeasuredScenario).latency.config!;
const mean = (samples: number, meanMs: number): LatencySummary => ({ ...base.total, samples, meanMs });
const call = (phases: Pick<ApiLatency, 'total' | 'tcpConnect' | 'tlsHandshake' | 'firstByte'>): ApiLatency => ({ ...base, ...phases });

describe('the mean request in its phases', () => {
  it('weights each call by its requests and counts reused connections as 0 ms of connect and handshake', () => {
    // config: 2 requests, both on new connections, connected at 1 ms, handshake done at 4, first byte at 5, end 6.
    // log: 8 requests, 2 of them on new connections (connected at 1, handshake at 3); first byte 2, end 2.5.
    const config = call({ total: mean(2, 6), tcpConnect: mean(2, 1), tlsHandshake: mean(2, 4), firstByte: mean(2, 5) });
    const log = call({ total: mean(8, 2.5), tcpConnect: mean(2, 1), tlsHandshake: mean(2, 3), firstByte: mean(8, 2) });
    const s = { ...scenario({ mode: 'persistent' }), latency: { config, log } } as MeasuredScenario;
    const phases = requestPhases(s)!;
    // Over 10 requests: connect ends at (2·1 + 2·1)/10 = 0.4, handshake at (2·4 + 2·3)/10 = 1.4, first byte at
    // (2·5 + 8·2)/10 = 2.6, the end at (2·6 + 8·2.5)/10 = 3.2.
    expect(phases.requests).toBe(10);
    expect(phases.tcpConnectMs).toBeCloseTo(0.4, 12);
    expect(phases.tlsHandshakeMs).toBeCloseTo(1.0, 12);
    expect(phases.waitMs).toBeCloseTo(1.2, 12);
    expect(phases.transferMs).toBeCloseTo(0.6, 12);
    expect(phases.totalMs).toBeCloseTo(3.2, 12);
  });

  it('is null when no request succeeded', () => {
    const s = { ...scenario({ mode: 'fresh' }), latency: {} } as MeasuredScenario;
    expect(requestPhases(s)).toBeNull();
  });
});
