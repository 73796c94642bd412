/**
 * Where the checkout's own files are. The code runs either from its sources (through tsx) or from the
 * bundle that bin/tls-reuse-bench.js builds into node_modules/.cache, so no path is taken relative to the
 * running module: the root is the nearest folder above it whose package.json names this project.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const PROJECT_NAME = 'tls-reuse-bench';

function findRepoRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (manifest.name === PROJECT_NAME) return dir;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (path.dirname(dir) === dir) throw new Error(`no package.json named ${PROJECT_NAME} above ${from}`);
  }
}

/** The checkout's root folder: fixtures/, bench/, node_modules/. */
export const REPO_ROOT = findRepoRoot(import.meta.dirname);

/** A path inside the checkout, given relative to its root. */
export function repoPath(relative: string): string {
  return path.join(REPO_ROOT, relative);
}
