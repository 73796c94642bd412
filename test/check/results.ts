/**
 * Hand-made results for the check tests: a run of fresh, persistent and resumed on one TLS 1.3/RSA group,
 * with round numbers so every expected change and limit can be worked out by hand.
 */
import type { ApiLatency, Comparison, Mode, PerEndpointMinute, Results, ScenarioResult, ScenarioSpec } from '../../bench/model/index.ts';
import { emptyTrafficCounters } from '../../bench/model/index.ts';
import { comparisonSummary } from '../../bench/analyze/compare.ts';
import { combineRepetitions } from '../../bench/analyze/repetitions.ts';

export type Completed = Extract<ScenarioResult, { state: 'completed' }>;

export function spec(mode: Mode, overrides: Partial<ScenarioSpec> = {}): ScenarioSpec {
  const base: ScenarioSpec = {
    id: `${mode}/tls1.3/rsa2048/loopback/node`,
    mode,
    tls: 'tls1.3',
    cert: 'rsa2048',
    network: 'loopback',
    link: null,
    server: 'node',
    workload: 'osquery-default',
    endpoints: 1,
    virtualMinutes: 3,
    timeCompression: 120,
    sessionTimeoutVirtualSeconds: 3600,
    serverIdleTimeoutVirtualSeconds: 75,
    sessionTickets: true,
    seed: 1,
  };
  return { ...base, ...overrides };
}

function latency(p50Ms: number, samples: number): ApiLatency {
  const summary = { samples, meanMs: p50Ms * 1.1, sdMs: p50Ms * 0.2, p50Ms, p75Ms: p50Ms * 1.5, p90Ms: p50Ms * 2, p99Ms: p50Ms * 3, marginOfErrorMs: p50Ms * 0.1 };
  return {
    total: summary,
    totalSamplesMs: Array.from({ length: samples }, () => p50Ms),
    tcpConnect: null,
    tlsHandshake: null,
    firstByte: summary,
    transfer: summary,
    upBytes: 600,
    downBytes: 300,
    model: { roundTrips: 1, rttMs: 0, serverTimeMs: null, transferMs: 0, ms: 0 },
    modelRatio: null,
  };
}

/** A completed scenario with the given per-endpoint-minute figures, p50 latency of `log` and CPU per request. */
export function scenario(mode: Mode, p: PerEndpointMinute, logP50Ms: number, cpuMsPerRequest: number): Completed {
  const s = spec(mode);
  // One run: its repetitions and summary as the runner makes them.
  return combineRepetitions([{ result: single(s, p, logP50Ms, cpuMsPerRequest), loadAverage: { before: 0.5, after: 0.6 } }], 2) as Completed;
}

function single(s: ScenarioSpec, p: PerEndpointMinute, logP50Ms: number, cpuMsPerRequest: number): Omit<Completed, 'repetitions' | 'summary'> {
  const mode = s.mode;
  return {
    id: s.id,
    state: 'completed',
    spec: s,
    warnings: [],
    traffic: { up: emptyTrafficCounters(), down: emptyTrafficCounters() },
    perEndpointMinute: p,
    steadyState: null,
    capture: {
      packets: 100,
      droppedByKernel: 0,
      reconciled: true,
      reconciliation: { up: { socketBytes: 10, pcapStreamBytes: 10 }, down: { socketBytes: 20, pcapStreamBytes: 20 } },
    },
    requests: { scheduled: 45, ok: 45, failed: 0, retried: 0 },
    connections: { opened: 45, captured: 45, sessionResumed: 0 },
    timeWait: { client: 45, server: 0 },
    // `config` has 3 samples: too few for a p50 ratio, so the check must leave it out.
    latency: { log: latency(logP50Ms, 40), config: latency(logP50Ms * 2, 3) },
    latencyAllCalls: { samples: 43, meanMs: logP50Ms * 1.2, sdMs: logP50Ms * 0.3, p50Ms: logP50Ms, p75Ms: logP50Ms * 1.5, p90Ms: logP50Ms * 2, p99Ms: logP50Ms * 4, marginOfErrorMs: logP50Ms * 0.1 },
    server: { cpuUserMs: 50, cpuSystemMs: 10, cpuMsPerRequest, requests: 45 },
    timeline: { bucketMs: 1000 / 120, buckets: [{ startMs: 0, upWireBytes: 100, downWireBytes: 200 }] },
    link: null,
    files: { pcap: `scenarios/${mode}/capture.pcap`, keylog: `scenarios/${mode}/keylog.txt` },
    realDurationMs: 1600,
  };
}

function comparison(baseline: Completed, candidate: Completed): Comparison {
  const b = baseline.perEndpointMinute;
  const c = candidate.perEndpointMinute;
  const saved = (before: number, after: number) => ((before - after) / before) * 100;
  return {
    baseline: baseline.id,
    candidate: candidate.id,
    upSavedPct: saved(b.upWireBytes!, c.upWireBytes!),
    downSavedPct: saved(b.downWireBytes!, c.downWireBytes!),
    connectionsSavedPct: saved(b.connections, c.connections),
    basis: 'wire',
    latencyP50SavedPct: saved(baseline.latencyAllCalls!.p50Ms, candidate.latencyAllCalls!.p50Ms),
    roundTripsSavedPerRequest: 2,
    steady: null,
    summary: comparisonSummary(baseline, candidate),
  };
}

/**
 * fresh: 20,000 B up and 40,000 B down per endpoint-minute, 15 connections; persistent: 10,000 and 10,000
 * (50% and 75% saved), 1 connection; resumed: 16,000 and 20,000. log p50: fresh 4 ms, persistent 1 ms
 * (ratio 0.25), resumed 3 ms; CPU per request: fresh 2 ms, persistent 0.5 ms (ratio 0.25), resumed 1 ms.
 */
export function sampleResults(): Results {
  const fresh = scenario(
    'fresh',
    {
      upWireBytes: 20_000, downWireBytes: 40_000, upTcpPayloadBytes: 12_000, downTcpPayloadBytes: 33_000,
      upHandshakeBytes: 6_000, downHandshakeBytes: 24_000, connections: 15, fullHandshakes: 15, resumedHandshakes: 0,
      requests: 15, timeWait: 15,
    },
    4,
    2,
  );
  const persistent = scenario(
    'persistent',
    {
      upWireBytes: 10_000, downWireBytes: 10_000, upTcpPayloadBytes: 7_000, downTcpPayloadBytes: 8_000,
      upHandshakeBytes: 400, downHandshakeBytes: 1_600, connections: 1, fullHandshakes: 1, resumedHandshakes: 0,
      requests: 15, timeWait: 0,
    },
    1,
    0.5,
  );
  const resumed = scenario(
    'resumed',
    {
      upWireBytes: 16_000, downWireBytes: 20_000, upTcpPayloadBytes: 9_000, downTcpPayloadBytes: 15_000,
      upHandshakeBytes: 3_000, downHandshakeBytes: 6_000, connections: 15, fullHandshakes: 1, resumedHandshakes: 14,
      requests: 15, timeWait: 15,
    },
    3,
    1,
  );
  return {
    schema: 'tls-reuse-bench/results@1',
    runId: 'run-a',
    startedAt: '2025-01-01T00:00:00.000Z',
    finishedAt: '2025-01-01T00:00:10.000Z',
    interrupted: false,
    options: { suite: 'quick', workloadPath: 'fixtures/workloads/osquery-default.json', capture: true, allowInvalid: false, runs: 1, certs: { rsa2048: 'fixtures/certs/rsa2048/chain.pem' } },
    environment: { node: '20.20.2', openssl: '3.0.17', kernel: '6.1.0', platform: 'linux x64', cpu: 'test cpu', cores: 2, tcpdump: '4.99.3', nginx: null },
    scenarios: [fresh, persistent, resumed],
    comparisons: [comparison(fresh, persistent), comparison(fresh, resumed)],
    warnings: [],
  };
}

/** A deep copy of `results` with `change` applied to the scenario of `mode`, comparisons recomputed. */
export function withScenario(results: Results, mode: Mode, change: (s: Completed) => void): Results {
  const copy = structuredClone(results);
  const target = copy.scenarios.find((s) => s.spec.mode === mode);
  if (target === undefined || target.state !== 'completed') throw new Error(`no completed ${mode} scenario`);
  change(target);
  const fresh = copy.scenarios.find((s): s is Completed => s.spec.mode === 'fresh' && s.state === 'completed');
  if (fresh !== undefined) {
    copy.comparisons = copy.scenarios
      .filter((s): s is Completed => s.state === 'completed' && s.spec.mode !== 'fresh')
      .map((s) => comparison(fresh, s));
  }
  return copy;
}
