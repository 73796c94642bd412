/** The command line's own behaviour, whatever the command: output that cannot be written, exit codes, help. */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { Results } from '../../bench/model/index.ts';
import { describe, expect, it } from 'vitest';
import { BIN, cli, ROOT } from '../run/support.ts';

const fixture = (name: string) => path.join(ROOT, 'fixtures/pcaps', name);

/**
 * Runs the real CLI with standard output on `/dev/full` itself (as `> /dev/full` does: a descriptor, not a pipe
 * that this process drains), where every write fails with ENOSPC.
 */
function toDevFull(args: string[]): { exitCode: number | null; stderr: string } {
  const fd = openSync('/dev/full', 'w');
  try {
    const result = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'], encoding: 'utf8', env: { CI: 'true' } });
    return { exitCode: result.status, stderr: result.stderr };
  } finally {
    closeSync(fd);
  }
}

describe('standard output that cannot be written', () => {
  for (const [name, args] of [
    ['analyze --json', ['analyze', fixture('any-sll-tls13.pcap'), '--json']],
    ['analyze (table)', ['analyze', fixture('any-sll-tls13.pcap')]],
    ['--help', ['--help']],
  ] as const) {
    it(`${name} > /dev/full says so in one line and exits 1`, () => {
      const result = toDevFull([...args]);
      expect(result.stderr.trimEnd()).toBe('error: cannot write standard output: no space left on device');
      expect(result.exitCode).toBe(1);
    });
  }
});

describe('help, version and misspellings', () => {
  it('--version names the version and the git commit of the checkout', async () => {
    const head = (await execa('git', ['rev-parse', 'HEAD'], { cwd: ROOT })).stdout.trim();
    const result = await cli(['--version']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`tls-reuse-bench 0.1.0 (git ${head.slice(0, 12)})`);
  });

  it('help run is run --help', async () => {
    const [help, flag] = await Promise.all([cli(['help', 'run']), cli(['run', '--help'])]);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toBe(flag.stdout);
    expect(help.stdout).toMatch(/^usage: tls-reuse-bench run/);
  });

  it('run --help states every default, and what each suite holds and roughly how long it takes', async () => {
    const { stdout } = await cli(['run', '--help']);
    const flagLines = stdout.split('\n').filter((l) => /^ {2}--/.test(l));
    expect(flagLines.length).toBeGreaterThan(15);
    for (const line of flagLines) {
      // A flag's text may continue on the next lines; its default is said somewhere in it.
      const text = stdout.slice(stdout.indexOf(line)).split(/\n {2}--/)[0]!;
      expect(text, line).toMatch(/\((default|no default)/);
    }
    expect(stdout).toMatch(/^ {2}quick {4}2 scenarios, about \d+ s$/m);
    expect(stdout).toMatch(/^ {2}default {2}18 scenarios, about \d+ (s|min)$/m);
    expect(stdout).toMatch(/^ {2}full {5}72 scenarios, about \d+ min$/m);
    expect(stdout).toMatch(/fresh\/persistent\/resumed x TLS 1\.2\+1\.3 x rsa2048\+ecdsa-p256 x node\+nginx on loopback\n\s+4 endpoints, 10 virtual minutes at 60x\n\s+and fresh\/persistent\/resumed x TLS 1\.2\+1\.3 x rsa2048\+ecdsa-p256 on lan, wan, 2 virtual minutes$/m);
  });

  it('says which command or flag was probably meant', async () => {
    const command = await cli(['rnu']);
    expect(command.exitCode).toBe(2);
    expect(command.stderr.trim()).toBe('error: unknown command "rnu" (did you mean run?) (see tls-reuse-bench --help)');
    const flag = await cli(['run', '--virtual-minute', '3']);
    expect(flag.exitCode).toBe(2);
    expect(flag.stderr.trim()).toBe('error: run: unknown flag --virtual-minute (did you mean --virtual-minutes?) (see tls-reuse-bench run --help)');
  });

  it('--endpoints -3 says what is wrong with -3, not "argument is ambiguous"', async () => {
    const result = await cli(['run', '--endpoints', '-3']);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toBe('error: --endpoints: expected a whole number from 1 to 10000, got "-3"');
  });
});

describe('a custom matrix', () => {
  it('is labelled with the flags that changed the suite, and results record them and the tool version', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'trb-custom-')), 'run');
    try {
      const result = await cli(['run', '--suite', 'quick', '--modes', 'persistent', '--virtual-minutes', '0.2', '--no-capture', '--out', out]);
      expect(result.exitCode).toBe(0);
      // The header wraps at 80 columns onto indented lines.
      expect(result.stdout.replace(/\n {2}/g, ' ').split('\n')[0]).toMatch(/^tls-reuse-bench: 1 scenarios \(suite quick with --modes persistent --virtual-minutes 0\.2 --no-capture\) → /);
      const results = JSON.parse(readFileSync(path.join(out, 'results.json'), 'utf8')) as Results;
      expect(results.options.overrides).toEqual(['--modes persistent', '--virtual-minutes 0.2', '--no-capture']);
      expect(results.tool?.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toContain('suite quick with --modes persistent --virtual-minutes 0.2 --no-capture');
    } finally {
      rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});
