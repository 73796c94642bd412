import { afterAll, describe, expect, it } from 'vitest';
import { PcapFormatError } from '../../bench/errors.ts';
import { readCapture } from '../../bench/pcap/reader.ts';
import { ethernet, ipv4, pcapng, readAll, tcp, tempDir, type NgSection } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const ip = (n: number, payloadBytes = 10): Buffer => ipv4(tcp({ seq: n, payload: Buffer.alloc(payloadBytes, n) }));
const eth = (n: number, payloadBytes = 10): Buffer => ethernet(0x0800, ip(n, payloadBytes));

/** 2023-11-14T22:13:20Z plus a fraction, in the interface's units. */
const SEC = 1_700_000_000n;

/** Two interfaces with different link types and resolutions, EPBs on both, an SPB and blocks to skip. */
function twoInterfaceSection(littleEndian: boolean): NgSection {
  return {
    littleEndian,
    interfaces: [
      { linkType: 1, snapLength: 64 },
      { linkType: 101, snapLength: 65535, tsresol: 9 },
    ],
    blocks: [
      { type: 'epb', interfaceId: 0, timestamp: SEC * 1_000_000n + 123_456n, data: eth(1) },
      { type: 'raw', blockType: 4, body: Buffer.from([1, 0, 8, 0, 10, 0, 0, 1, 0x68, 0x6f, 0x73, 0x74, 0, 0, 0, 0]) },
      { type: 'epb', interfaceId: 1, timestamp: SEC * 1_000_000_000n + 987_654_321n, data: ip(2), originalLength: 900 },
      { type: 'spb', data: eth(3, 100).subarray(0, 64), originalLength: eth(3, 100).length },
      { type: 'raw', blockType: 5, body: Buffer.alloc(20) },
      { type: 'raw', blockType: 0x40000bad, body: Buffer.from('custom block to skip') },
    ],
  };
}

async function expectFormatError(path: string, pattern: RegExp): Promise<void> {
  const error = await readCapture(path, () => {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PcapFormatError);
  expect((error as Error).message).toContain(path);
  expect((error as Error).message).toMatch(pattern);
  expect((error as Error).message).not.toContain('\n');
}

describe('pcapng', () => {
  for (const littleEndian of [true, false]) {
    const order = littleEndian ? 'little' : 'big';
    it(`reads two interfaces of different link types, EPB and SPB, ${order}-endian`, async () => {
      const path = tmp.file(`two-if-${littleEndian}.pcapng`, pcapng([twoInterfaceSection(littleEndian)]));
      const { packets, summary } = await readAll(path);
      expect(summary).toEqual({
        format: 'pcapng',
        timestampResolution: 'other',
        linkTypes: [1, 101],
        snapLength: 65535,
        packets: 3,
        truncatedPackets: 2,
        warnings: [],
      });
      expect(packets.map((p) => [p.interfaceId, p.linkType, p.tsSec, p.tsNsec])).toEqual([
        [0, 1, 1_700_000_000, 123_456_000],
        [1, 101, 1_700_000_000, 987_654_321],
        [0, 1, 0, 0],
      ]);
      expect(packets[0]!.data).toEqual(eth(1));
      expect(packets[1]).toMatchObject({ capturedLength: ip(2).length, originalLength: 900, data: ip(2) });
      // The SPB's captured length is IDB 0's snap length, not the padded room in the block.
      expect(packets[2]).toMatchObject({ capturedLength: 64, originalLength: eth(3, 100).length });
      expect(packets[2]!.data).toEqual(eth(3, 100).subarray(0, 64));
    });
  }

  it('reads an SPB shorter than the snap length without its padding', async () => {
    const data = eth(4, 1); // 55 bytes: padded to 56 in the block
    const file = pcapng([{ interfaces: [{ linkType: 1, snapLength: 0 }], blocks: [{ type: 'spb', data }] }]);
    const path = tmp.file('spb.pcapng', file);
    const { packets } = await readAll(path);
    expect(packets[0]!.data).toEqual(data);
  });

  it('starts a new interface list in each section, whatever its byte order', async () => {
    const path = tmp.file(
      'sections.pcapng',
      pcapng([
        {
          littleEndian: true,
          interfaces: [{ linkType: 1 }],
          blocks: [{ type: 'epb', interfaceId: 0, timestamp: 5_000_001n, data: eth(1) }],
        },
        {
          littleEndian: false,
          interfaces: [{ linkType: 228 }, { linkType: 113 }],
          blocks: [
            { type: 'epb', interfaceId: 0, timestamp: 7_000_002n, data: ip(2) },
            { type: 'opb', interfaceId: 1, timestamp: 9_000_003n, data: ip(3) },
          ],
        },
      ]),
    );
    const { packets, summary } = await readAll(path);
    expect(packets.map((p) => [p.interfaceId, p.linkType, p.tsSec, p.tsNsec])).toEqual([
      [0, 1, 5, 1000],
      [0, 228, 7, 2000],
      [1, 113, 9, 3000],
    ]);
    expect(summary.linkTypes).toEqual([1, 228, 113]);
    expect(summary.timestampResolution).toBe('us');
  });

  it('converts if_tsresol powers of 10 and of 2, and applies if_tsoffset', async () => {
    // Picoseconds since the epoch overflow 64 bits; the low 64 bits still make a valid timestamp.
    const picoseconds = 1_700_000_000_123_456_789_012n & 0xffff_ffff_ffff_ffffn;
    const path = tmp.file(
      'tsresol.pcapng',
      pcapng([
        {
          interfaces: [
            { linkType: 1, tsresol: 9 },
            { linkType: 1, tsresol: 0x80 | 10 }, // 1/1024 s
            { linkType: 1, tsresol: 3, tsoffset: 1_000_000n },
            { linkType: 1, tsresol: 12 },
          ],
          blocks: [
            // Above 2^53 at nanosecond resolution: must not lose the low digits.
            { type: 'epb', interfaceId: 0, timestamp: 9_007_199_254_740_993n, data: eth(1) },
            { type: 'epb', interfaceId: 1, timestamp: 5n * 1024n + 512n, data: eth(2) },
            { type: 'epb', interfaceId: 2, timestamp: 42_250n, data: eth(3) },
            { type: 'epb', interfaceId: 3, timestamp: picoseconds, data: eth(4) },
          ],
        },
      ]),
    );
    const { packets, summary } = await readAll(path);
    expect(packets.map((p) => [p.tsSec, p.tsNsec])).toEqual([
      [9_007_199, 254_740_993],
      [5, 500_000_000],
      [1_000_042, 250_000_000],
      [Number(picoseconds / 1_000_000_000_000n), Number((picoseconds % 1_000_000_000_000n) / 1000n)],
    ]);
    expect(summary.timestampResolution).toBe('other');
  });

  it('says ns when every interface is nanosecond', async () => {
    const interfaces = [
      { linkType: 1, tsresol: 9 },
      { linkType: 101, tsresol: 9 },
    ];
    const path = tmp.file('ns.pcapng', pcapng([{ interfaces, blocks: [] }]));
    expect((await readAll(path)).summary.timestampResolution).toBe('ns');
  });

  it('streams files larger than its buffer, including a block larger than the buffer', async () => {
    const blocks: NgSection['blocks'] = [];
    for (let i = 0; i < 2000; i++) {
      const data = eth(i & 0xff, (i * 7919) % 1400);
      blocks.push({ type: 'epb', interfaceId: 0, timestamp: BigInt(i) * 1_000_000n, data });
      if (i === 1000) blocks.push({ type: 'raw', blockType: 0x0bad, body: Buffer.alloc(3 * 1024 * 1024, 1) });
    }
    const path = tmp.file('large.pcapng', pcapng([{ interfaces: [{ linkType: 1 }], blocks }]));
    const { packets } = await readAll(path);
    expect(packets).toHaveLength(2000);
    expect(packets.map((p) => p.tsSec)).toEqual(blocks.filter((b) => b.type === 'epb').map((_, i) => i));
    const expected = blocks.flatMap((b) => (b.type === 'epb' ? [b.data] : []));
    expect(Buffer.concat(packets.map((p) => p.data)).equals(Buffer.concat(expected))).toBe(true);
  });

  it('keeps the complete packets and warns when the file ends inside a block', async () => {
    const whole = pcapng([twoInterfaceSection(true)]);
    const path = tmp.file('cut.pcapng', whole.subarray(0, whole.length - 20));
    const { packets, summary } = await readAll(path);
    expect(packets).toHaveLength(3);
    expect(summary.warnings.map((w) => w.kind)).toEqual(['truncated-file']);
    expect(summary.warnings[0]!.message).toContain(path);
    expect(summary.warnings[0]!.message).toMatch(/block 9 at byte \d+ \(12 of 32 bytes\)/);
  });

  it('skips packets of an undescribed interface with a counted warning', async () => {
    const path = tmp.file(
      'unknown-if.pcapng',
      pcapng([
        {
          interfaces: [{ linkType: 1 }],
          blocks: [
            { type: 'epb', interfaceId: 3, timestamp: 0n, data: eth(1) },
            { type: 'epb', interfaceId: 0, timestamp: 0n, data: eth(2) },
          ],
        },
      ]),
    );
    const { packets, summary } = await readAll(path);
    expect(packets).toHaveLength(1);
    expect(summary.warnings).toEqual([expect.objectContaining({ kind: 'pcapng-unknown-interface', count: 1 })]);
  });

  describe('broken structure', () => {
    /** A valid one-packet file whose second block (the IDB, at byte 28) gets `edit` applied. */
    function corrupt(name: string, edit: (file: Buffer) => void): string {
      const blocks: NgSection['blocks'] = [{ type: 'epb', interfaceId: 0, timestamp: 0n, data: eth(1) }];
      const file = pcapng([{ interfaces: [{ linkType: 1 }], blocks }]);
      edit(file);
      return tmp.file(name, file);
    }

    it('block length not a multiple of 4', async () => {
      const path = corrupt('len-odd.pcapng', (f) => f.writeUInt32LE(22, 32));
      await expectFormatError(path, /block 2 at byte 28: invalid block length 22/);
    });

    it('block length below 12', async () => {
      await expectFormatError(corrupt('len-small.pcapng', (f) => f.writeUInt32LE(8, 32)), /invalid block length 8/);
    });

    it('absurd block length', async () => {
      const path = corrupt('len-huge.pcapng', (f) => f.writeUInt32LE(0x7fff_fff0, 32));
      await expectFormatError(path, /invalid block length 2147483632/);
    });

    it('trailing length differing from the leading one', async () => {
      await expectFormatError(
        corrupt('len-trailing.pcapng', (f) => f.writeUInt32LE(24, 28 + 20 - 4)),
        /trailing block length 24 differs from the leading 20/,
      );
    });

    it('captured length past the end of its block', async () => {
      await expectFormatError(
        corrupt('epb-caplen.pcapng', (f) => f.writeUInt32LE(4000, 48 + 20)),
        /block 3 at byte 48: captured length 4000 does not fit/,
      );
    });

    it('unknown byte-order magic', async () => {
      const path = corrupt('bom.pcapng', (f) => f.writeUInt32LE(0x12345678, 8));
      await expectFormatError(path, /unknown byte-order magic 0x78563412/);
    });

    it('truncated section header', async () => {
      const path = tmp.file('shb-cut.pcapng', pcapng([{ interfaces: [], blocks: [] }]).subarray(0, 16));
      await expectFormatError(path, /truncated pcapng section header block \(16 of 28 bytes\)/);
    });
  });
});
