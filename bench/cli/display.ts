/** How the command line shows a path: relative to the working directory when it is below it, absolute otherwise. */
import path from 'node:path';

export function displayPath(p: string): string {
  const relative = path.relative(process.cwd(), p);
  return relative === '' ? '.' : relative.startsWith('..') ? p : relative;
}
