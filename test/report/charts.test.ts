import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadResults } from '../../bench/results/read.ts';
import type { Mode, Results, ScenarioResult, TrafficCounters } from '../../bench/model/index.ts';
import { cumulativeSeries } from '../../bench/report/charts/bandwidth.ts';
import { pageConfig } from '../../bench/report/chart-plugins.js';
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

  it('come in page order: the comparison across configurations, then each configuration, the primary one first', () => {
    expect(charts.map((c) => c.name)).toEqual([
      'comparison',
      'connections',
      'server-cpu',
      'protocol-matrix',
      'headline-tls1.3-rsa2048',
      'breakdown-tls1.3-rsa2048',
      'bandwidth-tls1.3-rsa2048',
      'latency-tls1.3-rsa2048',
      'latency-phases-tls1.3-rsa2048',
      'latency-cdf-tls1.3-rsa2048',
      'headline-tls1.2-ecdsa-p256',
      'breakdown-tls1.2-ecdsa-p256',
      'bandwidth-tls1.2-ecdsa-p256',
      'latency-tls1.2-ecdsa-p256',
      'latency-phases-tls1.2-ecdsa-p256',
      'latency-cdf-tls1.2-ecdsa-p256',
    ]);
  });

  it("name their files in the scenario ids' own words, every configuration alike (headline.png was TLS 1.3/RSA, headline-tls-1.2-ecdsa-p-256.png the others)", () => {
    const model = buildReportModel(sample);
    for (const chart of charts.filter((c) => c.group !== null)) {
      const spec = model.groups.find((g) => g.label === chart.group)!.spec;
      // TLS version and chain vary in this run: they name the configuration, as the ids spell them.
      expect(chart.name, chart.group!).toMatch(new RegExp(`^[a-z-]+-${spec.tls}-${spec.cert}$`.replace(/\./g, '\\.')));
    }
  });

  it("quote the steady state in the headline's title when the comparison has one, as its bars show it", () => {
    const steady = sampleResults();
    for (const c of steady.comparisons) c.steady = { upSavedPct: 50.2, downSavedPct: 80.4, connectionsSavedPct: 99 };
    const chart = byName(buildCharts(buildReportModel(steady)), 'headline-tls1.3-rsa2048');
    expect(title(chart)).toBe('Reusing connections saved 80% of downstream and 50% of upstream bytes, steady state');
  });

  it('state the finding in their titles, computed from the data', () => {
    // Down: fresh 253,492 B / 5 endpoint-minutes = 50,698 B; persistent 84,580 B / 5 = 16,916 B; saved 66.6%.
    expect(title(byName(charts, 'headline-tls1.3-rsa2048'))).toBe('Reusing connections saved 67% of downstream and 45% of upstream bytes');
    expect(title(byName(charts, 'connections'))).toBe(
      'Reuse cut new connections from 15.2 to 0.80 per endpoint-minute, TIME_WAIT sockets from 15.2 to 0.80',
    );
    expect(title(byName(charts, 'breakdown-tls1.3-rsa2048'))).toMatch(/^TLS handshakes are \d+% of all bytes with fresh connections, \d+% with persistent, \d+% with resumed$/);
    expect(title(byName(charts, 'protocol-matrix'))).toBe('A full TLS handshake costs 1.2 kB–2.6 kB; a resumed one costs 1.7 kB (both directions)');
  });

  it('give each mode its colour in every chart', () => {
    for (const chart of charts) {
      for (const dataset of chart.config.data.datasets) {
        const mode = (['fresh', 'persistent', 'resumed'] as Mode[]).find((m) => (dataset.label ?? '').startsWith(m));
        if (mode === undefined || /^(protocol|breakdown|comparison|latency-phases)/.test(chart.name)) continue;
        const colour = JSON.stringify(dataset.backgroundColor);
        const invalid = /INVALID/.test(dataset.label ?? '');
        if (!invalid && chart.name !== 'connections') expect(colour, `${chart.name} ${dataset.label}`).toBe(JSON.stringify(MODE_COLOURS[mode]));
      }
    }
    const breakdownTicks = byName(charts, 'breakdown-tls1.3-rsa2048').config.options?.scales?.y?.ticks?.color;
    expect(breakdownTicks).toEqual(['fresh', 'fresh', 'persistent', 'persistent', 'resumed', 'resumed'].map((m) => MODE_COLOURS[m as Mode]));
  });

  it('leave failed scenarios out and mark invalid ones', () => {
    const headline = byName(charts, 'headline-tls1.2-ecdsa-p256');
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
      ['connections opened', 'TLS 1.3', 'RSA-2048'],
      ['connections opened', 'TLS 1.2', 'ECDSA P-256'],
      ['sockets through TIME_WAIT', 'TLS 1.3', 'RSA-2048'],
      ['sockets through TIME_WAIT', 'TLS 1.2', 'ECDSA P-256'],
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
    expect(max(byName(charts, 'headline-tls1.3-rsa2048'))).toBe(max(byName(charts, 'headline-tls1.2-ecdsa-p256')));
    expect(max(byName(charts, 'headline-tls1.3-rsa2048'))).toBe(50.6984);
  });

  it('draw only what a run without capture has: no breakdown, bandwidth or protocol matrix', () => {
    const names = buildCharts(buildReportModel(noCaptureResults())).map((c) => c.name);
    const id = 'tls1.3-rsa2048-loopback-node';
    expect(names).toEqual(['connections', 'server-cpu', `headline-${id}`, `latency-${id}`, `latency-phases-${id}`, `latency-cdf-${id}`]);
    const headline = byName(buildCharts(buildReportModel(noCaptureResults())), 'headline-tls1.3-rsa2048-loopback-node');
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

describe('traffic over time', () => {
  it('adds up real-millisecond buckets into bytes so far per endpoint, in virtual minutes', () => {
    // 10 real ms buckets at 6000x are one virtual minute each; 2 endpoints share the bytes.
    const s = measured(scenario({ mode: 'fresh' }));
    const series = cumulativeSeries({
      ...s,
      spec: { ...s.spec, timeCompression: 6000, endpoints: 2 },
      timeline: { bucketMs: 10, buckets: [{ startMs: 0, upWireBytes: 500, downWireBytes: 2000 }, { startMs: 20, upWireBytes: 100, downWireBytes: 400 }] },
    });
    expect(series).toEqual({
      points: [
        { minutes: 0, bytes: 0 },
        { minutes: 1, bytes: 1250 },
        { minutes: 2, bytes: 1250 },
        { minutes: 3, bytes: 1500 },
      ],
      upBytes: 300,
      downBytes: 1200,
      minutes: 3,
    });
  });

  it('ends at the capture\'s wire bytes, with at most 121 points, and one line per mode', () => {
    const s = measured(scenario({ mode: 'fresh' }));
    const series = cumulativeSeries(s)!;
    expect(series.points.length).toBeLessThanOrEqual(121);
    expect(series.points.at(-1)!.bytes).toBeCloseTo(s.traffic!.up.wireBytes + s.traffic!.down.wireBytes, 6);
    const chart = byName(buildCharts(buildReportModel(sampleResults())), 'bandwidth-tls1.3-rsa2048');
    expect(chart.config.data.datasets.map((d) => d.label)).toEqual(['fresh', 'persistent', 'resumed']);
    expect(title(chart)).toMatch(/^In 5 virtual minutes an endpoint moved [\d.]+ kB with fresh connections, [\d.]+ kB with persistent \(\d+% less\), [\d.]+ kB with resumed \(\d+% less\)$/);
  });
});

describe('charts that make their point', () => {
  const sample = sampleResults();
  const charts = buildCharts(buildReportModel(sample));

  it('connections: configurations with the same counts share one bar per mode', () => {
    const four = results(
      (['tls1.2', 'tls1.3'] as const).flatMap((tls) =>
        (['rsa2048', 'ecdsa-p256'] as const).flatMap((cert) => (['fresh', 'persistent'] as const).map((mode) => scenario({ mode, tls, cert }))),
      ),
    );
    const connections = byName(buildCharts(buildReportModel(four)), 'connections');
    expect(connections.config.data.labels).toEqual([
      ['connections opened', 'every configuration'],
      ['sockets through TIME_WAIT', 'every configuration'],
    ]);
    expect(connections.config.options?.plugins?.subtitle?.text).toContain('configurations with the same counts share one bar per mode (4 configurations in the run)');
  });

  it('breakdown: each bar says what share of it the TLS handshake is', () => {
    const labels = byName(charts, 'breakdown-tls1.3-rsa2048').config.options?.plugins?.valueLabels?.labels ?? [];
    const last = labels.at(-1)!;
    expect(last.map((l) => l?.[1])).toEqual(expect.arrayContaining([expect.stringMatching(/^\d+% handshake$/)]));
    expect(last).toHaveLength(6);
  });

  it('latency: n under each API call, grey whiskers below 20 samples, one value range for every configuration', () => {
    const a = byName(charts, 'latency-tls1.3-rsa2048');
    const b = byName(charts, 'latency-tls1.2-ecdsa-p256');
    expect(a.config.data.labels).toEqual([['enroll', 'n = 1'], ['config', 'n = 5'], ['log', 'n = 65'], ['distributed_read', 'n = 5']]);
    expect(a.config.options?.plugins?.whiskers?.muted?.[0]).toEqual([true, true, false, true]);
    const max = (c: ChartSpec) => (c.config.options?.scales?.y as { max?: number }).max;
    expect(max(a)).toBe(max(b));
    expect(max(a)).toBeGreaterThan(0);
  });

  it('latency phases: connect, TLS, first byte and the rest add up to the mean latency', () => {
    const model = buildReportModel(sample);
    for (const s of sample.scenarios) {
      if (s.state === 'failed') continue;
      const phases = model.requestPhases.get(s.id)!;
      const n = Object.values(s.latency).reduce((a, l) => a + l.total.samples, 0);
      const mean = Object.values(s.latency).reduce((a, l) => a + l.total.meanMs * l.total.samples, 0) / n;
      expect(phases.tcpConnectMs + phases.tlsHandshakeMs + phases.waitMs + phases.transferMs).toBeCloseTo(mean, 6);
      expect(phases.totalMs).toBeCloseTo(mean, 6);
      if (s.spec.mode === 'persistent') expect(phases.tcpConnectMs).toBeLessThan(phases.totalMs / 10);
    }
    expect(byName(charts, 'latency-phases-tls1.3-rsa2048').config.data.datasets.map((d) => d.label)).toEqual([
      'TCP connect',
      'TLS handshake',
      'waiting for the first byte',
      'reading the response',
    ]);
  });

  it('protocol matrix: one line per axis under each bar', () => {
    expect(byName(charts, 'protocol-matrix').config.data.labels).toEqual([
      ['TLS 1.3', 'RSA-2048'],
      ['TLS 1.2', 'ECDSA P-256'],
    ]);
  });

  it('server CPU per request: one bar per mode and configuration', () => {
    const cpu = byName(charts, 'server-cpu');
    expect(cpu.config.data.datasets.map((d) => d.label)).toEqual(['fresh', 'persistent', 'resumed']);
    expect(title(cpu)).toMatch(/^The server spends [\d.]+ ms of CPU per fresh request; persistent [\d.]+ ms \(\d+% less\), resumed [\d.]+ ms \(\d+% less\)$/);
  });

  it('the comparison across configurations leads, with the share of all bytes saved over each bar', () => {
    const comparison = byName(charts, 'comparison');
    expect(title(comparison)).toMatch(/^In 2 configurations, reusing connections saved \d+%(–\d+%)?; resuming sessions saved \d+% of all bytes$/);
    expect(comparison.config.options?.plugins?.valueLabels?.labels?.[3]?.[0]?.[0]).toMatch(/^−\d+%$/);
  });

  it('tooltips on the page carry units, and line legends show lines', () => {
    const headline = byName(charts, 'headline-tls1.3-rsa2048');
    const config = pageConfig(headline, 1200);
    const label = (config.options?.plugins?.tooltip?.callbacks?.label as (c: unknown) => string)({ raw: 71.48, dataset: { label: 'fresh' } });
    expect(label).toBe('fresh: 71.48 kB per endpoint-minute');
    const cdf = pageConfig(byName(charts, 'latency-cdf-tls1.3-rsa2048'), 1200);
    expect(cdf.options?.plugins?.legend?.labels).toMatchObject({ usePointStyle: true, pointStyle: 'line' });
    expect((cdf.options?.plugins?.tooltip?.callbacks?.label as (c: unknown) => string)({ raw: { x: 3.5, y: 90 }, dataset: { label: 'fresh' } })).toBe(
      'fresh: 90 % of requests at 3.5 ms',
    );
  });

  it('on a phone, a chart is taller, its legend under the plot, its title left to the page', () => {
    const config = pageConfig(byName(charts, 'headline-tls1.3-rsa2048'), 390);
    expect(config.options).toMatchObject({ aspectRatio: 0.95, plugins: { legend: { position: 'bottom' }, title: { display: false }, subtitle: { display: false } } });
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
      ['TLS 1.3 · RSA-2048', 'tls1.3-rsa2048', true],
      ['TLS 1.2 · ECDSA P-256', 'tls1.2-ecdsa-p256', false],
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
    const id = 'tls1.3-rsa2048-loopback-node';
    expect(buildCharts(buildReportModel(quick)).map((c) => c.name)).toEqual([
      'connections',
      'server-cpu',
      'protocol-matrix',
      `headline-${id}`,
      `breakdown-${id}`,
      `bandwidth-${id}`,
      `latency-${id}`,
      `latency-phases-${id}`,
      `latency-cdf-${id}`,
    ]);
  });
});

describe('a fleet-sized run', () => {
  it('draws the latency CDF from 230,000 samples (a spread into Math.min overflowed the stack)', () => {
    const fleet = sampleResults();
    const n = 230_000;
    for (const s of fleet.scenarios) {
      if (s.state === 'failed') continue;
      const samples = Array.from({ length: n }, (_, i) => 0.5 + (i % 1000) / 10);
      samples.sort((a, b) => a - b);
      for (const l of Object.values(s.latency)) l.totalSamplesMs = samples;
    }
    const cdf = buildCharts(buildReportModel(fleet)).find((c) => c.name.startsWith('latency-cdf-'))!;
    const data = cdf.config.data.datasets[0]!.data as { x: number; y: number }[];
    expect(data.at(-1)).toEqual({ x: 100.4, y: 100 });
    expect(data.length).toBeLessThan(n);
  });
});
