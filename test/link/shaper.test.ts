/**
 * The time model of one direction, on hand-made frames whose release times were worked out by hand: at
 * 8 Mbit/s a byte takes 1 µs, so a 1000-byte frame is serialised in exactly 1 ms.
 */
import { describe, expect, it } from 'vitest';
import { Shaper, type ShaperConfig } from '../../bench/link/shaper.ts';

const BASE: ShaperConfig = { bitsPerSecond: 8_000_000, oneWayDelayMs: 10, jitterMs: 0, lossPct: 0, queueBytes: 3000 };

/** Random streams that replay fixed draws, and fail the test if asked for more. */
function draws(loss: number[], jitter: number[]) {
  const take = (list: number[], what: string) => () => {
    const value = list.shift();
    if (value === undefined) throw new Error(`an unexpected ${what} draw`);
    return value;
  };
  return { loss: take(loss, 'loss'), jitter: take(jitter, 'jitter') };
}

describe('Shaper', () => {
  it('serialises back to back at the rate, then adds the one-way delay', () => {
    const s = new Shaper(BASE, draws([], []));
    expect(s.offer(0, 1000)).toEqual({ kind: 'forward', releaseMs: 11 });
    expect(s.offer(0, 1000)).toEqual({ kind: 'forward', releaseMs: 12 });
    expect(s.offer(0, 1000)).toEqual({ kind: 'forward', releaseMs: 13 });
  });

  it('tail-drops a frame that does not fit the byte limit, counting the frame being serialised', () => {
    const s = new Shaper(BASE, draws([], []));
    for (let i = 0; i < 3; i++) s.offer(0, 1000);
    // At 0.5 ms the first frame is still being serialised: 3000 bytes queued, 1000 more do not fit.
    expect(s.offer(0.5, 1000)).toEqual({ kind: 'queue-full', queuedBytes: 3000 });
    // At 1 ms the first frame has left the queue: 2000 + 500 fit, serialised after the third (ends 3 ms).
    expect(s.offer(1, 500)).toEqual({ kind: 'forward', releaseMs: 13.5 });
    expect(s.maxQueueBytes).toBe(3000);
  });

  it('starts an idle link at the arrival time', () => {
    const s = new Shaper(BASE, draws([], []));
    s.offer(0, 1000);
    expect(s.offer(100, 100)).toEqual({ kind: 'forward', releaseMs: 110.1 });
  });

  it('draws jitter uniformly in ±jitterMs and never lets a frame overtake the one before', () => {
    const s = new Shaper({ ...BASE, jitterMs: 2 }, draws([], [0.75, 0, 0.5]));
    // 1 + 10 + (0.75 × 2 − 1) × 2 = 12.
    expect(s.offer(0, 1000)).toEqual({ kind: 'forward', releaseMs: 12 });
    // 2 + 10 − 2 = 10 would overtake: held until 12.
    expect(s.offer(0, 1000)).toEqual({ kind: 'forward', releaseMs: 12 });
    // 3 + 10 + 0 = 13.
    expect(s.offer(0, 1000)).toEqual({ kind: 'forward', releaseMs: 13 });
  });

  it('loses a frame when the loss draw is below lossPct, before it takes queue space', () => {
    const s = new Shaper({ ...BASE, lossPct: 50, queueBytes: 1000 }, draws([0.3, 0.7], []));
    expect(s.offer(0, 1000)).toEqual({ kind: 'lost' });
    expect(s.offer(0, 1000)).toEqual({ kind: 'forward', releaseMs: 11 });
  });
});
