/**
 * Structural validation of parsed JSON against our types, with the JSON path of the first bad field in the
 * error (`$.scenarios[3].perEndpointMinute.upWireBytes: expected a number or null, got string "12"`).
 *
 * A validator returns its input typed once it has checked it. `Shape<T>` requires a validator for every
 * required field of `T`, so a field added to a model type without a validator fails to compile. Fields the
 * shape does not name are kept untouched: results may carry more than this reader knows (DESIGN.md "add
 * freely around them").
 */

/** Checks `value` found at JSON path `path`; returns it typed, or throws ShapeError. */
export interface Validator<T> {
  (value: unknown, path: string): T;
  /** What it accepts, for messages: `a number`, `an object`. */
  readonly expected: string;
}

/** Makes a validator from a check and the description its messages use. */
export function validator<T>(expected: string, check: (value: unknown, path: string) => T): Validator<T> {
  return Object.assign(check, { expected });
}

/** A validator per field of `T`. */
export type Shape<T> = { [K in keyof T]: Validator<T[K]> };

/** The first structural problem of a JSON document. Readers turn it into an InputError naming the file. */
export class ShapeError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'ShapeError';
  }
}

/** How a JSON value reads in an error message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Throws the "expected …, got …" error for `value` at `path`. */
export function mismatch(path: string, expected: string, value: unknown): never {
  throw new ShapeError(path, value === undefined ? `missing (expected ${expected})` : `expected ${expected}, got ${describe(value)}`);
}

/** The path of an object member: `.name`, or `["odd key"]` when the key is not an identifier. */
export function memberPath(path: string, key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
}

/** Any finite number. */
export const number: Validator<number> = validator('a number', (value, path) =>
  typeof value === 'number' && Number.isFinite(value) ? value : mismatch(path, 'a number', value),
);

/** A finite number ≥ 0 (byte counts, packet counts, durations). */
export const nonNegative: Validator<number> = validator('a number ≥ 0', (value, path) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : mismatch(path, 'a number ≥ 0', value),
);

export const string: Validator<string> = validator('a string', (value, path) =>
  typeof value === 'string' ? value : mismatch(path, 'a string', value),
);

export const boolean: Validator<boolean> = validator('true or false', (value, path) =>
  typeof value === 'boolean' ? value : mismatch(path, 'true or false', value),
);

/** A finite number > 0 (intervals, sizes). */
export const positive: Validator<number> = validator('a positive number', (value, path) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : mismatch(path, 'a positive number', value),
);

/** A number from 0 to 1. */
export const fraction: Validator<number> = validator('a number from 0 to 1', (value, path) =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 1 ? value : mismatch(path, 'a number from 0 to 1', value),
);

/** A string with at least one character. */
export const nonEmptyString: Validator<string> = validator('a non-empty string', (value, path) =>
  typeof value === 'string' && value.length > 0 ? value : mismatch(path, 'a non-empty string', value),
);

/** A whole number from `min` to `max`. */
export function integer(min: number, max: number): Validator<number> {
  const expected = `an integer from ${min} to ${max}`;
  return validator(expected, (value, path) =>
    typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max ? value : mismatch(path, expected, value),
  );
}

/** A number from `min` to `max`, a whole one when `integer`. */
export function inRange(limits: { min: number; max: number; integer: boolean }): Validator<number> {
  const { min, max, integer: whole } = limits;
  const expected = `${whole ? 'an integer' : 'a number'} from ${min} to ${max}`;
  return validator(expected, (value, path) =>
    typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value))
      ? value
      : mismatch(path, expected, value),
  );
}

/** Absent (then `fallback`), or what `inner` accepts. */
export function withDefault<T>(inner: Validator<T>, fallback: T): Validator<T> {
  return validator(inner.expected, (value, path) => (value === undefined ? fallback : inner(value, path)));
}

/** One of the listed strings. */
export function oneOf<const T extends readonly string[]>(choices: T): Validator<T[number]> {
  const expected = choices.length === 1 ? JSON.stringify(choices[0]) : `one of ${choices.map((c) => JSON.stringify(c)).join(', ')}`;
  return validator(expected, (value, path) =>
    typeof value === 'string' && choices.includes(value) ? (value as T[number]) : mismatch(path, expected, value),
  );
}

/** `null`, or what `inner` accepts. */
export function nullable<T>(inner: Validator<T>): Validator<T | null> {
  const expected = `${inner.expected} or null`;
  return validator(expected, (value, path) => {
    if (value === null) return null;
    try {
      return inner(value, path);
    } catch (error) {
      // A problem with the value itself (not deeper inside it): say that null was allowed too.
      if (error instanceof ShapeError && error.path === path) mismatch(path, expected, value);
      throw error;
    }
  });
}

/** Absent, or what `inner` accepts. */
export function optional<T>(inner: Validator<T>): Validator<T | undefined> {
  return validator(inner.expected, (value, path) => (value === undefined ? undefined : inner(value, path)));
}

/** An array whose every element `inner` accepts. */
export function arrayOf<T>(inner: Validator<T>): Validator<T[]> {
  return validator('an array', (value, path) => {
    if (!Array.isArray(value)) return mismatch(path, 'an array', value);
    value.forEach((element, index) => inner(element, `${path}[${index}]`));
    return value as T[];
  });
}

/** A JSON object (not null, not an array). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object whose fields `shape` names are each accepted by their validator; other fields are kept. */
export function object<T>(shape: Shape<T>): Validator<T> {
  const fields = Object.entries(shape) as [string, Validator<unknown>][];
  return validator('an object', (value, path) => {
    if (!isObject(value)) return mismatch(path, 'an object', value);
    for (const [key, check] of fields) check(value[key], memberPath(path, key));
    return value as T;
  });
}

/**
 * An object with exactly the fields `shape` names (an unknown field is an error naming it: in a file a person
 * writes, a misspelt field would otherwise be silently ignored). Returns the validated values, so defaults
 * of `withDefault` fields are filled in.
 */
export function strictObject<T>(shape: Shape<T>): Validator<T> {
  const fields = Object.entries(shape) as [string, Validator<unknown>][];
  const known = fields.map(([key]) => key);
  return validator('an object', (value, path) => {
    if (!isObject(value)) return mismatch(path, 'an object', value);
    for (const key of Object.keys(value)) {
      if (!known.includes(key)) throw new ShapeError(memberPath(path, key), `unknown field (known: ${known.join(', ')})`);
    }
    return Object.fromEntries(fields.map(([key, check]) => [key, check(value[key], memberPath(path, key))])) as T;
  });
}

/** An object whose keys are among `keys` (each optional) and whose values `inner` accepts. */
export function partialRecord<K extends string, T>(keys: readonly K[], inner: Validator<T>): Validator<Partial<Record<K, T>>> {
  return validator('an object', (value, path) => {
    if (!isObject(value)) return mismatch(path, 'an object', value);
    for (const [key, element] of Object.entries(value)) {
      if (!(keys as readonly string[]).includes(key)) {
        throw new ShapeError(memberPath(path, key), `unexpected key (expected one of ${keys.join(', ')})`);
      }
      inner(element, memberPath(path, key));
    }
    return value as Partial<Record<K, T>>;
  });
}
