/**
 * `--workload [FILE|NAME][,AXIS=VALUE...]`: a workload file (or the name of one in fixtures/workloads/) and
 * the sensitivity sweep's axes (issue 12) set on it, e.g. `--workload log-body=300`,
 * `--workload small-diffs,config-size=2000`, `--workload rate=30`:
 *
 * - `log-body=BYTES`: every result post's body is BYTES of JSON (`logger.resultBodyBytes`);
 * - `config-size=BYTES`: the config response is BYTES of JSON (`config.responseBytes`);
 * - `rate=N`: about N requests per agent-minute, enroll left out: the result posts' period is set so the
 *   other channels' requests plus the result posts make N (status posts keep about their period, as a whole
 *   number of flushes).
 */
import { UsageError } from '../errors.ts';
import { BODY_BYTES_LIMITS, type Workload } from './format.ts';
import { expectedRequestsPerEndpointMinute } from './schedule.ts';

/** The sweep axes `--workload` sets. */
export interface WorkloadOverrides {
  logBodyBytes?: number;
  configResponseBytes?: number;
  requestsPerMinute?: number;
}

/** `--workload` taken apart: the file or fixture name (null: the default), and the axes it sets. */
export interface WorkloadFlag {
  file: string | null;
  overrides: WorkloadOverrides;
}

const AXES = { 'log-body': 'logBodyBytes', 'config-size': 'configResponseBytes', rate: 'requestsPerMinute' } as const;
/** Most requests per agent-minute `rate=` takes: one every 0.1 s. */
const MAX_RATE = 600;

/**
 * Parses `--workload`'s value.
 * @throws UsageError naming `--workload` for an unknown axis, a bad number or two files.
 */
export function parseWorkloadFlag(value: string): WorkloadFlag {
  let file: string | null = null;
  const overrides: WorkloadOverrides = {};
  for (const part of value.split(',').map((p) => p.trim())) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (part === '') throw new UsageError(`--workload: empty item in "${value}" (expected FILE or NAME, then AXIS=VALUE items: log-body=300,config-size=2000,rate=30)`);
      if (file !== null) throw new UsageError(`--workload: two workloads given ("${file}" and "${part}"); give one, then AXIS=VALUE items`);
      file = part;
      continue;
    }
    const axis = part.slice(0, eq);
    const raw = part.slice(eq + 1);
    const key = (AXES as Record<string, keyof WorkloadOverrides>)[axis];
    if (key === undefined) throw new UsageError(`--workload: unknown axis "${axis}" (expected log-body=BYTES, config-size=BYTES or rate=REQUESTS-PER-MINUTE)`);
    const n = Number(raw);
    if (key === 'requestsPerMinute') {
      if (raw.trim() === '' || !Number.isFinite(n) || n <= 0 || n > MAX_RATE) throw new UsageError(`--workload: ${axis}: expected requests per agent-minute above 0 and up to ${MAX_RATE}, got "${raw}"`);
    } else if (raw.trim() === '' || !Number.isInteger(n) || n < BODY_BYTES_LIMITS.min || n > BODY_BYTES_LIMITS.max) {
      throw new UsageError(`--workload: ${axis}: expected whole bytes from ${BODY_BYTES_LIMITS.min} to ${BODY_BYTES_LIMITS.max}, got "${raw}"`);
    }
    overrides[key] = n;
  }
  return { file, overrides };
}

/** The axes as `--workload` writes them (`log-body=300,rate=30`); empty for none. */
export function overridesLabel(o: WorkloadOverrides): string {
  return (Object.entries(AXES) as [string, keyof WorkloadOverrides][])
    .flatMap(([axis, key]) => (o[key] === undefined ? [] : [`${axis}=${o[key]}`]))
    .join(',');
}

/**
 * The workload with the axes set.
 * @throws UsageError naming `--workload` when `rate` is at or below what the other channels send alone.
 */
export function applyWorkloadOverrides(w: Workload, o: WorkloadOverrides): Workload {
  const out: Workload = { ...w, config: { ...w.config }, logger: { ...w.logger } };
  if (o.logBodyBytes !== undefined) out.logger.resultBodyBytes = o.logBodyBytes;
  if (o.configResponseBytes !== undefined) out.config.responseBytes = o.configResponseBytes;
  if (o.requestsPerMinute !== undefined) {
    const resultPosts = 60 / w.logger.intervalSeconds;
    const others = expectedRequestsPerEndpointMinute(w) - resultPosts;
    const wanted = o.requestsPerMinute - others;
    if (wanted <= 0) {
      throw new UsageError(`--workload: rate=${o.requestsPerMinute}: the workload's other requests alone make ${others.toFixed(1)} a minute; give a rate above that`);
    }
    const intervalMs = Math.round(60_000 / wanted);
    const flushesPerStatus = Math.max(1, Math.round((w.logger.statusIntervalSeconds * 1000) / intervalMs));
    out.logger.intervalSeconds = intervalMs / 1000;
    out.logger.statusIntervalSeconds = (intervalMs * flushesPerStatus) / 1000;
  }
  return out;
}
