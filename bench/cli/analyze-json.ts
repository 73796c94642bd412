/**
 * The `analyze@1` JSON of `tls-reuse-bench analyze --json`, written while the capture is read.
 */
import type { AnalyzeSummary } from '../analyze/capture.ts';
import type { ConnectionReport, ConnectionTls, TlsCounters, TrafficCounters } from '../model.ts';

/** Characters gathered before one write: few system calls, bounded memory. */
const JSON_WRITE_CHUNK = 1 << 16;

/**
 * Writes `analyze@1` JSON while the capture is read: each connection as it ends, one per line, then the
 * totals. Key order differs from the in-memory result (connections come before the totals), the document
 * does not: memory stays bounded whatever the number of connections. Writes to stdout are synchronous for files and pipes on
 * Linux, so chunks never pile up.
 */
export class JsonWriter {
  private pending = '';
  private count = 0;

  constructor(private readonly out: NodeJS.WritableStream) {
    this.pending = `{\n  "schema": ${JSON.stringify('tls-reuse-bench/analyze@1')},\n  "connections": [`;
  }

  connection(c: ConnectionReport): void {
    this.pending += `${this.count++ === 0 ? '' : ','}\n    ${connectionJson(c)}`;
    if (this.pending.length >= JSON_WRITE_CHUNK) this.flush();
  }

  finish(summary: AnalyzeSummary): void {
    const { schema: _schema, ...rest } = summary;
    // `rest` as JSON starts with "{\n" and ends with "\n}": its members continue the open object.
    this.pending += `${this.count === 0 ? '' : '\n  '}],\n${JSON.stringify(rest, null, 2).slice(2)}\n`;
    this.flush();
  }

  private flush(): void {
    this.out.write(this.pending);
    this.pending = '';
  }
}

/*
 * One connection as JSON, written field by field: exactly JSON.stringify(c) (same keys, same order, same
 * number and string forms; a test holds the two equal on every golden capture), at about half its cost,
 * which matters when a capture holds tens of thousands of connections. A field added to the model must be
 * added here too: the test fails until it is.
 */

/**
 * JSON text of the strings a connection repeats (addresses, suite names, server names), cached: there are few
 * distinct ones and tens of thousands of connections. The bound keeps a capture of many hosts from growing it.
 */
const QUOTED_CACHE_LIMIT = 4096;
const quoted = new Map<string, string>();

function jsonString(s: string | null): string {
  if (s === null) return 'null';
  let text = quoted.get(s);
  if (text === undefined) {
    text = JSON.stringify(s);
    if (quoted.size >= QUOTED_CACHE_LIMIT) quoted.clear();
    quoted.set(s, text);
  }
  return text;
}

function tlsCountersJson(t: TlsCounters): string {
  return (
    `{"records":${t.records},"handshakeBytes":${t.handshakeBytes},"appDataBytes":${t.appDataBytes},` +
    `"appDataOverheadBytes":${t.appDataOverheadBytes},"alertBytes":${t.alertBytes},"otherBytes":${t.otherBytes},` +
    `"nonTlsBytes":${t.nonTlsBytes},"incompleteBytes":${t.incompleteBytes},"exact":${t.exact}}`
  );
}

function trafficJson(c: TrafficCounters): string {
  return (
    `{"frames":${c.frames},"wireBytes":${c.wireBytes},"ipBytes":${c.ipBytes},"headerBytes":${c.headerBytes},` +
    `"tcpPayloadBytes":${c.tcpPayloadBytes},"retransmittedBytes":${c.retransmittedBytes},` +
    `"controlFrames":${c.controlFrames},"controlWireBytes":${c.controlWireBytes},"tls":${tlsCountersJson(c.tls)}}`
  );
}

function connectionTlsJson(t: ConnectionTls | null): string {
  if (t === null) return 'null';
  return (
    `{"version":${jsonString(t.version)},"cipherSuite":${jsonString(t.cipherSuite)},"handshake":${jsonString(t.handshake)},` +
    `"serverName":${jsonString(t.serverName)},"decrypted":${t.decrypted}}`
  );
}

/** `JSON.stringify(c)`, faster. */
export function connectionJson(c: ConnectionReport): string {
  return (
    `{"index":${c.index},"client":{"ip":${jsonString(c.client.ip)},"port":${c.client.port}},` +
    `"server":{"ip":${jsonString(c.server.ip)},"port":${c.server.port}},"serverSideBy":${jsonString(c.serverSideBy)},` +
    `"synSeen":${c.synSeen},"closedBy":${jsonString(c.closedBy)},"firstPacketMs":${c.firstPacketMs},` +
    `"lastPacketMs":${c.lastPacketMs},"up":${trafficJson(c.up)},"down":${trafficJson(c.down)},` +
    `"tls":${connectionTlsJson(c.tls)},"requests":${c.requests}}`
  );
}
