import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../bench/errors.ts';
import { loadWorkload, parseWorkload } from '../../bench/workload/index.ts';

const DEFAULT_WORKLOAD = 'fixtures/workloads/osquery-default.json';
let dir: string;
let base: Record<string, any>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'workload-test-'));
  base = JSON.parse(await readFile(DEFAULT_WORKLOAD, 'utf8'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes the default workload with one change applied and returns the error loading it throws. */
async function errorFor(name: string, change: (doc: Record<string, any>) => void): Promise<InputError> {
  const doc = structuredClone(base);
  change(doc);
  const file = join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(doc));
  const error = await loadWorkload(file).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(InputError);
  expect((error as InputError).message.startsWith(`workload file ${file}: `)).toBe(true);
  expect((error as InputError).exitCode).toBe(2);
  return error as InputError;
}

describe('loadWorkload', () => {
  it('reads the default workload', async () => {
    const w = await loadWorkload(DEFAULT_WORKLOAD);
    expect(w.source).toBe(DEFAULT_WORKLOAD);
    expect(w.agentVersion).toBe('5.12.1');
    expect(w.logger.intervalSeconds).toBe(5);
    expect(w.loggerCompress).toBe(false);
    expect(w.acceptGzip).toBe(false);
  });

  it('defaults the optional flags to false', () => {
    const doc = structuredClone(base);
    delete doc['loggerCompress'];
    delete doc['acceptGzip'];
    const w = parseWorkload(JSON.stringify(doc), 'inline.json');
    expect([w.loggerCompress, w.acceptGzip]).toEqual([false, false]);
  });

  it('names the file and the JSON path of the first bad value', async () => {
    const cases: [string, (d: Record<string, any>) => void, string][] = [
      ['interval-string', (d) => { d.logger.intervalSeconds = 'fast'; }, '$.logger.intervalSeconds: expected a positive number, got string "fast"'],
      ['interval-zero', (d) => { d.config.intervalSeconds = 0; }, '$.config.intervalSeconds: expected a positive number, got number 0'],
      ['missing', (d) => { delete d.distributed.intervalSeconds; }, '$.distributed.intervalSeconds: missing (expected a positive number)'],
      ['fraction', (d) => { d.distributed.queryFraction = 1.5; }, '$.distributed.queryFraction: expected a number from 0 to 1, got number 1.5'],
      ['range', (d) => { d.logger.resultLines = { min: 4, max: 2 }; }, '$.logger.resultLines.max: expected at least min (4), got 2'],
      ['range-int', (d) => { d.distributed.resultRows.min = 0.5; }, '$.distributed.resultRows.min: expected an integer from 1 to 10000, got number 0.5'],
      ['status-multiple', (d) => { d.logger.statusIntervalSeconds = 62; }, '$.logger.statusIntervalSeconds: expected a multiple of $.logger.intervalSeconds (5), got 62'],
      ['first-config', (d) => { d.config.firstAfterEnrollSeconds = 60; }, '$.config.firstAfterEnrollSeconds: expected less than $.config.intervalSeconds (60), got 60'],
      ['version', (d) => { d.agentVersion = '5.12'; }, '$.agentVersion: expected a version like "5.12.1", got "5.12"'],
      ['schema', (d) => { d.schema = 'other'; }, '$.schema: expected "tls-reuse-bench/workload@1", got string "other"'],
      ['unknown', (d) => { d.logger.intervalSecs = 5; }, '$.logger.intervalSecs: unknown field'],
      ['section', (d) => { d.enroll = [1]; }, '$.enroll: expected an object, got an array'],
      ['flag', (d) => { d.loggerCompress = 'yes'; }, '$.loggerCompress: expected true or false, got string "yes"'],
      ['secret', (d) => { d.enroll.secret = ''; }, '$.enroll.secret: expected a non-empty string, got string ""'],
    ];
    for (const [name, change, expected] of cases) {
      const error = await errorFor(name, change);
      expect(error.message).toContain(`${name}.json: ${expected}`);
    }
  });

  it('reports malformed JSON with the file and the root path', async () => {
    const file = join(dir, 'broken.json');
    await writeFile(file, '{"schema": ');
    await expect(loadWorkload(file)).rejects.toThrow(`workload file ${file}: not valid JSON at line 1, column 12: expected a value, found the end of the file`);
  });

  it('reports a missing file', async () => {
    const file = join(dir, 'absent.json');
    await expect(loadWorkload(file)).rejects.toThrow(`workload file ${file}: no such file`);
  });
});
