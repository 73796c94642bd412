/** Latency statistics of request outcomes: per API call, and over every call pooled. */
import type { ApiCall, ApiLatency, LatencySummary, RequestOutcome } from '../model/index.ts';

/** The p-th percentile (0..100) of sorted samples, linearly interpolated between closest ranks. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

/** Mean and percentiles of a sample; null for an empty one. */
export function summarize(samples: readonly number[]): LatencySummary | null {
  if (samples.length === 0) return null;
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    meanMs: sorted.reduce((sum, x) => sum + x, 0) / sorted.length,
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
  };
}

/** Latency per API call over the successful requests. */
export function latencyByApi(outcomes: readonly RequestOutcome[]): Partial<Record<ApiCall, ApiLatency>> {
  const byApi = new Map<ApiCall, Extract<RequestOutcome, { state: 'ok' }>[]>();
  for (const o of outcomes) {
    if (o.state !== 'ok') continue;
    const list = byApi.get(o.request.api) ?? [];
    list.push(o);
    byApi.set(o.request.api, list);
  }
  const result: Partial<Record<ApiCall, ApiLatency>> = {};
  for (const [api, list] of byApi) {
    const pick = (f: (o: (typeof list)[number]) => number | null) =>
      list.map(f).filter((x): x is number => x !== null);
    result[api] = {
      total: summarize(pick((o) => o.phases.totalMs))!,
      totalSamplesMs: pick((o) => Math.round(o.phases.totalMs * 100) / 100).sort((a, b) => a - b),
      tcpConnect: summarize(pick((o) => o.phases.tcpConnectMs)),
      tlsHandshake: summarize(pick((o) => o.phases.tlsHandshakeMs)),
      firstByte: summarize(pick((o) => o.phases.firstByteMs))!,
    };
  }
  return result;
}

/** The total latency of every successful request, all API calls pooled. */
export function pooledLatency(outcomes: readonly RequestOutcome[]): LatencySummary | null {
  return summarize(outcomes.flatMap((o) => (o.state === 'ok' ? [o.phases.totalMs] : [])));
}
