/**
 * Without tcpdump: `run` says how to install it (or grant the capability) and exits 2 before measuring;
 * `--no-capture` measures from socket counters and says so in every report.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, readResults } from './support.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'trb-nocap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH holding node alone: no tcpdump, no nginx, and no ss (the server's sockets are read from /proc). */
function pathWithoutTcpdump(): string {
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  for (const tool of ['node']) {
    const target = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/sbin', '/sbin'].map((d) => path.join(d, tool)).find((p) => existsSync(p));
    if (target === undefined) throw new Error(`${tool} not found`);
    symlinkSync(target, path.join(bin, tool));
  }
  return bin;
}

describe('run without tcpdump', () => {
  const PATH = pathWithoutTcpdump();
  const run = (args: string[]) =>
    execa(path.join(PATH, 'node'), [BIN, 'run', ...args], { cwd: ROOT, reject: false, env: { PATH, CI: 'true' }, extendEnv: false });

  it('exits 2 with how to install it', async () => {
    const result = await run(['--suite', 'quick', '--out', path.join(dir, 'a')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toMatch(/^error: tcpdump was not found: install it \(Debian\/Ubuntu: apt-get install tcpdump\), or run with --no-capture/);
  });

  it('--server nginx without nginx exits 2 naming the flag', async () => {
    const result = await run(['--suite', 'quick', '--server', 'nginx', '--out', path.join(dir, 'c')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toMatch(/^error: --server nginx: nginx is not installed: run `apt-get install nginx-light`/);
  });

  it('--no-capture measures from socket counters, with a warning in results and reports', async () => {
    const out = path.join(dir, 'b');
    const result = await run(['--suite', 'quick', '--virtual-minutes', '1', '--out', out, '--no-capture']);
    expect(result.exitCode, result.stderr).toBe(0);
    const results = readResults(out);
    expect(results.options.capture).toBe(false);
    for (const s of results.scenarios) {
      expect(s.state).toBe('completed');
      if (s.state === 'failed') continue;
      expect(s.traffic).toBeNull();
      expect(s.perEndpointMinute.upWireBytes).toBeNull();
      expect(s.perEndpointMinute.upTcpPayloadBytes).toBeGreaterThan(0);
      expect(s.capture.reconciled).toBeNull();
      expect(s.warnings.map((w) => w.kind)).toContain('no-capture');
    }
    expect(readFileSync(path.join(out, 'summary.md'), 'utf8')).toMatch(/TCP payload bytes .*no capture/);
    expect(readFileSync(path.join(out, 'report.html'), 'utf8')).toContain('run without a packet capture');
  });
});
