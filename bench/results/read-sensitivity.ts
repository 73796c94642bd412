/**
 * The shape of `results.json`'s optional `sensitivity` (issue 12: what the savings depend on, a model from
 * measured figures), checked like every other field by bench/results/read.ts.
 */
import type {
  ModelSavings,
  SensitivityAxisCurve,
  SensitivityCurve,
  SensitivityMode,
  SensitivityPoint,
  SensitivityWorkload,
} from '../model/index.ts';
import { arrayOf, nonNegative, nullable, number, object, oneOf, string } from '../input/shape.ts';

const savings = object<ModelSavings>({ upSavedPct: number, downSavedPct: number, allBytesSavedPct: number });

const mode = object<SensitivityMode>({
  scenario: string,
  upWireBytes: nonNegative,
  downWireBytes: nonNegative,
  connectionsPerMinute: nonNegative,
  connectionsPerRequest: nonNegative,
  connectionUpWireBytes: nonNegative,
  connectionDownWireBytes: nonNegative,
  // A mean derived by subtraction: noise may take it a little below 0 in a run without headers to speak of.
  requestUpWireBytes: number,
  requestDownWireBytes: number,
});

const axis = object<SensitivityAxisCurve>({
  measuredX: nonNegative,
  points: arrayOf(object<SensitivityPoint>({ x: nonNegative, persistent: nullable(savings), resumed: nullable(savings) })),
  fieldReport: object<SensitivityAxisCurve['fieldReport']>({ x: nullable(nonNegative), how: string }),
});

/** One configuration's sensitivity curve. */
export const sensitivityCurve = object<SensitivityCurve>({
  baseline: string,
  basis: oneOf(['model-from-measured']),
  workload: object<SensitivityWorkload>({
    requestsPerMinute: nonNegative,
    resultPostsPerMinute: nonNegative,
    resultBodyBytes: nonNegative,
    configsPerMinute: nonNegative,
    configResponseBytes: nonNegative,
    logResponseBytes: nonNegative,
    requestBodyBytesPerMinute: nonNegative,
    responseBodyBytesPerMinute: nonNegative,
    serverIdleTimeoutSeconds: nonNegative,
  }),
  modes: object<SensitivityCurve['modes']>({ fresh: mode, persistent: nullable(mode), resumed: nullable(mode) }),
  axes: object<SensitivityCurve['axes']>({ logBodyBytes: axis, configResponseBytes: axis, requestsPerMinute: axis }),
});
