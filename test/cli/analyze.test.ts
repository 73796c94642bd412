/** `tls-reuse-bench analyze` through the real command line: its table, its JSON, and its bad-input errors. */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { analyzeCapture } from '../../bench/analyze/capture.ts';
import { renderAnalysis } from '../../bench/cli/analyze.ts';
import { classicPcap, ethernet, ipv4, prng, tcp } from '../pcap/helpers.ts';
import { BIN, cli, ROOT } from '../run/support.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'trb-analyze-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const fixture = (name: string) => path.join(ROOT, 'fixtures/pcaps', name);
const file = (name: string, bytes: Buffer) => {
  const p = path.join(dir, name);
  writeFileSync(p, bytes);
  return p;
};

describe('analyze for an auditor (issue 14)', () => {
  const tsharkPresent = execa('tshark', ['--version'], { reject: false }).then((r) => r.exitCode === 0, () => false);

  it('start, duration, frames and bytes each way per connection are what tshark -z conv,tcp says (Wireshark Conversations)', async (ctx) => {
    if (!(await tsharkPresent)) return ctx.skip('tshark is not installed');
    const capture = fixture('nginx-tls13-fresh.pcap');
    const csvPath = path.join(dir, 'conv.csv');
    expect((await cli(['analyze', capture, '--csv', csvPath])).exitCode).toBe(0);
    const [header, ...rows] = readFileSync(csvPath, 'utf8').trim().split('\n').map((line) => line.split(','));
    const col = (row: string[], name: string): string => row[header!.indexOf(name)]!;
    const conv = (await execa('tshark', ['-r', capture, '-q', '-z', 'conv,tcp'])).stdout;
    // `A:port <-> B:port  frames bytes (B to A)  frames bytes (A to B)  frames bytes (total)  start  duration`
    const lines = conv.split('\n').filter((line) => / <-> /.test(line));
    expect(lines).toHaveLength(rows.length);
    for (const line of lines) {
      const m = /^(\S+):(\d+)\s+<->\s+(\S+):(\d+)\s+(\d+) (\d+) (bytes|kB)\s+(\d+) (\d+) (bytes|kB)\s+\d+ \d+ (?:bytes|kB)\s+([\d.]+)\s+([\d.]+)$/.exec(line.trim());
      expect(m, line).not.toBeNull();
      const [, , portA, , , toAFrames, toABytes, toAUnit, toBFrames, toBBytes, toBUnit, start, duration] = m!;
      // tshark lists the side that sent the first packet first here: the clients of these connections.
      const row = rows.find((r) => col(r, 'client_port') === portA)!;
      expect(row, `connection from port ${portA}`).toBeDefined();
      expect(Number(col(row, 'up_frames'))).toBe(Number(toBFrames));
      expect(Number(col(row, 'down_frames'))).toBe(Number(toAFrames));
      const bytesMatch = (ours: number, shown: string, unit: string): boolean =>
        // tshark 4.0 prints sizes from 10,000 up in whole kB, rounded down (format_size): exact below that.
        unit === 'bytes' ? ours === Number(shown) : Math.floor(ours / 1000) === Number(shown);
      expect(bytesMatch(Number(col(row, 'up_wire_bytes')), toBBytes!, toBUnit!)).toBe(true);
      expect(bytesMatch(Number(col(row, 'down_wire_bytes')), toABytes!, toAUnit!)).toBe(true);
      expect(Number(col(row, 'start_s'))).toBeCloseTo(Number(start), 6);
      expect(Number(col(row, 'duration_s')).toFixed(4)).toBe(Number(duration).toFixed(4));
    }
  });

  it('a capture where most connections resumed their TLS session says so beside "NOT reused"', async () => {
    const result = await cli(['analyze', fixture('nginx-tls13-resumed.pcap')]);
    expect(result.stdout).toMatch(/NOT reused.*; but TLS sessions are reused: 2 of 3 TLS handshakes \(67%\) resumed a session/);
  });

  it('picks up keylog.txt beside the capture and says so', async () => {
    const folder = mkdtempSync(path.join(dir, 'run-'));
    copyFileSync(fixture('nginx-tls13-fresh.pcap'), path.join(folder, 'capture.pcap'));
    copyFileSync(fixture('nginx-tls13-fresh.keylog'), path.join(folder, 'keylog.txt'));
    const result = await cli(['analyze', path.join(folder, 'capture.pcap')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`key log: ${path.join(folder, 'keylog.txt')}, found beside the capture: secrets for 3 connections`);
    expect(result.stdout).not.toMatch(/no key log was given|inexact/);
  });

  it('--csv that cannot be written is one line naming the flag, exit 2, before any work', async () => {
    const result = await cli(['analyze', fixture('nginx-tls13-fresh.pcap'), '--csv', path.join(dir, 'missing-dir', 'x.csv')]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toMatch(/^error: --csv: cannot write .*x\.csv: ENOENT$/);
  });
});

describe('analyze', () => {
  describe('streams from pipes and through compression (issue 13 #11)', async () => {
    const { gzipSync } = await import('node:zlib');
    const totalsOf = (stdout: string) => (JSON.parse(stdout) as { total: unknown }).total;
    const cases: [string, string][] = [
      ['a classic pcap', 'nginx-tls13-reused.pcap'],
      ['a pcapng', 'edge-two-linktypes.pcapng'],
    ];
    it.each(cases)('%s from a pipe as /dev/stdin, as -, gzip-compressed on stdin and zstd-compressed in a file', async (_, name) => {
      const plain = readFileSync(fixture(name));
      const expected = (await analyzeCapture(fixture(name))).total;
      // A shell's pipe (execa's `input` is a socket, which /dev/stdin cannot reopen): it used to fail with ESPIPE.
      const viaDevStdin = await execa('sh', ['-c', `cat "$0" | "$1" "$2" analyze /dev/stdin --json`, fixture(name), process.execPath, BIN], { reject: false });
      expect(viaDevStdin.stderr).toBe('');
      expect(totalsOf(viaDevStdin.stdout)).toEqual(expected);
      const gzipped = await execa(process.execPath, [BIN, 'analyze', '-', '--json'], { input: gzipSync(plain), reject: false });
      expect(gzipped.stderr).toBe('');
      expect(totalsOf(gzipped.stdout)).toEqual(expected);
      expect(JSON.parse(gzipped.stdout).file).toMatchObject({ path: '-', compression: 'gzip' });
      const zst = path.join(dir, `${name}.zst`);
      await execa('zstd', ['-q', '-f', '-o', zst, fixture(name)]);
      const zstd = await execa(process.execPath, [BIN, 'analyze', zst, '--json'], { reject: false });
      expect(zstd.stderr).toBe('');
      expect(totalsOf(zstd.stdout)).toEqual(expected);
      expect(JSON.parse(zstd.stdout).file).toMatchObject({ compression: 'zstd' });
    });

    it('corrupt compressed data is one line naming the file, exit 2', async () => {
      const gz = gzipSync(readFileSync(fixture('nginx-tls13-reused.pcap')));
      gz.fill(0xff, 200, 260); // deflate blocks overwritten: an invalid code or a failed CRC, not an early end
      const bad = file('bad.pcap.gz', gz);
      const result = await execa(process.execPath, [BIN, 'analyze', bad], { reject: false });
      expect(result.exitCode).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toMatch(/bad\.pcap\.gz: the gzip data is corrupt or cut short: /);
    });

    it('a compressed capture cut short reads as the plain capture cut at the same byte: its packets, a warning, exit 0', async () => {
      const { gunzipSync, constants } = await import('node:zlib');
      const random = prng(0x3c);
      // 300 segments of 1,400 random bytes (incompressible: zstd writes several blocks) in one connection.
      const packets = Array.from({ length: 300 }, (_, i) => {
        const payload = Buffer.from(Array.from({ length: 1400 }, () => Math.floor(random() * 256)));
        const segment = tcp({ srcPort: 40000, dstPort: 443, seq: 1000 + i * 1400, flags: i === 0 ? 0x02 : 0x18, payload: i === 0 ? Buffer.alloc(0) : payload });
        return { tsSec: 1_700_000_000, tsFrac: i * 1000, data: ethernet(0x0800, ipv4(segment)) };
      });
      const plain = classicPcap(packets);
      const zstPath = path.join(dir, 'whole.pcap.zst');
      writeFileSync(path.join(dir, 'whole.pcap'), plain);
      await execa('zstd', ['-q', '-f', '-o', zstPath, path.join(dir, 'whole.pcap')]);
      const gz = gzipSync(plain);
      const zst = readFileSync(zstPath);
      const cases: [string, Buffer, (cut: Buffer) => Promise<Buffer>][] = [
        // Both decompress what they can of a cut file: zlib when told not to insist on the end, zstd -dc always.
        ['gz', gz.subarray(0, Math.floor(gz.length * 0.6)), async (cut) => gunzipSync(cut, { finishFlush: constants.Z_SYNC_FLUSH })],
        ['zst', zst.subarray(0, Math.floor(zst.length * 0.6)), async (cut) => Buffer.from((await execa('zstd', ['-dc'], { input: cut, encoding: 'buffer', reject: false })).stdout)],
        // Cut in the gzip trailer (CRC and length): every packet is there, only the end of the stream is not.
        ['trailer.gz', gz.subarray(0, gz.length - 4), async () => plain],
      ];
      for (const [name, cut, decompress] of cases) {
        const prefix = await decompress(cut);
        expect(prefix.length, name).toBeGreaterThan(24);
        const expected = await analyzeCapture(file(`cut-${name}.pcap`, prefix));
        const capture = file(`cut.pcap.${name}`, cut);
        const result = await execa(process.execPath, [BIN, 'analyze', capture, '--json'], { reject: false });
        expect(result.exitCode, name).toBe(0);
        expect(result.stderr).toBe('');
        const document = JSON.parse(result.stdout);
        expect(document.total, name).toEqual(expected.total);
        expect(document.file.packets, name).toBe(expected.file.packets);
        const truncated = document.warnings.find((w: { kind: string }) => w.kind === 'truncated-file');
        expect(truncated.message, name).toContain(capture);
        if (name === 'trailer.gz') {
          expect(document.file.packets).toBe(300);
          expect(truncated.message).toMatch(/ends inside its gzip data, cut short after packet 300;/);
        } else {
          expect(truncated.message, name).toMatch(/the file ends inside (packet|the record header of packet) \d+/);
        }
      }
    });
  });

  it('stops quietly when the reader of its output goes away (| head)', async () => {
    // 2000 one-packet connections: about 1.4 MB of JSON, far more than a pipe holds, so writes meet EPIPE.
    const packets = Array.from({ length: 2000 }, (_, i) => ({
      tsSec: 1_700_000_000 + i,
      tsFrac: 0,
      data: ethernet(0x0800, ipv4(tcp({ srcPort: 10_000 + i, dstPort: 443, flags: 0x02 }), { src: '10.0.0.1', dst: '10.0.0.2' })),
    }));
    const capture = file('many.pcap', classicPcap(packets));
    const child = execa(process.execPath, [BIN, 'analyze', capture, '--json'], { reject: false, stdout: 'pipe', stderr: 'pipe' });
    child.stdout!.once('data', () => child.stdout!.destroy());
    const result = await child;
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('writes the same document to a file, a pipe and a slow pipe (output chunks reused only once written)', async () => {
    // 3000 one-packet connections with distinct addresses: about 2 MB of JSON, many 64 KB chunks each way.
    const packets = Array.from({ length: 3000 }, (_, i) => ({
      tsSec: 1_700_000_000 + i,
      tsFrac: 0,
      data: ethernet(0x0800, ipv4(tcp({ srcPort: 10_000 + i, dstPort: 443, flags: 0x02 }), { src: `10.1.${i >> 8}.${i & 0xff}`, dst: '10.0.0.2' })),
    }));
    const capture = file('distinct.pcap', classicPcap(packets));
    const expected = (await analyzeCapture(capture)).connections;
    const toFile = path.join(dir, 'distinct.json');
    const viaFile = await execa('sh', ['-c', '"$0" "$1" analyze "$2" --json > "$3"', process.execPath, BIN, capture, toFile], { reject: false });
    expect(viaFile.stderr).toBe('');
    const viaPipe = await execa(process.execPath, [BIN, 'analyze', capture, '--json'], { reject: false });
    // A reader that takes 16 KB at a time with pauses: the writes queue, and the chunks queued must not change.
    const child = execa(process.execPath, [BIN, 'analyze', capture, '--json'], { reject: false, buffer: { stdout: false } });
    const slow: Buffer[] = [];
    for await (const chunk of child.stdout!) {
      slow.push(chunk as Buffer);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect((await child).exitCode).toBe(0);
    for (const stdout of [readFileSync(toFile, 'utf8'), viaPipe.stdout, Buffer.concat(slow).toString('utf8')]) {
      expect(JSON.parse(stdout).connections).toEqual(JSON.parse(JSON.stringify(expected)));
    }
  });

  it('prints totals, the reuse audit and the connections', async () => {
    const result = await cli(['analyze', fixture('nginx-tls13-reused.pcap'), '--keylog', fixture('nginx-tls13-reused.keylog')]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^total\s+up\s+down/m);
    expect(result.stdout).toMatch(/^reuse: connections are reused — 3 requests .* over 1 connections/m);
    expect(result.stdout).toMatch(/TLS1\.3\s+full\s+3/);
    expect(result.stderr).toBe('');
  });

  it('groups the digits of every count in its first line', async () => {
    const summary = await analyzeCapture(fixture('nginx-tls13-fresh.pcap'));
    const total = { ...summary.total, connections: 24_361, fullHandshakes: 24_360, resumedHandshakes: 1_001 };
    const firstLine = renderAnalysis({ ...summary, total }, [], 0).split('\n')[0];
    expect(firstLine).toMatch(/24,361 connections opened in the capture \(24,360 full, 1,001 resumed TLS handshakes\)$/);
  });

  it('says when connections are not reused', async () => {
    const result = await cli(['analyze', fixture('nginx-tls13-fresh.pcap'), '--keylog', fixture('nginx-tls13-fresh.keylog')]);
    expect(result.stdout).toMatch(/^reuse: connections are NOT reused/m);
  });

  it('--json prints analyze@1', async () => {
    const result = await cli(['analyze', fixture('nginx-tls12-fresh.pcap'), '--json']);
    const json = JSON.parse(result.stdout);
    expect(json.schema).toBe('tls-reuse-bench/analyze@1');
    expect(json.total.connections).toBe(json.connections.length);
  });

  it('says when a --server-port matches nothing, or is the clients\' side', async () => {
    const capture = fixture('nginx-tls12-fresh.pcap');
    const unmatched = await analyzeCapture(capture, { serverPorts: [22151, 9] });
    expect(unmatched.warnings.find((w) => w.kind === 'server-port-unmatched')?.message).toBe(
      '--server-port 9: no TCP connection of the capture uses this port',
    );
    // 42104 is the client port of the capture's first connection (its tshark expectation lists it).
    const swapped = await analyzeCapture(capture, { serverPorts: [42104] });
    expect(swapped.warnings.find((w) => w.kind === 'server-port-is-client')?.message).toMatch(
      /^--server-port 42104 is the client's side of 1 connection\(s\): their SYN came from that port/,
    );
    expect(swapped.total.connections).toBe(2);
  });

  const bad: [string, () => string[], RegExp][] = [
    ['no file', () => ['analyze'], /^error: analyze: expected one capture FILE, got 0/],
    ['a missing file', () => ['analyze', path.join(dir, 'none.pcap')], /none\.pcap/],
    ['an empty file', () => ['analyze', file('empty.pcap', Buffer.alloc(0))], /empty\.pcap/],
    ['an unknown magic', () => ['analyze', file('magic.pcap', Buffer.from('this is not a capture file at all'))], /magic\.pcap/],
    ['a truncated file header', () => ['analyze', file('short.pcap', Buffer.from([0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]))], /short\.pcap/],
    ['a bad port', () => ['analyze', fixture('nginx-tls12-fresh.pcap'), '--server-port', 'https'], /^error: --server-port: expected a port number 1-65535, got "https"$/],
    ['a --server-port without its value', () => ['analyze', fixture('nginx-tls12-fresh.pcap'), '--server-port', '--json'], /^error: --server-port: expected a value, got the flag "--json"$/],
    ['a missing key log', () => ['analyze', fixture('nginx-tls12-fresh.pcap'), '--keylog', path.join(dir, 'none.keylog')], /none\.keylog/],
  ];
  for (const [name, args, message] of bad) {
    it(`exits 2 on ${name}, with one line naming it`, async () => {
      const result = await cli(args());
      expect(result.exitCode).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^error: /);
      expect(lines[0]).toMatch(message);
      expect(result.stdout).toBe('');
    });
  }
});
