/** Shared by the live-run tests: where they may run, and how to run the real command line. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { Results } from '../../bench/model/index.ts';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(ROOT, 'bin/tls-reuse-bench.js');

/**
 * Why a live capture cannot run here, or null when it can. In CI the reason is an error instead: there the
 * tests must run (`.ci/run` runs as root with tcpdump installed by the set-up script).
 */
export function liveRunSkipReason(): string | null {
  let reason: string | null = null;
  if (process.getuid?.() !== 0) reason = 'capturing on lo needs root (or CAP_NET_RAW for tcpdump)';
  else if (!['/usr/bin/tcpdump', '/usr/sbin/tcpdump'].some((p) => existsSync(p))) reason = 'tcpdump is not installed';
  if (reason !== null && process.env.CI === 'true') throw new Error(`live run tests cannot be skipped in CI: ${reason}`);
  if (reason !== null) console.log(`skipped: ${reason}`);
  return reason;
}

/** Runs the real CLI; never rejects (the exit code is part of what tests assert). */
export function cli(args: string[], options: { timeout?: number } = {}) {
  return execa('node', [BIN, ...args], { cwd: ROOT, reject: false, timeout: options.timeout ?? 120_000, env: { CI: 'true' } });
}

/**
 * Starts the CLI in its own process group (so a test can signal the group, as a terminal's Ctrl-C does);
 * resolves once its output matches `until`, with the child and its output so far.
 */
export async function startDetached(args: string[], until: RegExp) {
  const child = execa('node', [BIN, ...args], { cwd: ROOT, reject: false, detached: true, env: { CI: 'true' }, timeout: 120_000 });
  let stdout = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (until.test(stdout)) resolve();
    });
    child.then((r) => reject(new Error(`run ended before its output matched ${until}: ${r.stdout}\n${r.stderr}`)), reject);
  });
  return { child, stdout: () => stdout };
}

export function readResults(dir: string): Results {
  return JSON.parse(readFileSync(path.join(dir, 'results.json'), 'utf8')) as Results;
}

/** Processes whose command line contains `needle` (read from /proc), with their pids. */
export function processesMatching(needle: string): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue; // the process exited while the list was read
    }
    if (cmdline.includes(needle)) found.push({ pid: Number(entry), cmdline });
  }
  return found;
}

/**
 * Whether the listener on `port` may belong to a run of this project: its owner's command line (from `ss -p`)
 * names tls-reuse-bench or nginx, or its owner cannot be told (counted, to be safe). Another program's server
 * that happened to start meanwhile (a test of another checkout on a shared machine) is not a leak.
 */
export function listenerMayBeOurs(port: number): boolean {
  let out: string;
  try {
    out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  } catch {
    return true;
  }
  const pids = [...out.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
  if (pids.length === 0) return true;
  return pids.some((pid) => {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      return cmdline.includes('tls-reuse-bench') || cmdline.includes('nginx');
    } catch {
      return false; // gone since: no longer listening
    }
  });
}

/** TCP ports listening on 127.0.0.1 (from /proc/net/tcp, state 0A). */
export function listeningPorts(): Set<number> {
  const ports = new Set<number>();
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields[3] === '0A' && fields[1] !== undefined) ports.add(Number.parseInt(fields[1].split(':')[1]!, 16));
  }
  return ports;
}
