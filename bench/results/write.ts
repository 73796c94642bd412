/** Writing a run's `results.json`. */
import { rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Results } from '../model/index.ts';

/** Writes `<dir>/results.json` atomically (a temporary file renamed over it): a reader never sees half a file. */
export async function writeResults(dir: string, results: Results): Promise<void> {
  const file = path.join(dir, 'results.json');
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(results, null, 2)}\n`);
  await rename(tmp, file);
}
