/**
 * A run's folder: one run per folder, never two mixed. A run claims a new folder (its own `reports/<run-id>`,
 * made exclusively) or an empty one; a folder that holds a previous run is refused unless `--force` asks to
 * replace it, and even then only when everything in it is something a run writes. `reports/latest` is a link
 * this tool keeps; a real folder in its place is treated the same way.
 */
import { lstat, mkdir, readdir, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { OutputError, systemErrorText, UsageError } from '../errors.ts';
import { makeDir } from '../output.ts';

/** What a run, a check and a report write into a run's folder. A folder holding nothing else is a run's. */
const RUN_ENTRIES = new Set([
  'results.json',
  'results.json.tmp',
  'check.json',
  'check.json.tmp',
  'check.md',
  'report.html',
  'summary.md',
  'charts',
  'scenarios',
  '.capture-check.pcap',
  '.write-check',
]);

/** A folder a run claimed, and the topmost folder it had to make for it (removed again if the run stops before it measured). */
export interface ClaimedFolder {
  dir: string;
  created: string | null;
}

/** How the folder was chosen: `reports/<run-id>` by default, or `--out`. */
export interface ClaimOptions {
  /** The run's own new folder: made exclusively (two runs can never share it). */
  exclusive: boolean;
  /** `--force`: replace a previous run found in the folder. */
  force: boolean;
}

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort();
}

function listed(names: string[]): string {
  return names.length <= 4 ? names.join(', ') : `${names.slice(0, 4).join(', ')} and ${names.length - 4} more`;
}

/** Refuses `dir` when it holds anything, unless `force` and all of it is a previous run's; clears it then. */
async function replaceable(dir: string, flag: string, force: boolean): Promise<void> {
  const names = await entries(dir);
  if (names.length === 0) return;
  const foreign = names.filter((n) => !RUN_ENTRIES.has(n));
  const what = names.includes('results.json') ? 'a previous run (results.json)' : `files (${listed(names)})`;
  if (!force) {
    throw new UsageError(
      `${flag}: ${dir} already holds ${what}; two runs never share a folder: choose a new or empty folder${foreign.length === 0 ? ', or pass --force to replace that run' : ''}`,
    );
  }
  if (foreign.length > 0) {
    throw new UsageError(`${flag}: --force replaces only what a run wrote, and ${dir} also holds ${listed(foreign)}: choose a new or empty folder`);
  }
  for (const name of names) await rm(path.join(dir, name), { recursive: true, force: true });
}

/** Makes the folders `--out` needs, as a usage error naming the flag (exit 2) when it cannot. */
async function makeFor(flag: string, dir: string): Promise<string | null> {
  try {
    return await makeDir(dir);
  } catch (error) {
    if (error instanceof OutputError) throw new UsageError(`${flag}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** Writes and removes a probe file, so an unwritable folder is found before anything is measured. */
export async function assertWritable(flag: string, dir: string): Promise<void> {
  const probe = path.join(dir, '.write-check');
  try {
    await writeFile(probe, '');
    await rm(probe);
  } catch (error) {
    throw new UsageError(`${flag}: cannot write to ${dir}: ${systemErrorText(error)}`, { cause: error });
  }
}

/**
 * Claims `dir` for a run (see the module comment). Throws UsageError (exit 2), naming `--out`, for a file, a
 * folder that cannot be made or written, or one that holds something else.
 */
export async function claimRunFolder(dir: string, options: ClaimOptions): Promise<ClaimedFolder> {
  const flag = '--out';
  if (options.exclusive) {
    const created = await makeFor(flag, path.dirname(dir));
    try {
      await mkdir(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new UsageError(`${flag}: ${dir} already exists: another run took this run id; start the run again`, { cause: error });
      throw new UsageError(`${flag}: cannot make ${dir}: ${systemErrorText(error)}`, { cause: error });
    }
    await assertWritable(flag, dir);
    return { dir, created: created ?? dir };
  }
  const info = await lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw new UsageError(`${flag}: cannot use ${dir}: ${systemErrorText(error)}`, { cause: error });
  });
  let created: string | null = null;
  if (info === null) created = await makeFor(flag, dir);
  else if (info.isDirectory()) await replaceable(dir, flag, options.force);
  else throw new UsageError(`${flag}: ${dir} is ${info.isSymbolicLink() ? 'a symbolic link' : 'a file'}, expected a folder (a new or empty one)`);
  await assertWritable(flag, dir);
  return { dir, created };
}

/** Undoes a claim when the run stops before it measured anything: removes the folders it made. */
export async function releaseRunFolder(claim: ClaimedFolder): Promise<void> {
  if (claim.created !== null) await rm(claim.created, { recursive: true, force: true });
}

/**
 * Checks, before the run, that `link` (`reports/latest`) can be pointed at the run: absent, or a symbolic link.
 * A real folder there is refused, or with `force` removed if all of it is a run's.
 */
export async function checkLatestLink(link: string, force: boolean): Promise<void> {
  const info = await lstat(link).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (info === null || info.isSymbolicLink()) return;
  const name = path.basename(link);
  if (!info.isDirectory()) throw new UsageError(`${link} is a file, not the link to the latest run this tool keeps: move it away, or pass --out DIR`);
  if (!force) {
    throw new UsageError(`${link} is a folder, not the link to the latest run this tool keeps: move it away, pass --force to replace it, or pass --out DIR`);
  }
  await replaceable(link, name, true);
  await rm(link, { recursive: true, force: true });
}

/** Makes `link` a relative symbolic link to `target` (after checkLatestLink). */
export async function pointLatest(link: string, target: string): Promise<void> {
  await unlink(link).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await symlink(path.relative(path.dirname(link), target), link);
}

/**
 * Checks the folder `report --out` renders into: a folder (made when missing) that is writable and holds no
 * other run's results, since the pages would sit beside results they do not describe.
 */
export async function checkReportFolder(dir: string, runId: string, resultsDir: string): Promise<void> {
  const flag = '--out';
  const info = await lstat(dir).catch(() => null);
  if (info !== null && !info.isDirectory()) throw new UsageError(`${flag}: ${dir} is a file, expected a folder`);
  await makeFor(flag, dir);
  if (path.resolve(dir) !== path.resolve(resultsDir) && (await entries(dir)).includes('results.json')) {
    throw new UsageError(`${flag}: ${dir} holds the results of another run; rendering run ${runId} there would mix two runs: choose a new or empty folder`);
  }
  await assertWritable(flag, dir);
}
