import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { locateJsonError } from '../../bench/input/json.ts';
import { loadResults, validateResults } from '../../bench/results/read.ts';
import { InputError } from '../../bench/errors.ts';
import { WARNING_KINDS } from '../../bench/model/index.ts';
import { sampleResults } from './results.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'check-load-'));
});

async function file(name: string, text: string): Promise<string> {
  const p = path.join(dir, name);
  await writeFile(p, text);
  return p;
}

async function loadError(p: string, label?: string): Promise<string> {
  const error = await loadResults(p, label).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).exitCode).toBe(2);
  return (error as InputError).message;
}

/** The sample results as JSON with `edit` applied to the parsed copy. */
function edited(edit: (json: Record<string, any>) => void): unknown {
  const json = JSON.parse(JSON.stringify(sampleResults())) as Record<string, any>;
  edit(json);
  return json;
}

function validationError(value: unknown): string {
  try {
    validateResults(value, 'results file r.json');
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as Error).message;
  }
  throw new Error('expected an InputError');
}

describe('loadResults', () => {
  it('reads a valid results file back as it was written', async () => {
    const p = await file('ok.json', JSON.stringify(sampleResults(), null, 2));
    expect(await loadResults(p)).toEqual(sampleResults());
  });

  it('names a missing file, a directory and an empty file', async () => {
    expect(await loadError(path.join(dir, 'nope.json'), '--baseline')).toBe(`--baseline ${path.join(dir, 'nope.json')}: no such file`);
    await mkdir(path.join(dir, 'run'), { recursive: true });
    expect(await loadError(path.join(dir, 'run'))).toBe(`results file ${path.join(dir, 'run')}: is a directory, expected a JSON file`);
    expect(await loadError(await file('empty.json', ' \n'))).toMatch(/: the file is empty, expected JSON$/);
  });

  it('gives the line and column of broken JSON', async () => {
    const p = await file('broken.json', '{\n  "schema": "tls-reuse-bench/results@1",\n  "runId": "x",\n}\n');
    expect(await loadError(p)).toBe(`results file ${p}: not valid JSON at line 4, column 1: trailing comma before '}'`);
  });
});

describe('validateResults: schema', () => {
  it('names the supported schema for another results version', () => {
    expect(validationError(edited((j) => (j.schema = 'tls-reuse-bench/results@2')))).toBe(
      'results file r.json: $.schema: "tls-reuse-bench/results@2" is not supported: this version reads "tls-reuse-bench/results@1" (use the tls-reuse-bench version that wrote it, or run the suite again)',
    );
  });

  it('recognises an analyze output passed by mistake', () => {
    expect(validationError({ schema: 'tls-reuse-bench/analyze@1', total: {} })).toMatch(/"tls-reuse-bench\/analyze@1" is the output of "analyze --json", not a run's results.json/);
  });

  it('rejects a file without a schema, and JSON that is not an object', () => {
    expect(validationError({ scenarios: [] })).toBe(
      'results file r.json: $.schema: missing: not a tls-reuse-bench results file (expected "tls-reuse-bench/results@1")',
    );
    expect(validationError([1, 2])).toBe('results file r.json: $: expected an object (a tls-reuse-bench/results@1 file), got an array');
  });
});

describe('validateResults: fields, by JSON path', () => {
  it.each([
    ['a missing nullable field', (j: any) => delete j.scenarios[1].perEndpointMinute.upWireBytes, '$.scenarios[1].perEndpointMinute.upWireBytes: missing (expected a number ≥ 0 or null)'],
    ['a mistyped field', (j: any) => (j.scenarios[1].perEndpointMinute.upWireBytes = '12'), '$.scenarios[1].perEndpointMinute.upWireBytes: expected a number ≥ 0 or null, got string "12"'],
    ['a negative count', (j: any) => (j.scenarios[0].traffic.down.tls.handshakeBytes = -1), '$.scenarios[0].traffic.down.tls.handshakeBytes: expected a number ≥ 0, got number -1'],
    ['an unknown mode', (j: any) => (j.scenarios[2].spec.mode = 'pooled'), '$.scenarios[2].spec.mode: expected one of "fresh", "persistent", "resumed", got string "pooled"'],
    ['an unknown state', (j: any) => (j.scenarios[0].state = 'done'), '$.scenarios[0].state: expected one of "completed", "invalid", "failed", got string "done"'],
    ['an invalid scenario without its reasons', (j: any) => (j.scenarios[0].state = 'invalid'), '$.scenarios[0].invalidReasons: missing (expected an array)'],
    ['a failed scenario without its error', (j: any) => (j.scenarios[0] = { id: j.scenarios[0].id, state: 'failed', spec: j.scenarios[0].spec, warnings: [] }), '$.scenarios[0].error: missing (expected a string)'],
    ['an unknown API in latency', (j: any) => (j.scenarios[1].latency.upload = j.scenarios[1].latency.log), '$.scenarios[1].latency.upload: unexpected key (expected one of enroll, config, log, distributed_read, distributed_write)'],
    ['a latency sample that is not a number', (j: any) => (j.scenarios[1].latency.log.totalSamplesMs[3] = null), '$.scenarios[1].latency.log.totalSamplesMs[3]: expected a number ≥ 0, got null'],
    ['a missing comparison field', (j: any) => delete j.comparisons[1].downSavedPct, '$.comparisons[1].downSavedPct: missing (expected a number)'],
    ['an environment that is not an object', (j: any) => (j.environment = 'linux'), '$.environment: expected an object, got string "linux"'],
    ['a warning count that is not a number', (j: any) => (j.scenarios[0].warnings = [{ kind: 'capture-gap', message: 'm', fix: 'f', count: 'many' }]), '$.scenarios[0].warnings[0].count: expected a number ≥ 0, got string "many"'],
    ['a warning kind this version does not know', (j: any) => (j.scenarios[0].warnings = [{ kind: 'k', message: 'm', fix: 'f' }]), `$.scenarios[0].warnings[0].kind: expected one of ${WARNING_KINDS.map((k) => JSON.stringify(k)).join(', ')}, got string "k"`],
  ])('%s', (_name, edit, message) => {
    expect(validationError(edited(edit))).toBe(`results file r.json: ${message}`);
  });

  it('keeps fields it does not know', () => {
    const extra = edited((j) => (j.scenarios[0].extra = { note: 'added later' }));
    expect((validateResults(extra, 'r') as any).scenarios[0].extra).toEqual({ note: 'added later' });
  });

  it('rejects duplicate ids, an id that disagrees with its spec, and comparisons of unknown scenarios', () => {
    expect(validationError(edited((j) => j.scenarios.push(structuredClone(j.scenarios[0]))))).toBe(
      'results file r.json: $.scenarios[3].id: "fresh/tls1.3/rsa2048/loopback/node" is also the id of $.scenarios[0]',
    );
    expect(validationError(edited((j) => (j.scenarios[1].spec.id = 'other')))).toBe(
      'results file r.json: $.scenarios[1].spec.id: "other" differs from the scenario\'s id "persistent/tls1.3/rsa2048/loopback/node"',
    );
    expect(validationError(edited((j) => (j.comparisons[0].baseline = 'gone')))).toBe('results file r.json: $.comparisons[0].baseline: no scenario has the id "gone"');
  });
});

describe('values no run can produce are refused on read (they crashed the renderers or drew "Infinity GB/s")', () => {
  const timeline = (j: Record<string, any>) => (j.scenarios[0].timeline = { bucketMs: 1000 / 120, buckets: [{ startMs: 0, upWireBytes: 1, downWireBytes: 1 }] });
  it.each([
    ['a time compression of 0', (j: Record<string, any>) => (j.scenarios[0].spec.timeCompression = 0), '$.scenarios[0].spec.timeCompression: expected a number from 0.01 to 10000, got number 0'],
    ['0 endpoints', (j: Record<string, any>) => (j.scenarios[0].spec.endpoints = 0), '$.scenarios[0].spec.endpoints: expected an integer from 1 to 10000, got number 0'],
    ['0 virtual minutes', (j: Record<string, any>) => (j.scenarios[0].spec.virtualMinutes = 0), '$.scenarios[0].spec.virtualMinutes: expected a number from 0.1 to 1440, got number 0'],
    [
      'a tiny bucket',
      (j: Record<string, any>) => {
        timeline(j);
        j.scenarios[0].timeline.bucketMs = 1e-9;
      },
      '$.scenarios[0].timeline.bucketMs: expected a number from 0.01 to 9007199254740991, got number 1e-9',
    ],
    [
      'a huge start',
      (j: Record<string, any>) => {
        timeline(j);
        j.scenarios[0].timeline.buckets[0].startMs = 1e15;
      },
      "$.scenarios[0].timeline.buckets[0].startMs: 1000000000000000 ms is more than 100000 buckets of 8.333333333333334 ms after the start: no run's timeline spans that",
    ],
    [
      '200,000 buckets',
      (j: Record<string, any>) => {
        timeline(j);
        j.scenarios[0].timeline.buckets = Array.from({ length: 200_000 }, () => ({ startMs: 0, upWireBytes: 1, downWireBytes: 1 }));
      },
      '$.scenarios[0].timeline.buckets: 200000 buckets, more than the 100000 a run can make',
    ],
  ])('%s', (_name, edit, message) => {
    expect(validationError(edited(edit))).toBe(`results file r.json: ${message}`);
  });
});

describe('deeply nested JSON', () => {
  // 200,000 nested `[` overflowed the stack of the error locator ("internal error"); closed, they parse, and
  // anything recursive later (the page's JSON.stringify of the results) would overflow instead.
  it.each([
    ['unclosed', '['.repeat(200_000)],
    ['closed', `${'['.repeat(200_000)}${']'.repeat(200_000)}`],
    ['inside a field the reader keeps', `{"schema": "tls-reuse-bench/results@1", "extra": ${'['.repeat(100)}${']'.repeat(100)}}`],
  ])('%s: exit 2, not valid JSON, with the place', async (name, text) => {
    const message = await loadError(await file(`deep-${name.replace(/\W+/g, '-')}.json`, text), '--baseline');
    expect(message).toMatch(/^--baseline \S+: not valid JSON at line 1, column \d+: nested deeper than 64 levels of arrays and objects$/);
  });

  it('64 levels still read', () => {
    expect(locateJsonError(`${'['.repeat(64)}${']'.repeat(64)}`, 64)).toBeNull();
    expect(locateJsonError(`${'['.repeat(65)}${']'.repeat(65)}`, 64)).toEqual({ offset: 64, problem: 'nested deeper than 64 levels of arrays and objects' });
  });
});

describe('locateJsonError', () => {
  it.each([
    ['{"a": }', 6, 'expected a value, found "}"'],
    ['{"a": 1 "b": 2}', 8, "expected ',' or '}' after a property value, found \"\\\"\""],
    ['[1, 2,]', 6, "trailing comma before ']'"],
    ['{"a": 1', 7, "expected ',' or '}' after a property value, found the end of the file"],
    ["{'a': 1}", 1, 'expected a property name in double quotes, found "\'"'],
    ['{"a": tru}', 9, 'expected true, found "}"'],
    ['{"a": "x\ny"}', 8, 'control character inside a string (escape it, e.g. \\n)'],
    ['{"a": 01}', 7, "expected ',' or '}' after a property value, found \"1\""],
    ['{} {}', 3, 'unexpected "{" after the end of the JSON value'],
    ['{"a": "\\x"}', 8, 'invalid escape \\x in a string'],
  ])('%j', (text, offset, problem) => {
    expect(() => JSON.parse(text)).toThrow();
    expect(locateJsonError(text)).toEqual({ offset, problem });
  });
});
