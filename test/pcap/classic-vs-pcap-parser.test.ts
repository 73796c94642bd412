/**
 * Differential test: our classic pcap reader (bench/pcap/classic.ts, reached through `readCapture`)
 * against pcap-parser 0.2.1, an independent implementation kept in the project as an oracle. For every
 * file both must yield the same packets: same count and, per packet, the same timestamp seconds, the same
 * fraction (pcap-parser's `timestampMicroseconds` is the raw field: ×1000 is our `tsNsec` for microsecond
 * files, as is for nanosecond ones), captured length, original length and bytes. Packets are compared as
 * rows of header fields plus a sha256 of the frame, never as hundreds of Buffers.
 *
 * Covered: every classic capture in fixtures/pcaps (the nanosecond one through a copy whose magic says
 * microseconds, since pcap-parser rejects the nanosecond magic); generated files of both byte orders
 * whose records straddle our reader's 1 MiB read chunks in every way (the boundary before each of the 16
 * record-header bytes, between header and body, inside bodies, inside a maximum 262144-byte packet),
 * checked against the reads the reader really makes; and files cut inside their last packet.
 */
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pcapParser, { type GlobalHeader } from 'pcap-parser';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { readCapture } from '../../bench/pcap/reader.ts';
// The chunk-boundary tests do not trust READ_CHUNK_BYTES alone: they record the reads the reader makes and
// check that the boundaries fell where the files were planned.
import { frameBytes, MAX_PACKET_BYTES, READ_CHUNK_BYTES, type CaptureReadSummary } from '../../bench/pcap/packet.ts';
import { classicPcap, prng, tempDir, type ClassicPacket } from './helpers.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/pcaps/', import.meta.url));

/** pcap-savefile(5) magics as the first four bytes read big-endian. */
const MAGIC_US_BE = 0xa1b2c3d4;
const MAGIC_US_LE = 0xd4c3b2a1;
const MAGIC_NS_BE = 0xa1b23c4d;
const MAGIC_NS_LE = 0x4d3cb2a1;
const PCAPNG_MAGIC = 0x0a0d0d0a;
const GLOBAL_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** The network field's low 26 bits are the link type (pcap-parser hands on the whole field). */
const LINKTYPE_MASK = 0x03ff_ffff;

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// ---------------------------------------------------------------------------------------------------------
// Both readers, reduced to comparable rows

/** One packet: its record-header fields and a digest of its captured bytes. */
interface Row {
  tsSec: number;
  /** Nanoseconds (pcap-parser's fraction converted by the file's unit). */
  tsNsec: number;
  capturedLength: number;
  originalLength: number;
  sha256: string;
}
const ROW_FIELDS = ['tsSec', 'tsNsec', 'capturedLength', 'originalLength', 'sha256'] as const;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

interface OurRead {
  rows: Row[];
  summary: CaptureReadSummary;
  /** Every packet's linkType and interfaceId, as distinct "linkType/interfaceId" strings. */
  packetInterfaces: string[];
}

/** Our reader: each frame is hashed inside the callback (its buffer is reused afterwards). */
async function readOurs(path: string): Promise<OurRead> {
  const rows: Row[] = [];
  const interfaces = new Set<string>();
  const summary = await readCapture(path, (p) => {
    rows.push({
      tsSec: p.tsSec,
      tsNsec: p.tsNsec,
      capturedLength: p.capturedLength,
      originalLength: p.originalLength,
      sha256: sha256(frameBytes(p)),
    });
    interfaces.add(`${p.linkType}/${p.interfaceId}`);
  });
  return { rows, summary, packetInterfaces: [...interfaces] };
}

interface TheirRead {
  rows: Row[];
  header: GlobalHeader | undefined;
  error: Error | undefined;
}

/**
 * pcap-parser on a stream we own (on an error it pauses its stream and never closes it). It reads the
 * fraction as stored: `nsecPerUnit` (1000 for a microsecond file, 1 for a nanosecond one) scales it.
 */
function readTheirs(path: string, nsecPerUnit: 1 | 1000): Promise<TheirRead> {
  return new Promise((resolve) => {
    const stream = createReadStream(path);
    const parser = pcapParser.parse(stream);
    const rows: Row[] = [];
    let header: GlobalHeader | undefined;
    let error: Error | undefined;
    const finish = (): void => {
      stream.destroy();
      resolve({ rows, header, error });
    };
    parser.on('globalHeader', (h) => {
      header = h;
    });
    parser.on('packet', ({ header: h, data }) => {
      rows.push({
        tsSec: h.timestampSeconds,
        tsNsec: h.timestampMicroseconds * nsecPerUnit,
        capturedLength: h.capturedLength,
        originalLength: h.originalLength,
        sha256: sha256(data),
      });
    });
    parser.on('error', (e) => {
      error = e;
    });
    parser.on('end', finish);
    stream.on('close', finish);
  });
}

interface Difference {
  index: number;
  field: (typeof ROW_FIELDS)[number] | 'count';
  ours: number | string;
  theirs: number | string;
}

/** The first packet (0-based) and field where the two lists differ; a missing packet is a 'count' difference. */
function firstDifference(ours: Row[], theirs: Row[]): Difference | null {
  for (let index = 0; index < Math.max(ours.length, theirs.length); index++) {
    const a = ours[index];
    const b = theirs[index];
    if (a === undefined || b === undefined) return { index, field: 'count', ours: ours.length, theirs: theirs.length };
    for (const field of ROW_FIELDS) {
      if (a[field] !== b[field]) return { index, field, ours: a[field], theirs: b[field] };
    }
  }
  return null;
}

/** Asserts identical, non-empty packet lists; a failure names the file, the packet index and the field. */
function expectSamePackets(label: string, ours: Row[], theirs: Row[]): void {
  expect(firstDifference(ours, theirs), `${label}: our reader vs pcap-parser`).toBeNull();
  expect(ours.length, `${label}: no packets compared`).toBeGreaterThan(0);
}

/** The file's first four bytes, big-endian. */
function magicOf(path: string): number {
  return readFileSync(path).readUInt32BE(0);
}

/**
 * The file for pcap-parser, which only knows the microsecond magics: a nanosecond file is copied with the
 * microsecond magic of the same byte order (the record fractions, in ns, are then read as stored).
 */
function forPcapParser(path: string, name: string): { path: string; nsecPerUnit: 1 | 1000 } {
  const bytes = readFileSync(path);
  const magic = bytes.readUInt32BE(0);
  if (magic !== MAGIC_NS_BE && magic !== MAGIC_NS_LE) return { path, nsecPerUnit: 1000 };
  const copy = Buffer.from(bytes);
  copy.writeUInt32BE(magic === MAGIC_NS_BE ? MAGIC_US_BE : MAGIC_US_LE, 0);
  return { path: tmp.file(`${name}.as-usec.pcap`, copy), nsecPerUnit: 1 };
}

/** Our summary must agree with pcap-parser's global header and packets. */
function expectSummaryAgrees(ours: OurRead, theirs: TheirRead, nanoseconds: boolean, warnings: unknown[] = []): void {
  const linkType = theirs.header!.linkLayerType & LINKTYPE_MASK;
  expect(ours.summary).toEqual({
    format: 'pcap',
    timestampResolution: nanoseconds ? 'ns' : 'us',
    linkTypes: [linkType],
    snapLength: theirs.header!.snapshotLength,
    packets: theirs.rows.length,
    truncatedPackets: theirs.rows.filter((r) => r.capturedLength < r.originalLength).length,
    warnings,
  });
  expect(ours.packetInterfaces).toEqual(ours.rows.length > 0 ? [`${linkType}/0`] : []);
}

// ---------------------------------------------------------------------------------------------------------
// The fixtures

const captureFiles = readdirSync(FIXTURES)
  .filter((file) => /\.pcap(ng)?$/.test(file))
  .sort();
const isClassic = (file: string): boolean =>
  [MAGIC_US_BE, MAGIC_US_LE, MAGIC_NS_BE, MAGIC_NS_LE].includes(magicOf(join(FIXTURES, file)));
const classicFixtures = captureFiles.filter(isClassic);
const otherFixtures = captureFiles.filter((file) => !isClassic(file));

describe('our classic pcap reader agrees with pcap-parser on every fixture', () => {
  it('covers both byte orders and both fractions, and every capture fixture is either classic or pcapng', () => {
    expect(classicFixtures.length).toBeGreaterThanOrEqual(20);
    expect(classicFixtures).toContain('edge-bigendian.pcap');
    expect(classicFixtures).toContain('edge-nsec.pcap');
    const magics = new Set(classicFixtures.map((file) => magicOf(join(FIXTURES, file))));
    expect([...magics].sort((a, b) => a - b)).toEqual([MAGIC_NS_LE, MAGIC_US_BE, MAGIC_US_LE].sort((a, b) => a - b));
    // Anything else must be pcapng (read by pcapng.ts, outside pcap-parser's scope), named in its own test below.
    expect(otherFixtures.filter((file) => magicOf(join(FIXTURES, file)) !== PCAPNG_MAGIC)).toEqual([]);
    // And each is named for what it is (editcap writes pcapng unless told otherwise: three once were not).
    expect(classicFixtures.filter((file) => !file.endsWith('.pcap'))).toEqual([]);
    expect(otherFixtures.filter((file) => !file.endsWith('.pcapng'))).toEqual([]);
  });

  it.each(classicFixtures)('%s', async (file) => {
    const path = join(FIXTURES, file);
    const magic = magicOf(path);
    const nanoseconds = magic === MAGIC_NS_BE || magic === MAGIC_NS_LE;
    const oracle = forPcapParser(path, file);
    if (nanoseconds) {
      // Why the copy: pcap-parser refuses the nanosecond magic itself.
      const refused = await readTheirs(path, 1);
      expect(refused.error?.message).toBe(`unknown magic number: ${readFileSync(path).toString('hex', 0, 4)}`);
      expect(refused.rows).toEqual([]);
    }
    const ours = await readOurs(path);
    const theirs = await readTheirs(oracle.path, oracle.nsecPerUnit);
    expect(theirs.error).toBeUndefined();
    expectSamePackets(file, ours.rows, theirs.rows);
    expectSummaryAgrees(ours, theirs, nanoseconds);
    if (nanoseconds) {
      // The fractions stored are nanoseconds (beyond any microsecond value), compared as such.
      expect(theirs.rows.some((row) => row.tsNsec >= 1_000_000)).toBe(true);
    }
  });

  // Named rather than skipped: the pcapng fixtures are read by our pcapng reader, never by pcap-parser.
  it.each(otherFixtures)('%s is pcapng: outside pcap-parser, read by our pcapng reader', async (file) => {
    const path = join(FIXTURES, file);
    const theirs = await readTheirs(path, 1000);
    expect(theirs.error?.message).toBe('unknown magic number: 0a0d0d0a');
    const ours = await readOurs(path);
    expect(ours.summary.format).toBe('pcapng');
    expect(ours.rows.length).toBeGreaterThan(0);
  });

  it('the comparison catches a single flipped byte and a changed fraction', async () => {
    const file = 'nginx-tls12-reused.pcap';
    const original = readFileSync(join(FIXTURES, file));
    const reference = await readTheirs(join(FIXTURES, file), 1000);
    // Record offsets from the oracle's lengths.
    const starts: number[] = [];
    let at = GLOBAL_HEADER_BYTES;
    for (const row of reference.rows) {
      starts.push(at);
      at += RECORD_HEADER_BYTES + row.capturedLength;
    }
    expect(at).toBe(original.length);
    const flipped = Buffer.from(original);
    flipped[starts[7]! + RECORD_HEADER_BYTES + 40]! ^= 0x01;
    flipped.writeUInt32LE(flipped.readUInt32LE(starts[11]! + 4) ^ 1, starts[11]! + 4);
    const ours = await readOurs(join(FIXTURES, file));
    const theirs = await readTheirs(tmp.file('flipped.pcap', flipped), 1000);
    expect(firstDifference(ours.rows, theirs.rows)).toMatchObject({ index: 7, field: 'sha256' });
    expect(firstDifference(ours.rows.slice(8), theirs.rows.slice(8))).toMatchObject({ index: 3, field: 'tsNsec' });
    expect(firstDifference(ours.rows.slice(0, -1), reference.rows)).toMatchObject({
      index: ours.rows.length - 1,
      field: 'count',
    });
    expect(firstDifference(ours.rows, reference.rows)).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------------------
// Records straddling the read chunks

const SEED = Number(process.env.PCAP_DIFF_SEED ?? 20_240_613);
/** Largest filler packet: well below a chunk, so the gap before each planned record can be closed exactly. */
const FILLER_MAX = 65_535;
const ETHERNET_FRAME = 1514;

/**
 * Where one chunk boundary is planned to fall: `at` bytes of a `size`-byte packet's record (16-byte header
 * + body) lie before it. The first two come first so the truncation tests can cut small files from them.
 */
const PLANNED: { at: number; size: number }[] = [
  { at: 8, size: ETHERNET_FRAME },
  { at: RECORD_HEADER_BYTES + MAX_PACKET_BYTES / 2, size: MAX_PACKET_BYTES },
  ...Array.from({ length: RECORD_HEADER_BYTES }, (_, at) => ({ at, size: 200 + at * 97 })).filter((p) => p.at !== 8),
  { at: RECORD_HEADER_BYTES, size: ETHERNET_FRAME },
  { at: RECORD_HEADER_BYTES, size: 0 },
  { at: RECORD_HEADER_BYTES + 1, size: ETHERNET_FRAME },
  { at: RECORD_HEADER_BYTES + ETHERNET_FRAME / 2, size: ETHERNET_FRAME },
  { at: RECORD_HEADER_BYTES + ETHERNET_FRAME - 1, size: ETHERNET_FRAME },
  { at: 10, size: MAX_PACKET_BYTES },
  { at: RECORD_HEADER_BYTES, size: MAX_PACKET_BYTES },
  { at: RECORD_HEADER_BYTES + 1, size: MAX_PACKET_BYTES },
  { at: RECORD_HEADER_BYTES + MAX_PACKET_BYTES - 1, size: MAX_PACKET_BYTES },
];

/** Where a boundary falls in a record, as the coverage check names it. */
function boundaryKinds(at: number, size: number): string[] {
  const packet = size === 0 ? 'empty' : size === MAX_PACKET_BYTES ? 'max-size' : 'ordinary';
  if (at < RECORD_HEADER_BYTES) return [`before header byte ${at}`, `${packet}: before header byte ${at}`];
  const body = at - RECORD_HEADER_BYTES;
  if (body === 0) return [`${packet}: between header and body`];
  if (body === 1) return [`${packet}: after the first body byte`];
  if (body === size - 1) return [`${packet}: before the last body byte`];
  return [`${packet}: inside the body`];
}

const REQUIRED_KINDS = [
  ...Array.from({ length: RECORD_HEADER_BYTES }, (_, at) => `before header byte ${at}`),
  'max-size: before header byte 10',
  ...['ordinary', 'max-size', 'empty'].map((packet) => `${packet}: between header and body`),
  ...['ordinary', 'max-size'].flatMap((packet) =>
    ['after the first body byte', 'inside the body', 'before the last body byte'].map((where) => `${packet}: ${where}`),
  ),
];

interface ChunkPlan {
  packets: ClassicPacket[];
  /** Offset of each record from the end of the global header. */
  starts: number[];
  /** Index of the packet each PLANNED boundary falls in. */
  plannedIndex: number[];
}

function planChunkFile(seed: number): ChunkPlan {
  const random = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
  // Frame bytes are slices of one random pool at random offsets: cheap, and no two packets alike.
  const pool = Buffer.alloc(MAX_PACKET_BYTES + 4 * FILLER_MAX);
  for (let i = 0; i < pool.length; i += 4) pool.writeUInt32LE(int(0, 0xffff_ffff), i);
  const packets: ClassicPacket[] = [];
  const starts: number[] = [];
  const plannedIndex: number[] = [];
  let cursor = 0;
  const push = (size: number): void => {
    if (!(size >= 0 && size <= MAX_PACKET_BYTES)) throw new Error(`plan: packet size ${size}`);
    const offset = int(0, pool.length - size);
    starts.push(cursor);
    packets.push({
      tsSec: int(0, 0xffff_ffff), // the whole u32 range: a signed read would show
      tsFrac: int(0, 999_999),
      data: pool.subarray(offset, offset + size),
      originalLength: random() < 0.25 ? size + int(1, 4000) : size,
    });
    cursor += RECORD_HEADER_BYTES + size;
  };
  const fillerSize = (): number => {
    const r = random();
    if (r < 0.15) return int(0, 60);
    if (r < 0.6) return int(60, ETHERNET_FRAME);
    if (r < 0.9) return int(ETHERNET_FRAME, 9000);
    return int(9000, FILLER_MAX);
  };
  const step = RECORD_HEADER_BYTES + FILLER_MAX;
  PLANNED.forEach(({ at, size }, i) => {
    const start = (i + 1) * READ_CHUNK_BYTES - at;
    if (start - cursor <= 2 * step) throw new Error('plan: planned records too close');
    while (start - cursor > 2 * step) push(fillerSize());
    // The gap is now in (step, 2*step]: two packets close it exactly.
    push(Math.floor((start - cursor) / 2) - RECORD_HEADER_BYTES);
    push(start - cursor - RECORD_HEADER_BYTES);
    plannedIndex.push(packets.length);
    push(size);
  });
  for (let i = 0; i < 10; i++) push(fillerSize());
  return { packets, starts, plannedIndex };
}

/** The file positions of every read our reader makes through a FileHandle while `run` runs. */
async function recordingReads<T>(run: () => Promise<T>): Promise<{ result: T; positions: number[] }> {
  const probe = await open(join(FIXTURES, classicFixtures[0]!), 'r');
  const fileHandlePrototype = Object.getPrototypeOf(probe) as { read: (...args: unknown[]) => Promise<unknown> };
  await probe.close();
  const spy = vi.spyOn(fileHandlePrototype, 'read');
  try {
    const result = await run();
    // The reader reads forward (it also takes pipes), one read at a time: each starts where the ones before ended.
    const reads = await Promise.all(spy.mock.results.map((r) => r.value as Promise<{ bytesRead: number }>));
    let at = 0;
    const positions = reads.map(({ bytesRead }) => {
      const start = at;
      at += bytesRead;
      return start;
    });
    return { result, positions };
  } finally {
    spy.mockRestore();
  }
}

/** The record a record-stream offset falls in. */
function recordAt(plan: ChunkPlan, offset: number): number {
  let lo = 0;
  let hi = plan.starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (plan.starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const plan = planChunkFile(SEED);
const byteOrders = [
  { name: 'little-endian', littleEndian: true },
  { name: 'big-endian', littleEndian: false },
] as const;
const generated = new Map<boolean, { path: string; bytes: Buffer; theirs: Promise<TheirRead> }>();

/** The generated file of one byte order (written once), with pcap-parser's reading of it. */
function chunkFile(littleEndian: boolean): { path: string; bytes: Buffer; theirs: Promise<TheirRead> } {
  let file = generated.get(littleEndian);
  if (file === undefined) {
    const bytes = classicPcap(plan.packets, { littleEndian, snapLength: MAX_PACKET_BYTES });
    const path = tmp.file(`chunks-${littleEndian ? 'le' : 'be'}.pcap`, bytes);
    file = { path, bytes, theirs: readTheirs(path, 1000) };
    generated.set(littleEndian, file);
  }
  return file;
}

describe(`records straddling our reader's read chunks (seed ${SEED}; PCAP_DIFF_SEED=n to vary)`, () => {
  for (const { name, littleEndian } of byteOrders) {
    it(`${name}: every packet of a file over 2 MiB matches pcap-parser`, async () => {
      const file = chunkFile(littleEndian);
      const { result: ours, positions } = await recordingReads(() => readOurs(file.path));
      const theirs = await file.theirs;
      expect(theirs.error).toBeUndefined();
      expect(file.bytes.length).toBeGreaterThan(2 * READ_CHUNK_BYTES);
      expect(ours.rows).toHaveLength(plan.packets.length);
      expectSamePackets(`${name} chunk file`, ours.rows, theirs.rows);
      expectSummaryAgrees(ours, theirs, false);

      // Where the reader's chunks really ended (each read after the first starts at a boundary), and what
      // each boundary cut: the file exercises what it claims only if every required kind occurred.
      const boundaries = positions.filter((p) => p > GLOBAL_HEADER_BYTES && p < file.bytes.length);
      expect(boundaries.length, `reads at ${positions.join(', ')}`).toBeGreaterThanOrEqual(PLANNED.length);
      const kinds = new Set<string>();
      for (const boundary of boundaries) {
        const offset = boundary - GLOBAL_HEADER_BYTES;
        const index = recordAt(plan, offset);
        const at = offset - plan.starts[index]!;
        for (const kind of boundaryKinds(at, plan.packets[index]!.data.length)) kinds.add(kind);
        // A boundary right after an empty packet's header is also the next record's start.
        if (at === 0 && plan.packets[index - 1]?.data.length === 0) {
          kinds.add('empty: between header and body');
        }
      }
      expect(
        REQUIRED_KINDS.filter((kind) => !kinds.has(kind)),
        `chunk boundaries at ${boundaries.join(', ')} missed these cases (did READ_CHUNK_BYTES change?)`,
      ).toEqual([]);
    });
  }
});

// The nanosecond fixture is little-endian and converted from a microsecond capture (every fraction a
// multiple of 1000): generated files add the big-endian magic and fractions below the microsecond.
describe('nanosecond files of both byte orders', () => {
  for (const { name, littleEndian } of byteOrders) {
    it(`${name}: fractions below the microsecond match pcap-parser's (via the microsecond magic)`, async () => {
      const random = prng(SEED ^ 0x5eed);
      const packets = plan.packets.slice(0, 400).map((p) => ({ ...p, tsFrac: Math.floor(random() * 1e9) }));
      const bytes = classicPcap(packets, { littleEndian, nanoseconds: true, snapLength: MAX_PACKET_BYTES });
      const path = tmp.file(`nsec-${littleEndian ? 'le' : 'be'}.pcap`, bytes);
      expect(magicOf(path)).toBe(littleEndian ? MAGIC_NS_LE : MAGIC_NS_BE);
      const oracle = forPcapParser(path, `nsec-${littleEndian ? 'le' : 'be'}`);
      expect(oracle.nsecPerUnit).toBe(1);
      const ours = await readOurs(path);
      const theirs = await readTheirs(oracle.path, oracle.nsecPerUnit);
      expect(theirs.error).toBeUndefined();
      expect(ours.rows).toHaveLength(packets.length);
      expectSamePackets(`${name} nanosecond file`, ours.rows, theirs.rows);
      expectSummaryAgrees(ours, theirs, true);
      expect(ours.rows.filter((row) => row.tsNsec % 1000 !== 0).length).toBeGreaterThan(300);
    });
  }
});

// ---------------------------------------------------------------------------------------------------------
// Files cut inside their last packet

describe('a file cut inside its last packet', () => {
  /**
   * Both readers on the cut file (pcap-parser on `theirPath`, the same bytes unless the magic had to be
   * rewritten): ours warns once, and both give the packets before the cut, the uncut file's.
   */
  async function expectCut(
    label: string,
    cut: { ourPath: string; theirPath: string; nsecPerUnit: 1 | 1000 },
    complete: Row[],
    warning: string,
  ): Promise<void> {
    const ours = await readOurs(cut.ourPath);
    const theirs = await readTheirs(cut.theirPath, cut.nsecPerUnit);
    expect(theirs.error).toBeUndefined();
    expectSamePackets(label, ours.rows, theirs.rows);
    expect(firstDifference(ours.rows, complete), `${label}: against the uncut file's packets`).toBeNull();
    expectSummaryAgrees(ours, theirs, cut.nsecPerUnit === 1, [
      expect.objectContaining({ kind: 'truncated-file', message: expect.stringContaining(warning) as unknown }),
    ]);
    expect(ours.summary.warnings[0]!.message).toContain(cut.ourPath);
  }

  for (const file of ['nginx-tls13-fresh.pcap', 'edge-bigendian.pcap', 'edge-nsec.pcap']) {
    it(`${file}, inside the last body and inside the last record header`, async () => {
      const original = readFileSync(join(FIXTURES, file));
      const oracle = forPcapParser(join(FIXTURES, file), file);
      const full = await readTheirs(oracle.path, oracle.nsecPerUnit);
      const last = full.rows.at(-1)!;
      const lastStart = original.length - RECORD_HEADER_BYTES - last.capturedLength;
      const n = full.rows.length;
      const cuts = [
        { at: original.length - 1, warning: `packet ${n} (${last.capturedLength - 1} of ${last.capturedLength} bytes` },
        { at: lastStart + 6, warning: `the record header of packet ${n} (6 of 16 bytes)` },
      ];
      for (const { at, warning } of cuts) {
        const ourPath = tmp.file(`${file}.cut-${at}.pcap`, original.subarray(0, at));
        const theirPath = tmp.file(`${file}.cut-${at}.for-pcap-parser.pcap`, readFileSync(oracle.path).subarray(0, at));
        const cut = { ourPath, theirPath, nsecPerUnit: oracle.nsecPerUnit };
        await expectCut(`${file} cut at ${at}`, cut, full.rows.slice(0, -1), warning);
      }
    });
  }

  for (const { name, littleEndian } of byteOrders) {
    it(`${name}: cut where the last record straddles a read chunk`, async () => {
      const file = chunkFile(littleEndian);
      const complete = (await file.theirs).rows;
      const header8 = plan.plannedIndex[0]!; // 8 header bytes before the first boundary
      const maxMid = plan.plannedIndex[1]!; // a 262144-byte packet, half of its body before the second boundary
      const firstBoundary = GLOBAL_HEADER_BYTES + READ_CHUNK_BYTES;
      const cuts = [
        // The file ends exactly at the chunk boundary: the next read returns nothing.
        { at: firstBoundary, kept: header8, warning: `record header of packet ${header8 + 1} (8 of 16 bytes)` },
        { at: firstBoundary + 3, kept: header8, warning: `record header of packet ${header8 + 1} (11 of 16 bytes)` },
        {
          at: GLOBAL_HEADER_BYTES + 2 * READ_CHUNK_BYTES + 1000,
          kept: maxMid,
          warning: `packet ${maxMid + 1} (${MAX_PACKET_BYTES / 2 + 1000} of ${MAX_PACKET_BYTES} bytes)`,
        },
      ];
      for (const { at, kept, warning } of cuts) {
        const cutPath = tmp.file(`chunks-${littleEndian ? 'le' : 'be'}.cut-${at}.pcap`, file.bytes.subarray(0, at));
        const cut = { ourPath: cutPath, theirPath: cutPath, nsecPerUnit: 1000 } as const;
        await expectCut(`${name} chunk file cut at ${at}`, cut, complete.slice(0, kept), warning);
      }
    });
  }
});
