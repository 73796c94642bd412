/** The /proc process reader against getconf, ps and a process's own account of its CPU. */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { execa, type ResultPromise } from 'execa';
import { USER_HZ, childrenByParent, childrenOf, procStat, processTreeUsage, residentBytes, ticksToMs } from '../../bench/capture/processes.ts';

const started: ResultPromise[] = [];
/** Starts a process this test stops again; its output is read only when `output` is set (a grandchild would hold it open). */
function start(file: string, args: string[], output = false): ResultPromise {
  const child = execa(file, args, { reject: false, stdin: 'ignore', stdout: output ? 'pipe' : 'ignore', stderr: 'ignore' });
  started.push(child);
  return child;
}
afterEach(async () => {
  for (const child of started.splice(0)) {
    child.kill('SIGKILL');
    await child;
  }
});

/** `ps` on the given pids: pid, ppid, resident KiB, command name. */
async function ps(args: string[]): Promise<{ pid: number; ppid: number; rssKiB: number; comm: string }[]> {
  const run = execa('ps', ['-o', 'pid=,ppid=,rss=,comm=', ...args], { reject: false });
  const { stdout } = await run;
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [pid, ppid, rss, comm] = line.trim().split(/\s+/);
      return { pid: Number(pid), ppid: Number(ppid), rssKiB: Number(rss), comm: comm! };
    })
    .filter((p) => p.pid !== run.pid);
}

describe('processes from /proc', () => {
  it('counts clock ticks as `getconf CLK_TCK` does', async () => {
    const { stdout } = await execa('getconf', ['CLK_TCK']);
    expect(USER_HZ).toBe(Number(stdout.trim()));
  });

  it("reads a process's parent, name and resident memory as ps does", async () => {
    const child = start('sleep', ['30']);
    await once(child, 'spawn');
    // Past its start-up, when its pages are still being mapped.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [expected] = await ps(['-p', String(child.pid)]);
    expect(await procStat(child.pid!)).toMatchObject({ comm: expected!.comm, ppid: process.pid });
    expect(await residentBytes(child.pid!)).toBe(expected!.rssKiB * 1024);
  });

  it("reads a process's CPU as the process itself counts it", async () => {
    // Burns CPU for 300 ms, prints its own user + system CPU in µs, then waits to be read.
    const script = 'const t = Date.now(); while (Date.now() - t < 300); const u = process.cpuUsage(); console.log(u.user + u.system); setInterval(() => {}, 1e6);';
    const child = start(process.execPath, ['-e', script], true);
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const ownMs = Number(line.toString().trim()) / 1000;
    const s = await procStat(child.pid!);
    const procMs = ticksToMs(s!.userTicks + s!.systemTicks);
    // A clock tick (10 ms) of rounding, and what the child ran between printing and the read.
    expect(procMs).toBeGreaterThanOrEqual(ownMs - 1000 / USER_HZ);
    expect(procMs).toBeLessThan(ownMs + 50);
  });

  it('finds the children of a process as ps does, with and without the children files, and sums the tree', async () => {
    const shell = start('sh', ['-c', 'sleep 30 & sleep 30 & wait']);
    await once(shell, 'spawn');
    let expected: Awaited<ReturnType<typeof ps>> = [];
    for (let tries = 0; expected.length < 2 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      expected = await ps(['--ppid', String(shell.pid)]);
    }
    const pids = expected.map((p) => p.pid).sort();
    expect(pids).toHaveLength(2);
    expect((await childrenOf(shell.pid!)).sort()).toEqual(pids);
    expect((await childrenByParent(shell.pid!)).sort()).toEqual(pids);
    const [root] = await ps(['-p', String(shell.pid)]);
    const usage = await processTreeUsage(shell.pid!);
    expect(usage.rssBytes).toBe((root!.rssKiB + expected.reduce((sum, p) => sum + p.rssKiB, 0)) * 1024);
  });

  it('answers null and no children for a process that has exited', async () => {
    const child = execa('true');
    const pid = child.pid!;
    await child;
    expect(await procStat(pid)).toBeNull();
    expect(await residentBytes(pid)).toBeNull();
    expect(await childrenOf(pid)).toEqual([]);
    expect(await processTreeUsage(pid)).toEqual({ cpuMs: 0, rssBytes: 0 });
  });
});
