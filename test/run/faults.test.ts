/**
 * Faults mid-run: Ctrl-C (SIGINT to the process group, as a terminal sends it), SIGTERM to the process
 * alone, and a server that dies during a scenario. Nothing that finished may be lost and nothing the run
 * started may outlive it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterEach, expect, it } from 'vitest';
import { BIN, ROOT, listenerMayBeOurs, listeningPorts, startDetached, liveRunSkipReason, processesMatching, readResults } from './support.ts';
import { describeUnless } from '../support/skip.ts';

const skip = liveRunSkipReason();
/** This checkout's server program: servers of other checkouts running on the machine are not ours. */
/** The embedded server's child process runs from the CLI's bundle in this checkout's cache. */
const SERVER_MAIN = path.join(ROOT, 'node_modules/.cache/tls-reuse-bench/cli/');
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'trb-faults-'));
  dirs.push(dir);
  return dir;
}

/** The children of `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc').filter((e) => {
    if (!/^\d+$/.test(e)) return false;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    } catch {
      return false;
    }
  }).map(Number);
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Starts the default suite in its own process group; resolves once its first scenario has ended. */
function startRun(dir: string) {
  return startDetached(['run', '--suite', 'default', '--out', dir], /\[1\/\d+\] \S+ \d+\.\d s,/);
}

/** Everything the run started is gone: tcpdump writing into `dir`, server processes, listening sockets. */
function assertNothingLeft(dir: string, portsBefore: Set<number>): void {
  expect(processesMatching(dir)).toEqual([]);
  expect(processesMatching(SERVER_MAIN)).toEqual([]);
  const leaked = [...listeningPorts()].filter((p) => !portsBefore.has(p) && listenerMayBeOurs(p));
  expect(leaked).toEqual([]);
}

describeUnless(skip, 'faults during a run', () => {
  it('Ctrl-C (SIGINT to the process group) stops everything and keeps the finished scenarios', async () => {
    const dir = tempDir();
    const portsBefore = listeningPorts();
    const { child } = await startRun(dir);
    process.kill(-child.pid!, 'SIGINT');
    const result = await child;
    expect(result.exitCode).toBe(130);
    const results = readResults(dir);
    expect(results.interrupted).toBe(true);
    expect(results.scenarios.length).toBeGreaterThanOrEqual(1);
    expect(results.scenarios[0]!.state).toBe('completed');
    expect(results.warnings.map((w) => w.kind)).toContain('interrupted');
    await sleep(200);
    assertNothingLeft(dir, portsBefore);
  });

  it('SIGTERM to the process alone stops its children too', async () => {
    const dir = tempDir();
    const portsBefore = listeningPorts();
    const { child } = await startRun(dir);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(143);
    expect(readResults(dir).scenarios[0]!.state).toBe('completed');
    await sleep(200);
    assertNothingLeft(dir, portsBefore);
  });

  it('an nginx worker killed mid-scenario is reported: the replaced process and the retries the schedule does not explain', async () => {
    const dir = tempDir();
    const child = execa('node', [BIN, 'run', '--suite', 'quick', '--server', 'nginx', '--modes', 'persistent', '--out', dir], { cwd: ROOT, reject: false, env: { CI: 'true' } });
    const prefix = `tls-reuse-bench-nginx-${child.pid}-`;
    let worker: number | undefined;
    for (let i = 0; i < 400 && worker === undefined; i++) {
      await sleep(25);
      const master = processesMatching(prefix).find((p) => p.cmdline.startsWith('nginx: master'));
      if (master !== undefined && processesMatching(`${dir}/scenarios/`).length > 0) worker = childrenOf(master.pid)[0];
    }
    expect(worker).toBeDefined();
    await sleep(500);
    process.kill(worker!, 'SIGKILL');
    const result = await child;
    expect(result.exitCode).toBe(0);
    const kinds = readResults(dir).scenarios[0]!.warnings.map((w) => w.kind);
    expect(kinds).toContain('server-process-replaced');
    expect(kinds).toContain('unexpected-retries');
  });

  it('a server that dies mid-scenario fails that scenario as data; the others run', async () => {
    const dir = tempDir();
    const child = execa('node', [BIN, 'run', '--suite', 'quick', '--out', dir], { cwd: ROOT, reject: false, env: { CI: 'true' } });
    // Kill the first scenario's server once the scenario is under way: tcpdump, started after the server
    // listens, is writing into the run's folder.
    let victim: number | undefined;
    for (let i = 0; i < 400 && victim === undefined; i++) {
      await sleep(25);
      if (processesMatching(`${dir}/scenarios/`).length > 0) victim = processesMatching(SERVER_MAIN)[0]?.pid;
    }
    expect(victim).toBeDefined();
    await sleep(200);
    process.kill(victim!, 'SIGKILL');
    const result = await child;
    expect(result.exitCode).toBe(1);
    const results = readResults(dir);
    expect(results.scenarios.map((s) => s.state)).toEqual(['failed', 'completed']);
    const failed = results.scenarios[0]!;
    expect(failed.state === 'failed' && failed.error).toMatch(/server exited during the scenario/);
    expect(processesMatching(dir)).toEqual([]);
  });

  it('a server that dies under a threaded fleet: the threads stop, the run goes on and exits', async () => {
    const dir = tempDir();
    const args = ['run', '--suite', 'quick', '--endpoints', '6', '--client-threads', '2', '--out', dir];
    const child = execa('node', [BIN, ...args], { cwd: ROOT, reject: false, env: { CI: 'true' }, timeout: 60_000 });
    let stdout = '';
    child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    let victim: number | undefined;
    for (let i = 0; i < 400 && victim === undefined; i++) {
      await sleep(25);
      if (processesMatching(`${dir}/scenarios/`).length > 0) victim = processesMatching(SERVER_MAIN)[0]?.pid;
    }
    expect(victim).toBeDefined();
    // Past the threads' start (1.5 s lead): their agents have requests in flight and more to come.
    await sleep(2_500);
    process.kill(victim!, 'SIGKILL');
    const killedAt = performance.now();
    // The failed scenario hands over to the next at once (no wait for the rest of its schedule).
    await expect.poll(() => stdout, { timeout: 5_000, interval: 50 }).toMatch(/\[2\/2\] \S+ started/);
    expect(performance.now() - killedAt).toBeLessThan(5_000);
    const result = await child;
    expect(result.timedOut).toBe(false);
    expect(result.exitCode).toBe(1);
    const results = readResults(dir);
    expect(results.scenarios.map((s) => s.state)).toEqual(['failed', 'completed']);
    expect(results.scenarios[0]!.state === 'failed' && results.scenarios[0]!.error).toMatch(/server exited during the scenario/);
    const second = results.scenarios[1]!;
    expect(second.state === 'completed' && second.fleet?.clientThreads).toBe(2);
    expect(processesMatching(dir)).toEqual([]);
    expect(processesMatching(SERVER_MAIN)).toEqual([]);
  });
});
