/**
 * `--workload` resolved once (STYLE.md §4): the file (a path, or the name of a file in fixtures/workloads/),
 * the sweep axes set on it (bench/workload/overrides.ts), and the checks that the bodies it asks for can be
 * made, before anything is measured.
 */
import { access, constants } from 'node:fs/promises';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import {
  applyWorkloadOverrides,
  buildSchedule,
  loadWorkload,
  overridesLabel,
  parseWorkloadFlag,
  type Workload,
  type WorkloadOverrides,
} from '../workload/index.ts';
import { fitConfig } from '../workload/fit.ts';

/** The workload of a run. */
export interface ResolvedWorkload {
  path: string;
  overrides: WorkloadOverrides;
  /** The file's workload with the axes set. */
  workload: Workload;
  /** The scenarios' `workload`: the file's name, then the axes (`osquery-default,log-body=300`). */
  name: string;
}

/** Folder of the named workloads (`--workload small-diffs`), relative to the project folder. */
export const WORKLOAD_FIXTURES = 'fixtures/workloads';

/**
 * Resolves `--workload` (undefined: `defaultPath`).
 * @throws UsageError naming `--workload` for a bad value, a file that cannot be read, or a body size the
 *   workload cannot be fitted to.
 */
export async function resolveWorkload(flag: string | undefined, root: string, defaultPath: string): Promise<ResolvedWorkload> {
  const parsed = flag === undefined ? { file: null, overrides: {} } : parseWorkloadFlag(flag);
  const file = parsed.file === null ? defaultPath : await locate(parsed.file, root);
  const workload = applyWorkloadOverrides(await loadWorkload(file), parsed.overrides);
  checkBodySizes(workload, parsed.overrides);
  const label = overridesLabel(parsed.overrides);
  return { path: file, overrides: parsed.overrides, workload, name: `${path.basename(file, '.json')}${label === '' ? '' : `,${label}`}` };
}

/** A path as given, else a bare name of fixtures/workloads/ (`small-diffs`). */
async function locate(given: string, root: string): Promise<string> {
  const file = path.resolve(given);
  const code = await access(file, constants.R_OK).then(
    () => null,
    (error: NodeJS.ErrnoException) => error.code ?? 'error',
  );
  if (code === null) return file;
  if (!given.includes('/') && !given.endsWith('.json')) {
    const named = path.join(root, WORKLOAD_FIXTURES, `${given}.json`);
    const readable = await access(named, constants.R_OK).then(
      () => true,
      () => false,
    );
    if (readable) return named;
    throw new UsageError(`--workload: no file ${given} and no workload named ${given} in ${WORKLOAD_FIXTURES}/`);
  }
  throw new UsageError(`--workload: cannot read ${file} (${code})`);
}

/** Bodies can shrink only so far (one line with empty columns; a config with one query): say so up front. */
function checkBodySizes(w: Workload, o: WorkloadOverrides): void {
  if (o.logBodyBytes !== undefined) {
    const sizes = buildSchedule(w, { endpoints: 1, virtualMinutes: 2, seed: 1 })
      .filter((r) => r.api === 'log' && r.body.includes('"log_type":"result"'))
      .map((r) => r.body.length);
    const smallest = Math.max(...sizes);
    if (sizes.some((n) => n !== o.logBodyBytes)) {
      throw new UsageError(`--workload: log-body=${o.logBodyBytes}: a result post of this workload is at least ${smallest} bytes (one line with empty columns)`);
    }
  }
  if (o.configResponseBytes !== undefined) {
    const smallest = Buffer.byteLength(JSON.stringify(fitConfig({}, 0)));
    if (o.configResponseBytes < smallest) {
      throw new UsageError(`--workload: config-size=${o.configResponseBytes}: a config response is at least ${smallest} bytes`);
    }
  }
}
