/** DESIGN.md's invariants on traffic counters, asserted on every capture the tests account. */
import type { TrafficCounters } from '../model/index.ts';

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
