/**
 * Writing our output files: folders made one level at a time, files written whole or not at all, and every
 * failure an OutputError naming the file and the system's reason (`cannot write out/results.json: no space
 * left on device`), never an internal error.
 */
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cannotWrite, OutputError, systemErrorText } from './errors.ts';

/**
 * Makes `dir` and its missing parents with one plain mkdir each, and returns the topmost folder it made (null
 * when `dir` existed). Node's `mkdir({ recursive: true })` is not used: under procfs (`/proc/1/x`) mkdir fails
 * with ENOENT beneath a folder that exists, and Node's recursive mkdir then retries forever at 100% CPU.
 * @throws OutputError when a part of the path is a file or a folder cannot be made.
 */
export async function makeDir(dir: string): Promise<string | null> {
  const missing: string[] = [];
  for (let p = path.resolve(dir); ; p = path.dirname(p)) {
    const info = await stat(p).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw new OutputError(`cannot use ${p}: ${systemErrorText(error)}`, { cause: error });
    });
    if (info !== null) {
      if (!info.isDirectory()) throw new OutputError(`cannot make ${dir}: ${p} is a file, not a folder`);
      break;
    }
    missing.unshift(p);
    if (path.dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      await mkdir(p);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputError(`cannot make ${p}: ${systemErrorText(error)}`, { cause: error });
    }
  }
  return missing[0] ?? null;
}

/**
 * Writes `file` whole or not at all: into a temporary file beside it, then renamed over it, so a reader never
 * sees half a file and a failed write (a full disk) leaves the previous version in place and no temporary file.
 * `mode` applies to a new file (0o600 for files that hold secrets).
 * @throws OutputError naming `file` and the reason.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode?: number): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await writeFile(tmp, data, mode === undefined ? {} : { mode });
    await rename(tmp, file);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw cannotWrite(file, error);
  }
}

