/**
 * The model's counter tables are the one place a traffic counter is declared: every consumer (the empty
 * counters, the sum, the results reader, `analyze --json`, the terminal totals) must follow them. Each test
 * walks the tables, so a counter added there that one consumer misses fails here.
 */
import { describe, expect, it } from 'vitest';
import { connectionJson } from '../../bench/cli/analyze-json.ts';
import { renderAnalysis } from '../../bench/cli/analyze.ts';
import {
  addTraffic,
  emptyTrafficCounters,
  TLS_FIELD_NAMES,
  TLS_FIELDS,
  TRAFFIC_FIELD_NAMES,
  TRAFFIC_FIELDS,
  type AnalyzeSummary,
  type ConnectionReport,
  type TrafficCounters,
} from '../../bench/model/index.ts';
import { validateResults } from '../../bench/results/read.ts';
import { sampleResults } from '../check/results.ts';

/** Counters whose every field holds a different value: a consumer that drops or swaps one is seen. */
function distinct(offset: number): TrafficCounters {
  const c = emptyTrafficCounters();
  TRAFFIC_FIELD_NAMES.forEach((name, i) => (c[name] = offset + i + 1));
  TLS_FIELD_NAMES.forEach((name, i) => (c.tls[name] = offset + 100 + i));
  return c;
}

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
// The type is made from the tables: no counter exists in one and not the other.
const typeFollowsTables: Equal<keyof TrafficCounters, keyof typeof TRAFFIC_FIELDS | 'tls'> = true;
const tlsTypeFollowsTables: Equal<keyof TrafficCounters['tls'], keyof typeof TLS_FIELDS | 'exact'> = true;

describe('the traffic counter tables', () => {
  it('are the type', () => {
    expect(typeFollowsTables && tlsTypeFollowsTables).toBe(true);
  });

  it('make the empty counters: every field 0, keys in table order', () => {
    const empty = emptyTrafficCounters();
    expect(Object.keys(empty)).toEqual([...TRAFFIC_FIELD_NAMES, 'tls']);
    expect(Object.keys(empty.tls)).toEqual([...TLS_FIELD_NAMES, 'exact']);
    for (const name of TRAFFIC_FIELD_NAMES) expect(empty[name]).toBe(0);
    for (const name of TLS_FIELD_NAMES) expect(empty.tls[name]).toBe(0);
  });

  it('make the sum: every field added, exact only while both are', () => {
    const a = distinct(0);
    const b = distinct(1000);
    b.tls.exact = false;
    addTraffic(a, b);
    TRAFFIC_FIELD_NAMES.forEach((name, i) => expect(a[name], name).toBe(2 * (i + 1) + 1000));
    TLS_FIELD_NAMES.forEach((name, i) => expect(a.tls[name], name).toBe(2 * (100 + i) + 1000));
    expect(a.tls.exact).toBe(false);
  });

  it('make the results reader check every counter', () => {
    for (const [where, drop] of [
      ...TRAFFIC_FIELD_NAMES.map((name) => [name, (c: TrafficCounters) => delete (c as Partial<TrafficCounters>)[name]] as const),
      ...TLS_FIELD_NAMES.map((name) => [`tls.${name}`, (c: TrafficCounters) => delete (c.tls as Partial<TrafficCounters['tls']>)[name]] as const),
    ]) {
      const results = structuredClone(sampleResults());
      const first = results.scenarios[0]!;
      if (first.state === 'failed' || first.traffic === null) throw new Error('fixture: the first scenario has traffic');
      drop(first.traffic.up);
      expect(() => validateResults(results, 'r.json'), where).toThrow(`$.scenarios[0].traffic.up.${where}: missing`);
    }
  });

  it('make the analyze --json writer write every counter as JSON.stringify does', () => {
    const connection: ConnectionReport = {
      index: 3,
      client: { ip: '10.0.0.1', port: 50000 },
      server: { ip: '10.0.0.2', port: 443 },
      serverSideBy: 'syn-ack',
      synSeen: true,
      closedBy: 'client-fin',
      firstPacketMs: 1.5,
      lastPacketMs: 20.25,
      up: distinct(0),
      down: distinct(5000),
      tls: null,
      requests: 2,
    };
    expect(connectionJson(connection)).toBe(JSON.stringify(connection));
  });

  it('make the terminal totals: one row per labelled counter', () => {
    const summary = {
      schema: 'tls-reuse-bench/analyze@1',
      file: { path: 'x.pcap', format: 'pcap', timestampResolution: 'us', linkTypes: [1], snapLength: 65535, packets: 10, truncatedPackets: 0, durationSeconds: 1 },
      total: { up: distinct(0), down: distinct(5000), connections: 1, fullHandshakes: 1, resumedHandshakes: 0, requests: 1 },
      reuse: { connectionsWithRequests: 0, requests: 0, requestsPerConnection: { mean: 0, median: 0, max: 0 }, singleRequestConnections: 0, verdict: 'none' },
      skipped: { nonIp: 0, nonTcp: 0, malformed: 0, fragments: 0 },
      warnings: [],
    } satisfies AnalyzeSummary;
    const text = renderAnalysis(summary, [], 0);
    const labelled = [...Object.values(TRAFFIC_FIELDS), ...Object.values(TLS_FIELDS)].filter((f) => f.label !== null);
    for (const field of labelled) expect(text).toMatch(new RegExp(`^${field.label!.replace(/[+()]/g, '\\$&')}\\b`, 'm'));
  });
});
