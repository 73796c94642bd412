/**
 * Scenarios on emulated paths, through the real command line: the same agent traffic on loopback, lan and wan
 * (same seed, same virtual minutes) carries the same TCP payload and TLS records on every path, and the wire
 * bytes differ only by the frames' headers (lo's 64 KiB MTU against the links' 1500); the round trips that
 * reuse saves show on the wan path's latency, next to the round-trip model; and nothing a run sets up (the
 * link process, its namespace and devices, tcpdump, the server) outlives it, Ctrl-C included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { MeasuredScenario, Results, TrafficCounters } from '../../bench/model/index.ts';
import { leftovers } from '../link/helpers.ts';
import { describeUnless } from '../support/skip.ts';
import { BIN, ROOT, cli, liveRunSkipReason, processesMatching, readResults, startDetached } from './support.ts';

const skip = liveRunSkipReason();
/** Ethernet's header: lo and the links' TAP devices both capture as DLT_EN10MB. */
const ETHERNET_HEADER = 14;

describeUnless(skip, 'the same traffic on loopback, lan and wan', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'trb-network-'));
  let results: Results;
  let runPid: number;
  let exitCode: number | undefined;

  beforeAll(async () => {
    const child = cli(
      ['run', '--suite', 'quick', '--modes', 'fresh,persistent', '--network', 'loopback,lan,wan', '--virtual-minutes', '1', '--latency-samples', '10', '--out', path.join(dir, 'run')],
      { timeout: 300_000 },
    );
    runPid = child.pid!;
    exitCode = (await child).exitCode;
    results = readResults(path.join(dir, 'run'));
  }, 320_000);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const scenario = (mode: string, network: string): MeasuredScenario => {
    const s = results.scenarios.find((x) => x.spec.mode === mode && x.spec.network === network);
    if (s === undefined || s.state === 'failed') throw new Error(`${mode} on ${network}: ${s === undefined ? 'missing' : s.error}`);
    return s;
  };

  it('runs every scenario, each reconciled with the client socket counters', () => {
    expect(exitCode).toBe(0);
    expect(results.scenarios.map((s) => `${s.spec.mode}/${s.spec.network}/${s.state}`).sort()).toEqual(
      ['fresh', 'persistent'].flatMap((m) => ['lan', 'loopback', 'wan'].map((n) => `${m}/${n}/completed`)).sort(),
    );
    for (const s of results.scenarios) {
      if (s.state === 'failed') continue;
      expect(s.capture.reconciled, s.id).toBe(true);
      expect(s.requests.failed, s.id).toBe(0);
    }
  });

  it('records the path: loopback has none, lan and wan their RTT and rates', () => {
    expect(scenario('fresh', 'loopback').spec.link).toBeNull();
    expect(scenario('fresh', 'lan').spec.link).toMatchObject({ rttMs: 1, downBitsPerSecond: 1e9, upBitsPerSecond: 1e9 });
    expect(scenario('fresh', 'wan').spec.link).toMatchObject({ rttMs: 60, downBitsPerSecond: 20e6, upBitsPerSecond: 10e6 });
    expect(scenario('fresh', 'wan').link).not.toBeNull();
  });

  it('carries the same TCP payload and TLS records on every path', () => {
    for (const mode of ['fresh', 'persistent']) {
      const reference = scenario(mode, 'loopback');
      for (const network of ['lan', 'wan']) {
        const s = scenario(mode, network);
        for (const d of ['up', 'down'] as const) {
          const streamBytes = (t: TrafficCounters) => t.tcpPayloadBytes - t.retransmittedBytes;
          const [a, b] = [reference.traffic![d], s.traffic![d]];
          const what = `${mode} ${d} on ${network} vs loopback`;
          expect(streamBytes(b), what).toBe(streamBytes(a));
          expect(b.tls.records, what).toBe(a.tls.records);
          expect(b.tls.handshakeBytes, what).toBe(a.tls.handshakeBytes);
          expect(b.tls.appDataBytes, what).toBe(a.tls.appDataBytes);
          expect(a.tls.records, what).toBeGreaterThan(0);
        }
        expect(s.connections.opened, `${mode} on ${network}`).toBe(reference.connections.opened);
      }
    }
  });

  it('differs on the wire only by the headers of its frames: more of them at the links’ 1500-byte MTU', () => {
    for (const s of results.scenarios) {
      if (s.state === 'failed') continue;
      for (const d of ['up', 'down'] as const) {
        const t = s.traffic![d];
        // Every wire byte is a frame's Ethernet header, its IP and TCP headers, or its TCP payload.
        expect(t.wireBytes, `${s.id} ${d}`).toBe(t.frames * ETHERNET_HEADER + t.headerBytes + t.tcpPayloadBytes);
      }
    }
    const framesDown = (network: string) => scenario('persistent', network).traffic!.down.frames;
    // The config response (~11 kB) is one segment on lo and eight at an MSS of 1448.
    expect(framesDown('lan')).toBeGreaterThan(framesDown('loopback'));
  });

  it('shows on wan the round trips reuse saves: fresh waits three to the first byte (TCP, TLS 1.3, request), persistent one', () => {
    const comparison = results.comparisons.find((c) => c.candidate === scenario('persistent', 'wan').id);
    expect(comparison?.roundTripsSavedPerRequest).toBeCloseTo(2, 5);
    expect(comparison?.latencyP50SavedPct).toBeGreaterThan(50);
    for (const mode of ['fresh', 'persistent']) {
      for (const [api, latency] of Object.entries(scenario(mode, 'wan').latency)) {
        // The model is round trips x RTT + server time + serialisation: a measured p50 far off it means the
        // path or the harness adds what the model does not know.
        expect(latency!.modelRatio, `${mode} ${api}`).toBeGreaterThan(0.9);
        expect(latency!.modelRatio, `${mode} ${api}`).toBeLessThan(1.6);
        expect(latency!.model.roundTrips, `${mode} ${api}`).toBe(mode === 'fresh' ? 3 : 1);
      }
    }
  });

  it('leaves no link, namespace, device or process behind', async () => {
    expect(await leftovers('trb', runPid)).toEqual([]);
    expect(processesMatching(path.join(dir, 'run'))).toEqual([]);
  });
});

describeUnless(skip, 'Ctrl-C during a wan scenario', () => {
  it('exits 130 and removes the link, its namespace and devices', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trb-network-int-'));
    try {
      const out = path.join(dir, 'run');
      const { child } = await startDetached(['run', '--suite', 'quick', '--modes', 'fresh', '--network', 'wan', '--virtual-minutes', '3', '--out', out], /\[1\/1\] \S+ started/);
      // Inside the scenario: the link is open and traffic crosses it.
      await sleep(2000);
      expect(await leftovers('trb', child.pid!)).not.toEqual([]);
      process.kill(-child.pid!, 'SIGINT');
      const result = await child;
      expect(result.exitCode).toBe(130);
      expect(readResults(out).interrupted).toBe(true);
      await sleep(200);
      expect(await leftovers('trb', child.pid!)).toEqual([]);
      expect(processesMatching(out)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});

describeUnless(skip, 'without the right to make links (CAP_NET_ADMIN dropped, as for a user who is not root)', () => {
  /** The CLI with CAP_NET_ADMIN out of its bounding set: as root, but unable to make namespaces' devices. */
  const withoutNetAdmin = (args: string[]) =>
    execa('setpriv', ['--bounding-set=-net_admin', '--inh-caps=-net_admin', '--', 'node', BIN, ...args], { cwd: ROOT, reject: false, env: { CI: 'true' }, timeout: 120_000 });

  it('the default suite leaves its lan and wan scenarios out with a warning, and runs the rest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'trb-network-nocap-'));
    try {
      const out = path.join(dir, 'run');
      const result = await withoutNetAdmin(['run', '--suite', 'default', '--modes', 'persistent', '--tls', '1.3', '--cert', 'rsa2048', '--virtual-minutes', '0.2', '--no-capture', '--out', out]);
      expect(result.exitCode, result.stderr).toBe(0);
      const results = readResults(out);
      expect(results.scenarios.map((s) => s.spec.network)).toEqual(['loopback']);
      expect(results.warnings.map((w) => w.kind)).toEqual(['network-paths-skipped']);
      expect(result.stdout).toContain("warning: the suite's 2 scenarios on lan and wan were left out: network emulation");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('--network wan asked for by name is refused with exit 2, saying why', async () => {
    const result = await withoutNetAdmin(['run', '--suite', 'quick', '--network', 'wan', '--no-capture', '--out', path.join(tmpdir(), `trb-never-${process.pid}`)]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim()).toMatch(/^error: network emulation needs root \(CAP_NET_ADMIN and CAP_SYS_ADMIN/);
  });
});
