/** The command line's own behaviour, whatever the command: output that cannot be written, exit codes, help. */
import { spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, ROOT } from '../run/support.ts';

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
