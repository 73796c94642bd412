/** Arithmetic on traffic counters: one place sums them, so totals and per-scenario sums agree. */
import type { TrafficCounters } from '../model.ts';

/** Adds `b` into `a` (exact stays true only while both are exact). */
export function addTraffic(a: TrafficCounters, b: TrafficCounters): void {
  a.frames += b.frames;
  a.wireBytes += b.wireBytes;
  a.ipBytes += b.ipBytes;
  a.headerBytes += b.headerBytes;
  a.tcpPayloadBytes += b.tcpPayloadBytes;
  a.retransmittedBytes += b.retransmittedBytes;
  a.controlFrames += b.controlFrames;
  a.controlWireBytes += b.controlWireBytes;
  a.tls.records += b.tls.records;
  a.tls.handshakeBytes += b.tls.handshakeBytes;
  a.tls.appDataBytes += b.tls.appDataBytes;
  a.tls.appDataOverheadBytes += b.tls.appDataOverheadBytes;
  a.tls.alertBytes += b.tls.alertBytes;
  a.tls.otherBytes += b.tls.otherBytes;
  a.tls.nonTlsBytes += b.tls.nonTlsBytes;
  a.tls.incompleteBytes += b.tls.incompleteBytes;
  a.tls.exact = a.tls.exact && b.tls.exact;
}

/**
 * Checks DESIGN.md's invariants on one direction and returns what is broken (empty when all hold):
 * `ipBytes = IP+TCP header bytes + tcpPayloadBytes` and `tcpPayloadBytes - retransmittedBytes = every TLS
 * byte class + non-TLS bytes + bytes of records the capture cut`.
 */
export function trafficInvariantViolations(c: TrafficCounters): string[] {
  const broken: string[] = [];
  if (c.ipBytes !== c.headerBytes + c.tcpPayloadBytes) {
    broken.push(`ipBytes ${c.ipBytes} != headerBytes ${c.headerBytes} + tcpPayloadBytes ${c.tcpPayloadBytes}`);
  }
  const stream = c.tcpPayloadBytes - c.retransmittedBytes;
  const t = c.tls;
  const classified =
    t.handshakeBytes + t.appDataBytes + t.alertBytes + t.otherBytes + t.nonTlsBytes + t.incompleteBytes;
  if (stream !== classified) {
    broken.push(`tcpPayloadBytes - retransmittedBytes = ${stream} but TLS classes + non-TLS sum to ${classified}`);
  }
  if (t.appDataOverheadBytes > t.appDataBytes) {
    broken.push(`appDataOverheadBytes ${t.appDataOverheadBytes} > appDataBytes ${t.appDataBytes}`);
  }
  return broken;
}
