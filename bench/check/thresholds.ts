/**
 * The thresholds file (`tls-reuse-bench/thresholds@1`): per metric and scenario glob, a tolerance other than
 * the default, an absolute floor or ceiling, or "do not compare". Example: fixtures/thresholds/example.json.
 *
 * ```json
 * { "schema": "tls-reuse-bench/thresholds@1",
 *   "rules": [
 *     { "scenario": "persistent/*\/rsa2048/*", "metric": "*WireBytes", "relativePct": 2 },
 *     { "metric": "timeWait", "absolute": 1 },
 *     { "scenario": "persistent/tls1.2/rsa2048/*", "metric": "downSavedPct", "min": 60 },
 *     { "metric": "cpuMsPerRequestRatio", "ignore": true } ] }
 * ```
 *
 * Matching: `scenario` (default `*`) is a glob over scenario ids and `metric` a glob over metric names;
 * `*` matches any run of characters, slashes included, `?` one character.
 *
 * Precedence: for the comparison with the baseline, the last matching rule that sets `relativePct`,
 * `absolute` or `ignore` decides, and it states the whole tolerance (a field it leaves out is 0), so rules
 * read from general to specific. Floors (`min`, `max`) are checked on the current run's value whatever the
 * baseline says, and every matching floor applies, `ignore` included.
 */
import { readJsonFile, validateJson } from '../input/json.ts';
import { METRICS, type Tolerance } from './metrics.ts';
import { boolean, isObject, memberPath, mismatch, nonNegative, number, ShapeError, string } from '../input/shape.ts';

/** The thresholds schema this version reads. */
export const THRESHOLDS_SCHEMA = 'tls-reuse-bench/thresholds@1';

/** One rule of a thresholds file. */
export interface ThresholdRule {
  /** Glob over scenario ids. */
  scenario: string;
  /** Glob over metric names. */
  metric: string;
  /** Tolerance in percent of the baseline value. */
  relativePct?: number;
  /** Tolerance in the metric's unit. */
  absolute?: number;
  /** The current value must be at least this (a floor, e.g. a saving). */
  min?: number;
  /** The current value must be at most this. */
  max?: number;
  /** Do not compare with the baseline (floors still apply). */
  ignore?: boolean;
  /** Why the rule exists (JSON has no comments). */
  note?: string;
  /** Its JSON path in the thresholds file, for the table and messages: `$.rules[2]`. */
  source: string;
}

/** The rules a check applies on top of each metric's default tolerance. */
export interface Thresholds {
  /** The file the rules came from; null for the built-in defaults. */
  file: string | null;
  rules: ThresholdRule[];
}

/** No file: every metric at its default tolerance. */
export const DEFAULT_THRESHOLDS: Thresholds = { file: null, rules: [] };

/** Reads and validates a thresholds file; InputError (exit 2) names the file and the JSON path. */
export async function loadThresholds(file: string): Promise<Thresholds> {
  return validateThresholds(await readJsonFile(file, '--thresholds'), file);
}

const RULE_KEYS = ['scenario', 'metric', 'relativePct', 'absolute', 'min', 'max', 'ignore', 'note'] as const;
const TOP_KEYS = ['schema', 'description', 'rules'] as const;

/** Validates parsed JSON as a thresholds file named `file`. */
export function validateThresholds(value: unknown, file: string): Thresholds {
  return validateJson(value, `--thresholds ${file}`, (v) => ({ file, rules: parseThresholds(v) }));
}

function parseThresholds(value: unknown): ThresholdRule[] {
  if (!isObject(value)) return mismatch('$', `an object (a ${THRESHOLDS_SCHEMA} file)`, value);
  if (value.schema !== THRESHOLDS_SCHEMA) {
    throw new ShapeError('$.schema', `${value.schema === undefined ? 'missing' : `got ${JSON.stringify(value.schema)}`} (expected "${THRESHOLDS_SCHEMA}")`);
  }
  rejectUnknownKeys(value, '$', TOP_KEYS);
  if (value.description !== undefined) string(value.description, '$.description');
  const rules = value.rules;
  if (!Array.isArray(rules)) return mismatch('$.rules', 'an array of rules', rules);
  return rules.map((raw, index) => parseRule(raw, `$.rules[${index}]`));
}

function parseRule(raw: unknown, path: string): ThresholdRule {
  if (!isObject(raw)) return mismatch(path, 'an object', raw);
  rejectUnknownKeys(raw, path, RULE_KEYS);
  const rule: ThresholdRule = {
    scenario: raw.scenario === undefined ? '*' : string(raw.scenario, `${path}.scenario`),
    metric: string(raw.metric, `${path}.metric`),
    source: path,
  };
  if (raw.relativePct !== undefined) rule.relativePct = nonNegative(raw.relativePct, `${path}.relativePct`);
  if (raw.absolute !== undefined) rule.absolute = nonNegative(raw.absolute, `${path}.absolute`);
  if (raw.min !== undefined) rule.min = number(raw.min, `${path}.min`);
  if (raw.max !== undefined) rule.max = number(raw.max, `${path}.max`);
  if (raw.ignore !== undefined) rule.ignore = boolean(raw.ignore, `${path}.ignore`);
  if (raw.note !== undefined) rule.note = string(raw.note, `${path}.note`);

  if (!METRICS.some((m) => globMatches(rule.metric, m.name))) {
    throw new ShapeError(`${path}.metric`, `"${rule.metric}" matches no metric (metrics: ${METRICS.map((m) => m.name).join(', ')})`);
  }
  const setsTolerance = rule.relativePct !== undefined || rule.absolute !== undefined;
  const setsFloor = rule.min !== undefined || rule.max !== undefined;
  if (rule.ignore === true && setsTolerance) {
    throw new ShapeError(path, '"ignore": true and a tolerance contradict each other (keep one)');
  }
  if (rule.ignore !== true && !setsTolerance && !setsFloor) {
    throw new ShapeError(path, 'the rule sets nothing: give relativePct, absolute, min, max or "ignore": true');
  }
  if (rule.min !== undefined && rule.max !== undefined && rule.min > rule.max) {
    throw new ShapeError(path, `min ${rule.min} is above max ${rule.max}`);
  }
  return rule;
}

function rejectUnknownKeys(value: Record<string, unknown>, path: string, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ShapeError(memberPath(path, key), `unknown key (known: ${known.join(', ')})`);
  }
}

/**
 * Does `glob` (`*` any run of characters, `?` one character) match the whole of `text`? Matched directly, not
 * through a regular expression: a glob like `*?*?*?…` compiles to a backtracking pattern that takes exponential
 * time. Here a `*` that fails to match is only ever retried from the latest `*`, which makes the match take at
 * most length(glob) × length(text) steps.
 */
export function globMatches(glob: string, text: string): boolean {
  let g = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (g < glob.length && (glob[g] === '?' || (glob[g] !== '*' && glob[g] === text[t]))) {
      g++;
      t++;
    } else if (g < glob.length && glob[g] === '*') {
      star = g++;
      resume = t;
    } else if (star >= 0) {
      // Let the latest `*` take one more character and try the rest of the glob again.
      g = star + 1;
      t = ++resume;
    } else {
      return false;
    }
  }
  while (g < glob.length && glob[g] === '*') g++;
  return g === glob.length;
}

/** The tolerance that applies to one scenario's metric, and where it came from. */
export type ResolvedTolerance = { ignored: false; tolerance: Tolerance; source: string } | { ignored: true; source: string };

/** Resolves the tolerance of `metric` in `scenario`: the metric's default, then the last matching rule. */
export function resolveTolerance(thresholds: Thresholds, scenario: string, metric: string, defaults: Tolerance): ResolvedTolerance {
  let resolved: ResolvedTolerance = { ignored: false, tolerance: defaults, source: 'default' };
  for (const rule of thresholds.rules) {
    if (!globMatches(rule.scenario, scenario) || !globMatches(rule.metric, metric)) continue;
    if (rule.ignore === true) resolved = { ignored: true, source: rule.source };
    else if (rule.relativePct !== undefined || rule.absolute !== undefined) {
      resolved = { ignored: false, tolerance: { relativePct: rule.relativePct ?? 0, absolute: rule.absolute ?? 0 }, source: rule.source };
    }
  }
  return resolved;
}

/** The floor rules (`min`/`max`) that match one scenario's metric. */
export function floorsFor(thresholds: Thresholds, scenario: string, metric: string): ThresholdRule[] {
  return thresholds.rules.filter(
    (r) => (r.min !== undefined || r.max !== undefined) && globMatches(r.scenario, scenario) && globMatches(r.metric, metric),
  );
}
