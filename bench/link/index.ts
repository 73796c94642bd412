/**
 * The packet-level link emulator, for the runner: check support, sweep what dead runs left, open a link
 * with a profile, run the server inside its namespace, capture on the client's device, close.
 *
 * The path: client (root namespace) → TAP `<p><pid>c<i>` → link process (delay, rate, queue, loss) → TAP
 * `<p><pid>s<i>` inside namespace `<p><pid>n<i>` → server. Both devices carry Ethernet frames, MTU 1500,
 * addresses from 198.18.0.0/15 (RFC 2544). TCP's own handshake, ACKs and FINs cross the link: nothing
 * terminates TCP on the way.
 *
 * Cleanup: `close()` removes the namespace (killing what still runs in it), the devices (they vanish with
 * the link process's fds) and their routes. If the owning process exits without closing (Ctrl-C, SIGTERM,
 * an exception, SIGKILL), the link process notices (IPC disconnect, or the kernel's parent-death signal)
 * and removes everything itself; this module installs no signal handlers of its own. Only if both die by
 * SIGKILL is the namespace left, and `sweepStaleLinks` at the next start removes it.
 */
import { access, constants, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { LinkError } from './errors.ts';
import { deleteNamespace, isAlive, listDevices, listNamespaces, tapHolders } from './ip.ts';
import { DEFAULT_PREFIX, checkPrefix, linkName, parseLinkName } from './names.ts';
import type { LinkProfile } from './profile.ts';
import { LinkProcess } from './link-process.ts';
import type { LinkMessage, LinkProcessOptions, LinkStats } from './protocol.ts';

export type { DirectionStats, LinkStats } from './protocol.ts';
export { LinkError } from './errors.ts';
export { detectNetem, type NetemSupport } from './netem.ts';
export { LAN, LOOPBACK, WAN, defaultQueueBytes, parseNetworkList, type LinkProfile, type LoopbackProfile, type NetworkProfile } from './profile.ts';

/** An open link. */
export interface Link {
  readonly profile: LinkProfile;
  /** The client's address (root namespace), e.g. 198.18.0.1. */
  readonly clientIp: string;
  /** The server's address (inside `serverNamespace`), e.g. 198.18.0.2. Bind servers here or to 0.0.0.0. */
  readonly serverIp: string;
  readonly serverNamespace: string;
  /** The client-side device: capture here for what the client's kernel sent and received (Ethernet, like loopback captures). */
  readonly clientInterface: string;
  /** The server-side device, inside `serverNamespace`. */
  readonly serverInterface: string;
  /** The link process got realtime scheduling (without it, delays on a busy machine are looser). */
  readonly realtime: boolean;
  /** `argv` prefixed to run inside the server namespace: `['ip', 'netns', 'exec', NS, ...argv]`. */
  serverCommand(argv: string[]): string[];
  /** The counters so far. @throws LinkError when the link process is gone. */
  stats(): Promise<LinkStats>;
  /**
   * Stops the link process and removes the namespace (SIGKILLing anything still running inside it: stop
   * your server first), the devices and their routes. Resolves with the final counters. Idempotent.
   */
  close(): Promise<LinkStats>;
}

/** What `openLink` takes. */
export interface OpenLinkOptions {
  profile: LinkProfile;
  /** Names start with it: 1 to 4 lowercase letters; `trb` by default. */
  prefix?: string;
  /** Seeds loss and jitter, so runs repeat; 1 by default. */
  seed?: number;
  /** Aborting stops opening (nothing is left behind) or closes the open link. */
  signal?: AbortSignal;
}

/** The bundled link process sets up in well under a second; a loaded 2-core machine may need a few. */
const OPEN_TIMEOUT_MS = 20_000;
const STATS_TIMEOUT_MS = 10_000;
/** Removing a namespace and the devices takes a few `ip` calls. */
const CLOSE_TIMEOUT_MS = 15_000;
const DEFAULT_SEED = 1;

const SUPPORT_HINT = 'or use --network loopback, which needs no emulator';

/** Linux capability numbers (linux/capability.h). */
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

/**
 * Checks that links can be opened here: root (or CAP_NET_ADMIN and CAP_SYS_ADMIN, for devices and for
 * namespaces), /dev/net/tun, and iproute2's `ip`.
 *
 * @throws LinkError (exit code 2) with a one-line message saying what to do.
 */
export async function checkLinkSupport(): Promise<void> {
  const status = await readFile('/proc/self/status', 'utf8');
  const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  const has = (cap: number) => (capEff >> BigInt(cap)) & 1n;
  if (!has(CAP_NET_ADMIN) || !has(CAP_SYS_ADMIN)) {
    throw new LinkError(`network emulation needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN, for TAP devices and namespaces): run as root, ${SUPPORT_HINT}`, { exitCode: 2 });
  }
  try {
    await access('/dev/net/tun', constants.R_OK | constants.W_OK);
  } catch (error) {
    throw new LinkError(`network emulation needs /dev/net/tun (${(error as NodeJS.ErrnoException).code}): load the tun module (modprobe tun), ${SUPPORT_HINT}`, {
      exitCode: 2,
      cause: error,
    });
  }
  const version = await execa('ip', ['-V'], { reject: false, stdin: 'ignore' });
  if (version.failed) {
    throw new LinkError(`network emulation needs iproute2's ip command: install it (Debian/Ubuntu: apt-get install iproute2), ${SUPPORT_HINT}`, {
      exitCode: 2,
      cause: version,
    });
  }
}

/**
 * Removes the namespaces and devices named with `prefix` whose owner process is gone (an earlier run that
 * was killed), with the processes still inside those namespaces and the link processes still holding
 * those devices. Names of live owners and names without our prefix are left alone.
 *
 * @returns the names removed.
 */
export async function sweepStaleLinks(prefix: string = DEFAULT_PREFIX): Promise<string[]> {
  checkPrefix(prefix);
  const stale = (name: string) => {
    const parsed = parseLinkName(prefix, name);
    return parsed !== null && !isAlive(parsed.ownerPid);
  };
  const removed: string[] = [];
  for (const device of (await listDevices()).filter(stale)) {
    // A TAP device lives as long as an fd on it: stop the (orphaned) link process that holds it.
    for (const pid of await tapHolders(device)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw new LinkError(`could not stop process ${pid}, which holds ${device}`, { cause: error });
      }
    }
    await waitFor(async () => !(await listDevices()).includes(device), `device ${device} to vanish`);
    removed.push(device);
  }
  for (const ns of (await listNamespaces()).filter(stale)) {
    await deleteNamespace(ns);
    removed.push(ns);
  }
  return removed;
}

async function waitFor(done: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + CLOSE_TIMEOUT_MS; !(await done()); ) {
    if (Date.now() > deadline) throw new LinkError(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Links opened by this process so far: the index in their names. */
let opened = 0;

/**
 * Opens a link with `profile`: starts the link process, which creates the devices and the server
 * namespace, and resolves once frames are forwarded.
 *
 * @throws UsageError for a bad prefix.
 * @throws LinkError when the link process cannot start or set up (exit code 2 when permissions are
 *   missing), with its message; nothing it made is left behind.
 */
export async function openLink(options: OpenLinkOptions): Promise<Link> {
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  checkPrefix(prefix);
  options.signal?.throwIfAborted();
  const index = opened++;
  const processOptions: LinkProcessOptions = {
    profile: options.profile,
    seed: options.seed ?? DEFAULT_SEED,
    ownerPid: process.pid,
    clientInterface: linkName(prefix, process.pid, 'client-device', index),
    serverInterface: linkName(prefix, process.pid, 'server-device', index),
    serverNamespace: linkName(prefix, process.pid, 'namespace', index),
    // Blocks of 8 links per process, spread by pid: concurrent runs rarely start on the same block.
    addressHint: process.pid * 8 + index,
  };
  const child = await LinkProcess.start(processOptions);

  let closing: Promise<LinkStats> | undefined;
  let closeOnAbort: (() => void) | undefined;
  const close = (): Promise<LinkStats> => {
    // A closed link no longer listens on the caller's signal (one signal serves a run's many links).
    if (closeOnAbort !== undefined) options.signal?.removeEventListener('abort', closeOnAbort);
    closing ??= (async () => {
      try {
        return (await child.ask({ type: 'close' }, child.next('closed', CLOSE_TIMEOUT_MS, 'closing'))).stats;
      } catch (error) {
        // The link process is gone or could not finish its own teardown: stop it and remove what it left.
        child.kill('SIGKILL');
        await child.exited;
        await deleteNamespace(processOptions.serverNamespace);
        throw error;
      }
    })();
    return closing;
  };

  let ready: Extract<LinkMessage, { type: 'ready' }>;
  let onAbort: (() => void) | undefined;
  try {
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(options.signal!.reason);
      options.signal?.addEventListener('abort', onAbort, { once: true });
    });
    ready = await Promise.race([child.next('ready', OPEN_TIMEOUT_MS, 'setting up the link'), aborted]);
  } catch (error) {
    // On SIGTERM the link process removes what it made (before its handler is installed it has made nothing).
    child.kill('SIGTERM');
    const timer = new AbortController();
    const finished = await Promise.race([child.exited.then(() => true), sleep(CLOSE_TIMEOUT_MS, false, { signal: timer.signal })]);
    timer.abort();
    if (!finished) child.kill('SIGKILL');
    await child.exited;
    await deleteNamespace(processOptions.serverNamespace);
    throw error;
  } finally {
    if (onAbort !== undefined) options.signal?.removeEventListener('abort', onAbort);
  }
  // A failure here reaches the caller through its own close(), which returns this same promise.
  closeOnAbort = () => void close().catch(() => undefined);
  options.signal?.addEventListener('abort', closeOnAbort, { once: true });

  let nextId = 0;
  return {
    profile: options.profile,
    clientIp: ready.clientIp,
    serverIp: ready.serverIp,
    serverNamespace: processOptions.serverNamespace,
    clientInterface: processOptions.clientInterface,
    serverInterface: processOptions.serverInterface,
    realtime: ready.realtime,
    serverCommand: (argv) => ['ip', 'netns', 'exec', processOptions.serverNamespace, ...argv],
    async stats() {
      const id = ++nextId;
      return (await child.ask({ type: 'stats', id }, child.next('stats', STATS_TIMEOUT_MS, 'answering stats', (m) => m.id === id))).stats;
    },
    close,
  };
}
