/**
 * The whole machine's CPU time from /proc/stat: what every process and the kernel used, so a fleet run can
 * tell a saturated machine (client, server, tcpdump and any other work together) from one side at its
 * ceiling.
 */
import { readFile } from 'node:fs/promises';
import { ticksToMs } from './processes.ts';

/** CPU time of every core since boot, ms: busy (everything but idle and iowait) and in total. */
export interface MachineCpu {
  busyMs: number;
  totalMs: number;
}

/** Parses /proc/stat's aggregate `cpu` line: user nice system idle iowait irq softirq steal [guest guest_nice]. */
export function parseProcStat(text: string): MachineCpu {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('/proc/stat has no aggregate cpu line');
  // guest and guest_nice are already counted in user and nice.
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const values = [user, nice, system, idle, iowait, irq, softirq, steal].map((v) => v ?? 0);
  if (values.some((v) => !Number.isFinite(v))) throw new Error(`/proc/stat: cannot read the cpu line ${JSON.stringify(line)}`);
  const [u, n, sy, id, io, hi, si, st] = values as [number, number, number, number, number, number, number, number];
  const busy = u + n + sy + hi + si + st;
  // /proc/stat counts in the same USER_HZ ticks as a process's stat.
  return { busyMs: ticksToMs(busy), totalMs: ticksToMs(busy + id + io) };
}

/** The machine's CPU time now. */
export async function machineCpu(): Promise<MachineCpu> {
  return parseProcStat(await readFile('/proc/stat', 'utf8'));
}
