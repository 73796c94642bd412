import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../../bench/cli/report.ts';
import { InputError, UsageError } from '../../bench/errors.ts';
import { buildCharts } from '../../bench/report/charts/index.ts';
import { buildReportModel } from '../../bench/report/model.ts';
import { checkSummary, sampleResults } from './fixtures.ts';
import { tempDir } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const ROOT = path.resolve(import.meta.dirname, '../..');

/** Runs the command in-process; resolves to its exit code and output. */
async function report(args: string[]): Promise<{ code: number; out: string }> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const code = await reportCommand(args, out);
  return { code, out: text };
}

/** Writes `content` (an object as JSON, or raw text) into a fresh folder; returns the file's path. */
function resultsFile(name: string, content: unknown): string {
  const dir = path.join(tmp.dir, name);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'results.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

async function rejection(args: string[]): Promise<Error> {
  return report(args).then(
    () => {
      throw new Error('expected the command to fail');
    },
    (error: unknown) => error as Error,
  );
}

describe('tls-reuse-bench report', () => {
  it('renders charts, report.html and summary.md next to the results by default', async () => {
    const file = resultsFile('default-out', sampleResults());
    const { code, out } = await report([file]);
    expect(code).toBe(0);
    expect(out).toContain('Reusing connections saved 67% of downstream bytes: 50.7 kB → 16.9 kB per endpoint-minute');
    const dir = path.dirname(file);
    for (const f of ['report.html', 'summary.md', 'charts/headline-tls1.3-rsa2048.png', 'charts/protocol-matrix.png']) expect(existsSync(path.join(dir, f)), f).toBe(true);
    const charts = buildCharts(buildReportModel(sampleResults()));
    expect(charts.length).toBeGreaterThan(12);
    expect(out).toContain(`charts:  ${charts.length} PNG in ${path.join(dir, 'charts')}`);
    for (const c of charts) expect(existsSync(path.join(dir, 'charts', `${c.name}.png`)), c.name).toBe(true);
  });

  it("shows the check's verdict from check.json beside the results, and refuses a broken one", async () => {
    const file = resultsFile('checked', sampleResults());
    writeFileSync(path.join(path.dirname(file), 'check.json'), JSON.stringify(checkSummary('regression', '| metric | verdict |\n| --- | --- |\n| downSavedPct | regressed |\n')));
    expect((await report([file])).code).toBe(0);
    expect(readFileSync(path.join(path.dirname(file), 'report.html'), 'utf8')).toContain('<strong>Check: REGRESSION</strong>');
    expect(readFileSync(path.join(path.dirname(file), 'summary.md'), 'utf8')).toContain('### Check: REGRESSION');
    writeFileSync(path.join(path.dirname(file), 'check.json'), JSON.stringify({ schema: 'tls-reuse-bench/check@1', verdict: 'maybe' }));
    const error = await rejection([file]);
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toBe(`check file ${path.join(path.dirname(file), 'check.json')}: $.verdict: expected one of "pass", "regression", got string "maybe"`);
  });

  it('writes to --out, with links back to the captures beside the results', async () => {
    const file = resultsFile('elsewhere', sampleResults());
    const outDir = path.join(tmp.dir, 'rendered');
    expect((await report([file, '--out', outDir])).code).toBe(0);
    const html = readFileSync(path.join(outDir, 'report.html'), 'utf8');
    expect(html).toContain('href="../elsewhere/scenarios/fresh_tls1.3_rsa2048_loopback_node/capture.pcap"');
    expect(existsSync(path.join(outDir, 'charts', 'headline-tls1.3-rsa2048.png'))).toBe(true);
  });

  it('rejects bad input with one line naming the file and the JSON path (exit 2)', async () => {
    const valid = sampleResults();
    const withoutSchema: Record<string, unknown> = { ...valid };
    delete withoutSchema.schema;
    const missingField = structuredClone(valid) as unknown as { scenarios: { perEndpointMinute: Record<string, unknown> }[] };
    delete missingField.scenarios[1]!.perEndpointMinute.downWireBytes;
    const cases: [string, string, RegExp][] = [
      [path.join(tmp.dir, 'nowhere', 'results.json'), '', /no such file/],
      [resultsFile('bad-json', '{"schema": "tls-reuse-bench/results@1",\n  "runId": }'), '', /not valid JSON at line 2, column 12/],
      [resultsFile('v2', { ...valid, schema: 'tls-reuse-bench/results@2' }), '$.schema', /"tls-reuse-bench\/results@2" is not supported/],
      [resultsFile('no-schema', withoutSchema), '$.schema', /missing: not a tls-reuse-bench results file/],
      [resultsFile('missing-field', missingField), '$.scenarios[1].perEndpointMinute.downWireBytes', /missing/],
    ];
    for (const [file, jsonPath, pattern] of cases) {
      const error = await rejection([file]);
      expect(error, file).toBeInstanceOf(InputError);
      expect((error as InputError).exitCode).toBe(2);
      expect(error.message).toContain(file);
      expect(error.message).toContain(jsonPath);
      expect(error.message).toMatch(pattern);
      expect(error.message).not.toContain('\n');
    }
  });

  it('rejects a wrong command line as a usage error', async () => {
    expect(await rejection([])).toBeInstanceOf(UsageError);
    expect((await rejection(['a.json', 'b.json'])).message).toBe('report: expected one RESULTS.json, got 2 (see tls-reuse-bench report --help)');
    expect((await rejection(['a.json', '--colour'])).message).toBe('report: unknown flag --colour (see tls-reuse-bench report --help)');
    expect((await report(['--help'])).out).toMatch(/^usage: tls-reuse-bench report RESULTS.json \[--out DIR\]/);
  });

  it('runs as the real command: exit 0 with reports, exit 2 with "error: …" on bad input', async () => {
    const run = promisify(execFile);
    const file = resultsFile('real-command', sampleResults());
    const ok = await run(process.execPath, [path.join(ROOT, 'bin/tls-reuse-bench.js'), 'report', file], { cwd: ROOT });
    expect(ok.stdout).toContain('report:  ');
    expect(existsSync(path.join(path.dirname(file), 'report.html'))).toBe(true);
    const bad = resultsFile('real-bad', { schema: 'tls-reuse-bench/analyze@1' });
    const failure = await run(process.execPath, [path.join(ROOT, 'bin/tls-reuse-bench.js'), 'report', bad], { cwd: ROOT }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toBe(
      `error: results file ${bad}: $.schema: "tls-reuse-bench/analyze@1" is the output of "analyze --json", not a run's results.json (expected "tls-reuse-bench/results@1")\n`,
    );
  });
});
