/**
 * Times the capture reader and header decoder alone over one file: `npx tsx scripts/perf-read.ts FILE`.
 * Prints packets/s, MB/s and peak RSS, so a slowdown in bench/pcap shows up apart from TLS and analysis.
 */
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { PacketDecoder } from '../bench/pcap/decode.ts';
import { readCapture } from '../bench/pcap/reader.ts';
import type { CapturedPacket } from '../bench/pcap/packet.ts';

const path = process.argv[2];
if (path === undefined || process.argv.length > 3) {
  process.stderr.write('usage: npx tsx scripts/perf-read.ts FILE\n');
  process.exit(2);
}

const kinds = { tcp: 0, 'non-ip': 0, 'non-tcp': 0, fragment: 0, malformed: 0 };
let payloadBytes = 0;
const decoder = new PacketDecoder();
const onPacket = (packet: CapturedPacket): void => {
  const decoded = decoder.decode(packet.linkType, packet.data, packet.offset, packet.offset + packet.capturedLength, packet.originalLength);
  kinds[decoded.kind] += 1;
  if (decoded.kind === 'tcp') payloadBytes += decoded.segment.payloadLength;
};

const fileBytes = (await stat(path)).size;
const started = performance.now();
const summary = await readCapture(path, onPacket);
const seconds = (performance.now() - started) / 1000;
// resourceUsage().maxRSS is in KiB.
const peakRssMiB = process.resourceUsage().maxRSS / 1024;

const rows: [string, string][] = [
  ['file', `${path} (${summary.format}, ${(fileBytes / 1e6).toFixed(1)} MB)`],
  ['link types', summary.linkTypes.join(', ')],
  ['packets', `${summary.packets} (${Object.entries(kinds).map(([k, n]) => `${k} ${n}`).join(', ')})`],
  ['TCP payload', `${(payloadBytes / 1e6).toFixed(1)} MB`],
  ['time', `${seconds.toFixed(3)} s`],
  ['packets/s', Math.round(summary.packets / seconds).toLocaleString('en-US')],
  ['MB/s', (fileBytes / 1e6 / seconds).toFixed(1)],
  ['peak RSS', `${peakRssMiB.toFixed(1)} MiB`],
];
for (const [label, value] of rows) process.stdout.write(`${label.padEnd(12)} ${value}\n`);
for (const warning of summary.warnings) process.stdout.write(`warning: ${warning.kind}: ${warning.message}\n`);
