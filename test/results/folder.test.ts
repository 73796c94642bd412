/**
 * One run per folder: run ids that never collide, `--out` refusing a folder that holds something (or replacing a
 * previous run with --force), `reports/latest` that is a real folder, and no folder left by a run that stopped
 * before it measured.
 */
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../../bench/errors.ts';
import { makeRunId } from '../../bench/plan/resolve.ts';
import { checkLatestLink, checkReportFolder, claimRunFolder, pointLatest, releaseRunFolder } from '../../bench/results/folder.ts';
import { cli, ROOT } from '../run/support.ts';

const root = mkdtempSync(path.join(tmpdir(), 'trb-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => path.join(root, `case-${++n}`);

async function usageError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UsageError);
  return (error as UsageError).message;
}

describe('run ids', () => {
  it('differ for runs started in the same millisecond', () => {
    const now = new Date('2026-01-05T10:31:07.123Z');
    const ids = new Set(Array.from({ length: 50 }, () => makeRunId(now)));
    expect(ids.size).toBeGreaterThan(45);
    expect(makeRunId(now, Buffer.from([0x3f, 0xa9]))).toBe('2026-01-05T10-31-07.123Z-3fa9');
  });

  it("a run's own folder is made exclusively: an existing one is never shared", async () => {
    const dir = fresh();
    mkdirSync(dir);
    expect(await usageError(claimRunFolder(dir, { exclusive: true, force: false }))).toMatch(/already exists: another run took this run id/);
  });
});

describe('--out', () => {
  it('a new folder (and its parents) is made, and released again when the run stops before measuring', async () => {
    const top = fresh();
    const claim = await claimRunFolder(path.join(top, 'a', 'b'), { exclusive: false, force: false });
    expect(claim.created).toBe(top);
    await releaseRunFolder(claim);
    expect(existsSync(top)).toBe(false);
  });

  it('an empty folder is used and kept', async () => {
    const dir = fresh();
    mkdirSync(dir);
    const claim = await claimRunFolder(dir, { exclusive: false, force: false });
    await releaseRunFolder(claim);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a folder holding a previous run is refused; --force replaces that run (its stale check.md included)', async () => {
    const dir = fresh();
    mkdirSync(path.join(dir, 'scenarios'), { recursive: true });
    for (const f of ['results.json', 'check.md', 'report.html']) writeFileSync(path.join(dir, f), 'old');
    expect(await usageError(claimRunFolder(dir, { exclusive: false, force: false }))).toBe(
      `--out: ${dir} already holds a previous run (results.json); two runs never share a folder: choose a new or empty folder, or pass --force to replace that run`,
    );
    await claimRunFolder(dir, { exclusive: false, force: true });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--force never deletes what a run did not write', async () => {
    const dir = fresh();
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'results.json'), 'old');
    writeFileSync(path.join(dir, 'thesis.tex'), 'mine');
    expect(await usageError(claimRunFolder(dir, { exclusive: false, force: true }))).toMatch(/--force replaces only what a run wrote, and .* also holds thesis\.tex/);
    expect(readFileSync(path.join(dir, 'thesis.tex'), 'utf8')).toBe('mine');
  });

  it('a file is refused', async () => {
    const file = fresh();
    writeFileSync(file, 'x');
    expect(await usageError(claimRunFolder(file, { exclusive: false, force: true }))).toBe(`--out: ${file} is a file, expected a folder (a new or empty one)`);
  });

  it('a path under /proc is refused at once (Node\'s recursive mkdir spun there at 100% CPU)', async () => {
    expect(await usageError(claimRunFolder('/proc/x', { exclusive: false, force: false }))).toBe('--out: cannot make /proc/x: no such file or directory');
    expect(await usageError(checkReportFolder('/proc/1', 'r', '/tmp'))).toMatch(/^--out: cannot write to \/proc\/1: /);
  });
});

describe('reports/latest', () => {
  it('a link is replaced; a folder is refused, or replaced with --force when it holds a run', async () => {
    const reports = fresh();
    mkdirSync(path.join(reports, 'run-1'), { recursive: true });
    const latest = path.join(reports, 'latest');
    symlinkSync('run-0', latest);
    await checkLatestLink(latest, false);
    await pointLatest(latest, path.join(reports, 'run-1'));
    expect(lstatSync(latest).isSymbolicLink()).toBe(true);

    rmSync(latest);
    mkdirSync(latest);
    writeFileSync(path.join(latest, 'results.json'), '{}');
    expect(await usageError(checkLatestLink(latest, false))).toBe(
      `${latest} is a folder, not the link to the latest run this tool keeps: move it away, pass --force to replace it, or pass --out DIR`,
    );
    await checkLatestLink(latest, true);
    expect(existsSync(latest)).toBe(false);
  });
});

describe('the real command line', () => {
  it('run --out FILE, run --out /proc/x, report --out FILE and report --out /proc/1: exit 2 naming --out', async () => {
    const file = fresh();
    writeFileSync(file, 'x');
    const results = path.join(ROOT, 'fixtures/baselines/quick.json');
    for (const args of [
      ['run', '--suite', 'quick', '--out', file],
      ['run', '--suite', 'quick', '--out', '/proc/x'],
      ['report', results, '--out', file],
      ['report', results, '--out', '/proc/1'],
    ]) {
      const result = await cli(args, { timeout: 60_000 });
      expect(result.exitCode, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^error: --out: /);
    }
  });

  it('a run stopped by bad input after it made its folder leaves no folder', async () => {
    const workload = path.join(fresh());
    writeFileSync(workload, JSON.stringify({ schema: 'tls-reuse-bench/workload@1', name: 'x', logger: { intervalSeconds: 'fast' } }));
    const out = path.join(fresh(), 'nested');
    const result = await cli(['run', '--suite', 'quick', '--no-capture', '--workload', workload, '--out', out]);
    expect(result.exitCode).toBe(2);
    expect(existsSync(path.dirname(out))).toBe(false);
  });
});
