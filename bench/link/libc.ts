/**
 * The few libc calls the link needs and Node does not offer, bound through koffi (an FFI package with
 * prebuilt binaries: no native addon of our own to build). Linux x86-64 and arm64 layouts.
 *
 * Buffers passed as `void *` are used in place (no copy), so `read` fills the caller's Buffer.
 */
import koffi from 'koffi';

const libc = koffi.load('libc.so.6');

const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');
const prctl = libc.func('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)');
const schedSetscheduler = libc.func('int sched_setscheduler(int pid, int policy, void *param)');

/** `read(2)`: bytes read, or -1 with `errno()` set. */
export const read: (fd: number, buffer: Buffer, bytes: number) => number = libc.func('long read(int fd, void *buf, unsigned long count)');
/** `write(2)`: bytes written, or -1 with `errno()` set. */
export const write: (fd: number, buffer: Buffer, bytes: number) => number = libc.func('long write(int fd, void *buf, unsigned long count)');
/** `ppoll(2)` on a `struct pollfd[]` buffer; a null timeout waits forever. */
export const ppoll: (fds: Buffer, count: number, timeout: Buffer | null, sigmask: null) => number = libc.func(
  'int ppoll(void *fds, unsigned long nfds, void *timeout, void *sigmask)',
);
/** `eventfd(2)`. */
export const eventfd: (initval: number, flags: number) => number = libc.func('int eventfd(unsigned int initval, int flags)');
/** `getppid(2)`. */
export const getppid: () => number = libc.func('int getppid(void)');

/** errno of the last failed call on this thread. */
export function errno(): number {
  return koffi.errno();
}

/** errno values the link handles. */
export const EAGAIN = 11;
export const EINTR = 4;

/** `struct pollfd { int fd; short events; short revents; }`. */
export const POLLFD_BYTES = 8;
export const POLLFD_OFFSET_EVENTS = 4;
export const POLLFD_OFFSET_REVENTS = 6;
export const POLLIN = 0x001;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;

/** `struct timespec { time_t tv_sec; long tv_nsec; }` on 64-bit Linux. */
export const TIMESPEC_BYTES = 16;

export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;

/** `TUNSETIFF` = _IOW('T', 202, int) (linux/if_tun.h). */
const TUNSETIFF = 0x400454ca;
/** linux/if_tun.h: a TAP (Ethernet) device, frames without the 4-byte packet-information prefix. */
const IFF_TAP = 0x0002;
const IFF_NO_PI = 0x1000;
/** `struct ifreq`: 16-byte name, then a 24-byte union whose first member here is `short ifr_flags`. */
const IFREQ_BYTES = 40;
const IFREQ_NAME_BYTES = 16;
const IFREQ_OFFSET_FLAGS = 16;

/**
 * Makes the freshly opened `/dev/net/tun` file `fd` a TAP device named `name` (no packet-information
 * prefix). The device is not persistent: it disappears when the last fd on it closes, so a link process
 * that dies, however it dies, takes its devices with it. Returns 0, or -1 with `errno()` set.
 */
export function attachTap(fd: number, name: string): number {
  const ifreq = Buffer.alloc(IFREQ_BYTES);
  if (Buffer.byteLength(name) >= IFREQ_NAME_BYTES) throw new RangeError(`interface name "${name}" is longer than 15 bytes`);
  ifreq.write(name, 0, 'latin1');
  ifreq.writeUInt16LE(IFF_TAP | IFF_NO_PI, IFREQ_OFFSET_FLAGS);
  return ioctl(fd, TUNSETIFF, 'void *', ifreq) as number;
}

/** linux/prctl.h. */
const PR_SET_PDEATHSIG = 1;
const PR_SET_TIMERSLACK = 29;
const SIGTERM = 15;

/**
 * Asks the kernel to send this process SIGTERM when its parent exits, however the parent exits (SIGKILL
 * included). Returns 0, or -1 with `errno()` set.
 */
export function terminateWithParent(): number {
  return prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) as number;
}

/**
 * Sets the calling thread's timer slack: the kernel may fire a timer up to this late to batch wake-ups
 * (50 µs by default), which is a tenth of the `lan` profile's 0.5 ms one-way delay. Realtime threads have
 * no slack; this matters when SCHED_FIFO is refused.
 */
export function setTimerSlackNs(ns: number): number {
  return prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0) as number;
}

const SCHED_FIFO = 1;

/**
 * Gives the calling thread SCHED_FIFO at `priority` (1..99), so that its timed wake-ups preempt ordinary
 * tasks on a busy machine. The kernel's RT throttling (sched_rt_runtime_us, 95 % by default) still leaves
 * the CPU to others if the thread ever ran away. Returns 0, or -1 with `errno()` set.
 */
export function setRealtimePriority(priority: number): number {
  const param = Buffer.alloc(4);
  param.writeInt32LE(priority, 0);
  return schedSetscheduler(0, SCHED_FIFO, param) as number;
}
