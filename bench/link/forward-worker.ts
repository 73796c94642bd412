/**
 * The forwarding thread of the link process: one synchronous loop that reads frames from both TAP devices,
 * asks each direction's Shaper when to release them, sleeps in ppoll(2) until the next release or the next
 * frame, and writes each frame unchanged to the other device.
 *
 * It runs in a worker thread so that its timing never waits on the event loop (IPC, signals, `ip` commands
 * stay on the link process's main thread), and it sleeps in ppoll with a nanosecond timeout, not in a Node
 * timer (about 1 ms granularity: twice the `lan` profile's 0.5 ms one-way delay). Counters go to shared
 * memory, which the main thread reads at any time; the main thread stops the loop through a control word
 * and an eventfd that wakes it.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { randomStream } from '../workload/prng.ts';
import {
  EAGAIN,
  EINTR,
  POLLERR,
  POLLFD_BYTES,
  POLLFD_OFFSET_EVENTS,
  POLLFD_OFFSET_REVENTS,
  POLLHUP,
  POLLIN,
  POLLNVAL,
  TIMESPEC_BYTES,
  errno,
  ppoll,
  read,
  setRealtimePriority,
  setTimerSlackNs,
  write,
} from './libc.ts';
import type { LinkProfile } from './profile.ts';
import { CONTROL_STOP, REALTIME_SLOT, slot } from './protocol.ts';
import { Shaper } from './shaper.ts';

/** What the main thread hands over. */
export interface ForwardWorkerData {
  clientFd: number;
  serverFd: number;
  /** An eventfd the main thread writes to wake the loop. */
  wakeFd: number;
  profile: LinkProfile;
  seed: number;
  /** Float64 counters, laid out as protocol.ts `slot` says. */
  stats: SharedArrayBuffer;
  /** Int32 control word: CONTROL_STOP ends the loop. */
  control: SharedArrayBuffer;
}

/**
 * ppoll wakes a little after its timeout even with 1 ns of timer slack: about 40 µs at the median on this
 * 2-core VM (measured with SCHED_FIFO; 1.6 ms at the 99th percentile without it). The loop asks to wake this
 * much early and spins with non-blocking polls for the rest, so frames leave within a few µs of their time
 * at a cost of at most this much CPU per release.
 */
const WAKE_EARLY_MS = 0.05;
/** Frames read from one device before looking at the other and at due releases: keeps a flood on one side from starving the other. */
const READ_BATCH_FRAMES = 64;
/** Larger than any frame: a TAP without offloads hands over at most MTU + 14 bytes, but the MTU is the user's to change. */
const READ_BUFFER_BYTES = 65_536 + 14;
/** A middling SCHED_FIFO priority: above every ordinary task, below the kernel's own threads (50 for IRQ threads). */
const REALTIME_PRIORITY = 10;
/** 1 ns: the smallest slack the kernel takes (0 means "reset to the default"). */
const TIMER_SLACK_NS = 1;

type Direction = 'up' | 'down';

/** One direction: where it reads, where it writes, its shaper and the frames waiting for release. */
interface Lane {
  name: Direction;
  inFd: number;
  outFd: number;
  shaper: Shaper;
  /** Frames and their release times, oldest first; release times never decrease (Shaper). */
  frames: Buffer[];
  releaseMs: number[];
  head: number;
}

const data = workerData as ForwardWorkerData;
const stats = new Float64Array(data.stats);
const control = new Int32Array(data.control);

function add(lane: Lane, field: Parameters<typeof slot>[1], amount: number): void {
  stats[slot(lane.name, field)]! += amount;
}

function lane(name: Direction, inFd: number, outFd: number, bitsPerSecond: number): Lane {
  const p = data.profile;
  const loss = randomStream(data.seed, 'link', name, 'loss');
  const jitter = randomStream(data.seed, 'link', name, 'jitter');
  const shaper = new Shaper(
    { bitsPerSecond, oneWayDelayMs: p.rttMs / 2, jitterMs: p.jitterMs, lossPct: p.lossPct, queueBytes: p.queueBytes },
    { loss: () => loss.next(), jitter: () => jitter.next() },
  );
  return { name, inFd, outFd, shaper, frames: [], releaseMs: [], head: 0 };
}

const up = lane('up', data.clientFd, data.serverFd, data.profile.upBitsPerSecond);
const down = lane('down', data.serverFd, data.clientFd, data.profile.downBitsPerSecond);

/** Stands in for a written frame in its lane's list, so that the frame's memory can go before the list is compacted. */
const EMPTY = Buffer.alloc(0);

/** Writes every frame of `l` due by `nowMs`. */
function release(l: Lane, nowMs: number): void {
  while (l.head < l.frames.length && l.releaseMs[l.head]! <= nowMs) {
    const frame = l.frames[l.head]!;
    const latenessMs = nowMs - l.releaseMs[l.head]!;
    l.frames[l.head] = EMPTY;
    l.head += 1;
    add(l, 'inFlightFrames', -1);
    const written = write(l.outFd, frame, frame.length);
    if (written !== frame.length) {
      add(l, 'writeErrors', 1);
      continue;
    }
    add(l, 'forwardedFrames', 1);
    add(l, 'forwardedBytes', frame.length);
    add(l, 'latenessSumMs', latenessMs);
    const max = slot(l.name, 'maxLatenessMs');
    if (latenessMs > stats[max]!) stats[max] = latenessMs;
  }
  if (l.head > 4096 && l.head * 2 > l.frames.length) {
    l.frames.splice(0, l.head);
    l.releaseMs.splice(0, l.head);
    l.head = 0;
  }
}
const scratch = Buffer.alloc(READ_BUFFER_BYTES);

/** Reads up to READ_BATCH_FRAMES frames from `l`'s input and queues or drops each. */
function receive(l: Lane): void {
  for (let i = 0; i < READ_BATCH_FRAMES; i++) {
    const n = read(l.inFd, scratch, scratch.length);
    if (n < 0) {
      const e = errno();
      if (e === EAGAIN || e === EINTR) return;
      throw new Error(`read from the ${l.name === 'up' ? 'client' : 'server'} device failed: errno ${e}`);
    }
    const verdict = l.shaper.offer(performance.now(), n);
    if (verdict.kind === 'lost') {
      add(l, 'lossDrops', 1);
    } else if (verdict.kind === 'queue-full') {
      add(l, 'queueDrops', 1);
    } else {
      l.frames.push(Buffer.from(scratch.subarray(0, n)));
      l.releaseMs.push(verdict.releaseMs);
      add(l, 'inFlightFrames', 1);
      const max = slot(l.name, 'maxQueueBytes');
      stats[max] = l.shaper.maxQueueBytes;
    }
  }
}

function nextReleaseMs(): number {
  const a = up.head < up.frames.length ? up.releaseMs[up.head]! : Infinity;
  const b = down.head < down.frames.length ? down.releaseMs[down.head]! : Infinity;
  return Math.min(a, b);
}

const pollfds = Buffer.alloc(3 * POLLFD_BYTES);
[data.clientFd, data.serverFd, data.wakeFd].forEach((fd, i) => {
  pollfds.writeInt32LE(fd, i * POLLFD_BYTES);
  pollfds.writeInt16LE(POLLIN, i * POLLFD_BYTES + POLLFD_OFFSET_EVENTS);
});
const timespec = Buffer.alloc(TIMESPEC_BYTES);
const ZERO_TIMEOUT = Buffer.alloc(TIMESPEC_BYTES);
const wakeCounter = Buffer.alloc(8);

function revents(i: number): number {
  return pollfds.readInt16LE(i * POLLFD_BYTES + POLLFD_OFFSET_REVENTS);
}

/** Waits in ppoll for a readable fd or `waitMs` (Infinity: no timeout). */
function wait(waitMs: number): void {
  let timeout: Buffer | null = null;
  if (waitMs <= 0) {
    timeout = ZERO_TIMEOUT;
  } else if (Number.isFinite(waitMs)) {
    const ns = Math.ceil(waitMs * 1e6);
    timespec.writeBigInt64LE(BigInt(Math.floor(ns / 1e9)), 0);
    timespec.writeBigInt64LE(BigInt(ns % 1e9), 8);
    timeout = timespec;
  }
  const ready = ppoll(pollfds, 3, timeout, null);
  if (ready < 0 && errno() !== EINTR) throw new Error(`ppoll failed: errno ${errno()}`);
  for (let i = 0; i < 2; i++) {
    if ((revents(i) & (POLLERR | POLLHUP | POLLNVAL)) !== 0) {
      throw new Error(`the ${i === 0 ? 'client' : 'server'} device reported ${revents(i) & POLLNVAL ? 'an invalid fd' : 'an error or hang-up'}`);
    }
  }
}

function run(): void {
  // Both are best effort: without them the link still works, with looser timing; `realtime` reports the one that matters.
  setTimerSlackNs(TIMER_SLACK_NS);
  stats[REALTIME_SLOT] = setRealtimePriority(REALTIME_PRIORITY) === 0 ? 1 : 0;
  parentPort?.postMessage('running');
  for (;;) {
    release(up, performance.now());
    release(down, performance.now());
    if (Atomics.load(control, 0) === CONTROL_STOP) return;
    const waitMs = nextReleaseMs() - performance.now();
    // Close to a release: poll without sleeping so that frames still get read, then release on time.
    wait(waitMs <= WAKE_EARLY_MS ? 0 : waitMs - WAKE_EARLY_MS);
    if ((revents(0) & POLLIN) !== 0) receive(up);
    if ((revents(1) & POLLIN) !== 0) receive(down);
    if ((revents(2) & POLLIN) !== 0) read(data.wakeFd, wakeCounter, 8);
  }
}

run();
