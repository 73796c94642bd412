/**
 * Nothing a run starts outlives it: the watchdog kills a SIGKILLed run's children (nginx's workers included)
 * and removes its temporary folders, and a run sweeps what older runs left.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepStale } from '../../bench/guard/guard.ts';
import { BIN, ROOT, liveRunSkipReason, processesMatching } from '../run/support.ts';
import { describeUnless } from '../support/skip.ts';

const root = mkdtempSync(path.join(tmpdir(), 'trb-guard-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const pid = spawnSync('true').pid;
  expect(alive(pid)).toBe(false);
  return pid;
}

describe('sweeping what older runs left', () => {
  it('removes folders of dead runs and kills what still uses them; keeps live runs and other names', async () => {
    const tmp = path.join(root, 'tmp');
    mkdirSync(tmp);
    const stale = path.join(tmp, `tls-reuse-bench-nginx-${deadPid()}-AbCdEf`);
    const live = path.join(tmp, `tls-reuse-bench-nginx-${process.pid}-GhIjKl`);
    const other = path.join(tmp, 'tls-reuse-bench-perf');
    for (const d of [stale, live, other]) mkdirSync(path.join(d, 'logs'), { recursive: true });
    writeFileSync(path.join(stale, 'logs', 'access.log'), '');
    // An orphan holding a file of the stale folder open, as a worker of a killed nginx master does.
    const fd = openSync(path.join(stale, 'logs', 'access.log'), 'r');
    const orphan = spawn('sleep', ['60'], { stdio: [fd, 'ignore', 'ignore'] });
    closeSync(fd);
    await sleep(100);
    expect(await sweepStale(tmp)).toEqual([stale]);
    expect(readdirSync(tmp).sort()).toEqual([path.basename(live), path.basename(other)].sort());
    await sleep(100);
    expect(orphan.exitCode !== null || orphan.signalCode !== null).toBe(true);
  });
});

const skip = liveRunSkipReason() ?? (existsSync('/usr/sbin/nginx') ? null : 'nginx is not installed');

describeUnless(skip, 'a run killed with SIGKILL', () => {
  it('leaves no tcpdump, no nginx (master or worker) and no temporary folder', async () => {
    const out = path.join(root, 'killed');
    const child = execa('node', [BIN, 'run', '--suite', 'quick', '--server', 'nginx', '--out', out], { cwd: ROOT, reject: false, env: { CI: 'true' } });
    const prefix = `tls-reuse-bench-nginx-${child.pid}-`;
    // Wait until the first scenario captures (tcpdump writes into the run's folder) and nginx has its worker.
    let workers: number[] = [];
    for (let i = 0; i < 400 && workers.length === 0; i++) {
      await sleep(25);
      const master = processesMatching(prefix).find((p) => p.cmdline.startsWith('nginx: master'));
      if (master !== undefined && processesMatching(`${out}/scenarios/`).length > 0) {
        workers = readdirSync('/proc').filter((e) => /^\d+$/.test(e) && readPpid(Number(e)) === master.pid).map(Number);
      }
    }
    expect(workers.length).toBeGreaterThan(0);
    child.kill('SIGKILL');
    await child;
    const left = () => [...processesMatching(`${out}/scenarios/`), ...processesMatching(prefix)].map((p) => p.pid);
    for (let i = 0; i < 100 && (left().length > 0 || workers.some(alive)); i++) await sleep(50);
    expect(left()).toEqual([]);
    expect(workers.filter(alive)).toEqual([]);
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(prefix))).toEqual([]);
  });
});

/** The parent of `pid` (field 4 of /proc/<pid>/stat, after the parenthesised command name), or null once it exited. */
function readPpid(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return null;
  }
}
