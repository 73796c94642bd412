/**
 * A real capture, checked against tshark: tcpdump records loopback TCP traffic (IPv4 and IPv6) as Ethernet,
 * Linux cooked v2 and, with a 96-byte snap length, Linux cooked v1; editcap converts the first to pcapng and
 * to nanosecond pcap. Every packet our reader and decoder produce must match tshark's fields for the same
 * file, and the three formats must yield the same packets.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server } from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { afterAll, expect, it, type TestContext } from 'vitest';
import { PacketDecoder } from '../../bench/pcap/decode.ts';
import type { CapturedPacket } from '../../bench/pcap/packet.ts';
import { readAll, tempDir } from './helpers.ts';
import { describeUnless } from '../support/skip.ts';

const TOOLS = ['tcpdump', 'editcap', 'tshark'] as const;
const inCi = process.env.CI === 'true';

async function missingTools(): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of TOOLS) {
    const probe = await execa(tool, tool === 'tcpdump' ? ['--version'] : ['-v'], { reject: false });
    if (probe.failed) missing.push(tool);
  }
  return missing;
}

const missing = await missingTools();
const skipReason = missing.length > 0 ? `real-capture tests skipped: ${missing.join(', ')} not installed` : '';
if (skipReason !== '') {
  if (inCi) throw new Error(`${skipReason} (CI=true: install them, e.g. with scripts/setup.sh)`);
  console.warn(skipReason);
}

/** What recording the traffic gave: the files were written, or tcpdump may not capture on this machine. */
type CaptureOutcome = { ipv6: boolean } | { cannotCapture: string };

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/**
 * Starts tcpdump and resolves once it reports listening (it prints that after the filter is installed).
 * The subprocess comes back wrapped: it is a thenable, and an async function returning it would wait for
 * its exit.
 */
async function startTcpdump(args: string[]): Promise<{ process: ResultPromise }> {
  const proc = execa('tcpdump', ['--immediate-mode', '-U', '-n', ...args], { reject: false, buffer: { stderr: true } });
  let stderr = '';
  await new Promise<void>((resolve, reject) => {
    proc.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening on')) resolve();
    });
    void proc.then(() => reject(new Error(`tcpdump ${args.join(' ')} exited: ${stderr.trim()}`)));
  });
  return { process: proc };
}

async function listen(server: Server, host: string): Promise<number> {
  server.listen(0, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** One exchange: the client sends `up` bytes and closes its side; the server answers 150 kB and closes. */
async function exchange(host: string, port: number, up: number): Promise<void> {
  const socket = connect(port, host);
  await once(socket, 'connect');
  socket.end(Buffer.alloc(up, 0x41));
  socket.resume();
  await once(socket, 'close');
}

/** tshark's view of each packet, in the same shape our fields are printed in. */
async function tsharkRows(path: string): Promise<string[]> {
  const fields = ['frame.time_epoch', 'frame.len', 'frame.cap_len', 'ip.src', 'ipv6.src', 'ip.dst', 'ipv6.dst'];
  fields.push('tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.len');
  fields.push('ip.len', 'ipv6.plen');
  const args = ['-n', '-r', path, '-T', 'fields', '-E', 'separator=|', ...fields.flatMap((f) => ['-e', f])];
  const { stdout } = await execa('tshark', args);
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const [time, len, capLen, ip4src, ip6src, ip4dst, ip6dst, ...tcpAndIp] = line.split('|');
      const [sport, dport, seq, ack, flags, tcpLen, ipLen, ip6Plen] = tcpAndIp;
      const ipBytes = ipLen !== '' ? Number(ipLen) : 40 + Number(ip6Plen);
      const src = ip4src || ip6src;
      const dst = ip4dst || ip6dst;
      return [time, len, capLen, src, dst, sport, dport, seq, ack, Number(flags), tcpLen, ipBytes].join(' ');
    });
}

const decoder = new PacketDecoder();

function ourRow(p: CapturedPacket): string {
  const decoded = decoder.decode(p.linkType, p.data, p.offset, p.offset + p.capturedLength, p.originalLength);
  if (decoded.kind !== 'tcp') return `${decoded.kind}`;
  const s = decoded.segment;
  const time = `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`;
  const ends = [s.srcIp, s.dstIp, s.srcPort, s.dstPort];
  const tcp = [s.seq, s.ack, s.flags, s.payloadLength, s.ipBytes];
  return [time, p.originalLength, p.capturedLength, ...ends, ...tcp].join(' ');
}

describeUnless(skipReason === '' ? null : skipReason, 'a real tcpdump capture', () => {
  const files = {
    ethernet: tmp.file('lo.pcap'),
    sll2: tmp.file('any-sll2.pcap'),
    sll96: tmp.file('any-sll-96.pcap'),
    pcapng: tmp.file('lo.pcapng'),
    nsec: tmp.file('lo.nsec.pcap'),
  };
  let captured: Promise<CaptureOutcome> | undefined;

  /** Records the traffic once for every test of this block; says whether IPv6 loopback took part. */
  function capture(): Promise<CaptureOutcome> {
    captured ??= (async () => {
      const server4 = createServer((s) => {
        s.resume();
        s.on('end', () => s.end(Buffer.alloc(150_000, 0x42)));
      });
      const server6 = createServer(server4.listeners('connection')[0] as () => void);
      const dumps: { process: ResultPromise }[] = [];
      try {
        const port4 = await listen(server4, '127.0.0.1');
        const port6 = await listen(server6, '::1').catch(() => undefined);
        const filter = port6 === undefined ? `tcp port ${port4}` : `tcp port ${port4} or tcp port ${port6}`;
        dumps.push(await startTcpdump(['-i', 'lo', '-s', '0', '-w', files.ethernet, filter]));
        dumps.push(await startTcpdump(['-i', 'any', '-y', 'LINUX_SLL2', '-s', '0', '-w', files.sll2, filter]));
        dumps.push(await startTcpdump(['-i', 'any', '-y', 'LINUX_SLL', '-s', '96', '-w', files.sll96, filter]));
        for (const up of [10, 3000, 70_000]) await exchange('127.0.0.1', port4, up);
        if (port6 !== undefined) for (const up of [1, 5000]) await exchange('::1', port6, up);
        return { ipv6: port6 !== undefined };
      } catch (error) {
        // Installed but not allowed to capture (not root, no CAP_NET_RAW): a local skip, never in CI.
        const message = (error as Error).message;
        if (!inCi && /permission|not permitted/i.test(message)) return { cannotCapture: message };
        throw error;
      } finally {
        for (const dump of dumps) dump.process.kill('SIGINT');
        await Promise.all(dumps.map((dump) => dump.process));
        server4.close();
        server6.close();
      }
    })().then(async (outcome) => {
      if ('ipv6' in outcome) {
        await execa('editcap', ['-F', 'pcapng', files.ethernet, files.pcapng]);
        await execa('editcap', ['-F', 'nsecpcap', files.ethernet, files.nsec]);
      }
      return outcome;
    });
    return captured;
  }

  /** The capture, or a skip of the calling test with the printed reason when tcpdump may not capture. */
  async function captureOrSkip(context: TestContext): Promise<{ ipv6: boolean }> {
    const outcome = await capture();
    if ('cannotCapture' in outcome) {
      const reason = `real-capture test skipped: tcpdump cannot capture here: ${outcome.cannotCapture}`;
      console.warn(reason);
      context.skip(reason);
    }
    return outcome;
  }

  for (const [name, linkType] of [['ethernet', 1], ['sll2', 276], ['sll96', 113]] as const) {
    it(`decodes every packet of the ${name} capture as tshark does`, async (context) => {
      const { ipv6 } = await captureOrSkip(context);
      const { packets, summary } = await readAll(files[name]);
      expect(summary.linkTypes).toEqual([linkType]);
      expect(summary.packets).toBeGreaterThan(20);
      const rows = packets.map(ourRow);
      expect(rows).toEqual(await tsharkRows(files[name]));
      expect(rows.some((row) => row.includes(' 127.0.0.1 '))).toBe(true);
      if (ipv6) expect(rows.some((row) => row.includes(' ::1 '))).toBe(true);
      if (name === 'sll96') {
        expect(summary.snapLength).toBe(96);
        expect(summary.truncatedPackets).toBeGreaterThan(0);
      }
    });
  }

  it('reads the same packets from pcap, pcapng (editcap) and nanosecond pcap (editcap)', async (context) => {
    await captureOrSkip(context);
    const classic = await readAll(files.ethernet);
    const ng = await readAll(files.pcapng);
    const nsec = await readAll(files.nsec);
    expect(ng.summary).toMatchObject({ format: 'pcapng', packets: classic.summary.packets, linkTypes: [1] });
    expect(nsec.summary).toMatchObject({ format: 'pcap', timestampResolution: 'ns', packets: classic.summary.packets });
    // Packets compared with their bytes as a digest: deep-comparing hundreds of Buffers is needlessly slow.
    const digest = (packets: CapturedPacket[]) =>
      packets.map((p) => ({ ...p, data: createHash('sha256').update(p.data).digest('hex') }));
    expect(digest(ng.packets)).toEqual(digest(classic.packets));
    expect(digest(nsec.packets)).toEqual(digest(classic.packets));
  });
});
