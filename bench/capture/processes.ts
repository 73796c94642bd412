/**
 * Processes as /proc shows them (proc(5)): CPU time, resident memory, parent, start time and children. The
 * server sampler reads the server's processes every second with it, and nginx's counters read its master and
 * workers. Files only, no child process: a fork of the runner would be counted in the client's CPU.
 */
import { access, readdir, readFile } from 'node:fs/promises';

/**
 * Clock ticks per second of every clock_t that /proc prints (/proc/<pid>/stat's times, /proc/net/tcp's
 * timers). proc(5) says to divide by sysconf(_SC_CLK_TCK); that value is USER_HZ, the tick the kernel
 * shows user space, which is part of each architecture's ABI and does not follow the kernel's own HZ
 * (include/asm-generic/param.h; the kernel hands it to every process as the AT_CLKTCK auxiliary vector
 * entry, which is where sysconf reads it). It is 100 on every architecture Node.js runs on; Alpha, with
 * 1024, has no Node.js. Asking `getconf CLK_TCK` would spawn a process to learn a constant;
 * test/capture/processes.test.ts holds this one to getconf's answer.
 */
export const USER_HZ = 100;

/** /proc's clock ticks in milliseconds. */
export function ticksToMs(ticks: number): number {
  return (ticks * 1000) / USER_HZ;
}

/** /proc/<pid>/statm counts pages: 4 KiB on x86-64 and arm64 Linux with the default page size. */
const PAGE_BYTES = 4096;

/** What /proc/<pid>/stat says of a process. */
export interface ProcStat {
  comm: string;
  ppid: number;
  /** CPU in user mode, its own and its reaped children's (a worker that exited), clock ticks. */
  userTicks: number;
  /** CPU in kernel mode, likewise. */
  systemTicks: number;
  /** Start time in ticks since boot: with the pid, it identifies a process even after pid reuse. */
  startTicks: number;
}

/** The process or thread went away between listing and reading: ENOENT, or ESRCH for one being reaped. */
export function vanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** A process's /proc/<pid>/stat; null once it is gone (it may exit while its file is being read). */
export async function procStat(pid: number): Promise<ProcStat | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if (vanished(error)) return null;
    throw error;
  }
  // proc(5): field 2 (comm) is parenthesised and may hold spaces; count fields after its closing paren.
  // After it: [0] state (field 3), [1] ppid (4), [11] utime (14), [12] stime (15), [13] cutime (16),
  // [14] cstime (17), [19] starttime (22). Its rss (24) is not used: the kernel reads it from per-CPU
  // counters without summing them (Linux 6.2 on) and it can lag statm's resident, the figure ps shows, by
  // hundreds of KiB (176 KiB for a `sleep` on 6.18).
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  const field = (i: number): number => Number(rest[i]);
  return {
    comm: text.slice(text.indexOf('(') + 1, close),
    ppid: field(1),
    userTicks: field(11) + field(13),
    systemTicks: field(12) + field(14),
    startTicks: field(19),
  };
}

/** A process's resident memory from /proc/<pid>/statm (size resident shared text lib data dt, in pages); null once it is gone. */
export async function residentBytes(pid: number): Promise<number | null> {
  try {
    return Number((await readFile(`/proc/${pid}/statm`, 'utf8')).split(' ')[1]) * PAGE_BYTES;
  } catch (error) {
    if (vanished(error)) return null;
    throw error;
  }
}

let childrenFiles: Promise<boolean> | undefined;
/** Whether the kernel has /proc/<pid>/task/<tid>/children (Linux 3.5+ built with CONFIG_PROC_CHILDREN). */
function hasChildrenFiles(): Promise<boolean> {
  childrenFiles ??= access(`/proc/${process.pid}/task/${process.pid}/children`).then(
    () => true,
    () => false,
  );
  return childrenFiles;
}

/**
 * The children of `pid`: the /proc/<pid>/task/<tid>/children file of each of its threads (a child is listed
 * under the thread that forked it), a few small reads. On a kernel without those files, every process whose
 * stat names `pid` as its parent. Empty once `pid` is gone.
 */
export async function childrenOf(pid: number): Promise<number[]> {
  if (!(await hasChildrenFiles())) return childrenByParent(pid);
  let threads: string[];
  try {
    threads = await readdir(`/proc/${pid}/task`);
  } catch (error) {
    if (vanished(error)) return [];
    throw error;
  }
  const lists = await Promise.all(
    threads.map((tid) =>
      readFile(`/proc/${pid}/task/${tid}/children`, 'utf8').catch((error: unknown) => {
        // A thread that ended since the listing has no children left to list.
        if (vanished(error)) return '';
        throw error;
      }),
    ),
  );
  return lists.flatMap((list) => (list.trim() === '' ? [] : list.trim().split(/\s+/).map(Number)));
}

/** The children of `ppid` found by reading every process's stat: what `childrenOf` does without the children files. */
export async function childrenByParent(ppid: number): Promise<number[]> {
  const out: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const s = await procStat(Number(entry));
    if (s !== null && s.ppid === ppid) out.push(Number(entry));
  }
  return out;
}

/** A process (null once it is gone) and its children (nginx's master and workers), as /proc shows them now. */
export interface ProcessTree {
  root: ProcStat | null;
  children: Map<number, ProcStat>;
}

/** Reads `pid`'s stat and its children's. A child that exits meanwhile is left out. */
export async function processTree(pid: number): Promise<ProcessTree> {
  const [root, pids] = await Promise.all([procStat(pid), childrenOf(pid)]);
  const stats = await Promise.all(pids.map(procStat));
  const children = new Map<number, ProcStat>();
  pids.forEach((child, i) => {
    const s = stats[i];
    if (s !== undefined && s !== null) children.set(child, s);
  });
  return { root, children };
}

/** CPU ms (user + system) and resident bytes of a process and its children, summed. */
export async function processTreeUsage(pid: number): Promise<{ cpuMs: number; rssBytes: number }> {
  const { root, children } = await processTree(pid);
  let ticks = 0;
  for (const s of [root, ...children.values()]) ticks += s === null ? 0 : s.userTicks + s.systemTicks;
  const resident = await Promise.all([...(root === null ? [] : [pid]), ...children.keys()].map(residentBytes));
  return { cpuMs: ticksToMs(ticks), rssBytes: resident.reduce<number>((sum, bytes) => sum + (bytes ?? 0), 0) };
}
