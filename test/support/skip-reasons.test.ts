/**
 * `npm test` names the reason for each skip: every skip in the test files goes through test/support/skip.ts
 * (or `context.skip(reason)`), and the summary at the end lists each skipped test with its reason, without
 * colour escapes when the output is not a terminal.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../run/support.ts';

describe('skips', () => {
  it('no test file skips without a reason (skipIf, runIf, .skip, .todo have none)', () => {
    const files = readdirSync(path.join(ROOT, 'test'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.ts'))
      .map((e) => path.join(e.parentPath, e.name));
    const offenders = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) => (/\b(it|test|describe)\.(skipIf|runIf|skip|todo)\(/.test(line) ? [`${path.relative(ROOT, file)}:${i + 1}`] : [])),
    );
    expect(offenders).toEqual([]);
  });

  it('the summary names each skipped test and why, with no escape sequence in a pipe', async () => {
    const result = await execa('bash', [path.join(ROOT, 'scripts/vitest.sh'), '--config', 'test/support/fixtures/vitest.config.ts'], {
      cwd: ROOT,
      reject: false,
      env: { CI: '', TERM: 'xterm' },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).not.toMatch(/\x1b\[/);
    expect(result.stdout).toContain('2 skipped, and why:');
    expect(result.stdout).toContain('skipping.fixture.ts > talks to nginx: nginx is not installed');
    expect(result.stdout).toContain('skipping.fixture.ts > live capture > (every test of this group): capturing on lo needs root');
  });
});
