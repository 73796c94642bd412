/**
 * The link on real traffic: TCP between this process (root namespace) and the probe peer inside the
 * server namespace. Bytes are compared by SHA-256 of what was sent and received, frames by tcpdump on both
 * devices, times against the profile with tolerances stated beside each assertion and derived from many
 * samples (this is a shared 2-core VM: single samples can be late by milliseconds, medians are not).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAN, WAN, openLink, parseNetworkList, type Link, type LinkProfile } from '../../bench/link/index.ts';
import { probeDigest } from '../../bench/link/probe-bytes.ts';
import { connectTimesMs, download, echoTransfer, pingPongMs, startProbePeer, upload, type ProbePeer } from '../../bench/link/probe.ts';
import { LINK_SKIP, ROOT_REASON, ipv4Source, quantile, readFrames, startTcpdump, type Frame } from './helpers.ts';
import { describeUnless } from '../support/skip.ts';

const PREFIX = 'trbl';

/** An Ethernet frame of a full 1500-byte IP packet; TCP payload per such frame with timestamps (1500 − 20 − 32). */
const FULL_FRAME_BYTES = 1514;
const MSS_BYTES = 1448;
/** Captures made before giving up on one without kernel drops. */
const CAPTURE_ATTEMPTS = 4;

function custom(list: string): LinkProfile {
  return parseNetworkList(list)[0] as LinkProfile;
}

/** Opens a link with `profile` and a probe peer inside it for the tests of one describe block. */
function withLink(profile: LinkProfile): { link: () => Link; peer: () => ProbePeer } {
  let link: Link;
  let peer: ProbePeer;
  beforeAll(async () => {
    link = await openLink({ profile, prefix: PREFIX, seed: 7 });
    peer = await startProbePeer(link.serverIp, link.serverCommand);
  });
  afterAll(async () => {
    await peer?.close();
    await link?.close();
  });
  return { link: () => link, peer: () => peer };
}

function totals(stats: Awaited<ReturnType<Link['stats']>>, direction: 'up' | 'down') {
  const d = stats[direction];
  return d.lossDrops + d.queueDrops + d.deviceDrops + d.writeErrors;
}

describeUnless(LINK_SKIP, `lan: bytes and frames cross unchanged (${ROOT_REASON})`, () => {
  const { peer } = withLink(LAN);

  it('echoes 4 MB written in random sizes (1..9000 bytes) byte for byte, both directions at once', async () => {
    const result = await echoTransfer(peer(), 4_000_000, 11);
    expect(result.receivedBytes).toBe(4_000_000);
    expect(result.receivedSha256).toBe(result.sentSha256);
  });

  it('carries 32 MB up and 32 MB down byte for byte', async () => {
    const up = await upload(peer(), 32_000_000, 12);
    expect(up.bytes).toBe(32_000_000);
    expect(up.sha256).toBe(await probeDigest(12, 32_000_000));
    const down = await download(peer(), 32_000_000, 13);
    expect(down.bytes).toBe(32_000_000);
    expect(down.sha256).toBe(await probeDigest(13, 32_000_000));
  });

  it('makes a TCP connect wait for the round trip: never under 1 ms, median under 3 ms (200 connects)', async () => {
    const times = await connectTimesMs(peer(), 200);
    expect(Math.min(...times)).toBeGreaterThanOrEqual(LAN.rttMs);
    // Never early is the link's correctness. How late is a speed figure (scripts/perf-link.ts): the 2 ms of
    // slack only catch a link that holds frames far too long, since on this shared machine the two kernels'
    // stacks and both event loops add their own wait. That one connect is one round trip and not two is the
    // shaper's arithmetic, tested without a clock in shaper.test.ts.
    expect(quantile(times, 0.5)).toBeLessThan(LAN.rttMs + 2);
  });
});

describeUnless(LINK_SKIP, `wan: delay and rate (${ROOT_REASON})`, () => {
  const { peer } = withLink(WAN);

  it('makes a TCP connect and an exchange on an open connection take one RTT: never under 60 ms, median under 90 ms', async () => {
    const connects = await connectTimesMs(peer(), 40);
    const exchanges = await pingPongMs(peer(), 60, 100);
    for (const times of [connects, exchanges]) {
      expect(Math.min(...times)).toBeGreaterThanOrEqual(WAN.rttMs);
      // One round trip and not two: the bound sits half way between them. Medians are 61-61.4 ms on a quiet
      // machine, but a clean-clone CI run on this shared machine, busy with other work, measured 68.3 ms, so
      // how close to 60 ms is a speed figure (scripts/perf-link.ts), not something a test can hold.
      expect(quantile(times, 0.5)).toBeLessThan(1.5 * WAN.rttMs);
    }
  });

  it.each([
    ['down', 10_000_000, WAN.downBitsPerSecond],
    ['up', 5_000_000, WAN.upBitsPerSecond],
  ] as const)('transfers %s at the profile rate: TCP goodput 0.85 to 1.02 times rate × 1448 / 1514', async (direction, bytes, bitsPerSecond) => {
    const result = direction === 'down' ? await download(peer(), bytes, 31) : await upload(peer(), bytes, 32);
    expect(result.bytes).toBe(bytes);
    const goodputBitsPerSecond = (result.bytes * 8) / (result.activeMs / 1000);
    const expected = (bitsPerSecond * MSS_BYTES) / FULL_FRAME_BYTES;
    // Above: 2 % for the receiver's first-to-last-chunk clock. Below: slow start and the recovery from the
    // tail drops that end it take their share of a 4-second transfer.
    expect(goodputBitsPerSecond / expected).toBeGreaterThan(0.85);
    expect(goodputBitsPerSecond / expected).toBeLessThan(1.02);
    console.info(`wan ${direction}: ${(goodputBitsPerSecond / 1e6).toFixed(2)} Mbit/s goodput, ${((100 * goodputBitsPerSecond) / expected).toFixed(1)} % of the expected ${(expected / 1e6).toFixed(2)}`);
  });
});

describeUnless(LINK_SKIP, `drops are counted (${ROOT_REASON})`, () => {
  describe('random loss of 5 %', () => {
    const { link, peer } = withLink(custom('rtt=2ms,down=100mbit,loss=5%,queue=1mib'));

    it('loses about 5 % of the frames per direction, counts every one, and TCP still delivers every byte', async () => {
      const result = await echoTransfer(peer(), 2_000_000, 41);
      expect(result.receivedSha256).toBe(result.sentSha256);
      const stats = await link().stats();
      for (const d of [stats.up, stats.down]) {
        // Loss is decided as a frame arrives, before the queue: every arriving frame was offered to it.
        const offered = d.forwardedFrames + d.lossDrops + d.queueDrops + d.writeErrors + d.inFlightFrames;
        // Binomial: within 4 standard deviations of 5 % (a false alarm once in ~16 000 runs).
        const bound = 4 * Math.sqrt((0.05 * 0.95) / offered);
        expect(Math.abs(d.lossDrops / offered - 0.05)).toBeLessThan(bound);
      }
    });
  });

  describe('a queue of three full frames', () => {
    const queueBytes = 3 * FULL_FRAME_BYTES;
    const { link, peer } = withLink(custom(`rtt=20ms,down=5mbit,queue=${queueBytes}b`));

    it('tail-drops what overflows it, counts it, never holds more than its limit, and TCP still delivers every byte', async () => {
      const result = await download(peer(), 1_000_000, 51);
      expect(result.sha256).toBe(await probeDigest(51, 1_000_000));
      const stats = await link().stats();
      expect(stats.down.queueDrops).toBeGreaterThan(0);
      expect(stats.down.maxQueueBytes).toBeLessThanOrEqual(queueBytes);
      expect(stats.down.lossDrops).toBe(0);
    });
  });
});

describeUnless(LINK_SKIP, `frames as tcpdump sees both devices, 1 ms RTT at 100 Mbit/s (${ROOT_REASON})`, () => {
  // A rate the link process sustains with two tcpdumps beside it: at lan's 1 Gbit/s a bulk transfer saturates
  // this 2-core machine and the captures themselves drop packets.
  // A queue no TCP window here fills, so that no frame is dropped and the two captures match one for one.
  const profile = custom('rtt=1ms,down=100mbit,queue=16mib');
  const { link, peer } = withLink(profile);
  let dir: string;
  let client: Frame[];
  let server: Frame[];
  /** When the bulk echo began (capture clock, CLOCK_REALTIME): frames before it are the ping-pong's. */
  let bulkStartNs: bigint;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trb-link-test-'));
    // A capture that dropped packets cannot judge the link: on this shared machine, under load from other
    // work, tcpdump sometimes falls behind. Such a capture is made again, up to CAPTURE_ATTEMPTS times.
    const drops: number[] = [];
    for (let attempt = 0; attempt < CAPTURE_ATTEMPTS; attempt++) {
      const before = await link().stats();
      const stopClient = await startTcpdump(link().clientInterface, join(dir, 'client.pcap'));
      const stopServer = await startTcpdump(link().serverInterface, join(dir, 'server.pcap'), link().serverCommand);
      await pingPongMs(peer(), 300, 100);
      bulkStartNs = BigInt(Date.now()) * 1_000_000n;
      await echoTransfer(peer(), 1_000_000, 21 + attempt);
      // The last frames (the FIN handshake's ACK) are still on their way for rttMs / 2 after the socket closed.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const dropped = (await stopClient()) + (await stopServer());
      const after = await link().stats();
      // Frame-for-frame equality holds only if the link dropped nothing during the capture.
      expect(totals(after, 'up') - totals(before, 'up')).toBe(0);
      expect(totals(after, 'down') - totals(before, 'down')).toBe(0);
      drops.push(dropped);
      if (dropped === 0) break;
    }
    if (drops.at(-1) !== 0) throw new Error(`tcpdump dropped packets in every attempt (${drops.join(', ')}): the machine is too busy to judge the link`);
    client = await readFrames(join(dir, 'client.pcap'));
    server = await readFrames(join(dir, 'server.pcap'));
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('has the same frames on both devices, in the same order, per direction', () => {
    const from = (frames: Frame[], ip: string) => frames.filter((f) => ipv4Source(f.bytes) === ip).map((f) => f.bytes.toString('hex'));
    const upClient = from(client, link().clientIp);
    const downServer = from(server, link().serverIp);
    expect(upClient.length).toBeGreaterThan(1000);
    expect(downServer.length).toBeGreaterThan(1000);
    expect(from(server, link().clientIp)).toEqual(upClient);
    expect(from(client, link().serverIp)).toEqual(downServer);
    // Nothing else crossed: no ARP (static neighbours), no IPv6 (no link-local address).
    expect(client.length).toBe(upClient.length + downServer.length);
  });

  it('carries frames of at most the path MTU, and full-sized ones during bulk transfer', () => {
    const lengths = client.map((f) => f.bytes.length);
    expect(Math.max(...lengths)).toBe(FULL_FRAME_BYTES);
  });

  /**
   * Each frame's lateness: when the far device saw it, minus its release time recomputed from the sending
   * device's capture times (the emulator's recurrence, from independent timestamps): serialised after the
   * previous frame, then delayed by rttMs / 2. The emulator reads a frame after tcpdump stamped it, so it can
   * only be later than this model, never earlier.
   */
  function lateness(phase: (f: Frame) => boolean): number[] {
    const late: number[] = [];
    for (const [ingress, egress, bitsPerSecond, source] of [
      [client, server, profile.upBitsPerSecond, link().clientIp],
      [server, client, profile.downBitsPerSecond, link().serverIp],
    ] as const) {
      const sent = ingress.filter((f) => ipv4Source(f.bytes) === source);
      const received = egress.filter((f) => ipv4Source(f.bytes) === source);
      let serialiserFreeNs = 0n;
      sent.forEach((frame, i) => {
        const serialisationNs = BigInt(Math.round((frame.bytes.length * 8 * 1e9) / bitsPerSecond));
        const startNs = frame.tsNs > serialiserFreeNs ? frame.tsNs : serialiserFreeNs;
        serialiserFreeNs = startNs + serialisationNs;
        const releaseNs = serialiserFreeNs + BigInt((profile.rttMs / 2) * 1e6);
        if (phase(frame)) late.push(Number(received[i]!.tsNs - releaseNs) / 1e6);
      });
    }
    return late;
  }

  const describeLateness = (late: number[]) =>
    `${late.length} frames: p50 ${quantile(late, 0.5).toFixed(3)} ms, p90 ${quantile(late, 0.9).toFixed(3)} ms, p99 ${quantile(late, 0.99).toFixed(3)} ms, max ${Math.max(...late).toFixed(3)} ms`;

  // Never early is the emulator's correctness; how late is a speed figure, printed here and measured side by
  // side with a bare loopback in scripts/perf-link.ts. The bounds below only catch a scheduler gone coarse
  // (a timer of a millisecond would put the median near the 0.5 ms one-way delay): on the shared machine a
  // clean-clone CI run measured a median of 0.13 ms where a quiet run measures under 0.1.
  it('holds each frame of a light load for the one-way delay and its serialisation time: never early, median lateness under 0.5 ms, p90 under 2 ms', () => {
    const late = lateness((f) => f.tsNs < bulkStartNs);
    expect(late.length).toBeGreaterThan(500);
    // 2 µs of slack for the two stamps being taken at different points of the kernel's paths.
    expect(Math.min(...late)).toBeGreaterThan(-0.002);
    expect(quantile(late, 0.5)).toBeLessThan(0.5);
    expect(quantile(late, 0.9)).toBeLessThan(2);
    console.info(`lateness, ping-pong: ${describeLateness(late)}`);
  });

  it('never releases a frame early under a bulk load either', () => {
    const late = lateness((f) => f.tsNs >= bulkStartNs);
    expect(Math.min(...late)).toBeGreaterThan(-0.002);
    console.info(`lateness, bulk echo: ${describeLateness(late)}`);
  });
});
