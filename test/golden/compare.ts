/**
 * Compares an analyzer result (`analyzeCapture`, or the CLI's `analyze --json`) with a tshark-made
 * expectation, field by field as the expectation's `compare` list allows, and checks DESIGN.md's
 * invariants. Both return readable mismatch lines so a failing test names file, field and both numbers.
 */
import type { AnalyzeResult, ConnectionReport, Endpoint, TrafficCounters } from '../../bench/model/index.ts';
import { trafficInvariantViolations } from '../../bench/analyze/counters.ts';
import type {
  CompareKey,
  Expectation,
  ExpectedConnection,
  ExpectedDirection,
} from '../../scripts/golden/make-expected.ts';

/** The parts of `analyze@1` the comparison reads (the CLI's JSON has the same shape). */
export type AnalyzerOutput = Pick<AnalyzeResult, 'total' | 'connections'>;

/** `ip:port`, IPv6 in brackets, the form expectations use. */
export function endpointKey(endpoint: Endpoint): string {
  return endpoint.ip.includes(':') ? `[${endpoint.ip}]:${endpoint.port}` : `${endpoint.ip}:${endpoint.port}`;
}

const DIRECTION_KEYS = ['frames', 'wireBytes', 'ipBytes', 'tcpPayloadBytes', 'retransmittedBytes', 'controlFrames'] as const;
const TLS_KEYS = ['records', 'handshakeBytes', 'appDataBytes', 'alertBytes'] as const;

/** `tls.recordBytes`: every completed record's bytes, whatever its type (tshark's sum of record lengths + 5). */
function recordBytes(counters: TrafficCounters): number {
  const tls = counters.tls;
  return tls.handshakeBytes + tls.appDataBytes + tls.alertBytes + tls.otherBytes;
}

function compareDirection(
  where: string,
  actual: TrafficCounters,
  expected: ExpectedDirection,
  compare: ReadonlySet<CompareKey>,
  mismatches: string[],
): void {
  const check = (field: string, analyzer: number, tshark: number | null): void => {
    if (tshark === null) throw new Error(`${where}.${field}: listed in compare but null in the expectation`);
    if (analyzer !== tshark) mismatches.push(`${where}.${field}: analyzer ${analyzer}, tshark ${tshark}`);
  };
  for (const key of DIRECTION_KEYS) if (compare.has(key)) check(key, actual[key], expected[key]);
  for (const key of TLS_KEYS) if (compare.has(`tls.${key}`)) check(`tls.${key}`, actual.tls[key], expected.tls[key]);
  if (compare.has('tls.recordBytes')) check('tls.recordBytes', recordBytes(actual), expected.tls.recordBytes);
  if (compare.has('tls.exact')) {
    if (expected.tls.exact === null) throw new Error(`${where}.tls.exact: listed in compare but null in the expectation`);
    if (actual.tls.exact !== expected.tls.exact) {
      mismatches.push(`${where}.tls.exact: analyzer ${actual.tls.exact}, tshark ${expected.tls.exact}`);
    }
  }
}

/** The analyzer reports no TLS block for a connection that carried no TLS; tshark's word for it is 'none'. */
function handshakeOf(connection: ConnectionReport): string {
  return connection.tls?.handshake ?? 'none';
}

/**
 * Every difference between analyzer output and expectation on the fields the expectation declares
 * comparable: totals, then each connection matched by client and server endpoints (a connection only one
 * side knows is a difference too).
 */
export function compareWithExpectation(actual: AnalyzerOutput, expected: Expectation): string[] {
  const compare = new Set(expected.compare);
  const mismatches: string[] = [];
  compareDirection('total.up', actual.total.up, expected.total.up, compare, mismatches);
  compareDirection('total.down', actual.total.down, expected.total.down, compare, mismatches);
  for (const key of ['connections', 'fullHandshakes', 'resumedHandshakes'] as const) {
    if (!compare.has(key)) continue;
    if (actual.total[key] !== expected.total[key]) {
      mismatches.push(`total.${key}: analyzer ${actual.total[key]}, tshark ${expected.total[key]}`);
    }
  }

  const byEndpoints = new Map<string, ConnectionReport>();
  for (const connection of actual.connections) {
    byEndpoints.set(`${endpointKey(connection.client)} > ${endpointKey(connection.server)}`, connection);
  }
  const matched = new Set<string>();
  for (const want of expected.connections) {
    const key = `${want.client} > ${want.server}`;
    const got = byEndpoints.get(key);
    if (!got) {
      mismatches.push(`connection ${key}: tshark has it, the analyzer does not`);
      continue;
    }
    matched.add(key);
    compareConnection(key, got, want, compare, mismatches);
  }
  for (const key of byEndpoints.keys()) {
    if (!matched.has(key)) mismatches.push(`connection ${key}: the analyzer has it, tshark does not`);
  }
  return mismatches;
}

function compareConnection(
  key: string,
  got: ConnectionReport,
  want: ExpectedConnection,
  compare: ReadonlySet<CompareKey>,
  mismatches: string[],
): void {
  compareDirection(`${key} up`, got.up, want.up, compare, mismatches);
  compareDirection(`${key} down`, got.down, want.down, compare, mismatches);
  if (compare.has('connections') && got.synSeen !== want.synSeen) {
    mismatches.push(`${key} synSeen: analyzer ${got.synSeen}, tshark ${want.synSeen}`);
  }
  if (compare.has('tlsVersion') && (got.tls?.version ?? null) !== want.tlsVersion) {
    mismatches.push(`${key} tlsVersion: analyzer ${got.tls?.version ?? null}, tshark ${want.tlsVersion}`);
  }
  if (compare.has('handshake') && handshakeOf(got) !== want.handshake) {
    mismatches.push(`${key} handshake: analyzer ${handshakeOf(got)}, tshark ${want.handshake}`);
  }
}

/** DESIGN.md's two invariants on one direction's counters; returns the violated ones. */
function directionInvariants(where: string, c: TrafficCounters): string[] {
  return trafficInvariantViolations(c).map((violation) => `${where}: ${violation}`);
}

/** The invariants on every direction of every connection and of the total. */
export function invariantViolations(actual: AnalyzerOutput): string[] {
  const violations = [
    ...directionInvariants('total.up', actual.total.up),
    ...directionInvariants('total.down', actual.total.down),
  ];
  for (const c of actual.connections) {
    const key = `${endpointKey(c.client)} > ${endpointKey(c.server)}`;
    violations.push(...directionInvariants(`${key} up`, c.up), ...directionInvariants(`${key} down`, c.down));
  }
  return violations;
}

/** A re-derived expectation minus the tshark version line, which may differ without the numbers drifting. */
export function withoutVersion(expectation: Expectation): Omit<Expectation, 'tshark'> {
  const { tshark: _version, ...rest } = expectation;
  return rest;
}
