/** The machine's CPU time from /proc/stat: the aggregate line's fields, and this machine's own counters. */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { machineCpu, parseProcStat } from '../../bench/capture/machine-cpu.ts';

describe('machine CPU from /proc/stat', () => {
  it('counts user, nice, system, irq, softirq and steal as busy, idle and iowait only in the total (USER_HZ ticks of 10 ms)', () => {
    const text = 'cpu  100 5 50 1000 20 3 7 2 40 0\ncpu0 50 2 25 500 10 1 3 1 20 0\nintr 1 2 3\n';
    // guest (40) is already inside user: not added again.
    expect(parseProcStat(text)).toEqual({ busyMs: (100 + 5 + 50 + 3 + 7 + 2) * 10, totalMs: (167 + 1000 + 20) * 10 });
  });

  it('refuses a file without the aggregate line', () => {
    expect(() => parseProcStat('cpu0 1 2 3 4\n')).toThrow('/proc/stat has no aggregate cpu line');
  });

  it("agrees with /proc/uptime on this machine: the total is the uptime times the cores, within 2%", async () => {
    const [cpu, uptime] = await Promise.all([machineCpu(), readFile('/proc/uptime', 'utf8')]);
    const uptimeMs = Number(uptime.split(' ')[0]) * 1000;
    expect(cpu.busyMs).toBeLessThan(cpu.totalMs);
    expect(Math.abs(cpu.totalMs / (uptimeMs * os.availableParallelism()) - 1)).toBeLessThan(0.02);
  });
});
