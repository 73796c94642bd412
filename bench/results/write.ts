/** Writing a run's `results.json`. */
import path from 'node:path';
import { writeFileAtomic } from '../output.ts';
import type { Results } from '../model/index.ts';

/**
 * Writes `<dir>/results.json` atomically (a temporary file renamed over it): a reader never sees half a file, and
 * a failed write (a full disk) keeps the previous version and leaves no `results.json.tmp`.
 * @throws OutputError naming the file and the reason.
 */
export async function writeResults(dir: string, results: Results): Promise<void> {
  await writeFileAtomic(path.join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
}
