/**
 * TCP reassembly of one direction, by sequence space: delivers the byte stream in order exactly once, counts
 * payload bytes whose sequence numbers were already seen (retransmissions and overlaps), and reports gaps
 * where the capture never saw part of the stream.
 */
import type { Direction } from '../model/index.ts';

/**
 * Receives the in-order stream of a connection's directions: one sink serves both of a connection's
 * reassemblers, told apart by `dir` (one object per connection instead of one per direction).
 */
export interface StreamSink {
  /** Stream bytes `bytes[start, end)`, in order, each byte exactly once. */
  data(dir: Direction, bytes: Buffer, start: number, end: number): void;
  /** `n` stream bytes that were on the wire but not captured (the packet was cut by the snap length). */
  skip(dir: Direction, n: number): void;
  /** The capture lost an unknown part of the stream here (a segment was never captured). */
  gap(dir: Direction): void;
  /** The stream began before the capture (its SYN was not captured): the first byte may be mid-message. */
  midstream(dir: Direction): void;
}

/** A segment that arrived ahead of the stream, waiting for the bytes before it. */
interface PendingSegment {
  start: number;
  end: number;
  /** Captured bytes from `start` (may be shorter than end - start when the packet was cut). */
  data: Buffer;
}

/**
 * The pending list of every reassembler that never held a segment (nearly all of them: loopback and most
 * networks deliver in order). Never changed: `hold` gives a reassembler its own list first.
 */
const NOTHING_PENDING: PendingSegment[] = [];

/**
 * Out-of-order data is held until the missing bytes arrive. Past these bounds, the missing bytes are taken as
 * lost by the capture and the stream moves on (a receiver's window is rarely above a few MB; a capture that
 * misses a segment would otherwise hold every later byte forever).
 */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
const MAX_PENDING_SEGMENTS = 4096;

/**
 * Maps a 32-bit sequence number to the unwrapped value nearest `base`, an unwrapped position (wrap-around
 * safe): the offset is (seq - base) mod 2^32 taken in [-2^31, 2^31), which 32-bit integer arithmetic gives
 * directly (`>>> 0` reduces base mod 2^32, `| 0` wraps the difference into the signed range).
 */
function unwrapSeq(seq: number, base: number): number {
  return base + ((seq - (base >>> 0)) | 0);
}

/** Every byte of [seq, seq + length) comes before `nextSeq`, a stream's next unwrapped position (NaN: none). */
export function seenBefore(seq: number, length: number, nextSeq: number): boolean {
  return !Number.isNaN(nextSeq) && unwrapSeq(seq, nextSeq) + length <= nextSeq;
}

/** Reassembles one direction of one TCP connection. */
export class DirectionReassembler {
  /** Unwrapped sequence number of the next stream byte to deliver; NaN until the stream's start is known. */
  private next = Number.NaN;
  /** Sorted by start, non-overlapping with each other's first-seen bytes. */
  private pending = NOTHING_PENDING;
  private pendingBytes = 0;
  /** Payload bytes whose sequence numbers had already been seen. */
  retransmittedBytes = 0;
  /** Gaps reported to the sink because the capture missed part of the stream. */
  gaps = 0;
  /** The stream's SYN was not captured: it starts at the first data seen, maybe mid-record. */
  startedMidstream = false;

  constructor(
    private readonly sink: StreamSink,
    readonly dir: Direction,
  ) {}

  /** A SYN (or SYN-ACK) with initial sequence number `isn`: the stream starts at isn + 1. */
  syn(isn: number): void {
    if (Number.isNaN(this.next)) this.next = isn + 1;
  }

  /**
   * A segment with `payloadLength` bytes of payload starting at sequence number `seq` (uint32), of which the
   * first ones were captured: they are `frame[capturedStart, capturedEnd)` (a buffer the caller may reuse
   * once this returns: bytes held for later are copied). Returns the number of payload bytes already seen.
   */
  segment(seq: number, payloadLength: number, frame: Buffer, capturedStart: number, capturedEnd: number): number {
    if (payloadLength === 0) return 0;
    if (Number.isNaN(this.next)) {
      this.next = seq;
      this.startedMidstream = true;
      this.sink.midstream(this.dir);
    }
    const start = this.unwrap(seq);
    const end = start + payloadLength;
    let seen = 0;
    if (start < this.next) seen += Math.min(end, this.next) - start;
    if (end > this.next && this.pending.length > 0) seen += this.overlapWithPending(Math.max(start, this.next), end);
    this.retransmittedBytes += seen;

    if (end <= this.next) return seen;
    if (start <= this.next) {
      this.deliver(start, end, frame, capturedStart, capturedEnd);
      this.drain();
    } else {
      this.hold(start, end, frame.subarray(capturedStart, capturedEnd));
    }
    return seen;
  }

  /** No data waits behind a hole. */
  get complete(): boolean {
    return this.pending.length === 0;
  }

  /** Every byte of [seq, seq + length) was already delivered (a retransmission of old data). */
  seen(seq: number, length: number): boolean {
    return seenBefore(seq, length, this.next);
  }

  /** End of the capture or the connection: data still waiting behind a hole is delivered after a gap. */
  finish(): void {
    while (this.pending.length > 0) {
      this.gaps++;
      this.sink.gap(this.dir);
      const first = this.pending[0]!;
      this.next = first.start;
      this.drain();
    }
  }

  /**
   * The unwrapped sequence number of the next stream byte (NaN before the stream's start is known). Once
   * `finish` has run nothing more is delivered, so this is all a finished direction needs to keep to tell a
   * late retransmission from new data (`seenBefore`).
   */
  get nextSeq(): number {
    return this.next;
  }

  private unwrap(seq: number): number {
    return unwrapSeq(seq, this.next);
  }

  /** Delivers the part of [start, end) at or after `next`; `frame[from, to)` holds the captured bytes from `start`. */
  private deliver(start: number, end: number, frame: Buffer, from: number, to: number): void {
    const capturedEnd = start + (to - from);
    if (capturedEnd > this.next) {
      this.sink.data(this.dir, frame, from + (this.next - start), to);
      this.sink.skip(this.dir, end - capturedEnd);
    } else {
      this.sink.skip(this.dir, end - this.next);
    }
    this.next = end;
  }

  /** Delivers pending segments that the stream has now reached. */
  private drain(): void {
    while (this.pending.length > 0) {
      const first = this.pending[0]!;
      if (first.start > this.next) return;
      this.pending.shift();
      this.pendingBytes -= first.data.length;
      if (first.end > this.next) this.deliver(first.start, first.end, first.data, 0, first.data.length);
    }
  }

  /** Bytes of [start, end) already covered by pending segments. */
  private overlapWithPending(start: number, end: number): number {
    let overlap = 0;
    for (const p of this.pending) {
      if (p.start >= end) break;
      const lo = Math.max(start, p.start);
      const hi = Math.min(end, p.end);
      if (hi > lo) overlap += hi - lo;
    }
    return overlap;
  }

  /**
   * Holds an out-of-order segment. Only its bytes not already pending are kept, so pending segments never
   * overlap and each stream byte is delivered once.
   */
  private hold(start: number, end: number, captured: Buffer): void {
    if (this.pending === NOTHING_PENDING) this.pending = [];
    let cursor = start;
    let index = 0;
    const pieces: PendingSegment[] = [];
    while (cursor < end) {
      while (index < this.pending.length && this.pending[index]!.end <= cursor) index++;
      const next = this.pending[index];
      if (next !== undefined && next.start <= cursor) {
        cursor = next.end;
        continue;
      }
      const pieceEnd = Math.min(end, next?.start ?? end);
      const dataFrom = Math.min(cursor - start, captured.length);
      const dataTo = Math.min(pieceEnd - start, captured.length);
      // Copied: the packet buffer is only valid during the reader's callback.
      pieces.push({ start: cursor, end: pieceEnd, data: Buffer.from(captured.subarray(dataFrom, dataTo)) });
      cursor = pieceEnd;
    }
    for (const piece of pieces) {
      let at = this.pending.findIndex((p) => p.start > piece.start);
      if (at === -1) at = this.pending.length;
      this.pending.splice(at, 0, piece);
      this.pendingBytes += piece.data.length;
    }
    if (this.pendingBytes > MAX_PENDING_BYTES || this.pending.length > MAX_PENDING_SEGMENTS) {
      this.gaps++;
      this.sink.gap(this.dir);
      this.next = this.pending[0]!.start;
      this.drain();
    }
  }
}
