/**
 * Where a request's time goes, per scenario: the mean request split into TCP connect, TLS handshake, waiting
 * for the first byte and transfer, from the latency summaries the results hold. Built once into the report
 * model; the phase charts only draw it.
 */
import type { LatencyPhases, MeasuredScenario } from '../model/index.ts';

/** The mean request of a scenario (every API call pooled), in its phases; they add up to `totalMs`. */
export type RequestPhases = Omit<LatencyPhases, 'roundTrips' | 'modelMs'>;

/**
 * The mean request's phases; null when no request succeeded. The client times each phase's end from the
 * request's start, connect and handshake only on requests that opened a connection: their sums over those
 * requests, divided by every request, are the means with 0 for a reused connection, so the differences of
 * successive ends decompose the mean latency exactly.
 */
export function requestPhases(s: MeasuredScenario): RequestPhases | null {
  // Results since latencyPhases was recorded hold it, from every request's own phases.
  if (s.latencyPhases !== undefined) {
    if (s.latencyPhases === null) return null;
    const { requests, tcpConnectMs, tlsHandshakeMs, waitMs, transferMs, totalMs } = s.latencyPhases;
    return { requests, tcpConnectMs, tlsHandshakeMs, waitMs, transferMs, totalMs };
  }
  // Older results: from the per-call summaries.
  let requests = 0;
  const sum = { connectEnd: 0, tlsEnd: 0, firstByte: 0, total: 0 };
  for (const l of Object.values(s.latency)) {
    requests += l.total.samples;
    sum.connectEnd += (l.tcpConnect?.meanMs ?? 0) * (l.tcpConnect?.samples ?? 0);
    sum.tlsEnd += (l.tlsHandshake?.meanMs ?? 0) * (l.tlsHandshake?.samples ?? 0);
    sum.firstByte += l.firstByte.meanMs * l.firstByte.samples;
    sum.total += l.total.meanMs * l.total.samples;
  }
  if (requests === 0) return null;
  const mean = (x: number) => x / requests;
  // Rounded means can put an end a hair before the previous one: a phase is never negative.
  const atLeast0 = (x: number) => Math.max(0, x);
  const tcpConnectMs = mean(sum.connectEnd);
  const tlsHandshakeMs = atLeast0(mean(sum.tlsEnd) - mean(sum.connectEnd));
  const waitMs = atLeast0(mean(sum.firstByte) - mean(sum.tlsEnd));
  const transferMs = atLeast0(mean(sum.total) - mean(sum.firstByte));
  return { requests, tcpConnectMs, tlsHandshakeMs, waitMs, transferMs, totalMs: tcpConnectMs + tlsHandshakeMs + waitMs + transferMs };
}
