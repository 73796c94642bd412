/**
 * One timed run of a command as a child process: wall clock and peak resident memory, read from
 * /proc/<pid>/status while it runs.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { Cleanup } from './cleanup.ts';

/** How often VmHWM is read. */
const RSS_POLL_MS = 20;
/** Lines of the child's stderr kept for an error message. */
const STDERR_TAIL_LINES = 4;

/** Where the child's stdout goes: discarded, kept in a file, or returned (small outputs only). */
export type StdoutTarget = { to: 'null' } | { to: 'file'; path: string } | { to: 'string' };

/** One completed run. */
export interface RunMeasurement {
  wallSeconds: number;
  /** The child's peak resident set size; null when the child ended before a first reading. */
  peakRssBytes: number | null;
  /** The child's stdout when it was asked for as a string, else null. */
  stdout: string | null;
}

/** Reads VmHWM (kB) from /proc/<pid>/status; null once the process is gone or a zombie (no Vm lines then). */
async function readPeakRssBytes(pid: number): Promise<number | null> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, 'utf8');
  } catch (error) {
    // ENOENT: already reaped; ESRCH: it exited between opening the file and reading it.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return null;
    throw error;
  }
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  return match === null ? null : Number(match[1]) * 1024;
}

/**
 * Runs `command args` to completion and measures it. Throws with the exit code and the stderr tail when the
 * command fails. The child is tracked in `cleanup` while it runs, so an interrupted script ends it.
 */
export async function measureRun(
  command: string,
  args: string[],
  options: { cwd: string; stdout: StdoutTarget; cleanup: Cleanup },
): Promise<RunMeasurement> {
  const stdout = options.stdout.to === 'null' ? 'ignore' : options.stdout.to === 'file' ? { file: options.stdout.path } : 'pipe';
  const started = performance.now();
  // Only a string target is buffered here: execa buffers a file target's output too unless told not to, and
  // `analyze --json` of a flood capture writes far more than its 100 MB maxBuffer (the run then failed).
  const buffer = { stdout: options.stdout.to === 'string', stderr: true };
  const child = execa(command, args, { cwd: options.cwd, stdin: 'ignore', stdout, stderr: 'pipe', buffer, reject: false });
  const forget = options.cleanup.trackPid(child.pid);
  let exited = false;
  // VmHWM is the kernel's high-water mark of the process's resident set, so the last reading before the
  // exit is the peak up to that moment: only growth in the final ~20 ms can be missed. The last reading is
  // kept, not the largest: a reading taken between fork and exec would show this (parent) process's memory.
  let peakRssBytes: number | null = null;
  const poll = (async () => {
    while (!exited && child.pid !== undefined) {
      const reading = await readPeakRssBytes(child.pid);
      if (reading !== null) peakRssBytes = reading;
      await sleep(RSS_POLL_MS);
    }
  })();
  const result = await child;
  const wallSeconds = (performance.now() - started) / 1000;
  exited = true;
  await poll;
  forget();
  if (result.failed) {
    const tail = String(result.stderr).trim().split('\n').slice(-STDERR_TAIL_LINES).join(' / ');
    const how = result.exitCode === undefined ? `signal ${result.signal ?? 'unknown'}` : `exit ${result.exitCode}`;
    throw new Error(`${command} ${args.join(' ')}: ${how}${tail === '' ? '' : `: ${tail}`}`, { cause: result });
  }
  return { wallSeconds, peakRssBytes, stdout: options.stdout.to === 'string' ? String(result.stdout) : null };
}
