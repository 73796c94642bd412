/**
 * Round trips on emulated paths: per scenario, the path's RTT, the round trips a request waits for by the
 * model, the measured median, the model's time and their ratio, and what each mode saves against fresh. Rows
 * exist only when the run has an emulated path; its loopback scenarios come along as the reference (the
 * model's server time is theirs). One description, rendered in the terminal, Markdown and under the charts.
 */
import type { Comparison, Results } from '../model/index.ts';
import { formatNumber, formatPct, markdownTable, textTable, wrapped, type Align } from './format.ts';

/** One scenario's round trips and latency, as numbers (null where it has none). */
export interface RoundTripRow {
  id: string;
  network: string;
  rttMs: number;
  /** Round trips to the first byte per request, by the model, averaged over the latency phase's requests. */
  roundTrips: number | null;
  /** The measured median over every API call. */
  p50Ms: number | null;
  /** The model's mean time per request; null on loopback. */
  modelMs: number | null;
  /** Mean measured / mean model (both means of the same requests). */
  ratio: number | null;
  /** Against fresh in the same configuration. */
  p50SavedPct: number | null;
  roundTripsSaved: number | null;
}

/** The rows, in scenario order; empty when every scenario ran on loopback. */
export function roundTripRows(results: Results): RoundTripRow[] {
  if (!results.scenarios.some((s) => s.spec.link !== null)) return [];
  const byCandidate = new Map<string, Comparison>(results.comparisons.map((c) => [c.candidate, c]));
  return results.scenarios.flatMap((s) => {
    if (s.state === 'failed') return [];
    const phases = s.latencyPhases ?? null;
    const comparison = byCandidate.get(s.id);
    return [
      {
        id: s.id,
        network: s.spec.network,
        rttMs: s.spec.link?.rttMs ?? 0,
        roundTrips: phases?.roundTrips ?? null,
        p50Ms: s.latencyAllCalls?.p50Ms ?? null,
        modelMs: phases?.modelMs ?? null,
        ratio: phases === null || phases.modelMs === null ? null : phases.totalMs / phases.modelMs,
        p50SavedPct: comparison?.latencyP50SavedPct ?? null,
        roundTripsSaved: comparison?.roundTripsSavedPerRequest ?? null,
      },
    ];
  });
}

export const ROUND_TRIP_HEADER = ['scenario', 'RTT', 'round trips', 'p50 / call', 'model', 'mean / model', 'p50 saved', 'RTs saved'];
export const ROUND_TRIP_ALIGN: Align[] = ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'];

/** A row as the table's text cells. */
export function roundTripCells(row: RoundTripRow): string[] {
  const ms = (n: number | null) => (n === null ? '-' : `${formatNumber(n, n < 10 ? 2 : 1)} ms`);
  const num = (n: number | null, digits: number) => (n === null ? '-' : formatNumber(n, digits));
  return [
    row.id,
    `${formatNumber(row.rttMs, 0)} ms`,
    num(row.roundTrips, 1),
    ms(row.p50Ms),
    ms(row.modelMs),
    num(row.ratio, 2),
    row.p50SavedPct === null ? '' : formatPct(row.p50SavedPct),
    num(row.roundTripsSaved, 1),
  ];
}

/** What the round-trip columns mean, under every rendering of the table. */
export const ROUND_TRIP_NOTE =
  'latency phase, real ms per request; round trips to the first byte by the model (TCP 1, TLS 1.2 full 2, TLS 1.3 or resumed 1, request 1, slow start beyond 10 segments); model = round trips x RTT + loopback time + serialisation';

/** The table for the terminal, within `width` columns; empty when there is no emulated path. */
export function roundTripText(rows: RoundTripRow[], width = Number.POSITIVE_INFINITY): string {
  if (rows.length === 0) return '';
  return [textTable(ROUND_TRIP_HEADER, rows.map(roundTripCells), ROUND_TRIP_ALIGN, width), '', wrapped(ROUND_TRIP_NOTE, width)].join('\n');
}

/** The table as Markdown; empty when there is no emulated path. */
export function roundTripMarkdown(rows: RoundTripRow[]): string {
  if (rows.length === 0) return '';
  return [markdownTable(ROUND_TRIP_HEADER, rows.map(roundTripCells), ROUND_TRIP_ALIGN), '', `_${ROUND_TRIP_NOTE}_`].join('\n');
}
