/**
 * `analyze --csv FILE`: one row per connection, the columns of Wireshark's Conversations (start, duration,
 * frames, bytes and bits/s each way) and this tool's own (TLS version, handshake, requests). Written by hand:
 * every field is a number, an address or a fixed word, so RFC 4180 quoting is one function, not a library.
 */
import type { ConnectionReport } from '../model/index.ts';

const COLUMNS = [
  'index',
  'client_ip',
  'client_port',
  'server_ip',
  'server_port',
  'start_s',
  'duration_s',
  'up_frames',
  'down_frames',
  'up_wire_bytes',
  'down_wire_bytes',
  'up_bits_per_s',
  'down_bits_per_s',
  'up_tcp_payload_bytes',
  'down_tcp_payload_bytes',
  'tls_version',
  'handshake',
  'requests',
  'closed_by',
  'syn_seen',
] as const;

/** The header line. */
export const CSV_HEADER = `${COLUMNS.join(',')}\n`;

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
function field(value: string | number | boolean | null): string {
  const text = value === null ? '' : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One connection's row (with its line break). Times in seconds since the capture's first packet. */
export function csvRow(c: ConnectionReport): string {
  const durationMs = c.lastPacketMs - c.firstPacketMs;
  const bits = (bytes: number): number | null => (durationMs > 0 ? Math.round((bytes * 8 * 1000) / durationMs) : null);
  const values = [
    c.index,
    c.client.ip,
    c.client.port,
    c.server.ip,
    c.server.port,
    (c.firstPacketMs / 1000).toFixed(6),
    (durationMs / 1000).toFixed(6),
    c.up.frames,
    c.down.frames,
    c.up.wireBytes,
    c.down.wireBytes,
    bits(c.up.wireBytes),
    bits(c.down.wireBytes),
    c.up.tcpPayloadBytes,
    c.down.tcpPayloadBytes,
    c.tls === null ? 'not TLS' : (c.tls.version ?? 'unknown'),
    c.tls?.handshake ?? null,
    c.requests,
    c.closedBy,
    c.synSeen,
  ];
  return `${values.map(field).join(',')}\n`;
}
