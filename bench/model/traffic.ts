/**
 * Traffic counters (DESIGN.md `TrafficCounters`), declared once as two field tables. The types, the empty
 * counters, the sum, the results reader's validator, the `analyze --json` writer's keys and the terminal
 * table are all made from these tables, so a counter added here is summed, validated, written and shown
 * without another edit (test/model/traffic.test.ts holds every consumer to the tables).
 */

/** How a counter reads: a byte count or a count of things (frames, records). */
export type CounterUnit = 'bytes' | 'count';

/** What the model says about one counter. */
export interface CounterField {
  unit: CounterUnit;
  /** Its row in `analyze`'s terminal totals; null where the table leaves it out. */
  label: string | null;
  /** The label gains "(inexact)" when TLS 1.3 records were classified without keys. */
  classified?: true;
  doc: string;
}

/** Per-direction counters of the TCP layer and below, in the order `analyze@1` and `results@1` write them. */
export const TRAFFIC_FIELDS = {
  frames: { unit: 'count', label: 'frames', doc: 'Captured packets.' },
  wireBytes: { unit: 'bytes', label: 'wire bytes', doc: 'Sum of original frame lengths, link header included.' },
  ipBytes: { unit: 'bytes', label: 'IP bytes', doc: 'Sum of IP datagram lengths (IPv4 total length; IPv6 40 + payload length).' },
  headerBytes: { unit: 'bytes', label: 'IP+TCP headers', doc: 'Sum of IP and TCP header bytes (IPv6 extension headers and TCP options included).' },
  tcpPayloadBytes: { unit: 'bytes', label: 'TCP payload', doc: 'Sum of TCP segment payload lengths, retransmissions included.' },
  retransmittedBytes: { unit: 'bytes', label: 'retransmitted', doc: 'Payload bytes whose sequence numbers were already seen in this direction.' },
  controlFrames: { unit: 'count', label: 'control frames', doc: 'Frames with no TCP payload (SYN, FIN, RST, pure ACK).' },
  controlWireBytes: { unit: 'bytes', label: null, doc: 'Wire bytes of those control frames.' },
} as const satisfies Record<string, CounterField>;

/** Per-direction TLS accounting; every byte count includes the 5-byte record header. */
export const TLS_FIELDS = {
  records: { unit: 'count', label: 'TLS records', doc: 'TLS records completed in this direction.' },
  handshakeBytes: {
    unit: 'bytes',
    label: 'TLS handshake',
    classified: true,
    doc: 'Records whose (inner, for TLS 1.3) content type is handshake (22) or change_cipher_spec (20).',
  },
  appDataBytes: { unit: 'bytes', label: 'TLS app data', classified: true, doc: 'Records whose (inner) content type is application_data (23).' },
  appDataOverheadBytes: {
    unit: 'bytes',
    label: '  record overhead',
    doc: 'Part of appDataBytes that is record framing, not application payload: the header, explicit nonce, AEAD tag, TLS 1.3 inner content type and padding.',
  },
  alertBytes: { unit: 'bytes', label: 'TLS alerts', doc: 'Records of the alert (21) type.' },
  otherBytes: { unit: 'bytes', label: null, doc: 'Records of any other content type (heartbeat 24, or unknown inner types).' },
  nonTlsBytes: { unit: 'bytes', label: 'not TLS', doc: 'Stream bytes that are not TLS at all (a plain-text protocol, or bytes skipped while resynchronising).' },
  incompleteBytes: { unit: 'bytes', label: null, doc: 'Bytes of records that never completed: cut by a capture gap or by the end of the capture.' },
} as const satisfies Record<string, CounterField>;

export type TrafficField = keyof typeof TRAFFIC_FIELDS;
export type TlsField = keyof typeof TLS_FIELDS;

/** The counter names in table order. */
export const TRAFFIC_FIELD_NAMES = Object.keys(TRAFFIC_FIELDS) as TrafficField[];
export const TLS_FIELD_NAMES = Object.keys(TLS_FIELDS) as TlsField[];

/** TLS accounting for one direction (TLS_FIELDS), and whether its classification is exact. */
export type TlsCounters = { [K in TlsField]: number } & {
  /** False where TLS 1.3 records were classified without keys (by position), or a gap forced a resync. */
  exact: boolean;
};

/** Per-direction traffic counters (TRAFFIC_FIELDS), with the TLS accounting under `tls`. */
export type TrafficCounters = { [K in TrafficField]: number } & { tls: TlsCounters };

/** Returns zeroed TLS counters. */
export function emptyTlsCounters(): TlsCounters {
  const c = {} as TlsCounters;
  for (const name of TLS_FIELD_NAMES) c[name] = 0;
  // Key order is the JSON's: the counts in table order, then `exact`.
  c.exact = true;
  return c;
}

/** Returns zeroed traffic counters. */
export function emptyTrafficCounters(): TrafficCounters {
  const c = {} as TrafficCounters;
  for (const name of TRAFFIC_FIELD_NAMES) c[name] = 0;
  c.tls = emptyTlsCounters();
  return c;
}

/** Adds `b` into `a` (exact stays true only while both are exact). */
export function addTraffic(a: TrafficCounters, b: TrafficCounters): void {
  for (const name of TRAFFIC_FIELD_NAMES) a[name] += b[name];
  for (const name of TLS_FIELD_NAMES) a.tls[name] += b.tls[name];
  a.tls.exact = a.tls.exact && b.tls.exact;
}
