/**
 * The workload file (`tls-reuse-bench/workload@1`): what one agent does, read and validated once through the
 * shared JSON-input layer. Every error names the file and the JSON path of the offending value, e.g.
 * `workload file x.json: $.logger.intervalSeconds: expected a positive number, got string "fast"`.
 */
import { parseJsonText, readJsonInput, validateJson } from '../input/json.ts';
import {
  boolean,
  fraction,
  integer,
  nonEmptyString,
  nonNegative,
  oneOf,
  optional,
  positive,
  ShapeError,
  strictObject,
  validator,
  withDefault,
  type Validator,
} from '../input/shape.ts';

/** The schema tag a workload file must carry. */
export const WORKLOAD_SCHEMA = 'tls-reuse-bench/workload@1';

/** An inclusive integer range a seeded draw picks from. */
export interface CountRange {
  min: number;
  max: number;
}

/** A parsed and validated workload file: one agent's behaviour (AGENT-FACTS.md). */
export interface Workload {
  /** The path the workload was read from, as given (or a label for in-memory text). */
  source: string;
  schema: typeof WORKLOAD_SCHEMA;
  name: string;
  description: string;
  /** osquery version the agent reports: `User-Agent: osquery/<version>`; 5.23 and later also send
   * `Authorization: NodeKey <key>`. */
  agentVersion: string;
  /** Agents start (enroll) at a seeded instant in [0, startSpreadSeconds) so they do not fire together. */
  startSpreadSeconds: number;
  /** Wall-clock time (Unix seconds) that virtual time 0 stands for, in log lines' `unixTime`/`calendarTime`. */
  startUnixSeconds: number;
  enroll: {
    /** `enroll_secret` sent once at start. */
    secret: string;
    /** osquery's numeric platform mask as a string (`9` = POSIX | LINUX). */
    platformType: string;
  };
  config: {
    /** Config refresh period (`--config_refresh`). */
    intervalSeconds: number;
    /** Delay from enroll to the first config fetch; below `intervalSeconds`. */
    firstAfterEnrollSeconds: number;
    /** Size of the config response body (minified JSON): the fixture's config cut or grown to it (issue 12's
     * sensitivity sweep); absent: the fixture as it is (~10.8 KB, the field report's ~11 KB). */
    responseBytes?: number | undefined;
  };
  logger: {
    /** Logger flush period (`--logger_tls_period`); one result-log post per flush. */
    intervalSeconds: number;
    /** Result lines per result post. */
    resultLines: CountRange;
    /** A status-log post goes out on one flush in every `statusIntervalSeconds` (a multiple of
     * `intervalSeconds`), as a separate request right after that flush's result post. */
    statusIntervalSeconds: number;
    /** Status lines per status post. */
    statusLines: CountRange;
    /** Size of every result post's body (JSON bytes): its lines cut or grown to it, e.g. a few hundred bytes
     * for an agent that sends only diffs; absent: whole lines, `resultLines` of them (0.55-2 KB). */
    resultBodyBytes?: number | undefined;
  };
  distributed: {
    /** Distributed read period (`--distributed_interval`). */
    intervalSeconds: number;
    /** Fraction of reads that return one query, each answered by a distributed write. */
    queryFraction: number;
    /** Rows in a distributed write's result. */
    resultRows: CountRange;
  };
  /** Gzip logger bodies at level 9 with `Content-Encoding: gzip` (`--logger_tls_compress`). */
  loggerCompress: boolean;
  /** Send `Accept-Encoding: gzip` (`--tls_accept_gzip`). */
  acceptGzip: boolean;
}

/** osquery's `--logger_tls_max_lines` default: a post never carries more lines. */
const MAX_LINES_PER_POST = 1024;
/** Most rows a distributed write's result carries. */
const MAX_RESULT_ROWS = 10_000;

/** Bounds of the body sizes a workload may set (`config.responseBytes`, `logger.resultBodyBytes`), bytes. */
export const BODY_BYTES_LIMITS = { min: 2, max: 1_000_000 } as const;

/** An inclusive range of whole numbers, `max` at least `min`. */
function range(min: number, max: number): Validator<CountRange> {
  const bounds = strictObject<CountRange>({ min: integer(min, max), max: integer(min, max) });
  return validator('an object', (value, path) => {
    const r = bounds(value, path);
    if (r.max < r.min) throw new ShapeError(`${path}.max`, `expected at least min (${r.min}), got ${r.max}`);
    return r;
  });
}

/** Intervals become whole virtual milliseconds; one below 1 ms could never be scheduled. */
const interval: Validator<number> = validator('a positive number', (value, path) => {
  const seconds = positive(value, path);
  if (Math.round(seconds * 1000) < 1) throw new ShapeError(path, `expected at least 0.001 (one virtual millisecond), got ${seconds}`);
  return seconds;
});

const agentVersion: Validator<string> = validator('a version like "5.12.1"', (value, path) => {
  const version = nonEmptyString(value, path);
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new ShapeError(path, `expected a version like "5.12.1", got ${JSON.stringify(version)}`);
  return version;
});

const workloadShape = strictObject<Omit<Workload, 'source'>>({
  schema: oneOf([WORKLOAD_SCHEMA]),
  name: nonEmptyString,
  description: withDefault(nonEmptyString, ''),
  agentVersion,
  startSpreadSeconds: nonNegative,
  startUnixSeconds: integer(0, 2 ** 31 - 1),
  enroll: strictObject<Workload['enroll']>({ secret: nonEmptyString, platformType: nonEmptyString }),
  config: strictObject<Workload['config']>({
    intervalSeconds: interval,
    firstAfterEnrollSeconds: nonNegative,
    responseBytes: optional(integer(BODY_BYTES_LIMITS.min, BODY_BYTES_LIMITS.max)),
  }),
  logger: strictObject<Workload['logger']>({
    intervalSeconds: interval,
    resultLines: range(1, MAX_LINES_PER_POST),
    statusIntervalSeconds: interval,
    statusLines: range(1, MAX_LINES_PER_POST),
    resultBodyBytes: optional(integer(BODY_BYTES_LIMITS.min, BODY_BYTES_LIMITS.max)),
  }),
  distributed: strictObject<Workload['distributed']>({
    intervalSeconds: interval,
    queryFraction: fraction,
    resultRows: range(1, MAX_RESULT_ROWS),
  }),
  loggerCompress: withDefault(boolean, false),
  acceptGzip: withDefault(boolean, false),
});

/** The fields' shapes, then what relates one field to another. */
function validateWorkload(value: unknown, source: string): Workload {
  const w = workloadShape(value, '$');
  if (w.config.firstAfterEnrollSeconds >= w.config.intervalSeconds) {
    throw new ShapeError(
      '$.config.firstAfterEnrollSeconds',
      `expected less than $.config.intervalSeconds (${w.config.intervalSeconds}), got ${w.config.firstAfterEnrollSeconds}`,
    );
  }
  // Status posts ride on logger flushes, so their period must be a whole number of flushes.
  const flushesPerStatus = Math.round(w.logger.statusIntervalSeconds * 1000) / Math.round(w.logger.intervalSeconds * 1000);
  if (!Number.isInteger(flushesPerStatus)) {
    throw new ShapeError(
      '$.logger.statusIntervalSeconds',
      `expected a multiple of $.logger.intervalSeconds (${w.logger.intervalSeconds}), got ${w.logger.statusIntervalSeconds}`,
    );
  }
  return { source, ...w };
}

/**
 * Validates workload text. `source` names the file in every error message.
 * @throws InputError on malformed JSON or any bad field, naming `source` and the JSON path.
 */
export function parseWorkload(text: string, source: string): Workload {
  const label = `workload file ${source}`;
  return validateJson(parseJsonText(text, label), label, (value) => validateWorkload(value, source));
}

/**
 * Reads and validates a workload file.
 * @throws InputError when the file is missing or unreadable, is not JSON, or has a bad field; the message
 *   names the file and the JSON path.
 */
export function loadWorkload(path: string): Promise<Workload> {
  return readJsonInput(path, 'workload file', (value) => validateWorkload(value, path));
}
