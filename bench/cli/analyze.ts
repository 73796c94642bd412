/** `tls-reuse-bench analyze FILE [--server-port N]... [--keylog FILE] [--json] [--csv FILE]`: accounts an existing capture. */
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { streamCapture } from '../analyze/capture.ts';
import { InputError, UsageError } from '../errors.ts';
import { STDIN_PATH } from '../pcap/source.ts';
import { CSV_HEADER, csvRow } from './analyze-csv.ts';
import {
  TLS_FIELD_NAMES,
  TLS_FIELDS,
  TRAFFIC_FIELD_NAMES,
  TRAFFIC_FIELDS,
  type AnalyzeSummary,
  type ConnectionReport,
  type CounterField,
  type TrafficCounters,
} from '../model/index.ts';
import { JsonWriter } from './analyze-json.ts';
import { formatBytes, formatCount, formatNumber, textTable } from '../report/format.ts';
import { parseCommand, parsePort } from './args.ts';

export const analyzeHelp = `usage: tls-reuse-bench analyze FILE [--server-port N]... [--keylog FILE] [--json] [--csv FILE]

Accounts a pcap or pcapng capture per TCP connection and in total, per direction (up = client to server):
frames, wire/IP/TCP payload bytes, retransmissions, TLS handshake/application/alert bytes, full and resumed
handshakes, and requests per connection (are connections reused?). FILE may be - (standard input), a pipe,
or gzip/zstd-compressed.

  --server-port N   the server's port (repeatable); otherwise the side that answered the SYN
  --keylog FILE     NSS key log (SSLKEYLOGFILE) to classify TLS 1.3 records exactly (default: keylog.txt
                    beside the capture when there is one; keys inside a pcapng are always used)
  --json            print the tls-reuse-bench/analyze@1 JSON instead of tables
  --csv FILE        also write every connection as a CSV row to FILE (start, duration, frames, bytes and
                    bits/s each way, TLS version, handshake, requests)
  --connections N   connections listed in the table (default 40; --json lists all)`;

/** The key log a live run leaves beside its capture, used when --keylog is not given. */
const KEYLOG_BESIDE_CAPTURE = 'keylog.txt';

/** How far V8 may grow the old generation past what survived its last full collection (see analyzeCommand). */
const OLD_GENERATION_GROWTH_PERCENT = 20;

/** Largest number of connections the terminal table lists by default. */
const DEFAULT_LISTED_CONNECTIONS = 40;

/** Runs the command; returns the exit code. */
export async function analyzeCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  // Every connection's objects outlive many young-generation collections (a half-open one waits its idle
  // timeout), so they die in the old generation, which V8 lets grow to about four times what survived its
  // last full collection before collecting again. Growing it by 20% instead keeps a SYN flood's capture
  // within 200 MB (`npm run perf:flood`: 363 MB before) for a few percent more time on a flood.
  setFlagsFromString(`--heap-growing-percent=${OLD_GENERATION_GROWTH_PERCENT}`);
  const { values, positionals } = parseCommand('analyze', args, {
    'server-port': { type: 'string', multiple: true },
    keylog: { type: 'string' },
    json: { type: 'boolean' },
    connections: { type: 'string' },
    csv: { type: 'string' },
  });
  if (values.help) {
    out.write(`${analyzeHelp}\n`);
    return 0;
  }
  if (positionals.length !== 1) {
    throw new UsageError(`analyze: expected one capture FILE, got ${positionals.length} (see tls-reuse-bench analyze --help)`);
  }
  const serverPorts = (values['server-port'] ?? []).map((v) => parsePort('--server-port', v));
  const listed = values.connections === undefined ? DEFAULT_LISTED_CONNECTIONS : Number(values.connections);
  if (!Number.isInteger(listed) || listed < 0) {
    throw new UsageError(`--connections: expected a whole number, got "${values.connections}"`);
  }
  const capture = positionals[0]!;
  const beside = values.keylog === undefined ? keyLogBesideCapture(capture) : null;
  const options = {
    serverPorts,
    ...(values.keylog === undefined ? {} : { keyLogPath: values.keylog }),
    ...(beside === null ? {} : { keyLogPath: beside, keyLogFrom: 'beside-capture' as const }),
  };
  // Opened before the capture is read: a CSV path that cannot be written fails before any work.
  const csv = values.csv === undefined ? null : openCsv(values.csv);
  const toCsv = (c: ConnectionReport): void => {
    if (csv !== null) writeSync(csv, csvRow(c));
  };
  try {
    if (values.json) {
      const writer = new JsonWriter(out);
      try {
        const paced = { ...options, backpressure: () => writer.drained() };
        writer.finish(await streamCapture(capture, paced, (c) => (writer.connection(c), toCsv(c))));
      } finally {
        writer.close();
      }
    } else {
      const first = new FirstConnections(listed);
      const summary = await streamCapture(capture, options, (c) => (first.offer(c), toCsv(c)));
      out.write(`${renderAnalysis(summary, first.sorted(), first.offered)}\n`);
    }
  } finally {
    if (csv !== null) closeSync(csv);
  }
  return 0;
}

/** `keylog.txt` in the capture's folder when it is a file there (not for standard input). */
function keyLogBesideCapture(capture: string): string | null {
  if (capture === STDIN_PATH) return null;
  const candidate = join(dirname(capture), KEYLOG_BESIDE_CAPTURE);
  try {
    return statSync(candidate).isFile() ? candidate : null;
  } catch {
    return null; // none there: analysed without keys, as when no key log exists at all
  }
}

function openCsv(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, 'w');
  } catch (error) {
    throw new InputError(`--csv: cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  writeSync(fd, CSV_HEADER);
  return fd;
}

/** The `limit` connections with the lowest index among those offered, for the terminal table. */
class FirstConnections {
  private readonly kept: ConnectionReport[] = [];
  /** Connections offered in all. */
  offered = 0;

  constructor(private readonly limit: number) {}

  offer(c: ConnectionReport): void {
    this.offered++;
    if (this.limit === 0) return;
    if (this.kept.length < this.limit) {
      this.kept.push(c);
      return;
    }
    let highest = 0;
    for (let i = 1; i < this.kept.length; i++) if (this.kept[i]!.index > this.kept[highest]!.index) highest = i;
    if (c.index < this.kept[highest]!.index) this.kept[highest] = c;
  }

  sorted(): ConnectionReport[] {
    return [...this.kept].sort((a, b) => a.index - b.index);
  }
}

/** The terminal rendering of an analysis: totals, the reuse audit, the first connections, warnings. */
export function renderAnalysis(result: AnalyzeSummary, connections: ConnectionReport[], connectionCount: number): string {
  const { total, reuse, file } = result;
  const parts: string[] = [];
  parts.push(
    `${file.path}: ${file.format}, ${formatCount(file.packets)} packets over ${formatNumber(file.durationSeconds, 3)} s, ` +
      `${formatCount(total.connections)} connections opened in the capture (${formatCount(total.fullHandshakes)} full, ${formatCount(total.resumedHandshakes)} resumed TLS handshakes)`,
  );
  for (const k of result.keyLogs ?? []) {
    const where = { option: 'from --keylog', 'beside-capture': 'found beside the capture', pcapng: 'embedded in the pcapng (decryption secrets block)' }[k.from];
    parts.push(`key log: ${k.path}, ${where}: secrets for ${formatCount(k.clientRandoms)} connections`);
  }
  parts.push('');
  parts.push(totalsTable(total.up, total.down));
  parts.push('');
  const rpc = reuse.requestsPerConnection;
  const verdict = {
    reused: 'connections are reused',
    'partly-reused': 'connections are only partly reused',
    'not-reused': 'connections are NOT reused: nearly every connection carried one request',
    none: 'no application requests seen',
  }[reuse.verdict];
  parts.push(
    `reuse: ${verdict} — ${formatCount(reuse.requests)} requests (estimated from application-data exchanges) over ` +
      `${formatCount(reuse.connectionsWithRequests)} connections; per connection mean ${formatNumber(rpc.mean, 2)}, ` +
      `median ${formatNumber(rpc.median, 1)}, max ${formatCount(rpc.max)}; ${formatCount(reuse.singleRequestConnections)} carried one request` +
      resumptionNote(total.fullHandshakes, total.resumedHandshakes),
  );
  parts.push('');
  parts.push(connectionsTable(connections));
  if (connectionCount > connections.length) {
    parts.push(`… ${formatCount(connectionCount - connections.length)} more connections (--connections N, or --json for all)`);
  }
  const skipped = result.skipped;
  const skippedTotal = skipped.nonIp + skipped.nonTcp + skipped.fragments + skipped.malformed;
  if (skippedTotal > 0) {
    parts.push('');
    parts.push(
      `skipped ${formatCount(skippedTotal)} packets: ${skipped.nonIp} not IP, ${skipped.nonTcp} not TCP, ` +
        `${skipped.fragments} IP fragments, ${skipped.malformed} malformed`,
    );
  }
  for (const w of result.warnings) {
    parts.push(`warning: ${w.message}${w.count !== undefined && w.count > 1 ? ` (×${w.count})` : ''}; fix: ${w.fix}`);
  }
  return parts.join('\n');
}

/**
 * New connections that resumed their TLS session paid a TCP handshake but only an abbreviated TLS one: a
 * capture where most did is not simply "not reused".
 */
function resumptionNote(full: number, resumed: number): string {
  const handshakes = full + resumed;
  if (resumed === 0) return '';
  const share = resumed / handshakes;
  const lead = share >= 0.5 ? 'but TLS sessions are reused' : 'some TLS sessions are reused';
  return `; ${lead}: ${formatCount(resumed)} of ${formatCount(handshakes)} TLS handshakes (${formatNumber(share * 100, 0)}%) resumed a session (abbreviated handshake, no certificate)`;
}

/** Seconds with Wireshark's Conversations precision (its Duration column has 4 decimals). */
function seconds(ms: number): string {
  return (ms / 1000).toFixed(4);
}

/** Bits per second over the connection's duration, as Wireshark's Conversations give them; none for an instant. */
export function bitsPerSecond(bytes: number, durationMs: number): number | null {
  return durationMs > 0 ? (bytes * 8 * 1000) / durationMs : null;
}

/** The totals, one row per counter the model's tables label, in their order. */
function totalsTable(up: TrafficCounters, down: TrafficCounters): string {
  const exact = up.tls.exact && down.tls.exact ? '' : ' (inexact)';
  const row = (field: CounterField, label: string, pick: (c: TrafficCounters) => number): string[] => {
    const bytes = field.unit === 'bytes';
    return [
      `${label}${field.classified === true ? exact : ''}`,
      bytes ? formatBytes(pick(up)) : formatCount(pick(up)),
      bytes ? formatBytes(pick(down)) : formatCount(pick(down)),
      bytes ? formatCount(pick(up)) : '',
      bytes ? formatCount(pick(down)) : '',
    ];
  };
  const rows = [
    ...TRAFFIC_FIELD_NAMES.map((name) => ({ field: TRAFFIC_FIELDS[name] as CounterField, pick: (c: TrafficCounters) => c[name] })),
    ...TLS_FIELD_NAMES.map((name) => ({ field: TLS_FIELDS[name] as CounterField, pick: (c: TrafficCounters) => c.tls[name] })),
  ].flatMap(({ field, pick }) => (field.label === null ? [] : [row(field, field.label, pick)]));
  return textTable(['total', 'up', 'down', 'up (B)', 'down (B)'], rows, ['left', 'right', 'right', 'right', 'right']);
}

function connectionsTable(connections: ConnectionReport[]): string {
  const rate = (bytes: number, durationMs: number): string => {
    const bits = bitsPerSecond(bytes, durationMs);
    return bits === null ? 'n/a' : formatCount(bits);
  };
  return textTable(
    ['#', 'client', 'server', 'start s', 'duration s', 'TLS', 'handshake', 'requests', 'up wire', 'down wire', 'up bit/s', 'down bit/s', 'up hs', 'down hs', 'closed'],
    connections.map((c) => {
      const durationMs = c.lastPacketMs - c.firstPacketMs;
      return [
        String(c.index),
        `${c.client.ip}:${c.client.port}`,
        `${c.server.ip}:${c.server.port}`,
        seconds(c.firstPacketMs),
        seconds(durationMs),
        c.tls === null ? 'not TLS' : (c.tls.version ?? 'unknown'),
        c.tls?.handshake ?? '-',
        String(c.requests),
        formatCount(c.up.wireBytes),
        formatCount(c.down.wireBytes),
        rate(c.up.wireBytes, durationMs),
        rate(c.down.wireBytes, durationMs),
        formatCount(c.up.tls.handshakeBytes),
        formatCount(c.down.tls.handshakeBytes),
        c.synSeen ? c.closedBy : `${c.closedBy} (no SYN)`,
      ];
    }),
    ['right', 'left', 'left', 'right', 'right', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}
