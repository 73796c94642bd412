/** The accounting invariant every TLS test asserts (DESIGN.md "Measurement definitions"). */
import { expect } from 'vitest';
import type { Direction, TlsCounters } from '../../../bench/model/index.ts';
import type { TlsStreamWalker } from '../../../bench/tls/walker.ts';

/** Every byte a direction was given lands in exactly one bucket. */
export function bucketSum(c: TlsCounters): number {
  return c.handshakeBytes + c.appDataBytes + c.alertBytes + c.otherBytes + c.nonTlsBytes + c.incompleteBytes;
}

/**
 * Asserts, after `end()`, that for both directions bytes pushed + bytes skipped == handshake + appData + alert
 * + other + nonTls + incomplete, with `pushed` the caller's own count of what it fed (bytes it pushed plus
 * bytes it skipped), and that the overhead is a part of the application data.
 */
export function expectBalanced(walker: TlsStreamWalker, fed: Record<Direction, number>): void {
  for (const dir of ['up', 'down'] as const) {
    const c = walker.counters(dir);
    expect(bucketSum(c), `${dir}: bucket sum vs bytes fed`).toBe(fed[dir]);
    expect(walker.bytesIn(dir), `${dir}: bytesIn vs bytes fed`).toBe(fed[dir]);
    expect(c.appDataOverheadBytes).toBeLessThanOrEqual(c.appDataBytes);
  }
}
