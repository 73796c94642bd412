/**
 * One direction of the emulated path, as pure arithmetic on times: random loss at the entrance, a FIFO
 * queue with a byte limit (tail drop), a serialiser at the direction's rate, then the propagation delay
 * with jitter. The forwarding loop (`forward-worker.ts`) asks it, per frame, whether to drop it or when to
 * write it out; this file never touches a device, so tests can check its numbers by hand.
 */

/** What a direction is made of. */
export interface ShaperConfig {
  bitsPerSecond: number;
  /** rttMs / 2. */
  oneWayDelayMs: number;
  /** Half-width of the uniform jitter around the one-way delay; at most oneWayDelayMs. */
  jitterMs: number;
  lossPct: number;
  queueBytes: number;
}

/** Uniform numbers in [0, 1), one stream for loss and one for jitter so that each is reproducible alone. */
export interface ShaperRandom {
  loss(): number;
  jitter(): number;
}

/** The fate of one frame. */
export type Verdict =
  | { kind: 'lost' }
  | { kind: 'queue-full'; queuedBytes: number }
  | { kind: 'forward'; releaseMs: number };

/**
 * The time model of one direction. Frames must be offered in arrival order with non-decreasing times.
 *
 * A frame that arrives at `t` is lost with probability lossPct (netem's place for loss: it takes no queue
 * space or link time), else tail-dropped if the bytes still queued (waiting or being serialised) plus its
 * own exceed queueBytes, else serialised from max(t, end of the previous frame) for bytes × 8 / rate and
 * released oneWayDelayMs ± jitterMs after that. Release times never decrease: a frame whose jitter would
 * let it overtake the previous one is held until that one has left, because real single paths rarely
 * reorder, and reordering makes TCP count duplicate ACKs as loss (RFC 5681 §3.2), which would measure the
 * emulator rather than the path. The cost: with jitter wider than the gap between frames the mean delay
 * grows a little above oneWayDelayMs.
 */
export class Shaper {
  /** Serialisation end time and size of each accepted frame not yet fully serialised, oldest first. */
  private readonly inQueue: { endMs: number; bytes: number }[] = [];
  private queueHead = 0;
  private queuedBytes = 0;
  private serialiserFreeMs = -Infinity;
  private lastReleaseMs = -Infinity;
  private readonly msPerByte: number;
  /** Largest queue occupancy seen, in bytes, the arriving frame included. */
  maxQueueBytes = 0;

  constructor(
    private readonly config: ShaperConfig,
    private readonly random: ShaperRandom,
  ) {
    this.msPerByte = (8 * 1000) / config.bitsPerSecond;
  }

  /** Decides the fate of a frame of `bytes` (Ethernet header included) arriving at `nowMs`. */
  offer(nowMs: number, bytes: number): Verdict {
    if (this.config.lossPct > 0 && this.random.loss() * 100 < this.config.lossPct) return { kind: 'lost' };
    this.drain(nowMs);
    if (this.queuedBytes + bytes > this.config.queueBytes) return { kind: 'queue-full', queuedBytes: this.queuedBytes };
    const startMs = Math.max(nowMs, this.serialiserFreeMs);
    const endMs = startMs + bytes * this.msPerByte;
    this.serialiserFreeMs = endMs;
    this.inQueue.push({ endMs, bytes });
    this.queuedBytes += bytes;
    this.maxQueueBytes = Math.max(this.maxQueueBytes, this.queuedBytes);
    const jitterMs = this.config.jitterMs > 0 ? (this.random.jitter() * 2 - 1) * this.config.jitterMs : 0;
    const releaseMs = Math.max(endMs + this.config.oneWayDelayMs + jitterMs, this.lastReleaseMs);
    this.lastReleaseMs = releaseMs;
    return { kind: 'forward', releaseMs };
  }

  /** Forgets the frames whose serialisation has ended by `nowMs`. */
  private drain(nowMs: number): void {
    while (this.queueHead < this.inQueue.length && this.inQueue[this.queueHead]!.endMs <= nowMs) {
      this.queuedBytes -= this.inQueue[this.queueHead]!.bytes;
      this.queueHead += 1;
    }
    // Compact now and then instead of shift() per frame (O(n) each).
    if (this.queueHead > 1024 && this.queueHead * 2 > this.inQueue.length) {
      this.inQueue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }
}
