/** `tls-reuse-bench analyze FILE [--server-port N]... [--keylog FILE] [--json]`: accounts an existing capture. */
import { once } from 'node:events';
import { analyzeCapture } from '../analyze/capture.ts';
import { UsageError } from '../errors.ts';
import type { AnalyzeResult, ConnectionReport, TrafficCounters } from '../model.ts';
import { formatBytes, formatCount, formatNumber, textTable } from '../report/format.ts';
import { parseCommand, parsePort } from './args.ts';

export const analyzeHelp = `usage: tls-reuse-bench analyze FILE [--server-port N]... [--keylog FILE] [--json]

Accounts a pcap or pcapng capture per TCP connection and in total, per direction (up = client to server):
frames, wire/IP/TCP payload bytes, retransmissions, TLS handshake/application/alert bytes, full and resumed
handshakes, and requests per connection (are connections reused?).

  --server-port N   the server's port (repeatable); otherwise the side that answered the SYN
  --keylog FILE     NSS key log (SSLKEYLOGFILE) to classify TLS 1.3 records exactly
  --json            print the tls-reuse-bench/analyze@1 JSON instead of tables
  --connections N   connections listed in the table (default 40; --json lists all)`;

/** Largest number of connections the terminal table lists by default. */
const DEFAULT_LISTED_CONNECTIONS = 40;

/** Runs the command; returns the exit code. */
export async function analyzeCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const { values, positionals } = parseCommand('analyze', args, {
    'server-port': { type: 'string', multiple: true },
    keylog: { type: 'string' },
    json: { type: 'boolean' },
    connections: { type: 'string' },
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
  const result = await analyzeCapture(positionals[0]!, {
    serverPorts,
    ...(values.keylog === undefined ? {} : { keyLogPath: values.keylog }),
  });
  if (values.json) await writeJson(result, out);
  else out.write(`${renderAnalysis(result, listed)}\n`);
  return 0;
}

/** Characters gathered before one write: few system calls, bounded memory. */
const JSON_WRITE_CHUNK = 1 << 16;

/**
 * Writes the result as `JSON.stringify(result, null, 2)` would, one connection at a time and respecting
 * back-pressure: a capture with tens of thousands of connections never becomes one huge string.
 */
export async function writeJson(result: AnalyzeResult, out: NodeJS.WritableStream): Promise<void> {
  const marker = '"\u0000connections\u0000"';
  const [head, tail] = JSON.stringify({ ...result, connections: marker }, null, 2).split(JSON.stringify(marker));
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  if (result.connections.length === 0) {
    await write(`${head}[]${tail}\n`);
    return;
  }
  let pending = `${head}[\n`;
  const last = result.connections.length - 1;
  for (const [i, connection] of result.connections.entries()) {
    pending += `    ${JSON.stringify(connection, null, 2).replace(/\n/g, '\n    ')}${i === last ? '\n' : ',\n'}`;
    if (pending.length >= JSON_WRITE_CHUNK) {
      await write(pending);
      pending = '';
    }
  }
  await write(`${pending}  ]${tail}\n`);
}

/** The terminal rendering of an analysis: totals, the reuse audit, connections, warnings. */
export function renderAnalysis(result: AnalyzeResult, listed: number): string {
  const { total, reuse, file } = result;
  const parts: string[] = [];
  parts.push(
    `${file.path}: ${file.format}, ${formatCount(file.packets)} packets over ${formatNumber(file.durationSeconds, 3)} s, ` +
      `${formatCount(total.connections)} connections opened in the capture (${total.fullHandshakes} full, ${total.resumedHandshakes} resumed TLS handshakes)`,
  );
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
      `median ${formatNumber(rpc.median, 1)}, max ${formatCount(rpc.max)}; ${formatCount(reuse.singleRequestConnections)} carried one request`,
  );
  parts.push('');
  parts.push(connectionsTable(result.connections.slice(0, listed)));
  if (result.connections.length > listed) {
    parts.push(`… ${formatCount(result.connections.length - listed)} more connections (--connections N, or --json for all)`);
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

function totalsTable(up: TrafficCounters, down: TrafficCounters): string {
  const row = (name: string, pick: (c: TrafficCounters) => number, bytes = true): string[] => [
    name,
    bytes ? formatBytes(pick(up)) : formatCount(pick(up)),
    bytes ? formatBytes(pick(down)) : formatCount(pick(down)),
    bytes ? formatCount(pick(up)) : '',
    bytes ? formatCount(pick(down)) : '',
  ];
  const exact = up.tls.exact && down.tls.exact ? '' : ' (inexact)';
  return textTable(
    ['total', 'up', 'down', 'up (B)', 'down (B)'],
    [
      row('frames', (c) => c.frames, false),
      row('wire bytes', (c) => c.wireBytes),
      row('IP bytes', (c) => c.ipBytes),
      row('IP+TCP headers', (c) => c.headerBytes),
      row('TCP payload', (c) => c.tcpPayloadBytes),
      row('retransmitted', (c) => c.retransmittedBytes),
      row('control frames', (c) => c.controlFrames, false),
      row('TLS records', (c) => c.tls.records, false),
      row(`TLS handshake${exact}`, (c) => c.tls.handshakeBytes),
      row(`TLS app data${exact}`, (c) => c.tls.appDataBytes),
      row('  record overhead', (c) => c.tls.appDataOverheadBytes),
      row('TLS alerts', (c) => c.tls.alertBytes),
      row('not TLS', (c) => c.tls.nonTlsBytes),
    ],
    ['left', 'right', 'right', 'right', 'right'],
  );
}

function connectionsTable(connections: ConnectionReport[]): string {
  return textTable(
    ['#', 'client', 'server', 'TLS', 'handshake', 'requests', 'up wire', 'down wire', 'up hs', 'down hs', 'closed'],
    connections.map((c) => [
      String(c.index),
      `${c.client.ip}:${c.client.port}`,
      `${c.server.ip}:${c.server.port}`,
      c.tls === null ? 'not TLS' : (c.tls.version ?? 'unknown'),
      c.tls?.handshake ?? '-',
      String(c.requests),
      formatCount(c.up.wireBytes),
      formatCount(c.down.wireBytes),
      formatCount(c.up.tls.handshakeBytes),
      formatCount(c.down.tls.handshakeBytes),
      c.synSeen ? c.closedBy : `${c.closedBy} (no SYN)`,
    ]),
    ['right', 'left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'],
  );
}
