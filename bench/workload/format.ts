/**
 * The workload file (`tls-reuse-bench/workload@1`): what one agent does, read and validated once. Every
 * error names the file and the JSON path of the offending value, e.g.
 * `fixtures/x.json: $.logger.intervalSeconds: expected a positive number, got "fast"`.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.ts';

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

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Walks one JSON document, collecting nothing: the first bad value throws, naming file and path. */
class Reader {
  constructor(private readonly source: string) {}

  fail(path: string, message: string): never {
    throw new InputError(`${this.source}: ${path}: ${message}`);
  }

  object(value: Json | undefined, path: string, keys: readonly string[]): { [key: string]: Json } {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      this.fail(path, `expected an object, got ${describe(value)}`);
    }
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) this.fail(`${path}.${key}`, `unknown field (known: ${keys.join(', ')})`);
    }
    return value;
  }

  string(value: Json | undefined, path: string): string {
    if (typeof value !== 'string' || value.length === 0) this.fail(path, `expected a non-empty string, got ${describe(value)}`);
    return value;
  }

  positive(value: Json | undefined, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      this.fail(path, `expected a positive number, got ${describe(value)}`);
    }
    return value;
  }

  nonNegative(value: Json | undefined, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      this.fail(path, `expected a number >= 0, got ${describe(value)}`);
    }
    return value;
  }

  integer(value: Json | undefined, path: string, min: number, max: number): number {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.fail(path, `expected an integer from ${min} to ${max}, got ${describe(value)}`);
    }
    return value;
  }

  fraction(value: Json | undefined, path: string): number {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) {
      this.fail(path, `expected a number from 0 to 1, got ${describe(value)}`);
    }
    return value;
  }

  boolean(value: Json | undefined, path: string, fallback: boolean): boolean {
    if (value === undefined) return fallback;
    if (typeof value !== 'boolean') this.fail(path, `expected true or false, got ${describe(value)}`);
    return value;
  }

  range(value: Json | undefined, path: string, min: number, max: number): CountRange {
    const o = this.object(value, path, ['min', 'max']);
    const low = this.integer(o['min'], `${path}.min`, min, max);
    const high = this.integer(o['max'], `${path}.max`, min, max);
    if (high < low) this.fail(`${path}.max`, `expected at least min (${low}), got ${high}`);
    return { min: low, max: high };
  }
}

function describe(value: Json | undefined): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (Array.isArray(value)) return 'an array';
  if (value !== null && typeof value === 'object') return 'an object';
  return JSON.stringify(value);
}

/** Intervals become whole virtual milliseconds; one below 1 ms could never be scheduled. */
function intervalSeconds(r: Reader, value: Json | undefined, path: string): number {
  const seconds = r.positive(value, path);
  if (Math.round(seconds * 1000) < 1) r.fail(path, `expected at least 0.001 (one virtual millisecond), got ${seconds}`);
  return seconds;
}

/**
 * Validates workload text. `source` names the file in every error message.
 * @throws InputError on malformed JSON or any bad field, naming `source` and the JSON path.
 */
export function parseWorkload(text: string, source: string): Workload {
  let doc: Json;
  try {
    doc = JSON.parse(text) as Json;
  } catch (error) {
    throw new InputError(`${source}: $: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const r = new Reader(source);
  const top = r.object(doc, '$', [
    'schema', 'name', 'description', 'agentVersion', 'startSpreadSeconds', 'startUnixSeconds',
    'enroll', 'config', 'logger', 'distributed', 'loggerCompress', 'acceptGzip',
  ]);
  if (top['schema'] !== WORKLOAD_SCHEMA) r.fail('$.schema', `expected "${WORKLOAD_SCHEMA}", got ${describe(top['schema'])}`);
  const agentVersion = r.string(top['agentVersion'], '$.agentVersion');
  if (!/^\d+\.\d+\.\d+$/.test(agentVersion)) r.fail('$.agentVersion', `expected a version like "5.12.1", got ${describe(agentVersion)}`);

  const enroll = r.object(top['enroll'], '$.enroll', ['secret', 'platformType']);
  const config = r.object(top['config'], '$.config', ['intervalSeconds', 'firstAfterEnrollSeconds']);
  const logger = r.object(top['logger'], '$.logger', ['intervalSeconds', 'resultLines', 'statusIntervalSeconds', 'statusLines']);
  const distributed = r.object(top['distributed'], '$.distributed', ['intervalSeconds', 'queryFraction', 'resultRows']);

  const configInterval = intervalSeconds(r, config['intervalSeconds'], '$.config.intervalSeconds');
  const firstAfterEnroll = r.nonNegative(config['firstAfterEnrollSeconds'], '$.config.firstAfterEnrollSeconds');
  if (firstAfterEnroll >= configInterval) {
    r.fail('$.config.firstAfterEnrollSeconds', `expected less than $.config.intervalSeconds (${configInterval}), got ${firstAfterEnroll}`);
  }
  const loggerInterval = intervalSeconds(r, logger['intervalSeconds'], '$.logger.intervalSeconds');
  const statusInterval = intervalSeconds(r, logger['statusIntervalSeconds'], '$.logger.statusIntervalSeconds');
  // Status posts ride on logger flushes, so their period must be a whole number of flushes.
  const flushesPerStatus = Math.round(statusInterval * 1000) / Math.round(loggerInterval * 1000);
  if (!Number.isInteger(flushesPerStatus)) {
    r.fail('$.logger.statusIntervalSeconds', `expected a multiple of $.logger.intervalSeconds (${loggerInterval}), got ${statusInterval}`);
  }

  const startUnixSeconds = r.integer(top['startUnixSeconds'], '$.startUnixSeconds', 0, 2 ** 31 - 1);
  return {
    source,
    schema: WORKLOAD_SCHEMA,
    name: r.string(top['name'], '$.name'),
    description: top['description'] === undefined ? '' : r.string(top['description'], '$.description'),
    agentVersion,
    startSpreadSeconds: r.nonNegative(top['startSpreadSeconds'], '$.startSpreadSeconds'),
    startUnixSeconds,
    enroll: {
      secret: r.string(enroll['secret'], '$.enroll.secret'),
      platformType: r.string(enroll['platformType'], '$.enroll.platformType'),
    },
    config: { intervalSeconds: configInterval, firstAfterEnrollSeconds: firstAfterEnroll },
    logger: {
      intervalSeconds: loggerInterval,
      resultLines: r.range(logger['resultLines'], '$.logger.resultLines', 1, MAX_LINES_PER_POST),
      statusIntervalSeconds: statusInterval,
      statusLines: r.range(logger['statusLines'], '$.logger.statusLines', 1, MAX_LINES_PER_POST),
    },
    distributed: {
      intervalSeconds: intervalSeconds(r, distributed['intervalSeconds'], '$.distributed.intervalSeconds'),
      queryFraction: r.fraction(distributed['queryFraction'], '$.distributed.queryFraction'),
      resultRows: r.range(distributed['resultRows'], '$.distributed.resultRows', 1, 10_000),
    },
    loggerCompress: r.boolean(top['loggerCompress'], '$.loggerCompress', false),
    acceptGzip: r.boolean(top['acceptGzip'], '$.acceptGzip', false),
  };
}

/**
 * Reads and validates a workload file.
 * @throws InputError when the file is missing or unreadable, is not JSON, or has a bad field; the message
 *   names the file and the JSON path.
 */
export async function loadWorkload(path: string): Promise<Workload> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new InputError(`${path}: cannot read the workload file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  return parseWorkload(text, path);
}
