/**
 * `npx tsx scripts/perf-link.ts [--size-mb N] [--flood-seconds N]` (as root): what the link emulator can
 * carry on this machine, beside a bare loopback path measured in the same run.
 *
 * - TCP bulk goodput, up and down: loopback against a link with no rate limit and no delay (the link
 *   process's own ceiling), then `lan` (1 Gbit/s, 1 ms).
 * - Packets per second: a flood of small UDP datagrams; what the sender managed and what the link forwarded,
 *   with every drop the link counted.
 * - Round trips: TCP connect and 100-byte ping-pong on loopback, on `lan` and on `wan`, at p50/p90/p99.
 * - The link process's CPU time during each phase.
 *
 * A measurement script, not a test: it prints a table and exits 0; 2 on bad usage or without root.
 */
import dgram from 'node:dgram';
import { readdir, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { LAN, WAN, checkLinkSupport, openLink, parseNetworkList, sweepStaleLinks, type Link, type LinkProfile, type LinkStats } from '../bench/link/index.ts';
import { connectTimesMs, download, pingPongMs, startProbePeer, upload, type ProbePeer } from '../bench/link/probe.ts';

const USAGE = 'usage: npx tsx scripts/perf-link.ts [--size-mb N] [--flood-seconds N]   (as root)';

/** No delay, no rate limit worth the name, a queue no flood fills: what is left is the link process's own cost. */
const UNLIMITED = parseNetworkList('name=unlimited,rtt=0ms,down=100gbit,up=100gbit,queue=1gib')[0] as LinkProfile;
/** The payload of each flood datagram: a small packet (14 + 20 + 8 + 18 = 60-byte frames), the worst case per byte. */
const FLOOD_PAYLOAD_BYTES = 18;
/** Datagrams sent per turn of the event loop; the sender yields between bursts so its socket never overflows silently. */
const FLOOD_BURST = 64;
const RTT_SAMPLES = 200;
const WAN_RTT_SAMPLES = 30;

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** CPU seconds (user + system) of the link process of `link`, found by the namespace its options name. */
async function linkCpuSeconds(link: Link): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // exited while listed
      throw error;
    }
    if (!cmdline.includes(`"serverNamespace":"${link.serverNamespace}"`)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
    // Fields after the command's closing parenthesis; utime and stime are fields 14 and 15 (1-based) of the line.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  }
  throw new Error(`no link process found for ${link.serverNamespace}`);
}

interface Row {
  path: string;
  what: string;
  value: string;
  note: string;
}

const rows: Row[] = [];
function row(path: string, what: string, value: string, note = ''): void {
  rows.push({ path, what, value, note });
  process.stderr.write(`  ${path.padEnd(10)} ${what.padEnd(26)} ${value.padStart(16)}  ${note}\n`);
}

const mbit = (bytes: number, ms: number) => `${((bytes * 8) / ms / 1000).toFixed(1)} Mbit/s`;

async function bulk(path: string, peer: ProbePeer, bytes: number, link: Link | null): Promise<void> {
  for (const direction of ['up', 'down'] as const) {
    const cpuBefore = link === null ? 0 : await linkCpuSeconds(link);
    const wallStart = performance.now();
    const result = direction === 'up' ? await upload(peer, bytes, 1) : await download(peer, bytes, 2);
    const wallMs = performance.now() - wallStart;
    const cpu = link === null ? '' : `link process CPU ${((100 * ((await linkCpuSeconds(link)) - cpuBefore)) / (wallMs / 1000)).toFixed(0)} %`;
    row(path, `TCP goodput ${direction}`, mbit(result.bytes, result.activeMs), cpu);
  }
}

async function roundTrips(path: string, peer: ProbePeer, samples: number): Promise<void> {
  const connects = await connectTimesMs(peer, samples);
  const exchanges = await pingPongMs(peer, samples, 100);
  for (const [what, times] of [['TCP connect', connects], ['100-byte ping-pong', exchanges]] as const) {
    row(path, `${what} p50/p90/p99`, `${[0.5, 0.9, 0.99].map((q) => quantile(times, q).toFixed(3)).join('/')} ms`, `${samples} samples`);
  }
}

/** Sends small UDP datagrams to `host:port` for `seconds`; returns how many went out. */
async function flood(host: string, port: number, seconds: number): Promise<number> {
  const socket = dgram.createSocket('udp4');
  const payload = Buffer.alloc(FLOOD_PAYLOAD_BYTES, 0x78);
  let sent = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    await Promise.all(
      Array.from({ length: FLOOD_BURST }, () => new Promise<void>((resolve) => socket.send(payload, port, host, () => resolve()))),
    );
    sent += FLOOD_BURST;
  }
  socket.close();
  return sent;
}

function dropped(before: LinkStats, after: LinkStats): string {
  const d = (k: 'queueDrops' | 'lossDrops' | 'deviceDrops' | 'writeErrors') => after.up[k] - before.up[k];
  return `queue ${d('queueDrops')}, device ${d('deviceDrops')}, write errors ${d('writeErrors')}`;
}

async function main(argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { 'size-mb': { type: 'string', default: '64' }, 'flood-seconds': { type: 'string', default: '3' }, help: { type: 'boolean' } } }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const bytes = Number(values['size-mb']) * 1e6;
  const floodSeconds = Number(values['flood-seconds']);
  if (!(bytes > 0) || !(floodSeconds > 0)) {
    process.stderr.write(`--size-mb and --flood-seconds take positive numbers\n${USAGE}\n`);
    return 2;
  }
  try {
    await checkLinkSupport();
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n`);
    return 2;
  }
  await sweepStaleLinks();
  process.stderr.write(`link perf: ${bytes / 1e6} MB per transfer, ${floodSeconds} s floods\n`);

  const loopbackPeer = await startProbePeer('127.0.0.1');
  try {
    await bulk('loopback', loopbackPeer, bytes, null);
    const sent = await flood('127.0.0.1', loopbackPeer.port, floodSeconds);
    row('loopback', 'UDP sender rate', `${Math.round(sent / floodSeconds)} pkt/s`, `${FLOOD_PAYLOAD_BYTES}-byte datagrams`);
    await roundTrips('loopback', loopbackPeer, RTT_SAMPLES);
  } finally {
    await loopbackPeer.close();
  }

  for (const profile of [UNLIMITED, LAN, WAN]) {
    const link = await openLink({ profile });
    const peer = await startProbePeer(link.serverIp, link.serverCommand);
    try {
      if (profile !== WAN) await bulk(profile.name, peer, bytes, link);
      if (profile === UNLIMITED) {
        const before = await link.stats();
        const cpuBefore = await linkCpuSeconds(link);
        const start = performance.now();
        const sent = await flood(link.serverIp, peer.port, floodSeconds);
        // Let the frames still held by the link leave before counting.
        await new Promise((resolve) => setTimeout(resolve, 200));
        const after = await link.stats();
        const seconds = (performance.now() - start) / 1000;
        const cpuSeconds = (await linkCpuSeconds(link)) - cpuBefore;
        const frames = after.up.forwardedFrames - before.up.forwardedFrames;
        row(profile.name, 'UDP sender rate', `${Math.round(sent / floodSeconds)} pkt/s`);
        row(profile.name, 'UDP frames forwarded', `${Math.round(frames / seconds)} pkt/s`, `dropped: ${dropped(before, after)}; link process CPU ${((100 * cpuSeconds) / seconds).toFixed(0)} %`);
        // At a rate below the link's ceiling each frame also pays a wake-up from ppoll: an upper bound of the cost per frame.
        row(profile.name, 'link CPU per small frame', `${((cpuSeconds * 1e6) / frames).toFixed(1)} µs`, 'at this rate, wake-ups included');
      } else {
        await roundTrips(profile.name, peer, profile === WAN ? WAN_RTT_SAMPLES : RTT_SAMPLES);
      }
      const stats = await link.stats();
      row(profile.name, 'frame lateness mean/max', `${Math.max(stats.up.meanLatenessMs, stats.down.meanLatenessMs).toFixed(3)}/${Math.max(stats.up.maxLatenessMs, stats.down.maxLatenessMs).toFixed(3)} ms`, `realtime ${stats.realtime}`);
    } finally {
      await peer.close();
      await link.close();
    }
  }

  process.stdout.write(`\n| path | measure | value | note |\n| --- | --- | --- | --- |\n${rows.map((r) => `| ${r.path} | ${r.what} | ${r.value} | ${r.note} |`).join('\n')}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
