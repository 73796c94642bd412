/**
 * What the savings depend on (issue 12): a model of the steady-state savings as a function of the result
 * posts' body size, the config response's size and the requests per agent-minute, built from one
 * configuration's measured figures (bench/analyze/sensitivity.ts). Derived, not measured: the report labels
 * it so, and docs/measurements.md checks it against live runs.
 */

/** The axes the curves sweep, each one of the workload's (`--workload log-body=, config-size=, rate=`). */
export const SENSITIVITY_AXES = ['logBodyBytes', 'configResponseBytes', 'requestsPerMinute'] as const;
export type SensitivityAxis = (typeof SENSITIVITY_AXES)[number];

/** The run's workload in the figures the model varies: per endpoint-minute, steady state (enroll left out). */
export interface SensitivityWorkload {
  requestsPerMinute: number;
  resultPostsPerMinute: number;
  /** Mean body of a result post, bytes of JSON as sent. */
  resultBodyBytes: number;
  configsPerMinute: number;
  configResponseBytes: number;
  /** The body of the answer to a log post. */
  logResponseBytes: number;
  /** Every request's body, and every response's, summed per endpoint-minute. */
  requestBodyBytesPerMinute: number;
  responseBodyBytesPerMinute: number;
  /** The server closes a connection idle this long (virtual seconds): a log period past it reconnects. */
  serverIdleTimeoutSeconds: number;
}

/** One mode's measured figures the model starts from (wire bytes; per endpoint-minute unless named). */
export interface SensitivityMode {
  scenario: string;
  /** Steady state each way (the mean over repetitions). */
  upWireBytes: number;
  downWireBytes: number;
  connectionsPerMinute: number;
  /** Connections an added request opens: measured connections / requests for fresh and resumed; 0 for
   * persistent (its channels stay open unless a period exceeds the server's idle timeout). */
  connectionsPerRequest: number;
  /** A connection's measured cost beyond its requests (handshakes, TCP setup and teardown), each way. */
  connectionUpWireBytes: number;
  connectionDownWireBytes: number;
  /** A request's mean bytes beyond its body, each way: HTTP head, TLS record, frame headers and ACKs. */
  requestUpWireBytes: number;
  requestDownWireBytes: number;
}

/** Savings against fresh at one point of a curve, percent. */
export interface ModelSavings {
  upSavedPct: number;
  downSavedPct: number;
  allBytesSavedPct: number;
}

/** One x of an axis and the model's savings there. */
export interface SensitivityPoint {
  x: number;
  persistent: ModelSavings | null;
  resumed: ModelSavings | null;
}

/** One axis swept, the others held at the run's values. */
export interface SensitivityAxisCurve {
  /** The run's own value: there the curve gives the run's measured steady-state savings. */
  measuredX: number;
  points: SensitivityPoint[];
  /** Where the field report's agents fall on this axis, and how that was found; x null when it cannot be. */
  fieldReport: { x: number | null; how: string };
}

/** The model of one configuration (a fresh scenario and the modes compared with it). */
export interface SensitivityCurve {
  /** The fresh scenario's id. */
  baseline: string;
  /** Always derived from measured figures; never a measurement of its own. */
  basis: 'model-from-measured';
  workload: SensitivityWorkload;
  modes: { fresh: SensitivityMode; persistent: SensitivityMode | null; resumed: SensitivityMode | null };
  axes: Record<SensitivityAxis, SensitivityAxisCurve>;
}
