/**
 * The link process (Mahimahi's mm-delay/mm-link design, Netravali et al., USENIX ATC 2015, with TAP
 * devices): opens the two devices, builds the server's namespace around one of them, runs the forwarding
 * thread (`forward-worker.ts`), answers its owner over IPC, and removes everything it made when told to
 * close or when its owner is gone, however the owner went (IPC disconnect, or SIGTERM from the kernel's
 * parent-death signal or from execa's cleanup).
 *
 * TAP (Ethernet frames, IFF_TAP | IFF_NO_PI) rather than Mahimahi's TUN (bare IP packets): a capture on
 * the client's device then has the same link type (EN10MB) and the same 14 bytes of header per frame as a
 * capture on loopback, so `wireBytes` on an emulated path and on loopback differ only by what the path
 * changes, and the pcap pipeline reads both alike. The price is layer-2 addressing, paid once at set-up
 * with static neighbour entries (`configure`), so no ARP crosses the link or delays the first SYN.
 *
 * Run from the bundle as `node <bundle>/link.js --options JSON` (`LinkProcessOptions`); started by `index.ts`.
 */
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { LinkError } from './errors.ts';
import { chooseAddresses, deleteNamespace, deviceDrops, ip, type LinkAddresses } from './ip.ts';
import { EFD_CLOEXEC, EFD_NONBLOCK, attachTap, errno, eventfd, terminateWithParent } from './libc.ts';
import type { ForwardWorkerData } from './forward-worker.ts';
import {
  CONTROL_STOP,
  REALTIME_SLOT,
  SHARED_STATS_SLOTS,
  readDirection,
  type LinkMessage,
  type LinkProcessOptions,
  type LinkStats,
  type OwnerMessage,
} from './protocol.ts';

/** A real path's MTU (Ethernet), not loopback's 64 KiB: segment sizes, and so frame counts, are those of the internet. */
const PATH_MTU_BYTES = 1500;
/** The forwarding thread's entry: this process runs from the bundle, and the thread's module sits beside it. */
const WORKER_ENTRY = new URL('./link-forward.js', import.meta.url);
/** errno for TUNSETIFF without CAP_NET_ADMIN. */
const EPERM = 1;

const options = JSON.parse(process.argv[process.argv.indexOf('--options') + 1] ?? '') as LinkProcessOptions;
const ns = options.serverNamespace;
const clientDev = options.clientInterface;
const serverDev = options.serverInterface;

/** What exists so far, so that a teardown at any point removes exactly that. */
const made: {
  clientFd: number | null;
  serverFd: number | null;
  namespace: boolean;
  wakeFd: number | null;
  /** The forwarding thread, and its end (taken at its start: it may end, by an error, before anyone waits). */
  worker: { thread: Worker; exited: Promise<unknown> } | null;
} = { clientFd: null, serverFd: null, namespace: false, wakeFd: null, worker: null };
const shared = new Float64Array(new SharedArrayBuffer(SHARED_STATS_SLOTS * Float64Array.BYTES_PER_ELEMENT));
const control = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
let ownerGone = false;

function send(message: LinkMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || process.send === undefined) return resolve();
    // A failed send means the owner is gone; the disconnect handler takes it from there.
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Opens /dev/net/tun as TAP device `name`. Node opens files close-on-exec, so `ip` never inherits the device. */
function openTap(name: string): number {
  const fd = openSync('/dev/net/tun', constants.O_RDWR | constants.O_NONBLOCK);
  if (attachTap(fd, name) !== 0) {
    const e = errno();
    closeSync(fd);
    throw new LinkError(
      e === EPERM ? `creating TAP device ${name} needs CAP_NET_ADMIN: run as root` : `could not create TAP device ${name}: errno ${e}`,
      { exitCode: e === EPERM ? 2 : 1 },
    );
  }
  return fd;
}

/** Throws when the owner went away during set-up, so set-up stops and the teardown runs. */
function checkOwner(): void {
  if (ownerGone || process.ppid !== options.ownerPid) {
    ownerGone = true;
    throw new LinkError('the process that opened the link is gone');
  }
}

/**
 * One side's device: MTU, MAC, address, up, and a permanent neighbour entry for the far side. The frames
 * cross unchanged, so each side must address the other side's real MAC; a permanent entry means no ARP
 * ever crosses the link (the first SYN is not delayed by a resolution round trip). `addrgenmode none`
 * gives the device no IPv6 link-local address, and so no router solicitation or DAD traffic on the path.
 */
async function configure(side: { dev: string; ns: string | null; ip: string; mac: string; peerIp: string; peerMac: string }): Promise<void> {
  const n = side.ns === null ? [] : ['-n', side.ns];
  const where = `${side.dev}${side.ns === null ? '' : ` in ${side.ns}`}`;
  await ip([...n, 'link', 'set', 'dev', side.dev, 'address', side.mac, 'mtu', String(PATH_MTU_BYTES), 'addrgenmode', 'none'], `configure ${where}`);
  await ip([...n, 'addr', 'add', `${side.ip}/30`, 'dev', side.dev], `address ${where}`);
  await ip([...n, 'link', 'set', 'dev', side.dev, 'up'], `bring ${where} up`);
  await ip([...n, 'neigh', 'replace', side.peerIp, 'lladdr', side.peerMac, 'dev', side.dev, 'nud', 'permanent'], `add the neighbour of ${where}`);
}

async function setUp(): Promise<LinkAddresses> {
  made.clientFd = openTap(clientDev);
  made.serverFd = openTap(serverDev);
  const addresses = await chooseAddresses(options.addressHint);
  checkOwner();
  await ip(['netns', 'add', ns], `create namespace ${ns}`);
  made.namespace = true;
  await ip(['-n', ns, 'link', 'set', 'dev', 'lo', 'up'], `bring lo up in ${ns}`);
  checkOwner();
  const { clientIp, serverIp, clientMac, serverMac } = addresses;
  await configure({ dev: clientDev, ns: null, ip: clientIp, mac: clientMac, peerIp: serverIp, peerMac: serverMac });
  // The fd opened in the root namespace keeps working after the device moves.
  await ip(['link', 'set', 'dev', serverDev, 'netns', ns], `move ${serverDev} into ${ns}`);
  await configure({ dev: serverDev, ns, ip: serverIp, mac: serverMac, peerIp: clientIp, peerMac: clientMac });
  checkOwner();

  made.wakeFd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (made.wakeFd < 0) throw new LinkError(`eventfd failed: errno ${errno()}`);
  const workerData: ForwardWorkerData = {
    clientFd: made.clientFd,
    serverFd: made.serverFd,
    wakeFd: made.wakeFd,
    profile: options.profile,
    seed: options.seed,
    stats: shared.buffer as SharedArrayBuffer,
    control: control.buffer as SharedArrayBuffer,
  };
  const worker = new Worker(WORKER_ENTRY, { workerData });
  made.worker = { thread: worker, exited: new Promise((resolve) => worker.once('exit', resolve)) };
  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new LinkError(`the forwarding thread exited at start (code ${code})`)));
  });
  worker.on('error', (error) => void fail(error));
  return addresses;
}

/** Counters now; the devices' own drop counters come from the kernel. */
async function collectStats(): Promise<LinkStats> {
  const [client, server] = await Promise.all([deviceDrops(clientDev, null), deviceDrops(serverDev, ns)]);
  return {
    // Up leaves through the client device's transmit queue and enters through the server device; down the reverse.
    up: readDirection(shared, 'up', client.txDropped + server.rxDropped),
    down: readDirection(shared, 'down', server.txDropped + client.rxDropped),
    realtime: shared[REALTIME_SLOT] === 1,
  };
}

let stopping: Promise<LinkStats | null> | null = null;

/**
 * Stops forwarding, reads the final counters (before the devices vanish with their fds) and removes
 * everything made. Null stats when set-up never got as far as forwarding. Idempotent.
 */
function stop(setup: Promise<unknown>): Promise<LinkStats | null> {
  stopping ??= (async () => {
    // A set-up failure is reported by fail(); here only its end matters, so that nothing it makes is missed.
    await setup.catch(() => undefined);
    try {
      if (made.worker === null) return null;
      Atomics.store(control, 0, CONTROL_STOP);
      const one = Buffer.alloc(8);
      one.writeBigUInt64LE(1n);
      writeSync(made.wakeFd!, one);
      await made.worker.exited;
      return await collectStats();
    } finally {
      for (const fd of [made.clientFd, made.serverFd, made.wakeFd]) if (fd !== null) closeSync(fd);
      made.clientFd = made.serverFd = made.wakeFd = null;
      if (made.namespace) await deleteNamespace(ns);
    }
  })();
  return stopping;
}

/** Set-up in progress or done; a stop waits for it so that it removes whatever set-up made. */
let setup: Promise<unknown> = Promise.resolve();

async function fail(error: unknown): Promise<void> {
  const exitCode = error instanceof LinkError ? (error.exitCode as 1 | 2) : 1;
  const message = error instanceof Error ? error.message : String(error);
  await send({ type: 'failed', message, exitCode });
  try {
    await stop(setup);
  } finally {
    process.exit(exitCode);
  }
}

async function ownerLeft(): Promise<void> {
  ownerGone = true;
  await stop(setup);
  process.exit(0);
}

function main(): void {
  // The kernel sends SIGTERM when the owner dies, even by SIGKILL; re-check in case it died before this call.
  terminateWithParent();
  if (process.ppid !== options.ownerPid) {
    process.exit(0);
  }
  process.on('SIGTERM', () => void ownerLeft());
  process.on('disconnect', () => void ownerLeft());
  // The owner may have closed the channel while this process was still loading, before the listener above.
  if (!process.connected) {
    void ownerLeft();
    return;
  }
  // Ctrl-C signals the whole process group: the owner decides (it closes the link, or it dies and the
  // handlers above remove everything), so SIGINT alone must not leave the namespace behind.
  process.on('SIGINT', () => undefined);
  process.on('message', (message: OwnerMessage) => {
    if (message.type === 'stats') {
      collectStats().then((stats) => send({ type: 'stats', id: message.id, stats }), fail);
    } else if (message.type === 'close') {
      stop(setup).then(async (stats) => {
        if (stats !== null) await send({ type: 'closed', stats });
        process.exit(0);
      }, fail);
    }
  });
  const addresses = setUp();
  setup = addresses;
  addresses.then(
    ({ clientIp, serverIp }) => send({ type: 'ready', clientIp, serverIp, realtime: shared[REALTIME_SLOT] === 1 }),
    (error: unknown) => (ownerGone ? ownerLeft() : fail(error)),
  );
}

main();
