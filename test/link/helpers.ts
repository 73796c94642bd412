/** What the link tests share: root detection, captures on both sides of a link, quantiles, leftovers. */
import { readdir, readFile } from 'node:fs/promises';
import { execa, type ResultPromise } from 'execa';
import { readCapture } from '../../bench/pcap/reader.ts';
import { frameBytes } from '../../bench/pcap/packet.ts';

/** Links need network namespaces and TAP devices: root (which CI and the developers' machines are). */
export const ROOT_REASON = 'needs root for network namespaces and TAP devices';
/** Why the link tests are skipped here, or null as root. */
export const LINK_SKIP: string | null = process.getuid?.() === 0 ? null : ROOT_REASON;

/** The value at quantile `q` (0..1) of `values`, nearest rank. */
export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * A tcpdump writing `file`, started with `command` (identity for the root namespace, a link's serverCommand
 * inside it). Resolves once it listens, with a function that stops it and returns its kernel drop count.
 */
export async function startTcpdump(device: string, file: string, command: (argv: string[]) => string[] = (a) => a): Promise<() => Promise<number>> {
  const [bin, ...args] = command(['tcpdump', '-i', device, '--immediate-mode', '-U', '-s', '0', '-n', '-B', '32768', '--time-stamp-precision=nano', '-w', file, '-Z', 'root', 'ip']);
  const child: ResultPromise = execa(bin!, args, { stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', buffer: false, reject: false });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('listening on')) resolve();
    });
    void child.then(() => reject(new Error(`tcpdump on ${device} exited: ${stderr}`)));
  });
  return async () => {
    child.kill('SIGINT');
    await child;
    const dropped = /^(\d+) packets? dropped by kernel/m.exec(stderr);
    if (dropped === null) throw new Error(`tcpdump on ${device} printed no drop count: ${stderr}`);
    return Number(dropped[1]);
  };
}

/** One captured frame: nanoseconds since the epoch (as a number of ms is too coarse to subtract), bytes. */
export interface Frame {
  tsNs: bigint;
  bytes: Buffer;
}

/** Every frame of a capture, in file order. */
export async function readFrames(file: string): Promise<Frame[]> {
  const frames: Frame[] = [];
  await readCapture(file, (p) => {
    frames.push({ tsNs: BigInt(p.tsSec) * 1_000_000_000n + BigInt(p.tsNsec), bytes: Buffer.from(frameBytes(p)) });
  });
  return frames;
}

/** The IPv4 source address of an Ethernet frame (offset 14 + 12). */
export function ipv4Source(frame: Buffer): string {
  return [...frame.subarray(26, 30)].join('.');
}

/** What a link with names made of `prefix` and `ownerPid` may have left: namespaces, root-namespace devices, routes to 198.18/15. */
export async function leftovers(prefix: string, ownerPid: number): Promise<string[]> {
  const mark = `${prefix}${ownerPid}`;
  const namespaces = (await execa('ip', ['netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0]!);
  const devices = (await execa('ip', ['-o', 'link', 'show'])).stdout.split('\n').map((l) => l.split(': ')[1]?.split('@')[0] ?? '');
  const routes = (await execa('ip', ['route', 'show'])).stdout.split('\n').filter((l) => l.includes(mark));
  return [...namespaces.filter((n) => n.startsWith(mark)), ...devices.filter((d) => d.startsWith(mark)), ...routes];
}

/** A /proc file's text, or '' when its process exited while being listed. */
async function readProc(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') return '';
    throw error;
  }
}

/** Ids of the live processes whose command line contains `text` (this test's own children and their descendants only). */
export async function processesWith(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readProc(`/proc/${entry}/cmdline`);
    const state = await readProc(`/proc/${entry}/stat`);
    // A zombie (state Z) has exited: its parent has only not reaped it yet.
    if (cmdline.includes(text) && !/^\d+ \(.*\) Z/.test(state)) pids.push(Number(entry));
  }
  return pids;
}

/** Ids of the live processes in process group `pgid`. */
export async function processGroup(pgid: number): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readProc(`/proc/${entry}/stat`);
    // Fields after the command's closing parenthesis: state, ppid, pgrp.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[2] === String(pgid) && fields[0] !== 'Z') pids.push(Number(entry));
  }
  return pids;
}

/** Polls `check` every 100 ms until it returns an empty list or `ms` pass; returns its last answer. */
export async function settle<T>(check: () => Promise<T[]>, ms: number): Promise<T[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const left = await check();
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
