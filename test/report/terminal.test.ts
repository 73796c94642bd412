/** The end of `run`'s terminal output: the answer in one line, savings with their spread, p50 and CPU per mode. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { combineRepetitions } from '../../bench/analyze/repetitions.ts';
import { compareScenarios } from '../../bench/analyze/compare.ts';
import type { MeasuredScenario, Results } from '../../bench/model/index.ts';
import { buildReportModel, headlineText, terminalSummary } from '../../bench/report/index.ts';
import { textTable, wrapped } from '../../bench/report/format.ts';
import { validateResults } from '../../bench/results/read.ts';
import { ROOT } from '../run/support.ts';
import { sampleResults } from './fixtures.ts';

/** A committed run's results: fixtures/results/NAME. */
function fixtureResults(name: string): Results {
  const file = path.join(ROOT, 'fixtures/results', name, 'results.json');
  return validateResults(JSON.parse(readFileSync(file, 'utf8')), file);
}

const quick = (): Results => fixtureResults('quick-sample');

/** The quick sample as if run three times: the second and third runs send 1% and 2% more upstream bytes. */
function threeRuns(): Results {
  const r = quick();
  const scenarios = r.scenarios.map((s) => {
    const m = s as MeasuredScenario;
    const { repetitions: _r, summary: _s, ...single } = m;
    const scaled = (f: number) => ({
      ...single,
      steadyState: { ...single.steadyState!, perEndpointMinute: { ...single.steadyState!.perEndpointMinute, upWireBytes: single.steadyState!.perEndpointMinute.upWireBytes * f } },
    });
    return combineRepetitions([1, 1.01, 1.02].map((f) => ({ result: scaled(m.spec.mode === 'fresh' ? 1 : f), loadAverage: { before: 0.3, after: 0.4 } })), 2);
  });
  return { ...r, options: { ...r.options, runs: 3 }, scenarios, comparisons: compareScenarios(scenarios) };
}

describe('terminalSummary', () => {
  it('fits 80 columns and 60, ends with the field report', () => {
    for (const results of [quick(), sampleResults(), threeRuns()]) {
      for (const columns of [80, 60]) {
        const text = terminalSummary(buildReportModel(results), columns);
        for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(columns);
        expect(text.split('\n').at(-1)).toContain('field report: reuse saved 50% up, 74% down');
      }
    }
  });

  it('answers in one line from the steady state, and gives p50 latency and server CPU per request per mode', () => {
    const r = quick();
    const c = r.comparisons[0]!;
    const text = terminalSummary(buildReportModel(r), 80);
    const lines = text.split('\n');
    expect(lines[0]).toBe(`Reusing connections: ${Math.round(c.steady!.downSavedPct)}% fewer bytes down, ${Math.round(c.steady!.upSavedPct)}% fewer bytes up, steady state`);
    const fresh = r.scenarios.find((s) => s.spec.mode === 'fresh') as MeasuredScenario;
    const persistent = r.scenarios.find((s) => s.spec.mode === 'persistent') as MeasuredScenario;
    expect(text).toContain(`fresh ${fresh.latencyAllCalls!.p50Ms.toFixed(2)} ms   persistent ${persistent.latencyAllCalls!.p50Ms.toFixed(2)} ms`);
    expect(text).toContain(`fresh ${fresh.server.cpuMsPerRequest.toFixed(3)} ms   persistent ${persistent.server.cpuMsPerRequest.toFixed(3)} ms`);
  });

  it('gives the savings\' mean ± sd over the runs, and min-max where there is room', () => {
    const r = threeRuns();
    const s = r.comparisons[0]!.summary.steadyUpSavedPct!;
    expect(s.n).toBe(3);
    expect(s.sd).toBeGreaterThan(0);
    const narrow = terminalSummary(buildReportModel(r), 80);
    expect(narrow).toContain('(mean ± sd of 3 runs)');
    expect(narrow).toContain(`up ${s.mean.toFixed(1).padStart(5)} ± ${s.sd.toFixed(1)}%`);
    const wide = terminalSummary(buildReportModel(r), 140);
    expect(wide).toContain(`± ${s.sd.toFixed(1)}% [${s.min.toFixed(1)}-${s.max.toFixed(1)}]`);
  });
});

describe('resumed upstream note', () => {
  it('says why resumption sends more upstream, with the bytes per connection from the steady state', () => {
    const r = sampleResults();
    const steady = (upWire: number, upOverhead: number, upHandshake: number) => ({
      perEndpointMinute: {
        upWireBytes: upWire, downWireBytes: 20_000, upTcpPayloadBytes: upWire - 5_000, downTcpPayloadBytes: 18_000, upHandshakeBytes: 15 * upHandshake,
        downHandshakeBytes: 6_000, connections: 15, fullHandshakes: 0, resumedHandshakes: 15, requests: 15, timeWait: 15,
      },
      oneTimePerEndpoint: { upWireBytes: 0, downWireBytes: 0, upHandshakeBytes: 0, downHandshakeBytes: 0, connections: 4, requests: 1 },
      connectionOverhead: { upWireBytes: upOverhead, downWireBytes: 500, upTcpPayloadBytes: upHandshake, downTcpPayloadBytes: 400, upHandshakeBytes: upHandshake, downHandshakeBytes: 400, sampled: 40 },
      connections: { basis: 'measured' as const, perEndpointMinute: 15, sessionTimeoutReconnectsPerEndpointMinute: null, idleReconnectsPerEndpointMinute: null, horizonVirtualMinutes: null, measuredRepeatConnections: 40 },
    });
    const scenarios = r.scenarios.map((s) => {
      if (s.state === 'failed' || s.spec.tls !== 'tls1.3' || s.spec.cert !== 'rsa2048') return s;
      if (s.spec.mode === 'fresh') return { ...s, steadyState: steady(30_000, 727, 323) };
      if (s.spec.mode === 'resumed') return { ...s, steadyState: steady(34_545, 1_030, 626) };
      return s;
    });
    const model = buildReportModel({ ...r, scenarios, comparisons: compareScenarios(scenarios) });
    expect(model.resumedUpstream).toHaveLength(1);
    const lines = headlineText(model).split('\n').filter((l) => l.includes('ClientHello carries the session ticket'));
    expect(lines).toEqual([
      `${model.resumedUpstream[0]!.id}: -15.2% up because every request still opens a connection (15.0 a minute) and each costs 1.0 kB upstream against fresh's 727 B: its ClientHello carries the session ticket (626 B of handshake records against 323 B)`,
    ]);
  });
});

describe('textTable within a width', () => {
  const header = ['scenario', 'alpha', 'beta', 'gamma'];
  const rows = [
    ['fresh/one', '1', '22', '333'],
    ['persistent/two', '4444', '5', '66'],
  ];

  it('is one table when it fits, and panels repeating the first column when it does not', () => {
    expect(textTable(header, rows, ['left', 'right', 'right', 'right'], 80)).toBe(textTable(header, rows, ['left', 'right', 'right', 'right']));
    const text = textTable(header, rows, ['left', 'right', 'right', 'right'], 30);
    expect(text).toBe(
      [
        'scenario        alpha  beta',
        '--------------  -----  ----',
        'fresh/one           1    22',
        'persistent/two   4444     5',
        '',
        'scenario        gamma',
        '--------------  -----',
        'fresh/one         333',
        'persistent/two     66',
      ].join('\n'),
    );
  });

  it('keeps one column a panel when even that is wider than the width', () => {
    const panels = textTable(header, rows, [], 10).split('\n\n');
    expect(panels.map((p) => p.split('\n')[0])).toEqual(['scenario        alpha', 'scenario        beta', 'scenario        gamma']);
  });

  it('wraps a sentence to the width, its further lines indented', () => {
    const text = wrapped('the quick brown fox jumps over the lazy dog', 16);
    expect(text).toBe('the quick brown\n  fox jumps over\n  the lazy dog');
    expect(wrapped('no limit here', Number.POSITIVE_INFINITY)).toBe('no limit here');
  });
});

describe('headlineText within a width', () => {
  it('fits 80 columns with every figure of the unbounded tables (round trips, server cost, fleet scale)', () => {
    for (const results of [quick(), sampleResults(), fixtureResults('networks')]) {
      const model = buildReportModel(results);
      const wide = headlineText(model);
      const narrow = headlineText(model, 80);
      expect(Math.max(...wide.split('\n').map((l) => l.length))).toBeGreaterThan(80);
      for (const line of narrow.split('\n')) expect(line.length, line).toBeLessThanOrEqual(80);
      const cells = (text: string) => text.split(/\s{2,}|\n/).map((c) => c.trim()).filter((c) => c !== '' && !/^-+$/.test(c));
      const figures = new Set(cells(narrow));
      // Prose is wrapped at other places; every table cell of the wide rendering is a cell of the narrow one.
      for (const cell of cells(wide)) if (cell.length < 40) expect(figures.has(cell), cell).toBe(true);
    }
  });
});
