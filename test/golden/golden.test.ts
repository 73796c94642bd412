/**
 * The analyzer against tshark on every golden capture (fixtures/pcaps/README.md): each field the
 * capture's `NAME.expected.json` declares comparable must match exactly, in total and per connection, and
 * DESIGN.md's invariants must hold everywhere. With tshark installed, each expectation is also re-derived
 * and must equal the committed one, so neither the fixtures nor tshark can drift silently.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../bench/analyze/capture.ts';
import type { AnalyzeResult } from '../../bench/model/index.ts';
import { deriveExpectation, readExpectation, type ExpectationInputs } from '../../scripts/golden/make-expected.ts';
import { compareWithExpectation, invariantViolations, withoutVersion, type AnalyzerOutput } from './compare.ts';
import { itUnless } from '../support/skip.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PCAPS = join(ROOT, 'fixtures/pcaps');
const expectationFiles = readdirSync(PCAPS)
  .filter((file) => file.endsWith('.expected.json'))
  .sort();

const tsharkVersion = await execa('tshark', ['--version'], { reject: false }).then(
  (result) => (result.exitCode === 0 ? (result.stdout.split('\n')[0] ?? '') : null),
  () => null,
);
if (tsharkVersion === null) {
  if (process.env.CI === 'true') throw new Error('tshark is required in CI to re-derive the golden expectations');
  console.log('golden: tshark is not installed; re-deriving expectations is skipped (install tshark to run it)');
}

function keyLogOption(inputs: ExpectationInputs): { keyLogPath?: string } {
  return inputs.keylogPath === null ? {} : { keyLogPath: inputs.keylogPath };
}

it('has golden captures to check', () => {
  expect(expectationFiles.length).toBeGreaterThan(20);
});

describe.each(expectationFiles)('%s', (file) => {
  const { expectation, inputs } = readExpectation(join(PCAPS, file));
  let analyzed: Promise<AnalyzeResult> | undefined;
  const analyze = (): Promise<AnalyzeResult> =>
    (analyzed ??= analyzeCapture(inputs.pcapPath, { serverPorts: inputs.serverPorts, ...keyLogOption(inputs) }));

  it(`agrees with tshark on ${expectation.compare.join(', ')}`, async () => {
    expect(compareWithExpectation(await analyze(), expectation)).toEqual([]);
  });

  it('keeps the invariants on every direction of every connection and in total', async () => {
    expect(invariantViolations(await analyze())).toEqual([]);
  });

  // DESIGN.md: without --server-port the server is the side that answered the SYN with a SYN-ACK.
  const midstream = expectation.connections.every((c) => c.synSeen) ? null : 'the capture starts mid-stream: without its SYNs no SYN-ACK can decide the server side';
  itUnless(midstream, 'agrees without server ports (SYN-ACK decides)', async () => {
    const result = await analyzeCapture(inputs.pcapPath, keyLogOption(inputs));
    expect(compareWithExpectation(result, expectation)).toEqual([]);
  });

  itUnless(tsharkVersion === null ? 'tshark is not installed (install it to re-derive the expectations)' : null, 'still matches what the installed tshark derives', async () => {
    const derived = await deriveExpectation(inputs);
    const context = `committed with ${expectation.tshark}, re-derived with ${derived.tshark}`;
    expect(withoutVersion(derived), context).toEqual(withoutVersion(expectation));
  });
});

describe('the analyze command', () => {
  it('prints analyze@1 JSON that agrees with tshark', async () => {
    const file = 'nginx-tls13-fresh.expected.json';
    const { expectation, inputs } = readExpectation(join(PCAPS, file));
    const args = ['bin/tls-reuse-bench.js', 'analyze', inputs.pcapPath, '--json'];
    for (const port of inputs.serverPorts) args.push('--server-port', String(port));
    if (inputs.keylogPath !== null) args.push('--keylog', inputs.keylogPath);
    const result = await execa('node', args, { cwd: ROOT, reject: false });
    expect(result.exitCode, result.stderr).toBe(0);
    const output = JSON.parse(result.stdout) as AnalyzerOutput & { schema: string };
    expect(output.schema).toBe('tls-reuse-bench/analyze@1');
    expect(compareWithExpectation(output, expectation)).toEqual([]);
    expect(invariantViolations(output)).toEqual([]);
  });
});
