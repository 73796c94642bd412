import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError, PcapFormatError } from '../../bench/errors.ts';
import { readCapture } from '../../bench/pcap/reader.ts';
import { classicPcap, ethernet, ipv4, readAll, tcp, tempDir, type ClassicPacket } from './helpers.ts';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const frame = (n: number, payloadBytes = 10): Buffer =>
  ethernet(0x0800, ipv4(tcp({ seq: n, payload: Buffer.alloc(payloadBytes, n & 0xff) })));

const threePackets: ClassicPacket[] = [
  { tsSec: 1_700_000_000, tsFrac: 1, data: frame(1) },
  { tsSec: 1_700_000_001, tsFrac: 999_999, data: frame(2, 100), originalLength: 1500 },
  { tsSec: 1_700_000_002, tsFrac: 500_000, data: frame(3, 0) },
];

/** Asserts a rejection of the given class whose one-line message names the file and matches `pattern`. */
async function expectFailure(path: string, errorClass: typeof InputError, pattern: RegExp): Promise<void> {
  const error = await readCapture(path, () => {}).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(errorClass);
  const message = (error as Error).message;
  expect(message).toContain(path);
  expect(message).toMatch(pattern);
  expect(message).not.toContain('\n');
}

describe('classic pcap', () => {
  for (const littleEndian of [true, false]) {
    for (const nanoseconds of [false, true]) {
      const name = `${littleEndian ? 'little' : 'big'}-endian, ${nanoseconds ? 'nanosecond' : 'microsecond'}`;
      it(`reads ${name} files`, async () => {
        const packets = threePackets.map((p) => ({ ...p, tsFrac: nanoseconds ? p.tsFrac * 1000 + 7 : p.tsFrac }));
        const path = tmp.file(`${name}.pcap`, classicPcap(packets, { littleEndian, nanoseconds, snapLength: 65535 }));
        const { packets: read, summary } = await readAll(path);

        expect(summary).toEqual({
          format: 'pcap',
          timestampResolution: nanoseconds ? 'ns' : 'us',
          linkTypes: [1],
          snapLength: 65535,
          packets: 3,
          truncatedPackets: 1,
          warnings: [],
        });
        expect(read.map((p) => [p.tsSec, p.tsNsec])).toEqual(
          nanoseconds
            ? [[1_700_000_000, 1007], [1_700_000_001, 999_999_007], [1_700_000_002, 500_000_007]]
            : [[1_700_000_000, 1000], [1_700_000_001, 999_999_000], [1_700_000_002, 500_000_000]],
        );
        expect(read.map((p) => p.data)).toEqual(threePackets.map((p) => p.data));
        expect(read[1]).toMatchObject({ capturedLength: threePackets[1]!.data.length, originalLength: 1500 });
        expect(read.every((p) => p.linkType === 1 && p.interfaceId === 0)).toBe(true);
      });
    }
  }

  it('masks the FCS bits out of the link-type field', async () => {
    const path = tmp.file('fcs.pcap', classicPcap(threePackets, { linkType: 0x1000_0000 | 101 }));
    const { packets, summary } = await readAll(path);
    expect(summary.linkTypes).toEqual([101]);
    expect(packets[0]!.linkType).toBe(101);
  });

  it('reads a file with no packets', async () => {
    const { packets, summary } = await readAll(tmp.file('header-only.pcap', classicPcap([])));
    expect(packets).toEqual([]);
    expect(summary.packets).toBe(0);
    expect(summary.warnings).toEqual([]);
  });

  it('delivers every packet of a file larger than the read chunks, byte for byte', async () => {
    const packets: ClassicPacket[] = [];
    for (let i = 0; i < 3000; i++) packets.push({ tsSec: i, tsFrac: i, data: frame(i, (i * 7919) % 1400) });
    const path = tmp.file('many.pcap', classicPcap(packets));
    const { packets: read, summary } = await readAll(path);
    expect(summary.packets).toBe(3000);
    // Compared as lengths plus one concatenation: a deep comparison of 3000 Buffers is needlessly slow.
    expect(read.map((p) => p.data.length)).toEqual(packets.map((p) => p.data.length));
    expect(Buffer.concat(read.map((p) => p.data)).equals(Buffer.concat(packets.map((p) => p.data)))).toBe(true);
    expect(read.map((p) => p.tsSec)).toEqual(packets.map((p) => p.tsSec));
  });

  it('keeps the complete packets and warns when the file ends inside a packet', async () => {
    const whole = classicPcap(threePackets);
    const path = tmp.file('cut-body.pcap', whole.subarray(0, whole.length - 5));
    const { packets, summary } = await readAll(path);
    expect(packets).toHaveLength(2);
    expect(summary.warnings).toHaveLength(1);
    expect(summary.warnings[0]).toMatchObject({ kind: 'truncated-file' });
    expect(summary.warnings[0]!.message).toContain(path);
    expect(summary.warnings[0]!.message).toContain(`packet 3 (${threePackets[2]!.data.length - 5} of`);
  });

  it('warns when the file ends inside a record header', async () => {
    const whole = classicPcap(threePackets);
    const cut = whole.length - threePackets[2]!.data.length - 10;
    const { packets, summary } = await readAll(tmp.file('cut-header.pcap', whole.subarray(0, cut)));
    expect(packets).toHaveLength(2);
    expect(summary.warnings.map((w) => w.kind)).toEqual(['truncated-file']);
    expect(summary.warnings[0]!.message).toContain('record header of packet 3 (6 of 16 bytes)');
  });

  it('rejects a captured length above the snap length at its header, naming the packet', async () => {
    const packets = [...threePackets];
    packets[1] = { ...packets[1]!, capturedLength: 70_000 };
    const path = tmp.file('absurd-snap.pcap', classicPcap(packets, { snapLength: 65535 }));
    await expectFailure(path, PcapFormatError, /packet 2 claims 70000 captured bytes, more than the snap length 65535/);
  });

  it('rejects a captured length above 256 KiB when the snap length is 0', async () => {
    const packets = [{ ...threePackets[0]!, capturedLength: 0xfff0_0000 }];
    const path = tmp.file('absurd-zero.pcap', classicPcap(packets, { snapLength: 0, littleEndian: false }));
    await expectFailure(path, PcapFormatError, /packet 1 claims 4293918720 captured bytes, more than 262144 bytes/);
  });

  it('rethrows an exception from the packet callback and stops reading', async () => {
    const path = tmp.file('callback.pcap', classicPcap(threePackets));
    let calls = 0;
    const failure = new Error('consumer failed');
    await expect(
      readCapture(path, () => {
        calls += 1;
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(calls).toBe(1);
  });

  describe('unusable files', () => {
    it('missing file', async () => {
      await expectFailure(join(tmp.dir, 'does-not-exist.pcap'), InputError, /no such file/);
    });

    it('directory', async () => {
      const path = join(tmp.dir, 'a-directory.pcap');
      mkdirSync(path);
      await expectFailure(path, InputError, /is a directory/);
    });

    it('empty file', async () => {
      await expectFailure(tmp.file('empty.pcap', Buffer.alloc(0)), PcapFormatError, /is empty/);
    });

    it('unknown magic', async () => {
      const path = tmp.file('text.pcap', Buffer.from('this is not a capture at all, just text\n'));
      await expectFailure(path, PcapFormatError, /unknown magic 74686973/);
    });

    it('gzip data cut short before any byte of the capture', async () => {
      const path = tmp.file('capture.pcap.gz', Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0]));
      await expectFailure(path, PcapFormatError, /capture\.pcap\.gz: the gzip data is cut short before any of the capture could be decompressed/);
    });

    it('truncated global header', async () => {
      const path = tmp.file('short.pcap', classicPcap([]).subarray(0, 10));
      await expectFailure(path, PcapFormatError, /truncated pcap global header \(10 of 24 bytes\)/);
    });

    it('unsupported version', async () => {
      const path = tmp.file('v3.pcap', classicPcap(threePackets, { versionMajor: 3 }));
      await expectFailure(path, PcapFormatError, /unsupported pcap version 3/);
    });
  });
});
