import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResults } from '../../bench/results/read.ts';
import type { Mode, Results, ScenarioResult, TrafficCounters } from '../../bench/model/index.ts';
import { bandwidthSeries } from '../../bench/report/charts/bandwidth.ts';
import { byteBreakdown } from '../../bench/report/charts/breakdown.ts';
import { buildCharts, type ChartSpec } from '../../bench/report/charts/index.ts';
import { fullHandshakeCost, resumedHandshakeCost } from '../../bench/report/charts/protocol.ts';
import type { MeasuredScenario } from '../../bench/report/groups.ts';
import { MODE_COLOURS } from '../../bench/report/palette.ts';
import { noCaptureResults, results, sampleResults, scenario } from './fixtures.ts';
import { buildReportModel } from '../../bench/report/model.ts';

const byName = (charts: ChartSpec[], name: string): ChartSpec => {
  const chart = charts.find((c) => c.name === name);
  if (chart === undefined) throw new Error(`no chart ${name} among ${charts.map((c) => c.name).join(', ')}`);
  return chart;
};
const title = (c: ChartSpec) => c.config.options?.plugins?.title?.text;
const measured = (s: ScenarioResult): MeasuredScenario => {
  if (s.state === 'failed') throw new Error(`${s.id} failed`);
  return s;
};

describe('chart configurations', () => {
  const sample = sampleResults();
  const charts = buildCharts(buildReportModel(sample));

  it('match their snapshots', () => {
    for (const chart of charts) expect(chart).toMatchSnapshot(chart.name);
    for (const chart of buildCharts(buildReportModel(noCaptureResults()))) expect(chart).toMatchSnapshot(`no-capture ${chart.name}`);
  });

  it('are plain JSON data (the page receives them through JSON)', () => {
    for (const chart of charts) expect(JSON.parse(JSON.stringify(chart.config))).toEqual(chart.config);
  });

  it('come in page order: primary configuration, across configurations, the others', () => {
    expect(charts.map((c) => c.name)).toEqual([
      'headline',
      'breakdown',
      'bandwidth',
      'latency',
      'latency-cdf',
      'connections',
      'protocol-matrix',
      'headline-tls-1.2-ecdsa-p-256',
      'breakdown-tls-1.2-ecdsa-p-256',
      'bandwidth-tls-1.2-ecdsa-p-256',
      'latency-tls-1.2-ecdsa-p-256',
      'latency-cdf-tls-1.2-ecdsa-p-256',
    ]);
  });

  it('state the finding in their titles, computed from the data', () => {
    // Down: fresh 253,492 B / 5 endpoint-minutes = 50,698 B; persistent 84,580 B / 5 = 16,916 B; saved 66.6%.
    expect(title(byName(charts, 'headline'))).toBe('Reusing connections saved 67% of downstream and 45% of upstream bytes');
    expect(title(byName(charts, 'connections'))).toBe(
      'Reuse cut new connections from 15.2 to 0.80 per endpoint-minute, TIME_WAIT sockets from 15.2 to 0.80',
    );
    expect(title(byName(charts, 'breakdown'))).toMatch(/^TLS handshakes are \d+% of all bytes with fresh connections, \d+% with persistent, \d+% with resumed$/);
    expect(title(byName(charts, 'protocol-matrix'))).toBe('A full TLS handshake costs 1.2 kB–2.6 kB; a resumed one costs 1.7 kB (both directions)');
  });

  it('give each mode its colour in every chart', () => {
    for (const chart of charts) {
      for (const dataset of chart.config.data.datasets) {
        const mode = (['fresh', 'persistent', 'resumed'] as Mode[]).find((m) => (dataset.label ?? '').startsWith(m));
        if (mode === undefined || chart.name.startsWith('protocol') || chart.name.startsWith('breakdown')) continue;
        const colour = JSON.stringify(dataset.backgroundColor);
        const invalid = /INVALID/.test(dataset.label ?? '');
        if (!invalid && chart.name !== 'connections') expect(colour, `${chart.name} ${dataset.label}`).toBe(JSON.stringify(MODE_COLOURS[mode]));
      }
    }
    const breakdownTicks = byName(charts, 'breakdown').config.options?.scales?.y?.ticks?.color;
    expect(breakdownTicks).toEqual(['fresh', 'fresh', 'persistent', 'persistent', 'resumed', 'resumed'].map((m) => MODE_COLOURS[m as Mode]));
  });

  it('leave failed scenarios out and mark invalid ones', () => {
    const headline = byName(charts, 'headline-tls-1.2-ecdsa-p-256');
    const labels = headline.config.data.datasets.map((d) => d.label);
    expect(labels).toEqual([
      'fresh: a new connection and full TLS handshake per request',
      'persistent: one kept-alive connection per channel, reused (INVALID)',
    ]);
    expect(headline.config.options?.plugins?.valueLabels?.labels?.[1]).toEqual([
      ['19.0 kB', '36% saved', 'INVALID'],
      ['16.4 kB', '52% saved', 'INVALID'],
    ]);
    expect(headline.table.rows.map((r) => r[1])).toEqual(['completed', 'invalid', 'failed']);
    // Across configurations the failed scenario's bars are gaps, and the subtitle says why.
    const connections = byName(charts, 'connections');
    const resumed = connections.config.data.datasets.find((d) => d.label === 'resumed')!;
    expect(connections.config.data.labels).toEqual([
      ['connections opened', 'TLS 1.3 · RSA-2048'],
      ['connections opened', 'TLS 1.2 · ECDSA P-256'],
      ['sockets through TIME_WAIT', 'TLS 1.3 · RSA-2048'],
      ['sockets through TIME_WAIT', 'TLS 1.2 · ECDSA P-256'],
    ]);
    expect(resumed.data).toEqual([15.2, null, 15.2, null]);
    expect(connections.config.options?.plugins?.subtitle?.text).toContain(
      'not drawn: resumed/tls1.2/ecdsa-p256/loopback/node (failed) · drawn pale: persistent/tls1.2/ecdsa-p256/loopback/node (INVALID): see the scenario table',
    );
    expect(connections.config.options?.plugins?.fadedBars?.bars).toEqual([
      [false, false, false, false],
      [false, true, false, true],
      [false, false, false, false],
    ]);
  });

  it('shares one value range across the per-configuration headlines', () => {
    const max = (c: ChartSpec) => (c.config.options?.scales?.y as { suggestedMax?: number }).suggestedMax;
    expect(max(byName(charts, 'headline'))).toBe(max(byName(charts, 'headline-tls-1.2-ecdsa-p-256')));
    expect(max(byName(charts, 'headline'))).toBe(50.6984);
  });

  it('draw only what a run without capture has: no breakdown, bandwidth or protocol matrix', () => {
    const names = buildCharts(buildReportModel(noCaptureResults())).map((c) => c.name);
    expect(names).toEqual(['headline', 'latency', 'latency-cdf', 'connections']);
    const headline = byName(buildCharts(buildReportModel(noCaptureResults())), 'headline');
    expect(String(headline.config.options?.plugins?.subtitle?.text)).toContain('TCP payload bytes (no capture)');
  });

  it('draw nothing for a run whose scenarios all failed', () => {
    const failed = results([scenario({ mode: 'fresh', state: 'failed' }), scenario({ mode: 'persistent', state: 'failed' })]);
    expect(buildCharts(buildReportModel(failed))).toEqual([]);
    expect(buildReportModel(failed).answer).toBeNull();
  });
});

describe('where the bytes go', () => {
  it('splits wire bytes into categories that sum to wireBytes, for every scenario and direction', () => {
    for (const r of [sampleResults()]) {
      for (const s of r.scenarios) {
        if (s.state === 'failed' || s.traffic === null) continue;
        for (const direction of ['up', 'down'] as const) {
          const parts = byteBreakdown(s.traffic[direction]);
          const sum = Object.values(parts).reduce((a, b) => a + b, 0);
          expect(sum, `${s.id} ${direction}`).toBe(s.traffic[direction].wireBytes);
          for (const [k, v] of Object.entries(parts)) expect(v, `${s.id} ${direction} ${k}`).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('accounts a hand-made direction byte by byte', () => {
    // 10 frames of 66 header bytes, 4 of them control; 1,000 payload bytes: 600 handshake, 330 app data of
    // which 66 framing, 24 alert, 46 retransmitted.
    const c: TrafficCounters = {
      frames: 10,
      wireBytes: 1660,
      ipBytes: 1520,
      headerBytes: 520,
      tcpPayloadBytes: 1000,
      retransmittedBytes: 46,
      controlFrames: 4,
      controlWireBytes: 264,
      tls: { records: 6, handshakeBytes: 600, appDataBytes: 330, appDataOverheadBytes: 66, alertBytes: 24, otherBytes: 0, nonTlsBytes: 0, incompleteBytes: 0, exact: true },
    };
    expect(byteBreakdown(c)).toEqual({ headers: 396, control: 264, handshake: 600, recordOverhead: 90, payload: 264, other: 46 });
  });
});

describe('bandwidth over time', () => {
  it('converts real-millisecond buckets to bytes per virtual second', () => {
    // 10 real ms buckets at 100x are 1 virtual second each; 3 buckets (the middle one empty) stay unsummed.
    const s = measured(scenario({ mode: 'fresh' }));
    const series = bandwidthSeries({
      ...s,
      spec: { ...s.spec, timeCompression: 100 },
      timeline: { bucketMs: 10, buckets: [{ startMs: 0, upWireBytes: 500, downWireBytes: 2000 }, { startMs: 20, upWireBytes: 100, downWireBytes: 400 }] },
    });
    expect(series).toEqual({ bucketVirtualSeconds: 1, up: [500, 0, 100], down: [2000, 0, 400], upMean: 200, downMean: 800 });
  });

  it('sums fine timelines into 5-virtual-second buckets so the logger period does not alias', () => {
    const s = measured(scenario({ mode: 'fresh' }));
    const series = bandwidthSeries(s)!;
    expect(series.bucketVirtualSeconds).toBeCloseTo(5, 9);
    expect(series.down).toHaveLength(60);
    const totalDown = series.down.reduce((a, b) => a + b, 0) * series.bucketVirtualSeconds;
    expect(totalDown).toBeCloseTo(s.traffic!.down.wireBytes, 6);
  });
});

describe('protocol matrix', () => {
  it('divides handshake bytes by handshakes, and subtracts the full ones from a resumed scenario', () => {
    const [fresh, , resumed] = buildReportModel(sampleResults()).groups[0]!.measured;
    const full = fullHandshakeCost(fresh)!;
    // 76 full handshakes of 597 B up and 2,016 B down (the fixture's TLS 1.3 RSA figures).
    expect(full).toMatchObject({ up: 597, down: 2016 });
    // 4 full + 72 resumed handshakes of 758 B up, 964 B down.
    const cost = resumedHandshakeCost(resumed, full)!;
    expect(cost.up).toBeCloseTo(758, 9);
    expect(cost.down).toBeCloseTo(964, 9);
  });
});

describe('the answer', () => {
  it('is one sentence per direction from the primary configuration, saying which comparison', () => {
    const answer = buildReportModel(sampleResults()).answer!;
    expect(answer.down).toBe('Reusing connections saved 67% of downstream bytes: 50.7 kB → 16.9 kB per endpoint-minute');
    expect(answer.up).toBe('Reusing connections saved 45% of upstream bytes: 34.8 kB → 19.2 kB per endpoint-minute');
    expect(answer.context).toBe(
      'TLS 1.3, RSA-2048 chain, Node server, loopback: persistent vs fresh, bytes on the wire (link, IP and TCP headers included) per endpoint per virtual minute',
    );
  });

  it('says what it counts without a capture, and falls back to resumption when persistent failed', () => {
    expect(buildReportModel(noCaptureResults()).answer!.down).toMatch(/^Reusing connections saved \d+% of downstream TCP payload bytes: /);
    const r: Results = results([scenario({ mode: 'fresh' }), scenario({ mode: 'persistent', state: 'failed' }), scenario({ mode: 'resumed' })]);
    expect(buildReportModel(r).answer!.up).toBe('Resuming TLS sessions cost 4% more upstream bytes: 34.8 kB → 36.2 kB per endpoint-minute');
  });

  it('labels configurations by the axes that vary', () => {
    expect(buildReportModel(sampleResults()).groups.map((g) => [g.label, g.slug, g.primary])).toEqual([
      ['TLS 1.3 · RSA-2048', 'tls-1.3-rsa-2048', true],
      ['TLS 1.2 · ECDSA P-256', 'tls-1.2-ecdsa-p-256', false],
    ]);
    expect(buildReportModel(noCaptureResults()).groups.map((g) => g.label)).toEqual(['TLS 1.3 · RSA-2048 · Node server · loopback']);
  });
});

describe('a real quick-suite run (fixtures/results/quick-sample)', async () => {
  const quick = await loadResults(path.resolve(import.meta.dirname, '../../fixtures/results/quick-sample/results.json'));

  it('splits every captured direction into categories that sum to its wire bytes', () => {
    for (const s of quick.scenarios) {
      const traffic = measured(s).traffic!;
      for (const direction of ['up', 'down'] as const) {
        const parts = byteBreakdown(traffic[direction]);
        expect(Object.values(parts).reduce((a, b) => a + b, 0), `${s.id} ${direction}`).toBe(traffic[direction].wireBytes);
        expect(parts.other, `${s.id} ${direction}: no retransmissions or cut records on loopback`).toBe(0);
      }
    }
  });

  it('answers from the run\'s own comparison in the steady state, the whole run labelled, and draws every chart', () => {
    const comparison = quick.comparisons[0]!;
    const answer = buildReportModel(quick).answer!;
    expect(answer.down).toContain(`saved ${Math.round(comparison.steady!.downSavedPct)}% of downstream bytes`);
    expect(answer.up).toContain(`saved ${Math.round(comparison.steady!.upSavedPct)}% of upstream bytes`);
    expect(answer.context).toContain(`steady state (start-up left out; whole run: ${comparison.upSavedPct.toFixed(0)}% up, ${comparison.downSavedPct.toFixed(0)}% down saved)`);
    expect(buildCharts(buildReportModel(quick)).map((c) => c.name)).toEqual(['headline', 'breakdown', 'bandwidth', 'latency', 'latency-cdf', 'connections', 'protocol-matrix']);
  });
});
