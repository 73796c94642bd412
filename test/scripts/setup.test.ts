/**
 * scripts/setup.sh decides whether node_modules must be installed again. After a plain `npm ci` (no stamp of
 * its own), the first `npm run bench` reinstalled everything; npm's own record of the install is trusted now
 * when it matches the lock file.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../run/support.ts';

const root = mkdtempSync(path.join(tmpdir(), 'trb-setup-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A checkout with the real script and lock file, node_modules as `npm ci` leaves it, and an `npm` that only logs. */
function checkout(name: string, edit: (installed: { packages: Record<string, { version?: string }> }) => void = () => undefined) {
  const dir = path.join(root, name);
  mkdirSync(path.join(dir, 'scripts'), { recursive: true });
  mkdirSync(path.join(dir, 'node_modules'));
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(path.join(ROOT, 'scripts/setup.sh'), path.join(dir, 'scripts/setup.sh'));
  copyFileSync(path.join(ROOT, 'package-lock.json'), path.join(dir, 'package-lock.json'));
  const installed = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/.package-lock.json'), 'utf8'));
  edit(installed);
  writeFileSync(path.join(dir, 'node_modules/.package-lock.json'), JSON.stringify(installed));
  const npm = path.join(dir, 'bin/npm');
  writeFileSync(npm, `#!/bin/sh\necho "$@" >> "${dir}/npm.log"\n`);
  chmodSync(npm, 0o755);
  const run = () => execFileSync('bash', [path.join(dir, 'scripts/setup.sh')], { env: { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` }, stdio: 'pipe' });
  return { dir, run, npmCalls: () => (existsSync(path.join(dir, 'npm.log')) ? readFileSync(path.join(dir, 'npm.log'), 'utf8') : '') };
}

describe('scripts/setup.sh', () => {
  it('trusts node_modules from a plain npm ci that matches the lock file: no reinstall, the stamp written', () => {
    const c = checkout('plain-ci');
    c.run();
    expect(c.npmCalls()).toBe('');
    expect(existsSync(path.join(c.dir, 'node_modules/.tls-reuse-bench-lock.sha256'))).toBe(true);
  });

  it('reinstalls when what npm installed differs from the lock file', () => {
    const c = checkout('stale', (installed) => {
      installed.packages['node_modules/execa']!.version = '0.0.1';
    });
    c.run();
    expect(c.npmCalls()).toMatch(/^ci /);
  });
});
