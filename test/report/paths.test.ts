/**
 * Round trips on emulated paths in the reports: the table's rows, the per-network phase charts and the
 * terminal/Markdown tables, from a real run on loopback, lan and wan (fixtures/results/networks: fresh and
 * persistent, TLS 1.3, RSA, 1 virtual minute, 20 latency samples), and nothing of it in a loopback-only run.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { latencyPhases } from '../../bench/analyze/latency.ts';
import type { AgentRequest, RequestOutcome } from '../../bench/model/index.ts';
import { buildCharts } from '../../bench/report/charts/index.ts';
import { headlineMarkdown, headlineText } from '../../bench/report/headline.ts';
import { buildReportModel } from '../../bench/report/model.ts';
import { loadResults } from '../../bench/results/read.ts';

const fixture = (name: string) => path.resolve(import.meta.dirname, '../../fixtures/results', name, 'results.json');

describe('latencyPhases', () => {
  const request = (api: AgentRequest['api']): AgentRequest => ({ endpointIndex: 0, channel: 'logger', api, path: '/', atVirtualMs: 0, headers: [], body: Buffer.alloc(0) });
  const ok = (phases: { tcpConnectMs: number | null; tlsHandshakeMs: number | null; firstByteMs: number; totalMs: number }): RequestOutcome => ({
    state: 'ok', request: request('log'), status: 200, responseBodyBytes: 2, socketBytes: { up: 1, down: 1 }, responseFlightBytes: 1,
    connectionId: 0, newConnection: phases.tcpConnectMs !== null, sessionResumed: false, retried: false, phases,
  });

  it('averages each phase over requests, a reused connection counting 0 for connect and handshake, so they add up to the mean', () => {
    const outcomes = [
      ok({ tcpConnectMs: 1, tlsHandshakeMs: 3, firstByteMs: 5, totalMs: 6 }),
      ok({ tcpConnectMs: null, tlsHandshakeMs: null, firstByteMs: 2, totalMs: 2.5 }),
      { state: 'failed', request: request('log'), error: 'reset', connectionId: null } as RequestOutcome,
    ];
    const p = latencyPhases(outcomes, {})!;
    expect(p).toEqual({ requests: 2, tcpConnectMs: 0.5, tlsHandshakeMs: 1, waitMs: 2, transferMs: 0.75, totalMs: 4.25, roundTrips: 0, modelMs: null });
    expect(p.tcpConnectMs + p.tlsHandshakeMs + p.waitMs + p.transferMs).toBeCloseTo(p.totalMs, 12);
  });

  it('is null without a successful request', () => {
    expect(latencyPhases([], {})).toBeNull();
  });
});

describe('a run on loopback, lan and wan (fixtures/results/networks)', async () => {
  const results = await loadResults(fixture('networks'));
  const model = buildReportModel(results);

  it('has a round-trip row per scenario: the model where a path exists, the savings against fresh', () => {
    expect(model.roundTrips.map((r) => r.id)).toEqual(results.scenarios.map((s) => s.id));
    for (const row of model.roundTrips) {
      expect(row.roundTrips, row.id).toBe(row.id.startsWith('fresh/') ? 3 : 1);
      if (row.network === 'loopback') expect(row.modelMs, row.id).toBeNull();
      else expect(row.ratio, row.id).toBeGreaterThan(0.9);
      if (row.id.startsWith('persistent/')) expect(row.roundTripsSaved, row.id).toBe(2);
    }
    const wan = model.roundTrips.filter((r) => r.network === 'wan');
    expect(wan.map((r) => r.rttMs)).toEqual([60, 60]);
    expect(wan.every((r) => r.ratio! < 1.3)).toBe(true);
  });

  it('draws one phase chart per emulated network, its bars adding up to the mean request and its marks the model', () => {
    const charts = buildCharts(model).filter((c) => c.name.startsWith('round-trips-'));
    expect(charts.map((c) => c.name)).toEqual(['round-trips-lan', 'round-trips-wan']);
    for (const chart of charts) {
      const network = chart.name.replace('round-trips-', '');
      const scenarios = results.scenarios.filter((s) => s.spec.network === network);
      const datasets = chart.config.data.datasets;
      expect(datasets.map((d) => d.label)).toEqual(['TCP connect', 'TLS handshake', 'waiting for the first byte', 'reading the response', 'round-trip model']);
      scenarios.forEach((s, i) => {
        if (s.state === 'failed') throw new Error(s.error);
        const stacked = datasets.slice(0, 4).reduce((sum, d) => sum + (d.data[i] as number), 0);
        expect(stacked, s.id).toBeCloseTo(s.latencyPhases!.totalMs, 3);
        expect(datasets[4]!.data[i], s.id).toBeCloseTo(s.latencyPhases!.modelMs!, 3);
      });
      expect(chart.group).toBeNull();
      expect(chart.table.rows).toHaveLength(scenarios.length);
    }
  });

  it('has a latency-per-call panel per emulated network, each mode\'s median beside its model, and its chart', () => {
    expect(model.networkLatency.map((p) => [p.network, p.rttMs])).toEqual([['lan', 1], ['wan', 60]]);
    for (const panel of model.networkLatency) {
      expect(panel.modes.map((m) => m.mode)).toEqual(['fresh', 'persistent']);
      for (const m of panel.modes) {
        const s = results.scenarios.find((x) => x.spec.mode === m.mode && x.spec.network === panel.network)!;
        if (s.state === 'failed') throw new Error(s.error);
        for (const api of panel.apis) {
          expect(m.calls[api]?.p50Ms, `${s.id} ${api}`).toBe(s.latency[api]!.total.p50Ms);
          expect(m.calls[api]?.modelMs, `${s.id} ${api}`).toBe(s.latency[api]!.model.ms);
        }
      }
    }
    const names = buildCharts(model).map((c) => c.name);
    for (const panel of model.networkLatency) expect(names).toContain(`latency-${panel.slug}-model`);
  });

  it('prints the round-trip table under the headline in the terminal and in Markdown', () => {
    const text = headlineText(model);
    expect(text).toMatch(/^scenario +RTT +round trips +p50 \/ call +model +mean \/ model +p50 saved +RTs saved$/m);
    expect(text).toMatch(/^persistent\/tls1\.3\/rsa2048\/wan\/node +60 ms +1\.0 /m);
    expect(headlineMarkdown(model)).toContain('| scenario | RTT | round trips |');
  });
});

describe('a loopback-only run (fixtures/results/quick-sample)', async () => {
  const model = buildReportModel(await loadResults(fixture('quick-sample')));

  it('has no round-trip table or chart', () => {
    expect(model.roundTrips).toEqual([]);
    expect(model.networkLatency).toEqual([]);
    expect(buildCharts(model).some((c) => c.name.startsWith('round-trips-'))).toBe(false);
    expect(headlineText(model)).not.toContain('round trips');
  });
});
