/**
 * Writes a SYN-flood capture: `count` half-open TCP connections to 10.0.0.2:443, one 54-byte SYN each (no
 * options) from spoofed sources in 100.64.0.0/10 with random ports, `perSecond` a second, as a classic pcap
 * (70 bytes a packet with its record header: 2.6 M connections make 182 MB, the capture). Only
 * written to a file: nothing is sent anywhere.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { mulberry32 } from '../../bench/workload/prng.ts';

const FRAME_BYTES = 54;
const RECORD_BYTES = 16 + FRAME_BYTES;
const PACKETS_PER_WRITE = 16_384;


/** Writes the capture to `path`; returns its size in bytes. */
export function writeSynFlood(path: string, count: number, perSecond: number): number {
  const random = mulberry32(0x5f10);
  const fd = openSync(path, 'w');
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(262_144, 16);
  header.writeUInt32LE(1, 20); // Ethernet
  writeSync(fd, header);
  const chunk = Buffer.alloc(PACKETS_PER_WRITE * RECORD_BYTES);
  const startSec = 1_700_000_000;
  for (let done = 0; done < count; ) {
    const n = Math.min(PACKETS_PER_WRITE, count - done);
    for (let k = 0; k < n; k++) {
      const i = done + k;
      const at = k * RECORD_BYTES;
      const usec = Math.floor((i * 1e6) / perSecond);
      chunk.writeUInt32LE(startSec + Math.floor(usec / 1e6), at);
      chunk.writeUInt32LE(usec % 1e6, at + 4);
      chunk.writeUInt32LE(FRAME_BYTES, at + 8);
      chunk.writeUInt32LE(FRAME_BYTES, at + 12);
      const f = at + 16;
      chunk.fill(0x02, f, f + 12);
      chunk.writeUInt16BE(0x0800, f + 12);
      const ip = f + 14;
      chunk[ip] = 0x45;
      chunk[ip + 1] = 0;
      chunk.writeUInt16BE(40, ip + 2);
      chunk.writeUInt16BE(i & 0xffff, ip + 4);
      chunk.writeUInt16BE(0x4000, ip + 6);
      chunk[ip + 8] = 64;
      chunk[ip + 9] = 6;
      chunk.writeUInt16BE(0, ip + 10);
      chunk.writeUInt32BE((0x64400000 | Math.floor(random() * 0x400000)) >>> 0, ip + 12);
      chunk.writeUInt32BE(0x0a000002, ip + 16);
      const tcp = ip + 20;
      chunk.writeUInt16BE(1024 + Math.floor(random() * 64_000), tcp);
      chunk.writeUInt16BE(443, tcp + 2);
      chunk.writeUInt32BE(Math.floor(random() * 2 ** 32) >>> 0, tcp + 4);
      chunk.writeUInt32BE(0, tcp + 8);
      chunk[tcp + 12] = 5 << 4;
      chunk[tcp + 13] = 0x02;
      chunk.writeUInt16BE(64_240, tcp + 14);
      chunk.writeUInt32BE(0, tcp + 16);
    }
    writeSync(fd, chunk, 0, n * RECORD_BYTES);
    done += n;
  }
  closeSync(fd);
  return 24 + count * RECORD_BYTES;
}
