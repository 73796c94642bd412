/**
 * Test-only builders: frames (link + IP + TCP headers written field by field) and whole capture files
 * (classic pcap in both byte orders and precisions, pcapng with several interfaces and sections). They
 * write the formats from their specifications, independently of the readers under test.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCapture } from '../../bench/pcap/reader.ts';
import { mulberry32 } from '../../bench/workload/prng.ts';
import { frameBytes, type CaptureReadSummary, type CapturedPacket } from '../../bench/pcap/packet.ts';

/** Reads a whole capture, copying each packet's bytes (the reader's `data` is valid only during the callback). */
export async function readAll(path: string): Promise<{ packets: CapturedPacket[]; summary: CaptureReadSummary }> {
  const packets: CapturedPacket[] = [];
  const summary = await readCapture(path, (p) => packets.push({ ...p, data: Buffer.from(frameBytes(p)), offset: 0 }));
  return { packets, summary };
}

/** A temporary directory removed by the returned cleanup. */
export function tempDir(): { dir: string; file: (name: string, bytes?: Buffer) => string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'pcap-test-'));
  return {
    dir,
    file: (name, bytes) => {
      const path = join(dir, name);
      if (bytes !== undefined) writeFileSync(path, bytes);
      return path;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Frames

export interface TcpOptions {
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  /** TCP options bytes (padded to 32 bits by the builder). */
  options?: Buffer;
  payload?: Buffer;
}

/** A TCP header (+ payload); the checksum stays 0, which no decoder here checks. */
export function tcp(opts: TcpOptions = {}): Buffer {
  const options = opts.options ?? Buffer.alloc(0);
  const optionBytes = Math.ceil(options.length / 4) * 4;
  const header = Buffer.alloc(20 + optionBytes);
  header.writeUInt16BE(opts.srcPort ?? 40000, 0);
  header.writeUInt16BE(opts.dstPort ?? 443, 2);
  header.writeUInt32BE(opts.seq ?? 1000, 4);
  header.writeUInt32BE(opts.ack ?? 0, 8);
  header[12] = ((20 + optionBytes) / 4) << 4;
  header[13] = opts.flags ?? 0x18;
  header.writeUInt16BE(65535, 14);
  options.copy(header, 20);
  return Buffer.concat([header, opts.payload ?? Buffer.alloc(0)]);
}

export interface Ipv4Options {
  src?: string;
  dst?: string;
  protocol?: number;
  /** Overrides the computed total length (e.g. 0 for an offloaded segment). */
  totalLength?: number;
  /** The 16-bit flags + fragment offset field. */
  fragment?: number;
  /** IPv4 options bytes (padded to 32 bits). */
  options?: Buffer;
}

export function ipv4(payload: Buffer, opts: Ipv4Options = {}): Buffer {
  const options = opts.options ?? Buffer.alloc(0);
  const headerBytes = 20 + Math.ceil(options.length / 4) * 4;
  const header = Buffer.alloc(headerBytes);
  header[0] = 0x40 | (headerBytes / 4);
  header.writeUInt16BE(opts.totalLength ?? headerBytes + payload.length, 2);
  header.writeUInt16BE(opts.fragment ?? 0x4000, 6); // DF
  header[8] = 64;
  header[9] = opts.protocol ?? 6;
  Buffer.from((opts.src ?? '10.0.0.1').split('.').map(Number)).copy(header, 12);
  Buffer.from((opts.dst ?? '10.0.0.2').split('.').map(Number)).copy(header, 16);
  options.copy(header, 20);
  return Buffer.concat([header, payload]);
}

/** An IPv6 extension header: `next` is its next-header field, `body` follows the first two bytes. */
export interface Ipv6Extension {
  type: number;
  body: Buffer;
}

export interface Ipv6Options {
  src?: Buffer;
  dst?: Buffer;
  /** Upper-layer protocol after the extension headers. */
  protocol?: number;
  extensions?: Ipv6Extension[];
  payloadLength?: number;
}

/** 16-byte IPv6 address from groups, e.g. v6(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1). */
export function v6(...groups: number[]): Buffer {
  const address = Buffer.alloc(16);
  groups.forEach((g, i) => address.writeUInt16BE(g, i * 2));
  return address;
}

export function ipv6(payload: Buffer, opts: Ipv6Options = {}): Buffer {
  const extensions = opts.extensions ?? [];
  const chain: Buffer[] = [];
  for (let i = 0; i < extensions.length; i++) {
    const ext = extensions[i]!;
    const next = i + 1 < extensions.length ? extensions[i + 1]!.type : (opts.protocol ?? 6);
    const bytes = Buffer.concat([Buffer.from([next, 0]), ext.body]);
    if (ext.type === 51) bytes[1] = bytes.length / 4 - 2;
    else if (ext.type !== 44) bytes[1] = bytes.length / 8 - 1;
    chain.push(bytes);
  }
  const body = Buffer.concat([...chain, payload]);
  const header = Buffer.alloc(40);
  header[0] = 0x60;
  header.writeUInt16BE(opts.payloadLength ?? body.length, 4);
  header[6] = extensions[0]?.type ?? opts.protocol ?? 6;
  header[7] = 64;
  (opts.src ?? v6(0xfd00, 0, 0, 0, 0, 0, 0, 1)).copy(header, 8);
  (opts.dst ?? v6(0xfd00, 0, 0, 0, 0, 0, 0, 2)).copy(header, 24);
  return Buffer.concat([header, body]);
}

/** Ethernet II with optional VLAN tags, each given as its tag protocol identifier (0x8100, 0x88a8, ...). */
export function ethernet(ethertype: number, payload: Buffer, tags: number[] = []): Buffer {
  const header = Buffer.alloc(14 + tags.length * 4);
  header.fill(0x02, 0, 12);
  let at = 12;
  for (const tpid of tags) {
    header.writeUInt16BE(tpid, at);
    header.writeUInt16BE(100, at + 2); // TCI: VLAN 100
    at += 4;
  }
  header.writeUInt16BE(ethertype, at);
  return Buffer.concat([header, payload]);
}

export function linuxSll(protocol: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt16BE(0, 0); // to us
  header.writeUInt16BE(772, 2); // ARPHRD_LOOPBACK
  header.writeUInt16BE(6, 4);
  header.writeUInt16BE(protocol, 14);
  return Buffer.concat([header, payload]);
}

export function linuxSll2(protocol: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(protocol, 0);
  header.writeUInt32BE(1, 4); // ifindex
  header.writeUInt16BE(772, 8);
  header[11] = 6;
  return Buffer.concat([header, payload]);
}

/** BSD loopback header: the family as a 32-bit word in the given byte order. */
export function loopback(family: number, payload: Buffer, littleEndian: boolean): Buffer {
  const header = Buffer.alloc(4);
  if (littleEndian) header.writeUInt32LE(family, 0);
  else header.writeUInt32BE(family, 0);
  return Buffer.concat([header, payload]);
}

// ---------------------------------------------------------------------------------------------------------
// Classic pcap files

export interface ClassicPacket {
  tsSec: number;
  /** Microseconds or nanoseconds, per the file. */
  tsFrac: number;
  data: Buffer;
  originalLength?: number;
  /** Overrides incl_len in the record header (to forge corrupt files). */
  capturedLength?: number;
}

export interface ClassicOptions {
  littleEndian?: boolean;
  nanoseconds?: boolean;
  snapLength?: number;
  linkType?: number;
  versionMajor?: number;
}

export function classicPcap(packets: ClassicPacket[], opts: ClassicOptions = {}): Buffer {
  const le = opts.littleEndian ?? true;
  const u32 = (value: number): Buffer => {
    const b = Buffer.alloc(4);
    if (le) b.writeUInt32LE(value >>> 0, 0);
    else b.writeUInt32BE(value >>> 0, 0);
    return b;
  };
  const u16 = (value: number): Buffer => {
    const b = Buffer.alloc(2);
    if (le) b.writeUInt16LE(value, 0);
    else b.writeUInt16BE(value, 0);
    return b;
  };
  const parts = [
    u32(opts.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4),
    u16(opts.versionMajor ?? 2),
    u16(4),
    u32(0),
    u32(0),
    u32(opts.snapLength ?? 262144),
    u32(opts.linkType ?? 1),
  ];
  for (const p of packets) {
    parts.push(
      u32(p.tsSec),
      u32(p.tsFrac),
      u32(p.capturedLength ?? p.data.length),
      u32(p.originalLength ?? p.data.length),
      p.data,
    );
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------------------------------------------------
// pcapng files

export interface NgInterface {
  linkType: number;
  snapLength?: number;
  /** Raw if_tsresol byte (6 = microseconds, 9 = nanoseconds, 0x80 | n = 2^-n); omitted: no option. */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: bigint;
}

export type NgBlock =
  | { type: 'epb'; interfaceId: number; timestamp: bigint; data: Buffer; originalLength?: number }
  | { type: 'spb'; data: Buffer; originalLength?: number }
  | { type: 'opb'; interfaceId: number; timestamp: bigint; data: Buffer }
  | { type: 'raw'; blockType: number; body: Buffer };

export interface NgSection {
  littleEndian?: boolean;
  interfaces: NgInterface[];
  blocks: NgBlock[];
}

class NgWriter {
  constructor(private readonly le: boolean) {}

  u16(value: number): Buffer {
    const b = Buffer.alloc(2);
    if (this.le) b.writeUInt16LE(value, 0);
    else b.writeUInt16BE(value, 0);
    return b;
  }

  u32(value: number): Buffer {
    const b = Buffer.alloc(4);
    if (this.le) b.writeUInt32LE(value >>> 0, 0);
    else b.writeUInt32BE(value >>> 0, 0);
    return b;
  }

  i64(value: bigint): Buffer {
    const b = Buffer.alloc(8);
    if (this.le) b.writeBigInt64LE(value, 0);
    else b.writeBigInt64BE(value, 0);
    return b;
  }

  pad(bytes: Buffer): Buffer {
    return Buffer.concat([bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)]);
  }

  option(code: number, value: Buffer): Buffer {
    return Buffer.concat([this.u16(code), this.u16(value.length), this.pad(value)]);
  }

  block(type: number, body: Buffer): Buffer {
    const padded = this.pad(body);
    const length = 12 + padded.length;
    return Buffer.concat([this.u32(type), this.u32(length), padded, this.u32(length)]);
  }

  timestamp(value: bigint): Buffer {
    return Buffer.concat([this.u32(Number(value >> 32n)), this.u32(Number(value & 0xffffffffn))]);
  }
}

/** One pcapng file: a Section Header Block per section, then its IDBs, then its blocks in order. */
export function pcapng(sections: NgSection[]): Buffer {
  const out: Buffer[] = [];
  for (const section of sections) {
    const w = new NgWriter(section.littleEndian ?? true);
    const bom = Buffer.alloc(4);
    bom.writeUInt32BE(0x1a2b3c4d, 0);
    if (section.littleEndian ?? true) bom.reverse();
    out.push(w.block(0x0a0d0d0a, Buffer.concat([bom, w.u16(1), w.u16(0), w.i64(-1n)])));
    for (const iface of section.interfaces) {
      const options: Buffer[] = [];
      if (iface.tsresol !== undefined) options.push(w.option(9, Buffer.from([iface.tsresol])));
      if (iface.tsoffset !== undefined) options.push(w.option(14, w.i64(iface.tsoffset)));
      if (options.length > 0) options.push(w.u16(0), w.u16(0));
      out.push(
        w.block(1, Buffer.concat([w.u16(iface.linkType), w.u16(0), w.u32(iface.snapLength ?? 262144), ...options])),
      );
    }
    for (const block of section.blocks) {
      switch (block.type) {
        case 'epb':
          out.push(
            w.block(
              6,
              Buffer.concat([
                w.u32(block.interfaceId),
                w.timestamp(block.timestamp),
                w.u32(block.data.length),
                w.u32(block.originalLength ?? block.data.length),
                w.pad(block.data),
              ]),
            ),
          );
          break;
        case 'opb':
          out.push(
            w.block(
              2,
              Buffer.concat([
                w.u16(block.interfaceId),
                w.u16(0),
                w.timestamp(block.timestamp),
                w.u32(block.data.length),
                w.u32(block.data.length),
                w.pad(block.data),
              ]),
            ),
          );
          break;
        case 'spb':
          out.push(w.block(3, Buffer.concat([w.u32(block.originalLength ?? block.data.length), w.pad(block.data)])));
          break;
        case 'raw':
          out.push(w.block(block.blockType, block.body));
          break;
      }
    }
  }
  return Buffer.concat(out);
}

/** mulberry32: a small seeded PRNG, so a failing seed can be replayed exactly. */
export const prng = mulberry32;
