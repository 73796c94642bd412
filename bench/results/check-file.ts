/** `check.json` beside a run's results: the regression gate's verdict, read by every report renderer. */
import path from 'node:path';
import { InputError } from '../errors.ts';
import { readJsonFile, validateJson } from '../input/json.ts';
import { object, oneOf, string } from '../input/shape.ts';
import { CHECK_SCHEMA, type CheckSummary } from '../model/index.ts';
import { writeFileAtomic } from '../output.ts';

const CHECK_FILE = 'check.json';

const checkSummary = object<CheckSummary>({
  schema: oneOf([CHECK_SCHEMA]),
  verdict: oneOf(['pass', 'regression']),
  runId: string,
  baselineRunId: string,
  verdictLine: string,
  markdown: string,
});

/** The check file of a results folder, or null when `check` has not judged it. */
export async function readCheckSummary(dir: string): Promise<CheckSummary | null> {
  const file = path.join(dir, CHECK_FILE);
  let value: unknown;
  try {
    value = await readJsonFile(file, 'check file');
  } catch (error) {
    if (error instanceof InputError && (error.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return null;
    throw error;
  }
  return validateJson(value, `check file ${file}`, (v) => checkSummary(v, '$'));
}

/** Writes `<dir>/check.json` atomically; returns its path. */
export async function writeCheckSummary(dir: string, summary: CheckSummary): Promise<string> {
  const file = path.join(dir, CHECK_FILE);
  await writeFileAtomic(file, `${JSON.stringify(summary, null, 2)}\n`);
  return file;
}
