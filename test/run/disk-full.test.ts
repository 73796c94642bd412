/**
 * A full disk under --out, made with a small tmpfs of our own (mounted and unmounted here): at each point the
 * disk can fill up (the first scenario's capture, results.json after it, the charts after the last one) the run
 * ends with `error: cannot write FILE: no space left on device` and exit 1, keeps what finished, and leaves no
 * half-written file behind.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, expect, it } from 'vitest';
import type { Results } from '../../bench/model/index.ts';
import { cli, liveRunSkipReason } from './support.ts';
import { describeUnless } from '../support/skip.ts';

const skip = liveRunSkipReason();
const mountPoint = mkdtempSync(path.join(tmpdir(), 'trb-full-'));
let mounted = false;

afterEach(() => {
  if (mounted) execFileSync('umount', [mountPoint]);
  mounted = false;
});
afterAll(() => rmSync(mountPoint, { recursive: true, force: true }));

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

// The quick suite's fresh capture is about 330 kB, its key log 43 kB, the persistent capture 125 kB, results.json
// about 55 kB after the first scenario and 120 kB after the last (written beside the old one, then renamed), each
// PNG 50-110 kB.
describeUnless(skip, 'a full disk under --out', () => {
  for (const [size, stage, file] of [
    ['200k', 'the first scenario', /scenarios\/fresh_\S+\/(capture\.pcap|keylog\.txt)/],
    ['400k', 'results.json after the first scenario', /\/results\.json/],
    ['800k', 'the charts after the last scenario', /\/charts\/\S+\.png/],
  ] as const) {
    it(`${size}: filling up during ${stage}`, async () => {
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint]);
      mounted = true;
      const out = path.join(mountPoint, 'run');
      const result = await cli(['run', '--suite', 'quick', '--out', out]);
      expect(result.stderr.trim()).toMatch(/^error: cannot write \S+: no space left on device$/);
      expect(result.stderr).toMatch(file);
      expect(result.exitCode).toBe(1);
      const written = files(out);
      expect(written.filter((f) => f.endsWith('.tmp'))).toEqual([]);
      // Secrets and captures are the owner's alone.
      for (const f of written.filter((f) => /(keylog\.txt|capture\.pcap)$/.test(f))) expect(statSync(f).mode & 0o777, f).toBe(0o600);
      if (stage === 'the charts after the last scenario') {
        const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
        expect(results.scenarios.map((s) => s.state)).toEqual(['completed', 'completed']);
        // No chart cut short: each PNG there is whole (ends with the IEND chunk).
        for (const png of written.filter((f) => f.endsWith('.png'))) expect(readFileSync(png).subarray(-8, -4).toString('latin1'), png).toBe('IEND');
      }
      if (stage === 'the first scenario') {
        // Its cut capture made room for results.json, which says why the run stopped.
        const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
        expect(results.interrupted).toBe(true);
        expect(results.scenarios).toEqual([]);
        expect(results.warnings.map((w) => w.kind)).toEqual(['output-failed']);
      }
    });
  }
});
