/**
 * Nothing a run starts outlives it, however it ends. Ctrl-C, SIGTERM and errors stop children in order
 * (bench/run); a SIGKILL of the run, or a crash, leaves that to a watchdog (watchdog.js): a process of its own
 * session, started on first use, that learns of every child and temporary folder through a pipe and, when the
 * pipe closes because the run is gone, kills those children (and their children: nginx's workers outlive
 * their master) and removes the folders. A run also sweeps, at its start, the temporary folders of runs that
 * died before this existed, or whose watchdog was killed too.
 */
import { readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { repoPath } from '../paths.ts';

const WATCHDOG_OPTIONS = { stdin: 'pipe', stdout: 'ignore', stderr: 'ignore', detached: true, reject: false, cleanup: false, buffer: false } as const;

let watchdog: ResultPromise<typeof WATCHDOG_OPTIONS> | null = null;

function tell(message: { pid: number } | { dir: string }): void {
  if (watchdog === null) {
    watchdog = execa(process.execPath, [repoPath('bench/guard/watchdog.js')], WATCHDOG_OPTIONS);
    // The watchdog must not keep this process alive, nor its pipe: its end is the signal.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void }).unref?.();
    watchdog.stdin.on('error', () => undefined);
  }
  watchdog.stdin.write(`${JSON.stringify(message)}\n`);
}

/** The process `pid` (and everything it starts) is killed if this process dies before it stops it. */
export function guardProcess(pid: number | undefined): void {
  if (pid !== undefined) tell({ pid });
}

/** The folder `dir` is removed if this process dies before it does. */
export function guardDir(dir: string): void {
  tell({ dir });
}

const TEMP_PREFIX = /^tls-reuse-bench-([a-z]+)-(\d+)-/;

/** The `mkdtemp` prefix of a temporary folder of this process: `<tmp>/tls-reuse-bench-nginx-<pid>-`. */
export function tempPrefix(kind: string): string {
  return path.join(tmpdir(), `tls-reuse-bench-${kind}-${process.pid}-`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Processes whose command line names `dir` or that hold a file open inside it, from /proc. */
async function processesUsing(dir: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      let uses = cmdline.includes(dir);
      if (!uses) {
        for (const fd of await readdir(`/proc/${entry}/fd`)) {
          if ((await readlink(`/proc/${entry}/fd/${fd}`).catch(() => '')).startsWith(`${dir}/`)) {
            uses = true;
            break;
          }
        }
      }
      if (uses) found.push(Number(entry));
    } catch {
      // The process exited while it was read, or is not ours to read.
    }
  }
  return found;
}

/**
 * Removes the temporary folders that runs of this tool left behind (named with their pid, which no longer
 * runs), after killing any process still using one (an nginx orphaned with its workers). Returns the folders
 * removed. Folders of runs still alive, and of other tools, are left alone.
 */
export async function sweepStale(dir = tmpdir()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const match = TEMP_PREFIX.exec(name);
    if (match === null || alive(Number(match[2]))) continue;
    const stale = path.join(dir, name);
    for (const pid of await processesUsing(stale)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Exited meanwhile.
      }
    }
    await rm(stale, { recursive: true, force: true });
    removed.push(stale);
  }
  return removed;
}
