/**
 * The real command, as CI runs it: `node bin/tls-reuse-bench.js check ...`, asserting exit codes, the one
 * stderr line and the files written.
 */
import { mkdtempSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Results } from '../../bench/model/index.ts';
import { sampleResults, withScenario } from './results.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/tls-reuse-bench.js');
const PERSISTENT = 'persistent/tls1.3/rsa2048/loopback/node';
const QUICK_BASELINE = path.join(ROOT, 'fixtures/baselines/quick.json');
const EXAMPLE_THRESHOLDS = path.join(ROOT, 'fixtures/thresholds/example.json');

// Made while the file loads: the bad-input cases below name files in it.
const dir = mkdtempSync(path.join(os.tmpdir(), 'check-cli-'));
const baseline = path.join(dir, 'baseline.json');

beforeAll(async () => {
  await writeJson('baseline.json', sampleResults());
});

async function writeJson(name: string, value: unknown): Promise<string> {
  const file = path.join(dir, name);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  return file;
}

async function check(args: string[], env: Record<string, string> = {}) {
  const result = await execa('node', [BIN, 'check', ...args], { reject: false, cwd: ROOT, env: { GITHUB_STEP_SUMMARY: '', ...env } });
  return { code: result.exitCode, stdout: result.stdout, stderr: result.stderr };
}

describe('tls-reuse-bench check', () => {
  it('passes identical results, writes check.md beside them and appends to $GITHUB_STEP_SUMMARY', async () => {
    const results = await writeJson('same/results.json', sampleResults());
    const summary = path.join(dir, 'step-summary.md');
    await writeFile(summary, '# earlier step\n');
    const { code, stdout, stderr } = await check([results, '--baseline', baseline], { GITHUB_STEP_SUMMARY: summary });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('PASS: 40 metrics of 3 scenarios within limits of baseline run-a');
    expect(stdout).toMatch(/^persistent\/tls1\.3\/rsa2048\/loopback\/node\s+downSavedPct\s+75\.00%\s+75\.00%\s+0\s+±2\.00 pp\s+ok$/m);
    const markdown = await readFile(path.join(dir, 'same/check.md'), 'utf8');
    expect(markdown).toMatch(/^### tls-reuse-bench check: pass\n/);
    expect(await readFile(summary, 'utf8')).toBe(`# earlier step\n${markdown}`);
    expect(JSON.parse(await readFile(path.join(dir, 'same/check.json'), 'utf8'))).toEqual({
      schema: 'tls-reuse-bench/check@1',
      verdict: 'pass',
      runId: sampleResults().runId,
      baselineRunId: 'run-a',
      verdictLine: expect.stringMatching(/^PASS: 40 metrics of 3 scenarios within limits of baseline run-a/),
      markdown,
    });
  });

  it('exits 1 on a regression, with the verdict as the one stderr line', async () => {
    const current = withScenario(sampleResults(), 'persistent', (s) => (s.perEndpointMinute.downHandshakeBytes = 2_000));
    const results = await writeJson('worse/results.json', current);
    const { code, stdout, stderr } = await check([results, '--baseline', baseline]);
    expect(code).toBe(1);
    expect(stderr).toBe(`error: FAIL: 1 regression against baseline run-a: ${PERSISTENT} downHandshakeBytes +25.00% (limit ±1.0%)`);
    expect(stdout).toMatch(/downHandshakeBytes\s+1,600\.0 B\s+2,000\.0 B\s+\+25\.00%\s+±1\.0%\s+REGRESSED/);
    expect(await readFile(path.join(dir, 'worse/check.md'), 'utf8')).toContain('### tls-reuse-bench check: FAIL');
  });

  it('exits 1 on a savings floor of a thresholds file', async () => {
    const results = await writeJson('floor/results.json', sampleResults());
    const thresholds = await writeJson('floor.json', { schema: 'tls-reuse-bench/thresholds@1', rules: [{ scenario: 'persistent/*', metric: 'upSavedPct', min: 60 }] });
    const { code, stderr } = await check([results, '--baseline', baseline, '--thresholds', thresholds]);
    expect(code).toBe(1);
    expect(stderr).toBe(`error: FAIL: 1 regression against baseline run-a: ${PERSISTENT} upSavedPct 50.00% (limit ≥ 60.00% ($.rules[0]))`);
  });

  it('passes an improvement and says to refresh the baseline', async () => {
    const better = withScenario(sampleResults(), 'persistent', (s) => (s.perEndpointMinute.upHandshakeBytes = 300));
    const { code, stdout } = await check([await writeJson('better/results.json', better), '--baseline', baseline]);
    expect(code).toBe(0);
    expect(stdout).toContain('(1 improved beyond their limit: refresh the baseline)');
  });

  it('passes the committed quick baseline against itself under the example thresholds (both files valid, every floor live)', async () => {
    const results = await writeJson('quick/results.json', await readFile(QUICK_BASELINE, 'utf8'));
    const { code, stdout, stderr } = await check([results, '--baseline', QUICK_BASELINE, '--thresholds', EXAMPLE_THRESHOLDS]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^PASS: 24 metrics of 2 scenarios and 3 floors within limits of baseline /m);
  });

  it('fails the real quick baseline with persistent connections no longer reused', async () => {
    const real = JSON.parse(await readFile(QUICK_BASELINE, 'utf8')) as Results;
    const persistent = real.scenarios.find((s) => s.spec.mode === 'persistent');
    if (persistent === undefined || persistent.state !== 'completed') throw new Error('the quick baseline has no completed persistent scenario');
    const fresh = real.scenarios.find((s) => s.spec.mode === 'fresh');
    if (fresh === undefined || fresh.state !== 'completed') throw new Error('the quick baseline has no completed fresh scenario');
    // The baseline is a mean of three runs: every run, and so their mean, opens fresh's connections.
    const connections = fresh.perEndpointMinute.connections;
    persistent.perEndpointMinute.connections = connections;
    for (const r of persistent.repetitions) r.perEndpointMinute!.connections = connections;
    persistent.summary.perEndpointMinute.connections = { ...persistent.summary.perEndpointMinute.connections!, mean: connections, min: connections, max: connections };
    const { code, stderr } = await check([await writeJson('unreused/results.json', real), '--baseline', QUICK_BASELINE]);
    expect(code).toBe(1);
    // The file's comparisons are left as they were: only the connection count moved (1.33 → 15.33 a minute).
    expect(stderr).toBe(`error: FAIL: 1 regression against baseline ${real.runId}: ${PERSISTENT} connections +1050.00% (limit ±1.0%)`);
  });

  describe('exits 2 on bad input, naming the file', () => {
    const cases: [string, () => Promise<string[]>, string | RegExp][] = [
      ['a missing results file', async () => [path.join(dir, 'absent.json'), '--baseline', baseline], `error: results file ${path.join(dir, 'absent.json')}: no such file`],
      ['a missing baseline file', async () => [baseline, '--baseline', path.join(dir, 'absent.json')], `error: --baseline ${path.join(dir, 'absent.json')}: no such file`],
      ['bad JSON', async () => [await writeJson('bad.json', '{"schema": "tls-reuse-bench/results@1",,}'), '--baseline', baseline], `error: results file ${path.join(dir, 'bad.json')}: not valid JSON at line 1, column 40: expected a property name in double quotes, found ","`],
      ['a wrong schema', async () => [await writeJson('v2.json', { ...sampleResults(), schema: 'tls-reuse-bench/results@2' }), '--baseline', baseline], /^error: results file .*v2\.json: \$\.schema: "tls-reuse-bench\/results@2" is not supported: this version reads "tls-reuse-bench\/results@1"/],
      [
        'a missing field',
        async () => {
          const r = sampleResults() as Results & { scenarios: { perEndpointMinute?: Record<string, unknown> }[] };
          delete r.scenarios[1]!.perEndpointMinute!.upWireBytes;
          return [await writeJson('field.json', r), '--baseline', baseline];
        },
        `error: results file ${path.join(dir, 'field.json')}: $.scenarios[1].perEndpointMinute.upWireBytes: missing (expected a number ≥ 0 or null)`,
      ],
      [
        'a bad thresholds file',
        async () => [baseline, '--baseline', baseline, '--thresholds', await writeJson('t.json', { schema: 'tls-reuse-bench/thresholds@1', rules: [{ metric: 'upWireBytes', relative: 2 }] })],
        `error: --thresholds ${path.join(dir, 't.json')}: $.rules[0].relative: unknown key (known: scenario, metric, relativePct, absolute, min, max, ignore, note)`,
      ],
      [
        'no matching scenarios',
        async () => {
          const r = sampleResults();
          for (const s of r.scenarios) {
            s.spec.cert = 'ecdsa-p256';
            s.id = s.spec.id = s.id.replace('rsa2048', 'ecdsa-p256');
          }
          r.comparisons = [];
          return [await writeJson('ecdsa.json', r), '--baseline', baseline];
        },
        /^error: .*ecdsa\.json against --baseline .*baseline\.json: no scenario of the results matches the baseline: the results have fresh\/tls1\.3\/ecdsa-p256/,
      ],
      [
        'a baseline scenario missing from the run',
        async () => {
          const r = sampleResults();
          r.scenarios.pop();
          r.comparisons.pop();
          return [await writeJson('fewer.json', r), '--baseline', baseline];
        },
        /: the results lack 1 scenario of the baseline: resumed\/tls1\.3\/rsa2048\/loopback\/node \(run the suite and flags/,
      ],
      ['no --baseline', async () => [baseline], 'error: check: --baseline FILE is required (a results.json to compare with, e.g. fixtures/baselines/quick.json)'],
    ];
    it.each(cases)('%s', async (_name, args, message) => {
      const { code, stdout, stderr } = await check(await args());
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.split('\n')).toHaveLength(1);
      if (typeof message === 'string') expect(stderr).toBe(message);
      else expect(stderr).toMatch(message);
    });
  });

  it('refuses a run killed while it ran (finishedAt empty) as the run and as its own baseline: exit 2', async () => {
    const killed = await writeJson('killed/results.json', { ...sampleResults(), finishedAt: '', interrupted: false });
    const { code, stderr } = await check([killed, '--baseline', killed]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^error: .*the run being checked \(run run-a\) did not finish: its finishedAt is empty/);
  });

  it('prints its help', async () => {
    const { code, stdout } = await check(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: tls-reuse-bench check RESULTS\.json --baseline FILE \[--thresholds FILE\]/);
    expect(stdout).toContain('p50LatencyRatio.log');
  });
});
