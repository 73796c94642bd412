/**
 * What crosses between the runner's process, the link process (`link-main.ts`) and its forwarding thread
 * (`forward-worker.ts`): the link process's options, its IPC messages, and the counters the thread keeps in
 * shared memory.
 */
import type { LinkProfile } from './profile.ts';

/** Counters of one direction. Frames and bytes are Ethernet frames, 14-byte header included. */
export interface DirectionStats {
  /** Frames written to the far side. */
  forwardedFrames: number;
  forwardedBytes: number;
  /** Frames dropped by the random loss of the profile. */
  lossDrops: number;
  /** Frames dropped because the queue was full (tail drop). */
  queueDrops: number;
  /**
   * Frames the kernel dropped on the devices of this direction: the sending side's transmit queue
   * overflowed (the link process read too slowly) or the receiving side refused a written frame.
   */
  deviceDrops: number;
  /** Frames the receiving device refused at write(2) (a full count; the frames are lost). */
  writeErrors: number;
  /** Accepted frames not yet written: in the queue or in flight (at close, discarded). */
  inFlightFrames: number;
  /** The largest queue occupancy seen, in bytes, the frame being serialised included. */
  maxQueueBytes: number;
  /** How late frames were written after their release time: mean and maximum. */
  meanLatenessMs: number;
  maxLatenessMs: number;
}

/** The link's counters, per direction (`up` = client → server). */
export interface LinkStats {
  up: DirectionStats;
  down: DirectionStats;
  /** The forwarding thread got SCHED_FIFO (its timers fire on time on a busy machine). */
  realtime: boolean;
}

/** The options of the link process, as JSON on its command line. */
export interface LinkProcessOptions {
  profile: LinkProfile;
  seed: number;
  /** The process that opened the link; the link tears itself down when it is gone. */
  ownerPid: number;
  clientInterface: string;
  serverInterface: string;
  serverNamespace: string;
  /** First index of the /30 block to try in 198.18.0.0/15. */
  addressHint: number;
}

/** Messages from the link process. */
export type LinkMessage =
  | { type: 'ready'; clientIp: string; serverIp: string; realtime: boolean }
  | { type: 'stats'; id: number; stats: LinkStats }
  | { type: 'closed'; stats: LinkStats }
  | { type: 'failed'; message: string; exitCode: 1 | 2 };

/** Messages to the link process. */
export type OwnerMessage = { type: 'stats'; id: number } | { type: 'close' };

/** Layout of the shared counters: per direction, one Float64 slot per field below. */
export const DIRECTION_FIELDS = [
  'forwardedFrames',
  'forwardedBytes',
  'lossDrops',
  'queueDrops',
  'writeErrors',
  'inFlightFrames',
  'maxQueueBytes',
  'latenessSumMs',
  'maxLatenessMs',
] as const;

/** Slot of a field in the shared Float64Array; `up` first, then `down`, then `realtime`. */
export function slot(direction: 'up' | 'down', field: (typeof DIRECTION_FIELDS)[number]): number {
  return (direction === 'up' ? 0 : DIRECTION_FIELDS.length) + DIRECTION_FIELDS.indexOf(field);
}
export const REALTIME_SLOT = 2 * DIRECTION_FIELDS.length;
export const SHARED_STATS_SLOTS = REALTIME_SLOT + 1;

/** The control word the owner thread sets to stop the forwarding thread. */
export const CONTROL_STOP = 1;

/** Reads one direction's counters out of the shared slots; deviceDrops come from the kernel separately. */
export function readDirection(shared: Float64Array, direction: 'up' | 'down', deviceDrops: number): DirectionStats {
  const get = (field: (typeof DIRECTION_FIELDS)[number]) => shared[slot(direction, field)]!;
  const written = get('forwardedFrames');
  return {
    forwardedFrames: written,
    forwardedBytes: get('forwardedBytes'),
    lossDrops: get('lossDrops'),
    queueDrops: get('queueDrops'),
    deviceDrops,
    writeErrors: get('writeErrors'),
    inFlightFrames: get('inFlightFrames'),
    maxQueueBytes: get('maxQueueBytes'),
    meanLatenessMs: written === 0 ? 0 : get('latenessSumMs') / written,
    maxLatenessMs: get('maxLatenessMs'),
  };
}
