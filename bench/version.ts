/**
 * This tool's version: package.json's, and the git commit of the checkout it runs from (read from the `.git`
 * files, no git process: HEAD, then the branch's ref loose or packed; a worktree's `.git` file points at its
 * own HEAD and the shared refs). Printed by `--version` and recorded in every run's results.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './paths.ts';

/** What `--version` prints and results record. */
export interface ToolVersion {
  version: string;
  /** The checkout's commit (40 hex digits), or null outside a git checkout. */
  commit: string | null;
}

function read(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

/** The commit HEAD names in the checkout at `root`, or null when it is not a git checkout (or the files are unusual). */
export function gitCommit(root: string): string | null {
  const dotGit = path.join(root, '.git');
  const pointer = read(dotGit);
  // A worktree or submodule: `.git` is a file saying where its git directory is.
  const gitDir = pointer?.startsWith('gitdir: ') === true ? path.resolve(root, pointer.slice(8).trim()) : dotGit;
  const commonRel = read(path.join(gitDir, 'commondir'))?.trim();
  const commonDir = commonRel === undefined ? gitDir : path.resolve(gitDir, commonRel);
  const head = read(path.join(gitDir, 'HEAD'))?.trim();
  if (head === undefined) return null;
  if (/^[0-9a-f]{40}$/.test(head)) return head;
  const ref = /^ref: (\S+)$/.exec(head)?.[1];
  if (ref === undefined) return null;
  for (const dir of [gitDir, commonDir]) {
    const loose = read(path.join(dir, ref))?.trim();
    if (loose !== undefined && /^[0-9a-f]{40}$/.test(loose)) return loose;
  }
  const packed = read(path.join(commonDir, 'packed-refs')) ?? '';
  for (const line of packed.split('\n')) {
    const [hash, name] = line.split(' ');
    if (name === ref && hash !== undefined && /^[0-9a-f]{40}$/.test(hash)) return hash;
  }
  return null;
}

let cached: ToolVersion | undefined;

/** This checkout's version and commit. */
export function toolVersion(): ToolVersion {
  cached ??= {
    version: (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version,
    commit: gitCommit(REPO_ROOT),
  };
  return cached;
}

/** `tls-reuse-bench 0.1.0 (git 1f28ea5)`. */
export function versionLine(v: ToolVersion = toolVersion()): string {
  return `tls-reuse-bench ${v.version}${v.commit === null ? '' : ` (git ${v.commit.slice(0, 12)})`}`;
}
