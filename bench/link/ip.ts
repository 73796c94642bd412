/**
 * iproute2 (`ip`) for what the link creates and removes: namespaces, device settings, addresses, static
 * neighbours, device counters. Always through execa with an argument array.
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { LinkError } from './errors.ts';

/** Runs `ip ARGS`; its stdout, or a LinkError saying what failed with ip's own message. */
export async function ip(args: string[], what: string): Promise<string> {
  const result = await execa('ip', args, { reject: false, stdin: 'ignore' });
  if (result.failed) {
    const detail = result.stderr.trim() || result.shortMessage;
    throw new LinkError(`could not ${what}: ip ${args.join(' ')}: ${detail}`, { cause: result });
  }
  return result.stdout;
}

/** Names of the named network namespaces (`ip netns list`). */
export async function listNamespaces(): Promise<string[]> {
  const out = await ip(['-j', 'netns', 'list'], 'list network namespaces');
  // An empty list prints nothing at all rather than [].
  if (out.trim() === '') return [];
  return (JSON.parse(out) as { name: string }[]).map((n) => n.name);
}

/** Names of the network devices in the root namespace. */
export async function listDevices(): Promise<string[]> {
  const out = await ip(['-j', 'link', 'show'], 'list network devices');
  return (JSON.parse(out) as { ifname: string }[]).map((d) => d.ifname);
}

/** Process ids running inside namespace `ns` (`ip netns pids`). */
async function namespacePids(ns: string): Promise<number[]> {
  const out = await ip(['netns', 'pids', ns], `list the processes in namespace ${ns}`);
  return out.split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

/** How long the processes of a namespace get to vanish after SIGKILL. */
const KILL_WAIT_MS = 5_000;

/**
 * Removes namespace `ns`: first SIGKILLs the processes still inside it (programs started there through
 * `serverCommand`, by this run or by a dead one), because `ip netns del` only removes the name and a process
 * inside would keep the namespace alive unseen. Missing namespaces are fine.
 */
export async function deleteNamespace(ns: string): Promise<void> {
  if (!(await listNamespaces()).includes(ns)) return;
  const pids = await namespacePids(ns);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw new LinkError(`could not stop process ${pid} in namespace ${ns}`, { cause: error });
    }
  }
  for (const deadline = Date.now() + KILL_WAIT_MS; pids.some(isAlive); ) {
    if (Date.now() > deadline) throw new LinkError(`processes ${pids.filter(isAlive).join(', ')} in namespace ${ns} survived SIGKILL`);
    await sleep(20);
  }
  await ip(['netns', 'delete', ns], `remove namespace ${ns}`);
}

/** True while process `pid` exists (a zombie included). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Ids of the processes holding an fd on TUN/TAP device `name`: the kernel lists a tun fd's device as
 * `iff:\t<name>` in /proc/PID/fdinfo/FD. Processes that vanish while being looked at are skipped.
 */
export async function tapHolders(name: string): Promise<number[]> {
  const holders: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = await readdir(`/proc/${entry}/fdinfo`);
    } catch (error) {
      if (vanished(error)) continue;
      throw error;
    }
    for (const fd of fds) {
      let info: string;
      try {
        info = await readFile(`/proc/${entry}/fdinfo/${fd}`, 'utf8');
      } catch (error) {
        if (vanished(error)) continue;
        throw error;
      }
      if (info.includes(`iff:\t${name}\n`)) {
        holders.push(Number(entry));
        break;
      }
    }
  }
  return holders;
}

/** The process or fd went away between listing and reading: ENOENT, or ESRCH for a process being reaped. */
function vanished(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** 198.18.0.0/15 (RFC 2544's benchmarking range) as a 32-bit number, and its size in /30 blocks. */
const RANGE_BASE = 198 * 2 ** 24 + 18 * 2 ** 16;
const RANGE_BLOCKS = (1 << 17) / 4;

function dotted(address: number): string {
  return [24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join('.');
}

function numeric(address: string): number {
  return address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** The two addresses of a point-to-point /30 in 198.18.0.0/15, and locally administered MACs made from them. */
export interface LinkAddresses {
  clientIp: string;
  serverIp: string;
  clientMac: string;
  serverMac: string;
  prefixLength: 30;
}

/** 02:00 (locally administered, unicast) followed by the IPv4 address: unique per link, and readable in a capture. */
function macOf(address: number): string {
  return ['02', '00', ...[24, 16, 8, 0].map((shift) => ((address >>> shift) & 0xff).toString(16).padStart(2, '0'))].join(':');
}

/**
 * A /30 block of 198.18.0.0/15 that no address of the root namespace uses, searching from block
 * `hint` (callers pass something per process, so concurrent runs start apart).
 */
export async function chooseAddresses(hint: number): Promise<LinkAddresses> {
  const out = await ip(['-j', '-4', 'addr', 'show'], 'list IPv4 addresses');
  const used = new Set<number>();
  for (const device of JSON.parse(out) as { addr_info?: { local: string }[] }[]) {
    for (const a of device.addr_info ?? []) used.add(Math.floor((numeric(a.local) - RANGE_BASE) / 4));
  }
  for (let i = 0; i < RANGE_BLOCKS; i++) {
    const block = (hint + i) % RANGE_BLOCKS;
    if (used.has(block)) continue;
    const base = RANGE_BASE + block * 4;
    return { clientIp: dotted(base + 1), serverIp: dotted(base + 2), clientMac: macOf(base + 1), serverMac: macOf(base + 2), prefixLength: 30 };
  }
  throw new LinkError('no free /30 left in 198.18.0.0/15 for a link');
}

/** The kernel's drop counters of a device: frames it failed to queue for transmit, and received frames it dropped. */
export async function deviceDrops(device: string, ns: string | null): Promise<{ txDropped: number; rxDropped: number }> {
  const args = [...(ns === null ? [] : ['-n', ns]), '-s', '-j', 'link', 'show', 'dev', device];
  const out = await ip(args, `read the counters of ${device}`);
  const [info] = JSON.parse(out) as { stats64?: { rx: { dropped: number }; tx: { dropped: number } } }[];
  if (info?.stats64 === undefined) throw new LinkError(`ip printed no counters for ${device}`);
  return { txDropped: info.stats64.tx.dropped, rxDropped: info.stats64.rx.dropped };
}
